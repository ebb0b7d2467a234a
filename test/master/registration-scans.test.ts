// An agent's (re-)registration costs what that agent has, not what the cluster has: after a
// leader failover every agent re-registers at once (issue 12). The executors and tasks maps given
// to the code under test refuse to be walked: a walk throws, where an index lookup finds the
// agent's own. Likewise an agent's removal (mark gone) and a framework's teardown in apply.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { removeUnreportedExecutors } from '../../src/master/agent-executors.ts';
import { apply } from '../../src/state-machine/apply.ts';
import type { Command } from '../../src/state-machine/commands.ts';
import type { ChangeEvent } from '../../src/state-machine/events.ts';
import { executorId, executorKey, type ExecutorKey, taskId, taskKey } from '../../src/state-machine/ids.ts';
import { checkInvariants } from '../../src/state-machine/invariants.ts';
import type { Executor, ReadonlyState, State } from '../../src/state-machine/state.ts';
import {
  A1,
  A2,
  accept,
  baseTime,
  cpus,
  createOffers,
  executorDefinition,
  F1,
  Harness,
  launch,
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
} from '../state-machine/support/fixtures.ts';

/** A map that answers lookups and changes but throws on any walk. */
class Unwalkable<K, V> extends Map<K, V> {
  constructor(
    readonly inner: Map<K, V>,
    readonly what: string,
  ) {
    super();
  }
  override get size(): number {
    return this.inner.size;
  }
  override get(key: K): V | undefined {
    return this.inner.get(key);
  }
  override has(key: K): boolean {
    return this.inner.has(key);
  }
  override set(key: K, value: V): this {
    this.inner.set(key, value);
    return this;
  }
  override delete(key: K): boolean {
    return this.inner.delete(key);
  }
  #walked(): never {
    throw new Error(`walked every ${this.what}`);
  }
  override values(): MapIterator<V> {
    this.#walked();
  }
  override keys(): MapIterator<K> {
    this.#walked();
  }
  override entries(): MapIterator<[K, V]> {
    this.#walked();
  }
  override [Symbol.iterator](): MapIterator<[K, V]> {
    this.#walked();
  }
  override forEach(): void {
    this.#walked();
  }
}

const worker = executorDefinition('worker', resources(cpus(0.5), mem(64)));
const onWorker = (id: string) =>
  taskDefinition(taskId(id), resources(cpus(1), mem(32)), {
    command: null,
    executor: worker,
    data: Buffer.from(id).toString('base64'),
  });
const onA1 = executorKey(A1, F1, executorId('worker'));
const onA2 = executorKey(A2, F1, executorId('worker'));

/** Agents a1 and a2 each run framework f1's executor "worker"; a1's task on it finished, a2's runs. */
function twoAgentsWithExecutors(): Harness {
  const harness = new Harness([
    registerAgent(A1),
    registerAgent(A2),
    subscribe(),
    createOffers(
      offerDefinition(O1, resources(cpus(2), mem(256))),
      offerDefinition(O2, resources(cpus(2), mem(256)), { agentId: A2 }),
    ),
    accept([O1], [launch(onWorker('a'))]),
    accept([O2], [launch(onWorker('b'))]),
  ]);
  harness.ok(updateStatus(taskId('a'), 'TASK_FINISHED', { uuid: uuid(1) }));
  assert.ok(harness.state.executors.has(onA1) && harness.state.executors.has(onA2));
  return harness;
}

const silentLogger = { info() {}, warn() {} } as never;

test("a re-registration visits the agent's executors, not every executor", async () => {
  const harness = twoAgentsWithExecutors();
  const live = harness.state as State;
  const view = {
    ...live,
    executors: new Unwalkable(live.executors, 'executor'),
    tasks: new Unwalkable(live.tasks, 'task'),
  } as ReadonlyState;
  const submitted: Command[] = [];
  const gone: string[] = [];
  await removeUnreportedExecutors(
    {
      master: {
        state: () => view,
        submit: async (command: Command) => {
          submitted.push(command);
          return { index: harness.index + 1, result: harness.run(command) };
        },
      } as never,
      events: {
        frameworkMessage() {},
        executorGone: (_framework, agent, executor) => gone.push(`${agent}/${executor}`),
      },
      logger: silentLogger,
    },
    A1,
    [],
  );
  assert.equal(
    submitted.map((command) => command.type),
    ['remove_executor'],
  );
  assert.equal(gone, ['a1/worker']);
  assert.not.ok(harness.state.executors.has(onA1), "a1's idle executor it no longer reports is gone");
  assert.ok(harness.state.executors.has(onA2), "a2's executor stays");
  // a2 reports nothing either, but its executor has a live task (b): kept.
  await removeUnreportedExecutors(
    {
      master: { state: () => view, submit: async () => assert.unreachable('nothing to remove') } as never,
      events: { frameworkMessage() {}, executorGone() {} },
      logger: silentLogger,
    },
    A2,
    [],
  );
  assert.ok(harness.state.executors.has(onA2));
});

/** Applies `command` to the harness's state while its executors map refuses walks; then checks every invariant. */
function applyWithoutWalkingExecutors(harness: Harness, command: Command): ChangeEvent[] {
  const state = harness.state as { executors: Map<ExecutorKey, Executor> } & State;
  const executors = state.executors;
  const events: ChangeEvent[] = [];
  state.executors = new Unwalkable(executors, 'executor');
  try {
    harness.index += 1;
    const result = apply(state, command, harness.index, events);
    assert.ok(result.ok, `${command.type} applied`);
  } finally {
    state.executors = executors;
  }
  checkInvariants(state);
  return events;
}

test('marking an agent gone removes its executors without walking every executor', () => {
  const harness = twoAgentsWithExecutors();
  const events = applyWithoutWalkingExecutors(harness, { type: 'mark_agent_gone', at: baseTime, agentId: A2 });
  assert.not.ok(harness.state.executors.has(onA2));
  assert.ok(harness.state.executors.has(onA1));
  assert.equal(
    events.filter((event) => event.type === 'EXECUTOR_REMOVED').map((event) => event.executor.agentId),
    [A2],
  );
  assert.is(harness.state.tasks.get(taskKey(F1, taskId('b')))?.state, 'TASK_GONE_BY_OPERATOR');
});

test("a framework's teardown removes its executors without walking every executor, in key order", () => {
  const harness = twoAgentsWithExecutors();
  const events = applyWithoutWalkingExecutors(harness, { type: 'teardown_framework', at: baseTime, frameworkId: F1 });
  assert.is(harness.state.executors.size, 0);
  assert.equal(
    events.flatMap((event) =>
      event.type === 'EXECUTOR_REMOVED'
        ? [executorKey(event.executor.agentId, event.executor.frameworkId, event.executor.info.id)]
        : [],
    ),
    [onA1, onA2],
  );
});

test.run();
