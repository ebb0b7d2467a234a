// The only writers of the state's entity maps: each write replaces (or deletes) one entity and
// tells the derived indexes (derived-indexes.ts) what changed, so they can never drift from the
// maps. Apply code calls these instead of `Map.set`; the invariants check the indexes against a
// full scan in tests, so a write that bypassed them would be caught.
import { assert } from '../util/assert.ts';
import type { AgentId, FrameworkId, TaskKey } from './ids.ts';
import { taskKey } from './ids.ts';
import { compareStrings } from './ordering.ts';
import type { Agent, Framework, Offer, State, Task } from './state.ts';

export function putTask(state: State, task: Task): void {
  const key = taskKey(task.frameworkId, task.id);
  const before = state.tasks.get(key);
  state.tasks.set(key, task);
  state.derived.noteTask(key, before, task);
}

export function deleteTask(state: State, key: TaskKey): Task {
  const before = state.tasks.get(key);
  assert(before !== undefined, `task ${key} is not in the state`);
  state.tasks.delete(key);
  state.derived.noteTask(key, before, undefined);
  return before;
}

export function putOffer(state: State, offer: Offer): void {
  assert(!state.offers.has(offer.id), `offer ${offer.id} already outstanding`);
  state.offers.set(offer.id, offer);
  state.derived.noteOffer(offer, true);
}

export function deleteOffer(state: State, offer: Offer): void {
  assert(state.offers.get(offer.id) === offer, `offer ${offer.id} is not outstanding`);
  state.offers.delete(offer.id);
  state.derived.noteOffer(offer, false);
}

export function putFramework(state: State, framework: Framework): void {
  const before = state.frameworks.get(framework.id);
  state.frameworks.set(framework.id, framework);
  state.derived.noteFramework(before, framework);
}

export function deleteFramework(state: State, id: FrameworkId): Framework {
  const before = state.frameworks.get(id);
  assert(before !== undefined, `framework ${id} is not in the state`);
  state.frameworks.delete(id);
  state.derived.noteFramework(before, undefined);
  return before;
}

export function putAgent(state: State, agent: Agent): void {
  const before = state.agents.get(agent.id);
  state.agents.set(agent.id, agent);
  state.derived.noteAgent(before, agent);
}

export function deleteAgent(state: State, id: AgentId): Agent {
  const before = state.agents.get(id);
  assert(before !== undefined, `agent ${id} is not in the state`);
  state.agents.delete(id);
  state.derived.noteAgent(before, undefined);
  return before;
}

/**
 * The members of an index set in key order: sets iterate in insertion order, which differs
 * between replicas that applied the log and replicas restored from a snapshot, so whatever is
 * replicated (events, results, completion order) walks this instead. O(k log k) in the set's size.
 */
export function sortedKeysOf<K extends string>(members: ReadonlySet<K> | undefined): K[] {
  return members === undefined ? [] : [...members].sort(compareStrings);
}
