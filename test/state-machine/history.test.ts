// Bounded history (history.ts), command by command: completed tasks per framework, completed
// frameworks, unreachable and gone agents by count and by age, a change of limits, and a
// snapshot taken part-way whose restored replica (indexes rebuilt) prunes exactly as the others.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Command } from '../../src/state-machine/commands.ts';
import { encodeCommand } from '../../src/state-machine/codec.ts';
import type { ChangeEvent } from '../../src/state-machine/events.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { agentId, frameworkId, offerId, taskId, type AgentId, type FrameworkId } from '../../src/state-machine/ids.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import {
  A1,
  A2,
  accept,
  baseTime,
  cpus,
  createOffers,
  F1,
  F2,
  launch,
  mem,
  offerDefinition,
  partitionAware,
  registerAgent,
  resources,
  subscribe,
  taskDefinition,
  updateStatus,
  uuid,
  Harness,
} from './support/fixtures.ts';

const small = resources(cpus(0.1), mem(16));

function limits(overrides: Partial<Omit<Extract<Command, { type: 'update_history_limits' }>, 'type'>> = {}): Command {
  return {
    type: 'update_history_limits',
    at: baseTime,
    maxCompletedFrameworks: 50,
    maxCompletedTasksPerFramework: 1000,
    maxRemovedAgentAgeMs: 14 * 24 * 3600 * 1000,
    maxRemovedAgentCount: 102_400,
    ...overrides,
  };
}

/** Launches task `name` for `framework` on `agent` (one offer, accepted). */
function launchTask(harness: Harness, name: string, framework: FrameworkId = F1, agent: AgentId = A1): void {
  const offer = offerId(`o-${framework}-${name}`);
  harness.ok(createOffers(offerDefinition(offer, small, { frameworkId: framework, agentId: agent })));
  harness.ok(accept([offer], [launch(taskDefinition(taskId(name), small))], framework));
}

/** The agent reports it finished (with a uuid), and the framework acknowledges: the task completes. */
function finish(harness: Harness, name: string, seed: number, acknowledge = true, framework = F1, agent = A1): void {
  harness.ok(updateStatus(taskId(name), 'TASK_FINISHED', { uuid: uuid(seed) }, framework, agent));
  if (!acknowledge) return;
  harness.ok({
    type: 'acknowledge_task_status',
    at: baseTime,
    frameworkId: framework,
    taskId: taskId(name),
    agentId: agent,
    uuid: uuid(seed),
  });
}

const prunedTasks = (events: readonly ChangeEvent[]): string[] =>
  events.flatMap((event) => (event.type === 'TASK_PRUNED' ? [event.task.id] : []));

const completedOf = (harness: Harness, framework: FrameworkId = F1): string[] =>
  [...(harness.state.derived.completedTasksByFramework.get(framework) ?? [])].map((key) => key.split('/')[1]!);

test('a framework keeps only its newest completed tasks; the oldest completion goes first', () => {
  const harness = new Harness([registerAgent(), subscribe(), limits({ maxCompletedTasksPerFramework: 3 })]);
  for (const name of ['t1', 't2', 't3', 't4', 't5']) launchTask(harness, name);
  // Completion order is not launch order: t4 first, then t2, t5, t1, t3.
  const mark = harness.events.length;
  for (const [position, name] of ['t4', 't2', 't5', 't1', 't3'].entries()) finish(harness, name, position + 1);
  assert.equal(prunedTasks(harness.eventsSince(mark)), ['t4', 't2']);
  assert.equal(completedOf(harness), ['t5', 't1', 't3']);
  assert.equal([...harness.state.tasks.keys()].sort(), ['f1/t1', 'f1/t3', 'f1/t5'], 'the pruned tasks left the state');
});

test('a terminal task waiting for its acknowledgement is never pruned; it completes when acknowledged', () => {
  const harness = new Harness([registerAgent(), subscribe(), limits({ maxCompletedTasksPerFramework: 1 })]);
  for (const name of ['t1', 't2', 't3']) launchTask(harness, name);
  finish(harness, 't1', 1, false);
  finish(harness, 't2', 2);
  finish(harness, 't3', 3);
  assert.ok(harness.state.tasks.has('f1/t1' as never), 'unacknowledged: kept');
  assert.equal(completedOf(harness), ['t3']);
  assert.equal([...(harness.state.derived.unacknowledgedTasksByFramework.get(F1) ?? [])], ['f1/t1']);
  const mark = harness.events.length;
  harness.ok({
    type: 'acknowledge_task_status',
    at: baseTime,
    frameworkId: F1,
    taskId: taskId('t1'),
    agentId: A1,
    uuid: uuid(1),
  });
  // t1 completes now, after t3: t3 is the older completion and goes.
  assert.equal(prunedTasks(harness.eventsSince(mark)), ['t3']);
  assert.equal(completedOf(harness), ['t1']);
  assert.is(harness.state.derived.unacknowledgedTasksByFramework.get(F1), undefined);
});

test('an unacknowledged earlier update keeps a terminal task; a master-made terminal state needs no acknowledgement', () => {
  const harness = new Harness([registerAgent(), subscribe(), limits({ maxCompletedTasksPerFramework: 0 })]);
  launchTask(harness, 't1');
  launchTask(harness, 't2');
  harness.ok(updateStatus(taskId('t1'), 'TASK_RUNNING', { uuid: uuid(1) }));
  harness.ok({ type: 'kill_task', at: baseTime, frameworkId: F1, taskId: taskId('t1') });
  // The framework is torn down: both get TASK_KILLED from the master (no uuid).
  const mark = harness.events.length;
  harness.ok({ type: 'teardown_framework', at: baseTime, frameworkId: F1 });
  assert.equal(prunedTasks(harness.eventsSince(mark)), ['t2'], 't1 still has TASK_RUNNING unacknowledged');
  assert.ok(harness.state.tasks.has('f1/t1' as never));
});

test('completed frameworks beyond the limit are pruned oldest first, with all their tasks', () => {
  const harness = new Harness([registerAgent(), subscribe(F1), subscribe(F2), limits({ maxCompletedFrameworks: 1 })]);
  launchTask(harness, 't1', F1);
  launchTask(harness, 't1', F2);
  harness.ok(updateStatus(taskId('t1'), 'TASK_RUNNING', { uuid: uuid(7) }, F1));
  harness.ok({ type: 'teardown_framework', at: baseTime, frameworkId: F1 });
  assert.ok(harness.state.frameworks.has(F1), 'one completed framework is allowed');
  const mark = harness.events.length;
  harness.ok({ type: 'teardown_framework', at: baseTime + 1, frameworkId: F2 });
  const events = harness.eventsSince(mark);
  assert.ok(events.some((event) => event.type === 'FRAMEWORK_PRUNED' && event.framework.id === F1));
  // F1's task had an update nobody will ever acknowledge: it goes with its framework.
  assert.ok(!harness.state.tasks.has('f1/t1' as never));
  assert.ok(harness.state.tasks.has('f2/t1' as never));
  assert.equal([...harness.state.derived.completedFrameworks], [F2]);
  assert.is(harness.state.derived.tasksByFramework.get(F1), undefined);
});

function markUnreachable(agent: AgentId, at: number): Command {
  return { type: 'update_agent_state', at, agentId: agent, state: 'UNREACHABLE' };
}

test('unreachable and gone agents are pruned beyond the count, each list on its own, oldest removal first', () => {
  const A3 = agentId('a3');
  const harness = new Harness([
    registerAgent(A1),
    registerAgent(A2, { hostname: 'node2' }),
    registerAgent(A3, { hostname: 'node3' }),
    limits({ maxRemovedAgentCount: 1 }),
  ]);
  harness.ok(markUnreachable(A2, baseTime + 20));
  const mark = harness.events.length;
  harness.ok(markUnreachable(A1, baseTime + 10));
  // A1 was removed earlier by the clock (a new leader's clock may be behind): it is the oldest.
  assert.equal(
    harness.eventsSince(mark).flatMap((event) => (event.type === 'AGENT_PRUNED' ? [event.agent.id] : [])),
    [A1],
  );
  harness.ok({ type: 'mark_agent_gone', at: baseTime + 30, agentId: A3 });
  assert.ok(harness.state.agents.has(A2) && harness.state.agents.has(A3), 'one unreachable and one gone are kept');
});

test('removed agents older than the age are pruned at the next stamped command, by its time', () => {
  const harness = new Harness([
    registerAgent(A1),
    registerAgent(A2, { hostname: 'node2' }),
    limits({ maxRemovedAgentAgeMs: 1000 }),
  ]);
  harness.ok(markUnreachable(A1, baseTime));
  harness.ok({ type: 'mark_agent_gone', at: baseTime + 500, agentId: A2 });
  harness.ok({ type: 'kv_put', namespace: 'n', key: 'k', value: 'v', expectedVersion: null });
  harness.ok(subscribe(F1, {}, baseTime + 1000));
  assert.ok(harness.state.agents.has(A1), 'exactly the age old: kept (Mesos prunes when older)');
  harness.ok(subscribe(F2, {}, baseTime + 1001));
  assert.ok(!harness.state.agents.has(A1) && harness.state.agents.has(A2));
  harness.ok(subscribe(F2, {}, baseTime + 1501));
  assert.ok(!harness.state.agents.has(A2));
});

test('a pruned unreachable agent takes its unreachable tasks along; its terminal ones stay', () => {
  const harness = new Harness([
    registerAgent(A1),
    subscribe(F1, { capabilities: partitionAware }),
    subscribe(F2),
    limits({ maxRemovedAgentAgeMs: 1000 }),
  ]);
  launchTask(harness, 'aware', F1);
  launchTask(harness, 'plain', F2);
  harness.ok(markUnreachable(A1, baseTime));
  assert.is(harness.state.tasks.get('f1/aware' as never)?.state, 'TASK_UNREACHABLE');
  assert.is(harness.state.tasks.get('f2/plain' as never)?.state, 'TASK_LOST');
  const mark = harness.events.length;
  harness.ok(subscribe(F1, { capabilities: partitionAware }, baseTime + 5000));
  assert.equal(prunedTasks(harness.eventsSince(mark)), ['aware']);
  assert.ok(!harness.state.agents.has(A1));
  assert.ok(harness.state.tasks.has('f2/plain' as never), 'a terminal task outlives its pruned agent');
  // The agent comes back: it registers anew under the same id.
  harness.ok(registerAgent(A1, {}, baseTime + 6000));
});

test('lowering a limit prunes at once, every framework', () => {
  const harness = new Harness([registerAgent(), subscribe(F1), subscribe(F2), limits()]);
  for (const name of ['t1', 't2', 't3']) {
    launchTask(harness, name, F1);
    launchTask(harness, name, F2);
  }
  ['t1', 't2', 't3'].forEach((name, position) => {
    finish(harness, name, position + 1, true, F1);
    finish(harness, name, position + 10, true, F2);
  });
  const mark = harness.events.length;
  harness.ok(limits({ maxCompletedTasksPerFramework: 1 }));
  assert.equal(prunedTasks(harness.eventsSince(mark)), ['t1', 't2', 't1', 't2']);
  assert.equal(completedOf(harness, F1), ['t3']);
  assert.equal(completedOf(harness, F2), ['t3']);
  assert.is(harness.state.historyLimits.maxCompletedTasksPerFramework, 1);
});

test('a replica restored part-way (indexes rebuilt) prunes exactly as one that applied the whole log', () => {
  const log: Command[] = [registerAgent(), subscribe(F1), subscribe(F2), limits({ maxCompletedTasksPerFramework: 4 })];
  const harness = new Harness(log);
  const record = (command: Command) => {
    log.push(command);
    harness.ok(command);
  };
  const names = Array.from({ length: 12 }, (_, position) => `t${position}`);
  for (const name of names) {
    for (const framework of [F1, F2]) {
      const offer = offerId(`o-${framework}-${name}`);
      record(createOffers(offerDefinition(offer, small, { frameworkId: framework })));
      record(accept([offer], [launch(taskDefinition(taskId(name), small))], framework));
    }
  }
  // Completions interleaved across frameworks and out of launch order; a teardown completes many at one index.
  names.forEach((name, position) => {
    if (position % 3 === 2) return;
    record(updateStatus(taskId(name), 'TASK_FAILED', { uuid: uuid(position + 1) }, F2));
    record({
      type: 'acknowledge_task_status',
      at: baseTime,
      frameworkId: F2,
      taskId: taskId(name),
      agentId: A1,
      uuid: uuid(position + 1),
    });
  });
  record({ type: 'teardown_framework', at: baseTime, frameworkId: F1 });
  record(limits({ maxCompletedTasksPerFramework: 2, maxCompletedFrameworks: 0 }));
  const bytes = log.map(encodeCommand);
  for (let cut = 0; cut <= bytes.length; cut += 7) {
    const prefix = new ClusterStateMachine();
    for (const [position, entry] of bytes.slice(0, cut).entries()) prefix.apply(entry, position + 1);
    const restored = new ClusterStateMachine({ checkInvariants: true });
    restored.restore(prefix.snapshot());
    for (const [position, entry] of bytes.slice(cut).entries()) restored.apply(entry, cut + position + 1);
    assert.is(stateHash(restored.state), stateHash(harness.state), `restored at ${cut}`);
    assert.equal(
      [...(restored.state.derived.completedTasksByFramework.get(F2) ?? [])],
      [...(harness.state.derived.completedTasksByFramework.get(F2) ?? [])],
    );
  }
  assert.ok(!harness.state.frameworks.has(F1), 'no completed framework is kept');
  assert.is(harness.state.derived.completedTasksByFramework.get(F2)?.size, 2);
});

test('with no limits set (a log from before limits existed) nothing is pruned', () => {
  const harness = new Harness([registerAgent(), subscribe()]);
  for (const name of ['t1', 't2']) launchTask(harness, name);
  finish(harness, 't1', 1);
  finish(harness, 't2', 2);
  harness.ok({ type: 'teardown_framework', at: baseTime, frameworkId: F1 });
  assert.is(harness.state.tasks.size, 2);
  assert.ok(harness.state.frameworks.has(frameworkId('f1')));
  assert.equal(completedOf(harness), ['t1', 't2']);
});

test.run();
