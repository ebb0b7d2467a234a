// Mesos' acknowledgement rule (master.cpp `Master::acknowledge`: the task's latest status is
// terminal and its uuid is the acknowledged one → removeTask), carried by acknowledge_task_status
// as `completesTerminalTask` since command format 10; entries without it (formats 1–9, and a
// leader whose cluster has not agreed to format 10) keep the older rule, each update waiting for
// its own acknowledgement.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeCommand, encodeCommand } from '../../src/state-machine/codec.ts';
import type { Command } from '../../src/state-machine/commands.ts';
import { DerivedIndexes } from '../../src/state-machine/derived-indexes.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { taskKey, type TaskId } from '../../src/state-machine/ids.ts';
import { A1, baseTime, F1, Harness, runningTaskSetup, T1, updateStatus, uuid } from './support/fixtures.ts';

const key = taskKey(F1, T1);

function acknowledge(seed: number, completesTerminalTask: boolean, task: TaskId = T1): Command {
  const command = {
    type: 'acknowledge_task_status',
    at: baseTime,
    frameworkId: F1,
    taskId: task,
    agentId: A1,
  } as const;
  return completesTerminalTask
    ? { ...command, uuid: uuid(seed), completesTerminalTask: true }
    : { ...command, uuid: uuid(seed) };
}

/** t1 reported TASK_RUNNING (uuid 1) and TASK_FINISHED (uuid 2), neither acknowledged. */
function finishedUnacknowledged(): Harness {
  const harness = new Harness(runningTaskSetup());
  harness.ok(updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1) }));
  harness.ok(updateStatus(T1, 'TASK_FINISHED', { uuid: uuid(2) }));
  return harness;
}

const acknowledgedFlags = (harness: Harness): boolean[] =>
  harness.state.tasks.get(key)?.statuses.map((status) => status.acknowledged) ?? [];

const completed = (harness: Harness): boolean =>
  harness.state.derived.completedTasksByFramework.get(F1)?.has(key) === true;

const waitsForAcknowledgement = (harness: Harness): boolean =>
  harness.state.derived.unacknowledgedTasksByFramework.get(F1)?.has(key) === true;

test('the terminal update acknowledged completes the task: the earlier unacknowledged ones are superseded', () => {
  const harness = finishedUnacknowledged();
  harness.ok(acknowledge(2, true));
  // STAGING is the master's own (no uuid); RUNNING is recorded acknowledged with FINISHED.
  assert.equal(acknowledgedFlags(harness), [false, true, true]);
  assert.ok(completed(harness), 'filed as completed');
  assert.not.ok(waitsForAcknowledgement(harness), 'nothing left to send again');
  // The late acknowledgement of the superseded update changes nothing and is answered as a retry.
  harness.rejects(acknowledge(1, true), 'STATUS_ALREADY_ACKNOWLEDGED');
});

test('without the member (formats 1–9) each update still waits for its own acknowledgement', () => {
  const harness = finishedUnacknowledged();
  harness.ok(acknowledge(2, false));
  assert.equal(acknowledgedFlags(harness), [false, false, true]);
  assert.not.ok(completed(harness));
  assert.ok(waitsForAcknowledgement(harness), 'TASK_RUNNING still pending');
  harness.ok(acknowledge(1, false));
  assert.ok(completed(harness));
});

test('only the terminal update completes: an earlier one, or the latest of a live task, supersedes nothing', () => {
  const harness = finishedUnacknowledged();
  harness.ok(acknowledge(1, true));
  assert.equal(acknowledgedFlags(harness), [false, true, false], 'TASK_FINISHED still waits');
  assert.not.ok(completed(harness));

  const live = new Harness(runningTaskSetup());
  live.ok(updateStatus(T1, 'TASK_STARTING', { uuid: uuid(1) }));
  live.ok(updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(2) }));
  live.ok(acknowledge(2, true));
  assert.equal(acknowledgedFlags(live), [false, false, true], 'a live task keeps its TASK_STARTING to acknowledge');
});

test('a task completed by the rule is filed as a restored replica rebuilds it, with one state hash', () => {
  const applied = finishedUnacknowledged();
  applied.ok(acknowledge(2, true));
  const rebuilt = DerivedIndexes.rebuild(applied.state);
  assert.equal([...(rebuilt.completedTasksByFramework.get(F1) ?? [])], [key]);
  assert.is(rebuilt.unacknowledgedTasksByFramework.size, 0);
  // Two replicas applying the same log agree; one that applied the older rule would not.
  const other = finishedUnacknowledged();
  other.ok(acknowledge(2, true));
  assert.is(stateHash(other.state), stateHash(applied.state));
  const older = finishedUnacknowledged();
  older.ok(acknowledge(2, false));
  assert.is.not(stateHash(older.state), stateHash(applied.state));
});

test('mixed versions: an entry without the member is written as format 9, byte for byte the older build', () => {
  const single = acknowledge(2, false);
  const batch: Command = {
    type: 'task_status_batch',
    at: baseTime,
    items: [{ type: 'acknowledge_task_status', frameworkId: F1, taskId: T1, agentId: A1, uuid: uuid(2) }],
  };
  // What e382d7c (command format 9) writes: `{"version":9,"command":…}`.
  for (const command of [single, batch, updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1) })]) {
    const written = new TextDecoder().decode(encodeCommand(command));
    assert.is(written, JSON.stringify({ version: 9, command }));
  }
  // With the member the entry says format 10: an older replica refuses it rather than dropping
  // the member and applying the older rule; this build reads it back whole.
  for (const command of [
    acknowledge(2, true),
    { ...batch, items: [{ ...batch.items[0]!, completesTerminalTask: true }] } as Command,
  ]) {
    const bytes = encodeCommand(command);
    assert.is((JSON.parse(new TextDecoder().decode(bytes)) as { version: number }).version, 10);
    const decoded = decodeCommand(bytes);
    assert.ok(decoded.ok);
    if (decoded.ok) assert.equal(decoded.command, command);
  }
  // The member is true or absent: a format-10 entry saying false is malformed, not a third rule.
  const malformed = new TextEncoder().encode(
    JSON.stringify({ version: 10, command: { ...acknowledge(2, false), completesTerminalTask: false } }),
  );
  const refused = decodeCommand(malformed);
  assert.is(refused.ok ? 'ok' : refused.code, 'MALFORMED_COMMAND');
});

test('in a batch, the rule applies item by item as the single commands do', () => {
  const single = finishedUnacknowledged();
  single.ok(acknowledge(2, true));
  const batched = finishedUnacknowledged();
  batched.ok({
    type: 'task_status_batch',
    at: baseTime,
    items: [
      {
        type: 'acknowledge_task_status',
        frameworkId: F1,
        taskId: T1,
        agentId: A1,
        uuid: uuid(2),
        completesTerminalTask: true,
      },
    ],
  });
  assert.equal(acknowledgedFlags(batched), [false, true, true]);
  assert.is(stateHash(batched.state), stateHash(single.state));
});

test.run();
