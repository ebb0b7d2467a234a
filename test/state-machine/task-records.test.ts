// task-records.ts builds task and status records field by field where apply used to spread
// objects ({ ...task, ...changes }); the records must be exactly what the spreads made (same keys,
// same values), or replicas running the old and the new code would hash different states.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { taskKey } from '../../src/state-machine/ids.ts';
import type { Task } from '../../src/state-machine/state.ts';
import { recordedStatus, stagingTask, taskWith } from '../../src/state-machine/task-records.ts';
import {
  F1,
  Harness,
  T1,
  cpus,
  executorDefinition,
  mem,
  resources,
  runningTaskSetup,
  statusReport,
  taskDefinition,
  updateStatus,
  uuid,
} from './support/fixtures.ts';

const sortedEntries = (value: object): [string, unknown][] =>
  Object.entries(value).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));

function launchedTask(): Task {
  const harness = new Harness();
  for (const command of runningTaskSetup()) harness.ok(command);
  harness.ok(updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1), message: 'up', data: 'ZGF0YQ==' }));
  const task = harness.state.tasks.get(taskKey(F1, T1));
  assert.ok(task !== undefined, 'the task was launched');
  return task;
}

test('taskWith is the spread of the task with the changes, key for key', () => {
  for (const task of [launchedTask(), madeTask()]) checkTaskWith(task);
});

function madeTask(): Task {
  const definition = taskDefinition(T1, resources(cpus(1), mem(128)), {
    executor: executorDefinition('e1', resources(cpus(0.1), mem(32))),
    command: null,
    data: 'ZGF0YQ==',
    killGracePeriodMs: 5_000,
    labels: { team: 'a' },
  });
  const staging = recordedStatus(statusReport('TASK_STAGING', { source: 'SOURCE_MASTER' }), false, 7, 3);
  const placement = { taskGroup: T1, frameworkId: F1, user: 'root', agentId: launchedTask().agentId, role: 'web' };
  return stagingTask(definition, { ...placement, createdAt: 7, index: 3 }, staging);
}

function checkTaskWith(task: Task): void {
  const changesList = [
    { modifyIndex: 9 },
    { state: 'TASK_FINISHED' as const, statuses: [], modifyIndex: 10 },
    { killRequestedAt: 123, modifyIndex: 11 },
    { killRequestedAt: null, modifyIndex: 12 },
  ];
  for (const changes of changesList)
    assert.equal(
      sortedEntries(taskWith(task, changes)),
      sortedEntries({ ...task, ...changes }),
      JSON.stringify(changes),
    );
}

test('stagingTask is the launch spread of the definition; recordedStatus the spread of the report', () => {
  const executor = executorDefinition('e1', resources(cpus(0.1), mem(32)));
  const definition = taskDefinition(T1, resources(cpus(1), mem(128)), {
    executor,
    command: null,
    data: 'ZGF0YQ==',
    killGracePeriodMs: 5_000,
    labels: { team: 'a' },
  });
  const report = statusReport('TASK_STAGING', { source: 'SOURCE_MASTER' });
  const staging = recordedStatus(report, false, 7, 3);
  assert.equal(sortedEntries(staging), sortedEntries({ ...report, acknowledged: false, receivedAt: 7, index: 3 }));
  const placement = { taskGroup: null, frameworkId: F1, user: 'root', agentId: launchedTask().agentId, role: '*' };
  const made = stagingTask(definition, { ...placement, createdAt: 7, index: 3 }, staging);
  const spread = {
    ...definition,
    ...placement,
    state: 'TASK_STAGING',
    killRequestedAt: null,
    statuses: [staging],
    createdAt: 7,
    createIndex: 3,
    modifyIndex: 3,
  };
  assert.equal(sortedEntries(made), sortedEntries(spread));
});

test.run();
