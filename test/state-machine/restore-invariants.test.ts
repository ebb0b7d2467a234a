// The entity invariants a restore checks (invariants.ts checkEntityInvariants), on states that no
// apply makes: each broken task status history is refused with the task named, and an agent's
// books are checked against its live tasks gathered in one pass (sorted per agent, not all keys).
// A restore visits its tasks once: the derived indexes and these checks in the same pass.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../src/state-machine/hash.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { snapshotFormatVersion, writeSnapshot } from '../../src/state-machine/snapshot.ts';
import { type TaskKey, taskKey } from '../../src/state-machine/ids.ts';
import { checkEntityInvariants, InvariantViolation } from '../../src/state-machine/invariants.ts';
import type { ReplicatedState, Task, TaskStatus } from '../../src/state-machine/state.ts';
import { F1, Harness, T1 } from './support/fixtures.ts';
import { richScenario } from './support/scenario.ts';
import { taskMachine } from './support/task-machine.ts';

const key: TaskKey = taskKey(F1, T1);

/** The rich scenario's state with f1/t1 (live) given other statuses. */
function withStatuses(statuses: (newest: TaskStatus) => TaskStatus[]): ReplicatedState {
  const state = new Harness(richScenario).state;
  const task = state.tasks.get(key)!;
  const newest = task.statuses.at(-1)!;
  const tasks = new Map(state.tasks);
  tasks.set(key, { ...task, statuses: statuses(newest) } as Task);
  return { ...state, tasks };
}

function violated(state: ReplicatedState, naming: string): void {
  assert.throws(
    () => checkEntityInvariants(state),
    (error: unknown) => error instanceof InvariantViolation && error.message.includes(naming),
    naming,
  );
}

test('the rich scenario and a many-task state pass', () => {
  checkEntityInvariants(new Harness(richScenario).state);
  checkEntityInvariants(taskMachine(30, 7).state);
  assert.is(withStatuses((newest) => [newest]).tasks.get(key)!.statuses.length, 1);
  checkEntityInvariants(withStatuses((newest) => [newest]));
});

test('refused, the task named: a status uuid twice, also with statuses between and without uuids', () => {
  const staging = (newest: TaskStatus): TaskStatus => ({ ...newest, state: 'TASK_STAGING' });
  violated(
    withStatuses((newest) => [
      { ...staging(newest), uuid: 'u-1' },
      { ...newest, uuid: 'u-1' },
    ]),
    `task ${key}: a status uuid appears twice`,
  );
  violated(
    withStatuses((newest) => [
      { ...staging(newest), uuid: 'u-1' },
      { ...staging(newest), uuid: null },
      { ...staging(newest), uuid: 'u-2' },
      { ...newest, uuid: 'u-1' },
    ]),
    `task ${key}: a status uuid appears twice`,
  );
  checkEntityInvariants(
    withStatuses((newest) => [
      { ...staging(newest), uuid: null },
      { ...staging(newest), uuid: null },
      { ...newest, uuid: 'u-1' },
    ]),
  );
});

test('refused, the task named: a status after a terminal one, or a newest status not its state', () => {
  violated(
    withStatuses((newest) => [{ ...newest, state: 'TASK_FINISHED', uuid: null }, newest]),
    `task ${key}: a status follows a terminal one`,
  );
  violated(
    withStatuses((newest) => [newest, { ...newest, state: 'TASK_STAGING', uuid: null }]),
    `task ${key}: state`,
  );
});

test("refused: an agent's used books that differ from its live tasks", () => {
  const state = taskMachine(30, 7).state;
  const tasks = new Map(state.tasks);
  const [someKey, someTask] = [...tasks][100]!;
  tasks.delete(someKey);
  violated({ ...state, tasks }, `agent ${someTask.agentId}: used books differ from its live tasks and executors`);
});

/** Runs `body` counting the walks (iterator, entries, keys, values, forEach) over maps of `size` entries. */
function walksOfMapsSized(size: number, body: () => void): number {
  const prototype = Map.prototype as unknown as Record<string | symbol, (...args: unknown[]) => unknown>;
  const names = [Symbol.iterator, 'entries', 'keys', 'values', 'forEach'] as const;
  const originals = names.map((name) => prototype[name]!);
  let walks = 0;
  names.forEach((name, position) => {
    const original = originals[position]!;
    prototype[name] = function (this: Map<unknown, unknown>, ...args: unknown[]) {
      if (this.size === size) walks += 1;
      return original.apply(this, args);
    };
  });
  try {
    body();
  } finally {
    names.forEach((name, position) => {
      prototype[name] = originals[position]!;
    });
  }
  return walks;
}

test('a restore walks its 1,000 tasks once: the derived indexes and the invariant checks in one pass', () => {
  const source = taskMachine(40, 25);
  const bytes = writeSnapshot(source.state, source.lastAppliedIndex, undefined, snapshotFormatVersion);
  const restored = new ClusterStateMachine();
  const walks = walksOfMapsSized(1000, () => restored.restore(bytes));
  assert.is(restored.state.tasks.size, 1000);
  assert.is(stateHash(restored.state), stateHash(source.state));
  assert.is(walks, 1);
});

test.run();
