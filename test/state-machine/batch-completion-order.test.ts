// Two tasks of one framework completing in one task_status_batch, the later key first. The
// kept list of completed tasks (the order history pruning removes them in) must be the order a
// replica restoring a snapshot rebuilds: by completion index, then key. jepsen-lite's tasks
// workload found them apart (JEPSEN_SEED=1494863394, `completedTasksByFramework differs from a
// scan (or its order does)`); a restored replica would then prune another task than the rest.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TaskStatusBatchItem } from '../../src/state-machine/commands.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { checkInvariants } from '../../src/state-machine/invariants.ts';
import { writeSnapshot } from '../../src/state-machine/snapshot.ts';
import type { TaskId } from '../../src/state-machine/ids.ts';
import {
  A1,
  accept,
  baseTime,
  cpus,
  createOffers,
  F1,
  Harness,
  launch,
  mem,
  O1,
  offerDefinition,
  registerAgent,
  resources,
  statusReport,
  subscribe,
  T1,
  T2,
  T3,
  taskDefinition,
  uuid,
} from './support/fixtures.ts';

const small = resources(cpus(0.1), mem(16));
const finish = (taskId: TaskId, seed: number): TaskStatusBatchItem => ({
  type: 'update_task_status',
  frameworkId: F1,
  taskId,
  agentId: A1,
  status: statusReport('TASK_FINISHED', { uuid: uuid(seed) }),
});
const acknowledge = (taskId: TaskId, seed: number): TaskStatusBatchItem => ({
  type: 'acknowledge_task_status',
  frameworkId: F1,
  taskId,
  agentId: A1,
  uuid: uuid(seed),
});

function threeFinishedTasks(maxCompletedTasksPerFramework: number | null): Harness {
  const harness = new Harness([
    registerAgent(),
    subscribe(),
    createOffers(offerDefinition(O1, resources(cpus(1), mem(128)))),
    accept([O1], [launch(taskDefinition(T1, small), taskDefinition(T2, small), taskDefinition(T3, small))]),
  ]);
  if (maxCompletedTasksPerFramework !== null)
    harness.ok({
      type: 'update_history_limits',
      at: baseTime,
      maxCompletedFrameworks: 50,
      maxCompletedTasksPerFramework,
      maxRemovedAgentAgeMs: 86_400_000,
      maxRemovedAgentCount: 100,
    });
  harness.ok({
    type: 'task_status_batch',
    at: baseTime,
    items: [finish(T1, 1), finish(T2, 2), finish(T3, 3)],
  });
  return harness;
}

test('completions of one batch are kept in key order, as a restored replica rebuilds them', () => {
  const harness = threeFinishedTasks(null);
  harness.ok({ type: 'task_status_batch', at: baseTime, items: [acknowledge(T3, 3), acknowledge(T1, 1)] });
  checkInvariants(harness.state);
  const kept = [...(harness.state.derived.completedTasksByFramework.get(F1) ?? [])];
  assert.equal(kept, [`${F1}/${T1}`, `${F1}/${T3}`]);
});

test('pruning after a batch removes the same task on a replica restored from a snapshot', () => {
  const live = threeFinishedTasks(2);
  live.ok({ type: 'task_status_batch', at: baseTime, items: [acknowledge(T3, 3), acknowledge(T1, 1)] });
  const replica = new Harness();
  replica.machine.restore(writeSnapshot(live.state, live.index));
  replica.index = live.index;
  for (const harness of [live, replica])
    harness.ok({ type: 'task_status_batch', at: baseTime, items: [acknowledge(T2, 2)] });
  assert.is(stateHash(replica.state), stateHash(live.state));
  assert.equal([...live.state.tasks.keys()], [...replica.state.tasks.keys()]);
});

test.run();
