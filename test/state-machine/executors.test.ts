// Executors in the replicated state: made with the first task that names them on an agent,
// their resources held on top of their tasks' (offers see less), kept while idle, and gone when
// the agent reports them gone, the agent is gone or the framework is torn down. Task groups run
// on a DEFAULT executor and share a group id. The harness checks every invariant after each command.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Command } from '../../src/state-machine/commands.ts';
import { executorId, executorKey, taskId, taskKey } from '../../src/state-machine/ids.ts';
import { listExecutors } from '../../src/state-machine/queries.ts';
import { equals } from '../../src/state-machine/resources.ts';
import {
  A1,
  accept,
  baseTime,
  cpus,
  createOffers,
  executorDefinition,
  F1,
  Harness,
  launch,
  launchGroup,
  mem,
  O1,
  O2,
  offerDefinition,
  registerAgent,
  resources,
  subscribe,
  taskDefinition,
  updateStatus,
  uuid,
} from './support/fixtures.ts';

const worker = executorDefinition('worker', resources(cpus(0.5), mem(64)));
const E1 = executorKey(A1, F1, executorId('worker'));
const onWorker = (id: string, held = resources(cpus(1), mem(32))) =>
  taskDefinition(taskId(id), held, { command: null, executor: worker, data: Buffer.from(id).toString('base64') });
const setup: Command[] = [
  registerAgent(),
  subscribe(),
  createOffers(offerDefinition(O1, resources(cpus(2), mem(256)))),
];
const removeWorker: Command = {
  type: 'remove_executor',
  at: baseTime,
  agentId: A1,
  frameworkId: F1,
  executorId: executorId('worker'),
};

test('the first task naming an executor makes it; its resources are held on top of the task', () => {
  const harness = new Harness(setup);
  const before = harness.events.length;
  harness.ok(accept([O1], [launch(onWorker('a'))]));
  const executor = harness.state.executors.get(E1);
  assert.ok(executor !== undefined);
  assert.is(executor.role, '*');
  assert.ok(equals(harness.state.agents.get(A1)!.used, resources(cpus(1.5), mem(96))));
  assert.equal(
    harness.eventsSince(before).map((event) => event.type),
    ['OFFER_REMOVED', 'EXECUTOR_ADDED', 'TASK_ADDED'],
  );
  const task = harness.state.tasks.get(taskKey(F1, taskId('a')));
  assert.is(task?.executor?.id, 'worker');
  assert.is(Buffer.from(task?.data ?? '', 'base64').toString(), 'a');
  assert.equal(listExecutors(harness.state), [executor]);
});

test('later tasks on the running executor do not charge it again; the offer must hold it only once', () => {
  const harness = new Harness(setup);
  harness.ok(accept([O1], [launch(onWorker('a'), onWorker('b', resources(cpus(0.5))))]));
  assert.ok(equals(harness.state.agents.get(A1)!.used, resources(cpus(2), mem(96))));
  assert.is(harness.state.executors.size, 1);
  harness.ok(createOffers(offerDefinition(O2, resources(mem(100)))));
  harness.ok(accept([O2], [launch(onWorker('c', resources(mem(100))))]));
  assert.ok(equals(harness.state.agents.get(A1)!.used, resources(cpus(2), mem(196))));
});

test("an offer that holds the task but not its new executor's resources is refused", () => {
  const harness = new Harness([
    registerAgent(),
    subscribe(),
    createOffers(offerDefinition(O1, resources(cpus(1), mem(32)))),
  ]);
  harness.rejects(accept([O1], [launch(onWorker('a'))]), 'RESOURCES_INSUFFICIENT');
  assert.is(harness.state.executors.size, 0);
});

test('a task with both a command and an executor is refused', () => {
  const harness = new Harness(setup);
  harness.rejects(
    accept([O1], [launch({ ...onWorker('a'), command: taskDefinition(taskId('x'), resources()).command })]),
    'INVALID_TASK',
  );
});

test('an idle executor stays (the agent shuts it down and reports it); remove_executor gives its resources back', () => {
  const harness = new Harness([...setup, accept([O1], [launch(onWorker('a'))])]);
  harness.ok(updateStatus(taskId('a'), 'TASK_FINISHED', { uuid: uuid(1) }));
  assert.ok(harness.state.executors.has(E1));
  assert.ok(equals(harness.state.agents.get(A1)!.used, resources(cpus(0.5), mem(64))));
  const before = harness.events.length;
  harness.ok(removeWorker);
  assert.is(harness.state.executors.size, 0);
  assert.ok(equals(harness.state.agents.get(A1)!.used, resources()));
  assert.equal(
    harness.eventsSince(before).map((event) => event.type),
    ['EXECUTOR_REMOVED'],
  );
});

test('an executor removed with live tasks takes them with it: TASK_LOST, REASON_EXECUTOR_TERMINATED', () => {
  const harness = new Harness([...setup, accept([O1], [launch(onWorker('a'), onWorker('b', resources(cpus(0.5))))])]);
  harness.ok(updateStatus(taskId('b'), 'TASK_FINISHED', { uuid: uuid(1) }));
  harness.ok(removeWorker);
  const lost = harness.state.tasks.get(taskKey(F1, taskId('a')));
  assert.is(lost?.state, 'TASK_LOST');
  assert.equal(
    [lost?.statuses.at(-1)?.reason, lost?.statuses.at(-1)?.source],
    ['REASON_EXECUTOR_TERMINATED', 'SOURCE_MASTER'],
  );
  assert.is(harness.state.tasks.get(taskKey(F1, taskId('b')))?.state, 'TASK_FINISHED');
  assert.ok(equals(harness.state.agents.get(A1)!.used, resources()));
});

test('a task group runs on its DEFAULT executor; its tasks share the first task id as their group', () => {
  const harness = new Harness(setup);
  const pod = executorDefinition('pod', resources(cpus(0.1)));
  harness.ok(
    accept(
      [O1],
      [
        launchGroup(
          pod,
          taskDefinition(taskId('web'), resources(cpus(0.5))),
          taskDefinition(taskId('sidecar'), resources(cpus(0.2))),
        ),
      ],
    ),
  );
  const web = harness.state.tasks.get(taskKey(F1, taskId('web')));
  const sidecar = harness.state.tasks.get(taskKey(F1, taskId('sidecar')));
  assert.equal([web?.taskGroup, sidecar?.taskGroup], ['web', 'web']);
  assert.equal([web?.executor?.type, sidecar?.executor?.id], ['DEFAULT', 'pod']);
  assert.ok(equals(harness.state.agents.get(A1)!.used, resources(cpus(0.8))));
});

test('teardown removes the framework executors; an agent marked gone loses its executors', () => {
  const torn = new Harness([...setup, accept([O1], [launch(onWorker('a'))])]);
  torn.ok({ type: 'teardown_framework', at: baseTime, frameworkId: F1 });
  assert.is(torn.state.executors.size, 0);
  assert.ok(equals(torn.state.agents.get(A1)!.used, resources()));
  const gone = new Harness([...setup, accept([O1], [launch(onWorker('a'))])]);
  gone.ok({ type: 'mark_agent_gone', at: baseTime, agentId: A1 });
  assert.is(gone.state.executors.size, 0);
});

test('an unreachable agent keeps its executors (its tasks may come back), a re-registration too', () => {
  const harness = new Harness([...setup, accept([O1], [launch(onWorker('a'))])]);
  harness.ok({ type: 'update_agent_state', at: baseTime, agentId: A1, state: 'UNREACHABLE' });
  assert.ok(harness.state.executors.has(E1));
  assert.is(harness.state.tasks.get(taskKey(F1, taskId('a')))?.state, 'TASK_LOST');
  harness.ok({
    type: 'reregister_agent',
    keepsReservations: true,
    at: baseTime,
    agentId: A1,
    info: harness.state.agents.get(A1)!,
    tasks: [],
  });
  assert.ok(harness.state.executors.has(E1));
  harness.ok(removeWorker);
  assert.ok(equals(harness.state.agents.get(A1)!.used, resources()));
});

test.run();
