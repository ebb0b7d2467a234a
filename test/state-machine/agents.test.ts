// Agents: registration, re-registration with task reconciliation, state changes and marking
// gone, with the task states and reasons Mesos gives in each case.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
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
  mem,
  O1,
  O2,
  offerDefinition,
  partitionAware,
  registerAgent,
  resources,
  runningTaskSetup,
  subscribe,
  T1,
  T2,
  T3,
  taskDefinition,
} from './support/fixtures.ts';

test('register_agent: the agent is ACTIVE with empty books and its indexes', () => {
  const harness = new Harness();
  harness.ok(registerAgent());
  const agent = harness.state.agents.get(A1);
  assert.ok(agent);
  assert.is(agent.state, 'ACTIVE');
  assert.equal(agent.used, emptyResources);
  assert.equal(agent.offered, emptyResources);
  assert.is(agent.registeredAt, baseTime);
  assert.is(agent.createIndex, 1);
  assert.is(agent.modifyIndex, 1);
  assert.equal(
    harness.events.map((event) => event.type),
    ['AGENT_ADDED'],
  );
});

test('reregister_agent: new info replaces the old, offers are removed, reported tasks stay', () => {
  const harness = new Harness([...runningTaskSetup(), createOffers(offerDefinition(O2, resources(cpus(1))))]);
  harness.ok({
    type: 'reregister_agent',
    keepsReservations: true,
    at: baseTime + 5,
    agentId: A1,
    info: agentInfo({ hostname: 'node1b', resources: resources(cpus(8), mem(8192)) }),
    tasks: [{ frameworkId: F1, taskId: T1, state: 'TASK_RUNNING' }],
  });
  const agent = harness.state.agents.get(A1);
  assert.is(agent?.hostname, 'node1b');
  assert.is(agent?.reregisteredAt, baseTime + 5);
  assert.is(harness.state.offers.size, 0);
  assert.is(harness.state.tasks.get(taskKey(F1, T1))?.state, 'TASK_STAGING');
  assert.equal(agent?.used, resources(cpus(1), mem(128)));
});

test('reregister_agent: a live task the agent does not report is lost (TASK_LOST, or TASK_DROPPED if partition aware)', () => {
  const harness = new Harness([
    registerAgent(),
    subscribe(F1),
    subscribe(F2, { capabilities: partitionAware }),
    createOffers(offerDefinition(O1, resources(cpus(1))), offerDefinition(O2, resources(cpus(1)), { frameworkId: F2 })),
    accept([O1], [launch(taskDefinition(T1, resources(cpus(1))))], F1),
    accept([O2], [launch(taskDefinition(T2, resources(cpus(1))))], F2),
  ]);
  harness.ok({
    type: 'reregister_agent',
    keepsReservations: true,
    at: baseTime,
    agentId: A1,
    info: agentInfo(),
    tasks: [],
  });
  const lost = harness.state.tasks.get(taskKey(F1, T1));
  const dropped = harness.state.tasks.get(taskKey(F2, T2));
  assert.is(lost?.state, 'TASK_LOST');
  assert.is(lost?.statuses.at(-1)?.reason, 'REASON_RECONCILIATION');
  assert.is(lost?.statuses.at(-1)?.source, 'SOURCE_MASTER');
  assert.is(dropped?.state, 'TASK_DROPPED');
  assert.equal(harness.state.agents.get(A1)?.used, emptyResources);
});

test('an unreachable agent comes back ACTIVE by re-registering, announced as AGENT_ADDED', () => {
  const harness = new Harness([
    registerAgent(),
    { type: 'update_agent_state', at: baseTime, agentId: A1, state: 'UNREACHABLE' },
  ]);
  const before = harness.events.length;
  harness.ok({
    type: 'reregister_agent',
    keepsReservations: true,
    at: baseTime + 1,
    agentId: A1,
    info: agentInfo(),
    tasks: [],
  });
  assert.is(harness.state.agents.get(A1)?.state, 'ACTIVE');
  assert.is(harness.state.agents.get(A1)?.stateChangedAt, baseTime + 1);
  assert.equal(
    harness.eventsSince(before).map((event) => event.type),
    ['AGENT_ADDED'],
  );
});

test("a returning agent's running tasks leave TASK_UNREACHABLE; lost ones stay lost, unsaid ones unreachable", () => {
  const harness = new Harness([
    registerAgent(),
    subscribe(F1),
    subscribe(F2, { capabilities: partitionAware }),
    createOffers(offerDefinition(O1, resources(cpus(1))), offerDefinition(O2, resources(cpus(2)), { frameworkId: F2 })),
    accept([O1], [launch(taskDefinition(T1, resources(cpus(1))))], F1),
    accept([O2], [launch(taskDefinition(T2, resources(cpus(1)))), launch(taskDefinition(T3, resources(cpus(1))))], F2),
    { type: 'update_agent_state', at: baseTime + 1, agentId: A1, state: 'UNREACHABLE' },
  ]);
  assert.is(harness.state.tasks.get(taskKey(F1, T1))?.state, 'TASK_LOST');
  assert.is(harness.state.tasks.get(taskKey(F2, T2))?.state, 'TASK_UNREACHABLE');
  const before = harness.events.length;
  harness.ok({
    type: 'reregister_agent',
    keepsReservations: true,
    at: baseTime + 2,
    agentId: A1,
    info: agentInfo(),
    tasks: [
      { frameworkId: F1, taskId: T1, state: 'TASK_RUNNING' },
      { frameworkId: F2, taskId: T2, state: 'TASK_RUNNING' },
      // An agent of command format 3 names its tasks without their states.
      { frameworkId: F2, taskId: T3, state: null },
    ],
  });
  const returned = harness.state.tasks.get(taskKey(F2, T2));
  assert.is(returned?.state, 'TASK_RUNNING');
  assert.is(returned?.statuses.at(-1)?.reason, 'REASON_AGENT_REREGISTERED');
  assert.is(returned?.statuses.at(-1)?.source, 'SOURCE_MASTER');
  assert.is(returned?.statuses.at(-1)?.uuid, null);
  // TASK_LOST is terminal: the gateway tells the agent to kill it (Mesos 1.1+ for non-partition-aware frameworks).
  assert.is(harness.state.tasks.get(taskKey(F1, T1))?.state, 'TASK_LOST');
  assert.is(harness.state.tasks.get(taskKey(F2, T3))?.state, 'TASK_UNREACHABLE');
  assert.equal(
    harness.eventsSince(before).map((event) => event.type),
    ['TASK_UPDATED', 'AGENT_ADDED'],
  );
  assert.equal(harness.state.agents.get(A1)?.used, resources(cpus(2)));
});

test("deactivate_agent removes the agent's offers but keeps its tasks; reactivate_agent ends it", () => {
  const harness = new Harness([...runningTaskSetup(), createOffers(offerDefinition(O2, resources(cpus(1))))]);
  harness.ok({ type: 'deactivate_agent', at: baseTime + 1, agentId: A1 });
  assert.is(harness.state.agents.get(A1)?.state, 'ACTIVE');
  assert.is(harness.state.agents.get(A1)?.deactivated, true);
  assert.is(harness.state.offers.size, 0);
  assert.is(harness.state.tasks.get(taskKey(F1, T1))?.state, 'TASK_STAGING');
  harness.ok({ type: 'reactivate_agent', at: baseTime + 2, agentId: A1 });
  assert.is(harness.state.agents.get(A1)?.deactivated, false);
});

test('deactivate_agent of a deactivated agent changes nothing', () => {
  const harness = new Harness([registerAgent(), { type: 'deactivate_agent', at: baseTime, agentId: A1 }]);
  const before = harness.state.agents.get(A1);
  harness.ok({ type: 'deactivate_agent', at: baseTime + 9, agentId: A1 });
  assert.is(harness.state.agents.get(A1), before);
});

test('UNREACHABLE: tasks of partition-aware frameworks become TASK_UNREACHABLE (still holding resources), others TASK_LOST', () => {
  const harness = new Harness([
    registerAgent(),
    subscribe(F1),
    subscribe(F2, { capabilities: partitionAware }),
    createOffers(offerDefinition(O1, resources(cpus(1))), offerDefinition(O2, resources(cpus(2)), { frameworkId: F2 })),
    accept([O1], [launch(taskDefinition(T1, resources(cpus(1))))], F1),
    accept([O2], [launch(taskDefinition(T2, resources(cpus(2))))], F2),
  ]);
  const before = harness.events.length;
  harness.ok({ type: 'update_agent_state', at: baseTime, agentId: A1, state: 'UNREACHABLE' });
  assert.equal(
    harness.eventsSince(before).map((event) => event.type),
    ['TASK_UPDATED', 'TASK_UPDATED', 'AGENT_REMOVED'],
  );
  assert.is(harness.state.tasks.get(taskKey(F1, T1))?.state, 'TASK_LOST');
  assert.is(harness.state.tasks.get(taskKey(F2, T2))?.state, 'TASK_UNREACHABLE');
  assert.is(harness.state.tasks.get(taskKey(F2, T2))?.statuses.at(-1)?.reason, 'REASON_AGENT_REMOVED');
  assert.equal(harness.state.agents.get(A1)?.used, resources(cpus(2)));
});

test('mark_agent_gone: live tasks become TASK_GONE_BY_OPERATOR, resources are released, AGENT_REMOVED is emitted', () => {
  const harness = new Harness(runningTaskSetup());
  const before = harness.events.length;
  harness.ok({ type: 'mark_agent_gone', at: baseTime + 3, agentId: A1 });
  const task = harness.state.tasks.get(taskKey(F1, T1));
  assert.is(task?.state, 'TASK_GONE_BY_OPERATOR');
  assert.is(task?.statuses.at(-1)?.reason, 'REASON_AGENT_REMOVED_BY_OPERATOR');
  assert.is(harness.state.agents.get(A1)?.state, 'GONE');
  assert.equal(harness.state.agents.get(A1)?.used, emptyResources);
  assert.equal(
    harness.eventsSince(before).map((event) => event.type),
    ['TASK_UPDATED', 'AGENT_REMOVED'],
  );
});

test.run();
