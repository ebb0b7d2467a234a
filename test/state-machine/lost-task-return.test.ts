// An unreachable agent's returning tasks (command format 11, reregister_agent's `restoresLostTasks`):
// a non-partition-aware framework's task the master made TASK_LOST only because its agent was
// unreachable comes back in the state the returning agent reports, holding its resources again,
// as Mesos re-adds them (master_tests.cpp MasterTest.UnreachableTaskAfterFailover). Without the
// member (formats 1–10, or a leader whose cluster has not agreed to 11) it stays TASK_LOST.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeCommand, encodeCommand } from '../../src/state-machine/codec.ts';
import type { Command, TaskReference } from '../../src/state-machine/commands.ts';
import { DerivedIndexes } from '../../src/state-machine/derived-indexes.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { taskKey } from '../../src/state-machine/ids.ts';
import { emptyResources } from '../../src/state-machine/resources.ts';
import {
  A1,
  accept,
  agentInfo,
  baseTime,
  cpus,
  createOffers,
  F1,
  F2,
  Harness,
  launch,
  O1,
  O2,
  offerDefinition,
  partitionAware,
  registerAgent,
  resources,
  subscribe,
  T1,
  T2,
  T3,
  taskDefinition,
  updateStatus,
  uuid,
} from './support/fixtures.ts';

const lostKey = taskKey(F1, T1);

/** f1 (not partition aware) runs t1 and t3, f2 (partition aware) t2, all on a1, which becomes unreachable. */
function unreachableAgent(): Harness {
  return new Harness([
    registerAgent(),
    subscribe(F1),
    subscribe(F2, { capabilities: partitionAware }),
    createOffers(offerDefinition(O1, resources(cpus(2))), offerDefinition(O2, resources(cpus(1)), { frameworkId: F2 })),
    accept([O1], [launch(taskDefinition(T1, resources(cpus(1)))), launch(taskDefinition(T3, resources(cpus(1))))], F1),
    accept([O2], [launch(taskDefinition(T2, resources(cpus(1))))], F2),
    updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1) }),
    { type: 'acknowledge_task_status', at: baseTime, frameworkId: F1, taskId: T1, agentId: A1, uuid: uuid(1) },
    { type: 'update_agent_state', at: baseTime + 1, agentId: A1, state: 'UNREACHABLE' },
  ]);
}

const reports: readonly TaskReference[] = [
  { frameworkId: F1, taskId: T1, state: 'TASK_RUNNING' },
  { frameworkId: F2, taskId: T2, state: 'TASK_RUNNING' },
];

function reregister(restoresLostTasks: boolean, tasks: readonly TaskReference[] = reports, at = baseTime + 2): Command {
  const command = {
    type: 'reregister_agent',
    keepsReservations: true,
    at,
    agentId: A1,
    info: agentInfo(),
    tasks,
  } as const;
  return restoresLostTasks ? { ...command, restoresLostTasks: true } : command;
}

const completedOf = (harness: Harness): boolean =>
  harness.state.derived.completedTasksByFramework.get(F1)?.has(lostKey) === true;

test('a task lost only because its agent was unreachable returns TASK_RUNNING when the agent reports it', () => {
  const harness = unreachableAgent();
  assert.is(harness.state.tasks.get(lostKey)?.state, 'TASK_LOST');
  assert.ok(completedOf(harness), 'the master-made TASK_LOST completed it (nothing to acknowledge)');
  assert.equal(harness.state.agents.get(A1)?.used, resources(cpus(1)), 'only the unreachable t2 holds resources');
  const before = harness.events.length;
  harness.ok(reregister(true));
  const task = harness.state.tasks.get(lostKey);
  assert.is(task?.state, 'TASK_RUNNING');
  assert.equal(
    task?.statuses.map((status) => status.state),
    ['TASK_STAGING', 'TASK_RUNNING', 'TASK_LOST', 'TASK_RUNNING'],
  );
  assert.is(task?.statuses.at(-1)?.reason, 'REASON_AGENT_REREGISTERED');
  assert.is(task?.statuses.at(-1)?.uuid, null, "the master's own: nothing to acknowledge");
  // Its resources held again, with the partition-aware t2's; t3, not reported, stays lost.
  assert.equal(harness.state.agents.get(A1)?.used, resources(cpus(2)));
  assert.is(harness.state.tasks.get(taskKey(F1, T3))?.state, 'TASK_LOST');
  assert.is(harness.state.tasks.get(taskKey(F2, T2))?.state, 'TASK_RUNNING');
  // Live in the indexes again, out of the completed list.
  assert.ok(harness.state.derived.liveTasksByAgent.get(A1)?.has(lostKey));
  assert.ok(harness.state.derived.liveTasksByFramework.get(F1)?.has(lostKey));
  assert.not.ok(completedOf(harness));
  // The framework hears it: one TASK_UPDATED for each returning task, then the agent is back.
  const updates = harness
    .eventsSince(before)
    .flatMap((event) =>
      event.type === 'TASK_UPDATED' ? [`${event.task.frameworkId}/${event.task.id} ${event.status.state}`] : [],
    );
  assert.equal(updates, ['f2/t2 TASK_RUNNING', 'f1/t1 TASK_RUNNING']);
  assert.is(harness.state.agents.get(A1)?.state, 'ACTIVE');
  // The agent's later updates of it are taken again (a TASK_LOST task rejects them as terminal).
  harness.ok(updateStatus(T1, 'TASK_FINISHED', { uuid: uuid(2) }));
  assert.is(harness.state.tasks.get(lostKey)?.state, 'TASK_FINISHED');
  assert.equal(harness.state.agents.get(A1)?.used, resources(cpus(1)));
});

test('without the member (formats 1–10) the task stays TASK_LOST and its resources free', () => {
  const harness = unreachableAgent();
  harness.ok(reregister(false));
  assert.is(harness.state.tasks.get(lostKey)?.state, 'TASK_LOST');
  assert.ok(completedOf(harness));
  assert.equal(harness.state.agents.get(A1)?.used, resources(cpus(1)));
});

test('only an unreachable loss returns: not a task the agent reports ended, nor one of an agent that was not away', () => {
  const ended = unreachableAgent();
  ended.ok(reregister(true, [{ frameworkId: F1, taskId: T1, state: 'TASK_FAILED' }]));
  assert.is(ended.state.tasks.get(lostKey)?.state, 'TASK_LOST');
  const unknown = unreachableAgent();
  unknown.ok(reregister(true, [{ frameworkId: F1, taskId: T1, state: null }]));
  assert.is(unknown.state.tasks.get(lostKey)?.state, 'TASK_LOST');
  // The agent came back without it: a later report does not revive it (only the return ends an absence).
  const dropped = unreachableAgent();
  dropped.ok(reregister(true, []));
  dropped.ok(reregister(true, [{ frameworkId: F1, taskId: T3, state: 'TASK_RUNNING' }], baseTime + 3));
  assert.is(dropped.state.tasks.get(taskKey(F1, T3))?.state, 'TASK_LOST');
  assert.equal(dropped.state.agents.get(A1)?.used, emptyResources);
});

test('a task that no longer fits the resources the agent reports stays lost (report order decides)', () => {
  const harness = unreachableAgent();
  harness.ok({
    ...(reregister(true, [
      { frameworkId: F1, taskId: T3, state: 'TASK_RUNNING' },
      { frameworkId: F1, taskId: T1, state: 'TASK_RUNNING' },
      { frameworkId: F2, taskId: T2, state: 'TASK_RUNNING' },
    ]) as Extract<Command, { type: 'reregister_agent' }>),
    info: agentInfo({ resources: resources(cpus(2)) }),
  });
  assert.is(harness.state.tasks.get(taskKey(F1, T3))?.state, 'TASK_RUNNING');
  assert.is(harness.state.tasks.get(lostKey)?.state, 'TASK_LOST');
  assert.equal(harness.state.agents.get(A1)?.used, resources(cpus(2)));
});

test('a returned task is indexed as a restored replica rebuilds it; replicas agree, an older one would not', () => {
  const applied = unreachableAgent();
  applied.ok(reregister(true));
  const rebuilt = DerivedIndexes.rebuild(applied.state);
  assert.equal([...(rebuilt.liveTasksByAgent.get(A1) ?? [])].sort(), [lostKey, taskKey(F2, T2)].sort());
  assert.not.ok(rebuilt.completedTasksByFramework.get(F1)?.has(lostKey));
  const other = unreachableAgent();
  other.ok(reregister(true));
  assert.is(stateHash(other.state), stateHash(applied.state));
  const older = unreachableAgent();
  older.ok(reregister(false));
  assert.is.not(stateHash(older.state), stateHash(applied.state));
});

test('the same in an agent_registration_batch; the member makes the entry format 11, without it as before', () => {
  const single = unreachableAgent();
  single.ok(reregister(true));
  const batched = unreachableAgent();
  const { at: _at, ...item } = reregister(true) as Extract<Command, { type: 'reregister_agent' }>;
  const batch: Command = { type: 'agent_registration_batch', at: baseTime + 2, items: [item] };
  batched.ok(batch);
  assert.is(stateHash(batched.state), stateHash(single.state));
  for (const command of [reregister(true), batch]) {
    const bytes = encodeCommand(command);
    assert.is((JSON.parse(new TextDecoder().decode(bytes)) as { version: number }).version, 11);
    const decoded = decodeCommand(bytes);
    assert.ok(decoded.ok);
    if (decoded.ok) assert.equal(decoded.command, command);
  }
  // What the older build writes, byte for byte: format 9 (no member of format 10 or 11).
  const without = reregister(false);
  assert.is(new TextDecoder().decode(encodeCommand(without)), JSON.stringify({ version: 9, command: without }));
  // True or absent: a format-11 entry saying false is malformed, not a third rule.
  const refused = decodeCommand(
    new TextEncoder().encode(JSON.stringify({ version: 11, command: { ...without, restoresLostTasks: false } })),
  );
  assert.is(refused.ok ? 'ok' : refused.code, 'MALFORMED_COMMAND');
});

test.run();
