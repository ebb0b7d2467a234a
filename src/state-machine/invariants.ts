// What must hold after every apply (DESIGN.md, "The cluster state machine"). Tests call
// `checkInvariants` after each command; a snapshot is checked when restored; the machine can be
// told to check after every apply. A violation is a bug in apply, never bad input: it throws
// InvariantViolation, which nothing catches.
import { canonicalJson } from './canonical-json.ts';
import type { AgentId, TaskKey } from './ids.ts';
import { executorKey, taskKey } from './ids.ts';
import { agentIsDown } from './machines.ts';
import { compareStrings, sortedPositionsInSteps } from './ordering.ts';
import {
  add,
  contains,
  emptyResources,
  equals,
  isEmpty,
  rangesOverlap,
  rangesOverlapAcrossRoles,
  sum,
  type Resources,
} from './resources.ts';
import { unreservedRole } from './roles.ts';
import { DerivedIndexes } from './derived-indexes.ts';
import { sameAgentTotals } from './agent-totals.ts';
import type { ReadonlyAllocationBook } from './allocation-book.ts';
import { sameQuantities } from './quantities.ts';
import type { RemovalQueue } from './removal-queue.ts';
import { isUnreachableLoss } from './task-predicates.ts';
import { kvKey, machineKey, type Agent, type ReadonlyState, type ReplicatedState, type Task } from './state.ts';
import { isTerminalTaskState } from '../protocol/task-states.ts';

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new InvariantViolation(message);
}

/** Every invariant, the derived indexes against a full scan included. */
export function checkInvariants(state: ReadonlyState): void {
  checkEntityInvariants(state);
  checkDerivedIndexes(state);
  checkHistoryLimits(state);
}

/** Entities checked between two steps of checkEntityInvariantsInSteps. */
const entitiesPerStep = 256;

/** The invariants of the replicated maps alone (a snapshot being restored, before its indexes exist). */
export function checkEntityInvariants(state: ReplicatedState): void {
  const steps = checkEntityInvariantsInSteps(state);
  while (steps.next().done !== true) {
    // straight through
  }
}

/**
 * checkEntityInvariants as steps, yielding every `entitiesPerStep` entities and within the sort
 * of each map's keys: a restore checks the state it read in slices (at 10,000 tasks the check
 * in one go held the event loop for 270-360 ms, at a load of 40). The state must not change
 * between steps.
 */
export function* checkEntityInvariantsInSteps(state: ReplicatedState): Generator<void, void> {
  const checks = new EntityInvariantChecks(state);
  yield* eachInSteps(state.tasks, (key, task) => checks.visitTask(key, task));
  yield* checks.finishInSteps();
}

/**
 * The entity invariants in two parts, for a caller that visits every task anyway: `visitTask` for
 * each task (in any order), then `finishInSteps`. A restore visits them as it rebuilds the
 * derived indexes (snapshot.ts): one pass over 100,000 tasks instead of four (the indexes', the
 * agents' holdings, the tasks', the tasks' executors').
 */
export class EntityInvariantChecks {
  readonly #state: ReplicatedState;
  /** Per agent, its live tasks' keys and resources, sorted by key when the agents are checked. */
  readonly #liveTasks = new Map<AgentId, [key: string, resources: Resources][]>();

  constructor(state: ReplicatedState) {
    this.#state = state;
  }

  visitTask(key: TaskKey, task: Task): void {
    checkTask(this.#state, key, task);
    if (isTerminalTaskState(task.state)) return;
    const ofAgent = this.#liveTasks.get(task.agentId);
    if (ofAgent === undefined) this.#liveTasks.set(task.agentId, [[key, task.resources]]);
    else ofAgent.push([key, task.resources]);
    checkTaskExecutor(this.#state, key, task);
  }

  /** Every other invariant, once every task was visited. */
  *finishInSteps(): Generator<void, void> {
    const state = this.#state;
    yield* checkAgentBooks(state, this.#liveTasks);
    checkOffers(state);
    checkExecutors(state);
    checkFrameworks(state);
    checkMaintenance(state);
    checkQuotaAndWeights(state);
    yield* eachInSteps(state.kv, (key, entry) => {
      check(key === kvKey(entry.namespace, entry.key), `kv ${key}: stored under the wrong key`);
      check(
        entry.createIndex <= entry.version,
        `kv ${key}: version ${entry.version} before its creation ${entry.createIndex}`,
      );
    });
  }
}

/** Visits every entry of `map` in its order, yielding every `entitiesPerStep`. */
function* eachInSteps<K, V>(map: ReadonlyMap<K, V>, visit: (key: K, value: V) => void): Generator<void, void> {
  let inStep = 0;
  for (const [key, value] of map) {
    visit(key, value);
    inStep += 1;
    if (inStep < entitiesPerStep) continue;
    inStep = 0;
    yield;
  }
}

/** Visits every value of `map` in key order (compareStrings), yielding within the sort and every `entitiesPerStep`. */
function* eachSortedInSteps<V>(map: ReadonlyMap<string, V>, visit: (value: V) => void): Generator<void, void> {
  const keys = [...map.keys()];
  const values = [...map.values()];
  const order = yield* sortedPositionsInSteps(keys);
  let inStep = 0;
  for (const position of order) {
    visit(values[position]!);
    inStep += 1;
    if (inStep < entitiesPerStep) continue;
    inStep = 0;
    yield;
  }
}

interface Holders {
  readonly used: Resources[];
  readonly offered: Resources[];
}

/**
 * Per agent, what holds its resources: live tasks, then executors, then outstanding offers, each
 * in key order. The live tasks were gathered in one pass in the map's order (EntityInvariantChecks)
 * and are sorted per agent (a few each), not all 100,000 keys sorted at once: the same order, a
 * fraction of the work.
 */
function* holdersByAgent(
  state: ReplicatedState,
  liveTasks: ReadonlyMap<AgentId, [key: string, resources: Resources][]>,
): Generator<void, Map<AgentId, Holders>> {
  const holders = new Map<AgentId, Holders>();
  const of = (agent: AgentId): Holders => {
    const found = holders.get(agent) ?? { used: [], offered: [] };
    holders.set(agent, found);
    return found;
  };
  for (const [agent, tasks] of liveTasks) {
    if (tasks.length > 1) tasks.sort(compareFirst);
    const { used } = of(agent);
    for (const [, resources] of tasks) used.push(resources);
  }
  yield;
  yield* eachSortedInSteps(state.executors, (executor) => of(executor.agentId).used.push(executor.info.resources));
  yield* eachSortedInSteps(state.offers, (offer) => of(offer.agentId).offered.push(offer.resources));
  return holders;
}

const compareFirst = (left: readonly [string, unknown], right: readonly [string, unknown]): number =>
  compareStrings(left[0], right[0]);

/** Used plus offered fit the total, the cached books match, and no range value is held twice. */
function* checkAgentBooks(
  state: ReplicatedState,
  liveTasks: ReadonlyMap<AgentId, [key: string, resources: Resources][]>,
): Generator<void, void> {
  const holders = yield* holdersByAgent(state, liveTasks);
  for (const agentId of holders.keys())
    check(state.agents.has(agentId), `agent ${agentId} holds resources but is not registered`);
  yield* eachInSteps(state.agents, (key, agent) => {
    check(key === agent.id, `agent ${agent.id}: stored under key ${key}`);
    check(agent.createIndex <= agent.modifyIndex, `agent ${agent.id}: modified before it was created`);
    const { used, offered } = holders.get(agent.id) ?? { used: [], offered: [] };
    check(equals(sum(used), agent.used), `agent ${agent.id}: used books differ from its live tasks and executors`);
    check(equals(sum(offered), agent.offered), `agent ${agent.id}: offered books differ from its offers`);
    check(
      contains(agent.resources, add(agent.used, agent.offered)),
      `agent ${agent.id}: offered plus used exceed its total`,
    );
    check(!rangesOverlapAcrossRoles(agent.resources), `agent ${agent.id}: a range value is listed under two roles`);
    checkNoDoubleHolding(agent, [...used, ...offered]);
    check(agent.state !== 'GONE' || isEmpty(agent.used), `agent ${agent.id} is gone but has live tasks`);
  });
}

/**
 * Ranges (ports) unite when added, so an overlap would hide in the sum: check pairwise. Holdings
 * without ranges (most tasks: cpus and mem) cannot overlap and are skipped: adding them all up
 * again per agent was a third of a restore's invariant check at 100,000 tasks.
 */
function checkNoDoubleHolding(agent: Agent, holdings: readonly Resources[]): void {
  let held = emptyResources;
  for (const holding of holdings) {
    if (!holding.some((resource) => resource.type === 'RANGES')) continue;
    check(!rangesOverlap(held, holding), `agent ${agent.id}: a range value is held by two tasks or offers`);
    held = add(held, holding);
  }
}

function checkOffers(state: ReplicatedState): void {
  for (const [key, offer] of state.offers) {
    check(key === offer.id, `offer ${offer.id}: stored under key ${key}`);
    const framework = state.frameworks.get(offer.frameworkId);
    check(framework?.state === 'CONNECTED', `offer ${offer.id}: framework ${offer.frameworkId} is not connected`);
    check(framework?.info.roles.includes(offer.role) === true, `offer ${offer.id}: role ${offer.role} not subscribed`);
    const agent = state.agents.get(offer.agentId);
    check(agent?.state === 'ACTIVE', `offer ${offer.id}: agent ${offer.agentId} is not active`);
    check(
      agent === undefined || !agentIsDown(state, agent),
      `offer ${offer.id}: agent ${offer.agentId} is down for maintenance`,
    );
    check(!isEmpty(offer.resources), `offer ${offer.id} is empty`);
    check(
      offer.resources.every((resource) => resource.role === unreservedRole || resource.role === offer.role),
      `offer ${offer.id}: holds resources reserved for another role`,
    );
  }
}

function checkTask(state: ReplicatedState, key: TaskKey, task: Task): void {
  check(key === taskKey(task.frameworkId, task.id), `task ${key}: stored under the wrong key`);
  const framework = state.frameworks.get(task.frameworkId);
  const agent = state.agents.get(task.agentId);
  check(framework !== undefined, `task ${key}: framework missing`);
  // A terminal task may outlive its agent: a removed agent is pruned (history.ts), its history is not.
  check(agent !== undefined || isTerminalTaskState(task.state), `task ${key} is live on an agent not in the state`);
  checkStatuses(key, task);
  check(task.createIndex <= task.modifyIndex, `task ${key}: modified before it was created`);
  if (!isTerminalTaskState(task.state)) {
    check(framework?.state !== 'COMPLETED', `task ${key} is live but its framework completed`);
    check(agent?.state !== 'GONE', `task ${key} is live on a gone agent`);
  }
}

/**
 * The newest status is the task's state, only an unreachable loss may be followed, no uuid twice.
 * Indexed loops without copies: a restore runs this for each of 100,000 tasks, and the slice, the
 * list of uuids and its Set were most of its time. A task has at most `maxStatusHistory` statuses.
 */
function checkStatuses(key: TaskKey, task: Task): void {
  const statuses = task.statuses;
  const newest = statuses.length - 1;
  check(statuses[newest]?.state === task.state, `task ${key}: state ${task.state} is not its newest status`);
  for (let position = 0; position < newest; position++) {
    const status = statuses[position]!;
    check(
      !isTerminalTaskState(status.state) || isUnreachableLoss(status),
      `task ${key}: a status follows a terminal one`,
    );
  }
  for (let position = 1; position <= newest; position++) {
    const uuid = statuses[position]!.uuid;
    if (uuid === null) continue;
    for (let earlier = 0; earlier < position; earlier++)
      check(statuses[earlier]!.uuid !== uuid, `task ${key}: a status uuid appears twice`);
  }
}

/** An executor lives on a registered agent that is not gone, for a framework not torn down. */
function checkExecutors(state: ReplicatedState): void {
  for (const [key, executor] of state.executors) {
    check(
      key === executorKey(executor.agentId, executor.frameworkId, executor.info.id),
      `executor ${key}: stored under the wrong key`,
    );
    const agent = state.agents.get(executor.agentId);
    check(agent !== undefined && agent.state !== 'GONE', `executor ${key}: its agent is missing or gone`);
    const framework = state.frameworks.get(executor.frameworkId);
    check(
      framework !== undefined && framework.state !== 'COMPLETED',
      `executor ${key}: its framework is missing or done`,
    );
    check(executor.createIndex <= executor.modifyIndex, `executor ${key}: modified before it was created`);
  }
}

/** A live task that names an executor finds it on its agent, with the ExecutorInfo it was launched with. */
function checkTaskExecutor(state: ReplicatedState, key: TaskKey, task: Task): void {
  if (task.executor === null) return;
  const executor = state.executors.get(executorKey(task.agentId, task.frameworkId, task.executor.id));
  check(executor !== undefined, `task ${key} is live but its executor ${task.executor.id} is not on its agent`);
  check(
    executor === undefined || canonicalJson(executor.info) === canonicalJson(task.executor),
    `task ${key}: its executor runs with another ExecutorInfo`,
  );
}

function checkFrameworks(state: ReplicatedState): void {
  for (const [key, framework] of state.frameworks) {
    check(key === framework.id, `framework ${framework.id}: stored under key ${key}`);
    check(framework.info.roles.length > 0, `framework ${framework.id} has no role`);
    check(
      framework.state !== 'COMPLETED' || framework.completedAt !== null,
      `framework ${framework.id}: completed without a time`,
    );
    check(
      framework.state !== 'DISCONNECTED' || framework.disconnectedAt !== null,
      `framework ${framework.id}: disconnected without a time`,
    );
  }
}

/** Exactly the scheduled machines have a mode, and each machine is in one window. */
function checkMaintenance(state: ReplicatedState): void {
  const scheduled = new Set<string>();
  for (const window of state.maintenanceSchedule.windows) {
    for (const machine of window.machines) {
      check(!scheduled.has(machineKey(machine)), `machine ${machineKey(machine)} is in two windows`);
      scheduled.add(machineKey(machine));
    }
  }
  check(scheduled.size === state.machines.size, 'the scheduled machines and the machine modes differ');
  for (const [key, status] of state.machines) {
    check(key === machineKey(status.machine) && scheduled.has(key), `machine ${key} has a mode but is not scheduled`);
  }
}

function checkQuotaAndWeights(state: ReplicatedState): void {
  for (const [role, quota] of state.quotas) {
    check(role === quota.role && role !== unreservedRole, `quota of ${role}: wrong key or role "*"`);
    for (const [name, guarantee] of Object.entries(quota.guarantees)) {
      const limit = Object.hasOwn(quota.limits, name) ? quota.limits[name] : undefined;
      check(limit === undefined || guarantee <= limit, `quota of ${role}: guarantee of ${name} exceeds its limit`);
    }
  }
  for (const [role, weight] of state.weights) {
    check(role === weight.role && weight.weight > 0, `weight of ${role}: wrong key or not positive`);
  }
}

const sameMembers = (left: ReadonlySet<string>, right: ReadonlySet<string>): boolean =>
  left.size === right.size && [...left].every((member) => right.has(member));

function checkIndex(
  name: string,
  kept: ReadonlyMap<string, ReadonlySet<string>>,
  scanned: ReadonlyMap<string, ReadonlySet<string>>,
  ordered = false,
): void {
  check(kept.size === scanned.size, `index ${name}: ${kept.size} keys, a scan finds ${scanned.size}`);
  for (const [key, members] of scanned) {
    const found = kept.get(key);
    const equal =
      found !== undefined && (ordered ? [...found].join() === [...members].join() : sameMembers(found, members));
    check(equal, `index ${name}[${key}] differs from a scan${ordered ? ' (or its order does)' : ''}`);
  }
}

const queueText = (queue: RemovalQueue): string =>
  queue
    .inOrder()
    .map((removal) => `${removal.agentId}@${removal.removedAt}`)
    .join();

/** The indexes apply kept equal what a full scan of the maps builds (derived-indexes.ts). */
export function checkDerivedIndexes(state: ReadonlyState): void {
  const kept = state.derived;
  const scanned = DerivedIndexes.rebuild(state);
  checkIndex('tasksByFramework', kept.tasksByFramework, scanned.tasksByFramework);
  checkIndex('liveTasksByFramework', kept.liveTasksByFramework, scanned.liveTasksByFramework);
  checkIndex('liveTasksByAgent', kept.liveTasksByAgent, scanned.liveTasksByAgent);
  checkIndex('unacknowledged', kept.unacknowledgedTasksByFramework, scanned.unacknowledgedTasksByFramework);
  checkIndex('completedTasksByFramework', kept.completedTasksByFramework, scanned.completedTasksByFramework, true);
  checkIndex('offersByFramework', kept.offersByFramework, scanned.offersByFramework);
  checkIndex('offersByAgent', kept.offersByAgent, scanned.offersByAgent);
  checkIndex('executorsByAgent', kept.executorsByAgent, scanned.executorsByAgent);
  checkIndex('executorsByFramework', kept.executorsByFramework, scanned.executorsByFramework);
  check(sameAgentTotals(kept.agentTotals, scanned.agentTotals), 'index agentTotals differs from a scan');
  check(
    [...kept.completedFrameworks].join() === [...scanned.completedFrameworks].join(),
    'index completedFrameworks differs from a scan (or its order does)',
  );
  check(queueText(kept.unreachableAgents) === queueText(scanned.unreachableAgents), 'index unreachableAgents differs');
  check(queueText(kept.goneAgents) === queueText(scanned.goneAgents), 'index goneAgents differs');
  check(
    kept.liveTaskCount === scanned.liveTaskCount,
    `liveTaskCount ${kept.liveTaskCount}, a scan finds ${scanned.liveTaskCount}`,
  );
  const counts = (map: ReadonlyMap<string, number>): string =>
    [...map].sort(([left], [right]) => (left < right ? -1 : 1)).join();
  check(counts(kept.taskCountsByState) === counts(scanned.taskCountsByState), 'task counts by state differ');
  checkAllocationBook(kept.allocation, scanned.allocation);
}

/** The allocation book kept as commands applied against one recomputed from the maps. */
export function checkAllocationBook(kept: ReadonlyAllocationBook, scanned: ReadonlyAllocationBook): void {
  check(sameQuantities(kept.activeTotals, scanned.activeTotals), 'allocation book: active totals differ from a scan');
  check(kept.sortedAgentIds().join() === scanned.sortedAgentIds().join(), 'allocation book: agent ids differ');
  check(kept.heldByRole.size === scanned.heldByRole.size, 'allocation book: roles holding resources differ');
  for (const [role, byFramework] of scanned.heldByRole) {
    const keptByFramework = kept.heldByRole.get(role);
    check(keptByFramework?.size === byFramework.size, `allocation book: frameworks holding in role ${role} differ`);
    for (const [frameworkId, held] of byFramework) {
      const keptHeld = keptByFramework!.get(frameworkId);
      check(
        keptHeld !== undefined && sameQuantities(keptHeld, held),
        `allocation book: ${frameworkId} in role ${role} holds other quantities than a scan finds`,
      );
    }
  }
  check(kept.unreservedHeldByRole.size === scanned.unreservedHeldByRole.size, 'allocation book: unreserved roles');
  for (const [role, held] of scanned.unreservedHeldByRole) {
    const keptHeld = kept.unreservedHeldByRole.get(role);
    check(keptHeld !== undefined && sameQuantities(keptHeld, held), `allocation book: role ${role} unreserved held`);
  }
}

/** Nothing is kept beyond the replicated limits once a command has applied (the age needs `at`: history.ts). */
function checkHistoryLimits(state: ReadonlyState): void {
  const limits = state.historyLimits;
  const { completedTasksByFramework, completedFrameworks, unreachableAgents, goneAgents } = state.derived;
  if (limits.maxCompletedTasksPerFramework !== null) {
    for (const [frameworkId, completed] of completedTasksByFramework)
      check(
        completed.size <= limits.maxCompletedTasksPerFramework,
        `framework ${frameworkId} keeps too many completed tasks`,
      );
  }
  if (limits.maxCompletedFrameworks !== null)
    check(completedFrameworks.size <= limits.maxCompletedFrameworks, 'too many completed frameworks are kept');
  if (limits.maxRemovedAgentCount !== null) {
    check(unreachableAgents.size <= limits.maxRemovedAgentCount, 'too many unreachable agents are kept');
    check(goneAgents.size <= limits.maxRemovedAgentCount, 'too many gone agents are kept');
  }
}

/**
 * Across one apply: a task terminal before is still there after, with the same state and the
 * same statuses (only their `acknowledged` flags may change), unless its agent returned with it
 * after an unreachable loss (it is live again), or the apply pruned it (the
 * TASK_PRUNED events it emitted: `pruned`), and only a completed task, or one whose framework or
 * agent was pruned with it, may be. `before` is a shallow copy of the task map taken before the
 * apply; entities are never mutated in place, so it is exact.
 */
export function checkTerminalTasksUnchanged(
  before: ReadonlyMap<TaskKey, Task>,
  after: ReplicatedState,
  pruned: ReadonlySet<TaskKey> = new Set(),
): void {
  for (const [key, task] of before) {
    if (!isTerminalTaskState(task.state)) continue;
    const now = after.tasks.get(key);
    if (now === undefined && pruned.has(key)) continue;
    // An unreachable loss whose agent returned with the task (command format 11) lives again.
    if (now !== undefined && !isTerminalTaskState(now.state) && isUnreachableLoss(task.statuses.at(-1)!)) continue;
    check(now !== undefined, `terminal task ${key} disappeared without being pruned`);
    const strip = (value: Task): unknown => ({
      ...value,
      modifyIndex: 0,
      statuses: value.statuses.map((status) => ({ ...status, acknowledged: false })),
    });
    check(
      canonicalJson(strip(task)) === canonicalJson(now === undefined ? null : strip(now)),
      `terminal task ${key} changed`,
    );
  }
}
