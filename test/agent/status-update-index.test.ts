// The agent finds a task's next status update from an index kept in memory with the checkpoint,
// not by reading every pending update back from SQLite: a burst of N tasks' updates acknowledged
// one by one looked at N pending updates per acknowledgement (N²/2 in all, ~720,000 for the
// launch bench's 1,200 tasks). Counted here: rows read back and pending updates looked at per
// acknowledgement. The index must also say what the file says after a crash, and old terminal
// tasks are still pruned when a burst ends them in one turn. Real SQLite files.
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Checkpoint } from '../../src/agent/checkpoint.ts';
import { maxTerminalTasksKept } from '../../src/agent/limits.ts';
import { StatusUpdateManager } from '../../src/agent/status-updates.ts';
import type { WireStatus } from '../../src/protocol/agent.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { makeTempDir } from '../support/tmp.ts';
import { wireTaskSpec } from './support/wire-task-spec.ts';

const fields = (state: string) => ({
  state,
  reason: null,
  message: null,
  source: 'SOURCE_EXECUTOR' as const,
  healthy: null,
  data: null,
});

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('each acknowledgement of a burst looks at its own task only and reads nothing back from SQLite', async () => {
  const checkpoint = Checkpoint.open(path.join(makeTempDir('status-index-'), 'agent.db'));
  const sent: { taskId: string; state: string }[] = [];
  const updates = new StatusUpdateManager(
    checkpoint,
    (_frameworkId, taskId, status) => {
      sent.push({ taskId, state: status.state });
      return true;
    },
    silentLogger,
  );
  try {
    const taskIds = Array.from({ length: 300 }, (_, position) => `task-${position}`);
    const running = new Map<string, WireStatus>();
    for (const taskId of taskIds) {
      checkpoint.addTask({ frameworkId: 'fw-1', spec: wireTaskSpec(taskId), sandbox: '/tmp/x' });
      running.set(taskId, updates.record('fw-1', taskId, fields('TASK_RUNNING')));
    }
    await nextTurn();
    for (const taskId of taskIds) updates.record('fw-1', taskId, fields('TASK_FINISHED'));
    await nextTurn();
    assert.is(sent.length, taskIds.length, 'only each task oldest update is sent');
    assert.is(checkpoint.pendingUpdateCount(), 2 * taskIds.length);

    const examinedBefore = updates.headsExamined;
    sent.length = 0;
    for (const taskId of taskIds) updates.acknowledge('fw-1', taskId, running.get(taskId)?.uuid ?? '');
    assert.equal(
      sent,
      taskIds.map((taskId) => ({ taskId, state: 'TASK_FINISHED' })),
      "each acknowledgement sends its task's next update at once",
    );
    assert.is(
      updates.headsExamined - examinedBefore,
      taskIds.length,
      'one pending update looked at per acknowledgement',
    );
    assert.is(checkpoint.statusRowsRead, 0, 'no pending update was read back from SQLite');
    assert.is(checkpoint.pendingUpdateCount(), taskIds.length);
    assert.not.ok(
      checkpoint.acknowledge(running.get('task-0')?.uuid ?? ''),
      'a repeated acknowledgement is known as one',
    );
  } finally {
    updates.stop();
    checkpoint.close();
  }
});

test('a restarted agent finds in its index exactly the updates the file holds', async () => {
  const file = path.join(makeTempDir('status-index-'), 'agent.db');
  const checkpoint = Checkpoint.open(file);
  const status = (uuid: string, state: string): WireStatus => ({ ...fields(state), uuid, timestampMs: 1 });
  for (const taskId of ['a', 'b', 'c'])
    checkpoint.addTask({ frameworkId: 'fw-1', spec: wireTaskSpec(taskId), sandbox: `/tmp/${taskId}` });
  checkpoint.recordUpdate('fw-1', 'a', status('a-1', 'TASK_RUNNING'), false);
  checkpoint.recordUpdate('fw-1', 'b', status('b-1', 'TASK_RUNNING'), false);
  checkpoint.recordUpdate('fw-1', 'a', status('a-2', 'TASK_FINISHED'), true);
  checkpoint.recordUpdate('fw-1', 'c', status('c-1', 'TASK_RUNNING'), false);
  await nextTurn();
  assert.ok(checkpoint.acknowledge('a-1'));
  assert.ok(checkpoint.acknowledge('c-1'));
  assert.equal(
    checkpoint.headUpdates().map((update) => update.status.uuid),
    ['b-1', 'a-2'],
    'heads by age',
  );
  // Opened again while the first is still open: what an agent restarted after a SIGKILL reads.
  const reopened = Checkpoint.open(file);
  try {
    assert.equal(
      reopened.headUpdates().map((update) => update.status.uuid),
      ['b-1', 'a-2'],
    );
    assert.is(reopened.headUpdate('fw-1', 'a')?.status.state, 'TASK_FINISHED');
    assert.is(reopened.headUpdate('fw-1', 'c'), null);
    assert.ok(reopened.hasUpdate('b-1'));
    assert.not.ok(reopened.hasUpdate('a-1'));
    assert.is(reopened.statusRowsRead, 2, 'read once, when it opened');
  } finally {
    reopened.close();
    checkpoint.close();
  }
});

test('a burst of terminal updates in one turn still leaves the newest terminal tasks kept', async () => {
  const checkpoint = Checkpoint.open(path.join(makeTempDir('status-index-'), 'agent.db'));
  try {
    const count = maxTerminalTasksKept + 200;
    for (let position = 0; position < count; position++) {
      const taskId = `task-${position}`;
      checkpoint.addTask({ frameworkId: 'fw-1', spec: wireTaskSpec(taskId), sandbox: '/tmp/x' });
      const uuid = `uuid-${position}`;
      checkpoint.recordUpdate('fw-1', taskId, { ...fields('TASK_FINISHED'), uuid, timestampMs: 1 }, true);
    }
    await nextTurn();
    for (let position = 0; position < count; position++) checkpoint.acknowledge(`uuid-${position}`);
    // The next turn with a terminal update prunes what is acknowledged beyond the newest kept.
    checkpoint.addTask({ frameworkId: 'fw-1', spec: wireTaskSpec('last'), sandbox: '/tmp/x' });
    checkpoint.recordUpdate('fw-1', 'last', { ...fields('TASK_FAILED'), uuid: 'uuid-last', timestampMs: 1 }, true);
    await nextTurn();
    const kept = Object.values(checkpoint.taskCountsByState()).reduce((sum, tasks) => sum + tasks, 0);
    assert.is(kept, maxTerminalTasksKept, 'the newest terminal tasks only (and none older)');
    assert.ok(checkpoint.hasTask('fw-1', 'last'));
    assert.not.ok(checkpoint.hasTask('fw-1', 'task-0'));
    assert.ok(checkpoint.hasTask('fw-1', `task-${count - 1}`));
  } finally {
    checkpoint.close();
  }
});

test.run();
