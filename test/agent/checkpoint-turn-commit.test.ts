// The checkpoint commits the status updates of one turn of the event loop together (one fsync),
// and the status update manager sends them only after that commit: a second connection to the
// same SQLite file (what an agent restarted now would read) does not see them before it, and sees
// all of them after; nothing was sent before they were durable. Real SQLite files.
import path from 'node:path';
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Checkpoint } from '../../src/agent/checkpoint.ts';
import { StatusUpdateManager } from '../../src/agent/status-updates.ts';
import type { WireStatus } from '../../src/protocol/agent.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { makeTempDir } from '../support/tmp.ts';
import { wireTaskSpec } from './support/wire-task-spec.ts';

const running = {
  state: 'TASK_RUNNING',
  reason: null,
  message: null,
  source: 'SOURCE_EXECUTOR' as const,
  healthy: null,
  data: null,
};

/** What another process opening the file now would find: pending updates, durable only. */
function durableUpdateCount(file: string): number {
  const reader = new Database(file, { readonly: true });
  try {
    return (reader.prepare('SELECT COUNT(*) AS count FROM status_updates').get() as { count: number }).count;
  } finally {
    reader.close();
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a turn of status updates is committed together, and sent only once committed', async () => {
  const file = path.join(makeTempDir('checkpoint-turn-'), 'agent.db');
  const checkpoint = Checkpoint.open(file);
  const sent: { taskId: string; status: WireStatus; durable: number }[] = [];
  const updates = new StatusUpdateManager(
    checkpoint,
    (_frameworkId, taskId, status) => {
      sent.push({ taskId, status, durable: durableUpdateCount(file) });
      return true;
    },
    silentLogger,
  );
  try {
    const taskIds = Array.from({ length: 50 }, (_, position) => `task-${position}`);
    for (const taskId of taskIds)
      checkpoint.addTask({ frameworkId: 'fw-1', spec: wireTaskSpec(taskId), sandbox: '/tmp/x' });
    for (const taskId of taskIds) updates.record('fw-1', taskId, running);
    assert.ok(checkpoint.commitPending, 'the turn holds its updates until its end');
    assert.is(sent.length, 0, 'nothing is sent before the commit');
    assert.is(durableUpdateCount(file), 0, 'not durable yet: another connection sees none');
    assert.is(checkpoint.task('fw-1', 'task-7')?.state, 'TASK_RUNNING', 'the agent itself reads its own writes');
    await nextTurn();
    assert.not.ok(checkpoint.commitPending);
    assert.is(durableUpdateCount(file), taskIds.length);
    assert.equal(
      sent.map((entry) => entry.taskId),
      taskIds,
      'each task sent once its update was durable, in order',
    );
    for (const entry of sent) assert.is(entry.durable, taskIds.length);
  } finally {
    updates.stop();
    checkpoint.close();
  }
});

function durableTaskIds(file: string): string[] {
  const reader = new Database(file, { readonly: true });
  try {
    return (reader.prepare('SELECT task_id FROM tasks ORDER BY task_id').all() as { task_id: string }[]).map(
      (row) => row.task_id,
    );
  } finally {
    reader.close();
  }
}

test('the launches of a turn are durable together, and reach their executors only once committed', async () => {
  const file = path.join(makeTempDir('checkpoint-turn-'), 'agent.db');
  const checkpoint = Checkpoint.open(file);
  const started: { taskId: string; durable: string[] }[] = [];
  try {
    for (const taskId of ['a', 'b', 'c']) {
      checkpoint.addTask({ frameworkId: 'fw-1', spec: wireTaskSpec(taskId), sandbox: `/tmp/${taskId}` });
      checkpoint.setHandle('fw-1', taskId, { kind: 'process', pid: 1, startTime: '1', containerId: null, user: null });
      checkpoint.afterCommit(() => started.push({ taskId, durable: durableTaskIds(file) }));
    }
    assert.ok(checkpoint.commitPending, 'one transaction holds the turn');
    assert.equal(durableTaskIds(file), []);
    assert.equal(started, [], 'no task starts before it is durable');
    await nextTurn();
    assert.equal(
      started,
      ['a', 'b', 'c'].map((taskId) => ({ taskId, durable: ['a', 'b', 'c'] })),
    );
    assert.equal(
      checkpoint.liveTasks().map((task) => task.handle?.pid),
      [1, 1, 1],
      'each handle committed with its task',
    );
  } finally {
    checkpoint.close();
  }
});

test('another write commits the open turn first, and closing commits it', async () => {
  const file = path.join(makeTempDir('checkpoint-turn-'), 'agent.db');
  const checkpoint = Checkpoint.open(file);
  checkpoint.addTask({ frameworkId: 'fw-1', spec: wireTaskSpec('a'), sandbox: '/tmp/a' });
  checkpoint.recordUpdate('fw-1', 'a', { ...running, uuid: 'uuid-a', timestampMs: 1 }, false);
  assert.is(durableUpdateCount(file), 0);
  // A kill request is written on its own, durable at once, and so is everything before it.
  checkpoint.setKillRequested('fw-1', 'a');
  assert.not.ok(checkpoint.commitPending);
  assert.is(durableUpdateCount(file), 1);
  checkpoint.addTask({ frameworkId: 'fw-1', spec: wireTaskSpec('b'), sandbox: '/tmp/b' });
  checkpoint.recordUpdate('fw-1', 'b', { ...running, uuid: 'uuid-b', timestampMs: 2 }, false);
  assert.ok(checkpoint.acknowledge('uuid-a'), 'an acknowledgement joins the open turn');
  checkpoint.close();
  const reopened = Checkpoint.open(file);
  try {
    assert.equal(
      reopened.headUpdates().map((update) => update.status.uuid),
      ['uuid-b'],
    );
    assert.is(reopened.task('fw-1', 'b')?.state, 'TASK_RUNNING');
  } finally {
    reopened.close();
  }
  await nextTurn();
});

test.run();
