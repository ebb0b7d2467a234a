// Task status updates, acknowledgements and kill requests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { taskKey } from '../../src/state-machine/ids.ts';
import { maxStatusHistory } from '../../src/state-machine/limits.ts';
import { emptyResources } from '../../src/state-machine/resources.ts';
import { isTerminalTaskState, taskStates } from '../../src/protocol/task-states.ts';
import { A1, baseTime, F1, Harness, runningTaskSetup, T1, updateStatus, uuid } from './support/fixtures.ts';

const key = taskKey(F1, T1);

test('status updates move the task; the newest status is its state; all fields are kept', () => {
  const harness = new Harness(runningTaskSetup());
  harness.ok(updateStatus(T1, 'TASK_STARTING', { uuid: uuid(1) }));
  harness.ok(
    updateStatus(T1, 'TASK_RUNNING', {
      uuid: uuid(2),
      healthy: true,
      message: 'up',
      source: 'SOURCE_AGENT',
      timestampMs: baseTime + 7,
    }),
  );
  const task = harness.state.tasks.get(key);
  assert.is(task?.state, 'TASK_RUNNING');
  assert.equal(
    task?.statuses.map((status) => status.state),
    ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING'],
  );
  const newest = task?.statuses.at(-1);
  assert.equal(
    [newest?.healthy, newest?.message, newest?.source, newest?.timestampMs, newest?.acknowledged],
    [true, 'up', 'SOURCE_AGENT', baseTime + 7, false],
  );
  assert.is(harness.events.at(-1)?.type, 'TASK_UPDATED');
});

test("a terminal update releases the task's resources on its agent", () => {
  const harness = new Harness(runningTaskSetup());
  harness.ok(updateStatus(T1, 'TASK_FINISHED', { uuid: uuid(1) }));
  assert.equal(harness.state.agents.get(A1)?.used, emptyResources);
});

test('terminal states are exactly the Mesos ones', () => {
  const terminal = taskStates.filter(isTerminalTaskState);
  assert.equal(terminal, [
    'TASK_FINISHED',
    'TASK_FAILED',
    'TASK_KILLED',
    'TASK_ERROR',
    'TASK_LOST',
    'TASK_DROPPED',
    'TASK_GONE',
    'TASK_GONE_BY_OPERATOR',
  ]);
});

test('acknowledge_task_status marks the status acknowledged, also for a terminal task', () => {
  const harness = new Harness(runningTaskSetup());
  harness.ok(updateStatus(T1, 'TASK_FAILED', { uuid: uuid(3), reason: 'REASON_COMMAND_EXECUTOR_FAILED' }));
  harness.ok({
    type: 'acknowledge_task_status',
    at: baseTime,
    frameworkId: F1,
    taskId: T1,
    agentId: A1,
    uuid: uuid(3),
  });
  assert.is(harness.state.tasks.get(key)?.statuses.at(-1)?.acknowledged, true);
  assert.is(harness.state.tasks.get(key)?.state, 'TASK_FAILED');
});

test('kill_task records the first request time; repeats change nothing', () => {
  const harness = new Harness(runningTaskSetup());
  harness.ok({ type: 'kill_task', at: baseTime + 1, frameworkId: F1, taskId: T1 });
  harness.ok({ type: 'kill_task', at: baseTime + 2, frameworkId: F1, taskId: T1 });
  assert.is(harness.state.tasks.get(key)?.killRequestedAt, baseTime + 1);
});

test('the status history is bounded, newest kept', () => {
  const harness = new Harness(runningTaskSetup());
  for (let update = 0; update < maxStatusHistory + 5; update += 1) {
    harness.ok(updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(update + 1), healthy: update % 2 === 0 }));
  }
  const statuses = harness.state.tasks.get(key)?.statuses ?? [];
  assert.is(statuses.length, maxStatusHistory);
  assert.is(statuses.at(-1)?.uuid, uuid(maxStatusHistory + 5));
});

test.run();
