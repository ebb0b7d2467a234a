// Read helpers for the HTTP layer (GET_AGENTS, GET_TASKS, GET_ROLES, GET_QUOTA, the KV API…).
// Pure functions of the state; every list comes back in id order, so two replicas at the same
// index answer byte for byte the same, and pagination by "after this id" is stable.
import { defaultQueryLimit, maxQueryLimit } from './limits.ts';
import { freeResources } from './agent-accounting.ts';
import type { AgentId, FrameworkId, TaskId, TaskKey } from './ids.ts';
import { taskKey } from './ids.ts';
import { compareStrings, sortedValues } from './ordering.ts';
import { filterRole, reservedRoles, sum, type Resources } from './resources.ts';
import type { Role } from './roles.ts';
import {
  kvKey,
  type Agent,
  type AgentState,
  type Executor,
  type Framework,
  type FrameworkState,
  type KvEntry,
  type MaintenanceSchedule,
  type Offer,
  type QuotaEntry,
  type ReadonlyState,
  type Task,
  type WeightEntry,
} from './state.ts';
import { isTerminalTaskState, taskStates, type TaskState } from '../protocol/task-states.ts';
import type { MachineId } from './values.ts';

const clampLimit = (limit: number | undefined): number =>
  Math.max(0, Math.min(limit ?? defaultQueryLimit, maxQueryLimit));

export function listAgents(state: ReadonlyState, filter: { readonly states?: readonly AgentState[] } = {}): Agent[] {
  return sortedValues(state.agents).filter((agent) => filter.states?.includes(agent.state) ?? true);
}

export function getAgent(state: ReadonlyState, id: AgentId): Agent | null {
  return state.agents.get(id) ?? null;
}

/** Resources of the agent neither used by tasks nor offered. */
export function agentFreeResources(agent: Agent): Resources {
  return freeResources(agent);
}

export function listFrameworks(
  state: ReadonlyState,
  filter: { readonly states?: readonly FrameworkState[] } = {},
): Framework[] {
  return sortedValues(state.frameworks).filter((framework) => filter.states?.includes(framework.state) ?? true);
}

export function getFramework(state: ReadonlyState, id: FrameworkId): Framework | null {
  return state.frameworks.get(id) ?? null;
}

/** GET_EXECUTORS: every executor, in key order (agent, framework, executor id). */
export function listExecutors(
  state: ReadonlyState,
  filter: { readonly frameworkId?: FrameworkId; readonly agentId?: AgentId } = {},
): Executor[] {
  return sortedValues(state.executors).filter(
    (executor) =>
      (filter.frameworkId === undefined || executor.frameworkId === filter.frameworkId) &&
      (filter.agentId === undefined || executor.agentId === filter.agentId),
  );
}

export interface TaskFilter {
  readonly frameworkId?: FrameworkId;
  readonly agentId?: AgentId;
  readonly states?: readonly TaskState[];
  /** Only live (non-terminal) tasks, or only terminal ones. */
  readonly terminal?: boolean;
  readonly limit?: number;
}

export function listTasks(state: ReadonlyState, filter: TaskFilter = {}): Task[] {
  const out: Task[] = [];
  const limit = clampLimit(filter.limit);
  for (const task of sortedValues(state.tasks)) {
    if (out.length >= limit) break;
    if (filter.frameworkId !== undefined && task.frameworkId !== filter.frameworkId) continue;
    if (filter.agentId !== undefined && task.agentId !== filter.agentId) continue;
    if (filter.states !== undefined && !filter.states.includes(task.state)) continue;
    if (filter.terminal !== undefined && isTerminalTaskState(task.state) !== filter.terminal) continue;
    out.push(task);
  }
  return out;
}

export function getTask(state: ReadonlyState, frameworkId: FrameworkId, id: TaskId): Task | null {
  return state.tasks.get(taskKey(frameworkId, id)) ?? null;
}

export function listOffers(
  state: ReadonlyState,
  filter: { readonly frameworkId?: FrameworkId; readonly agentId?: AgentId } = {},
): Offer[] {
  return sortedValues(state.offers).filter(
    (offer) =>
      (filter.frameworkId === undefined || offer.frameworkId === filter.frameworkId) &&
      (filter.agentId === undefined || offer.agentId === filter.agentId),
  );
}

export interface RoleSummary {
  readonly role: Role;
  /** 1 unless set (Mesos' default weight). */
  readonly weight: number;
  readonly frameworkIds: readonly FrameworkId[];
  /** Resources of live tasks launched for this role. */
  readonly allocated: Resources;
  /** Resources of outstanding offers for this role. */
  readonly offered: Resources;
  /** Resources reserved for this role on agents that are not gone. */
  readonly reserved: Resources;
  readonly quota: QuotaEntry | null;
}

/**
 * The live tasks in key order (sums come out alike on every replica), from the state's index:
 * completed tasks can outnumber them a thousand to one.
 */
function liveTasksOf(state: ReadonlyState): Task[] {
  const keys: TaskKey[] = [];
  for (const ofFramework of state.derived.liveTasksByFramework.values()) for (const key of ofFramework) keys.push(key);
  return keys.sort(compareStrings).flatMap((key) => {
    const task = state.tasks.get(key);
    return task === undefined ? [] : [task];
  });
}

/** Every role that has a framework, a weight, a quota or a reservation (Mesos GET_ROLES). */
export function listRoles(state: ReadonlyState): RoleSummary[] {
  const liveAgents = [...state.agents.values()].filter((agent) => agent.state !== 'GONE');
  const openFrameworks = listFrameworks(state, { states: ['CONNECTED', 'DISCONNECTED'] });
  const roles = new Set<Role>([...state.weights.keys(), ...state.quotas.keys()]);
  for (const framework of openFrameworks) for (const role of framework.info.roles) roles.add(role);
  for (const agent of liveAgents) for (const role of reservedRoles(agent.resources)) roles.add(role);
  const liveTasks = liveTasksOf(state);
  return [...roles].sort(compareStrings).map((role) => ({
    role,
    weight: state.weights.get(role)?.weight ?? 1,
    frameworkIds: openFrameworks
      .filter((framework) => framework.info.roles.includes(role))
      .map((framework) => framework.id),
    allocated: sum(liveTasks.filter((task) => task.role === role).map((task) => task.resources)),
    offered: sum([...state.offers.values()].filter((offer) => offer.role === role).map((offer) => offer.resources)),
    reserved: sum(liveAgents.map((agent) => filterRole(agent.resources, role))),
    quota: state.quotas.get(role) ?? null,
  }));
}

export function listQuotas(state: ReadonlyState): QuotaEntry[] {
  return sortedValues(state.quotas);
}

export function listWeights(state: ReadonlyState): WeightEntry[] {
  return sortedValues(state.weights);
}

export interface Reservation {
  readonly agentId: AgentId;
  readonly role: Role;
  readonly resources: Resources;
}

/** Reserved resources per agent and role, agents that are not gone only. */
export function listReservations(state: ReadonlyState): Reservation[] {
  return listAgents(state, { states: ['ACTIVE', 'UNREACHABLE'] }).flatMap((agent) =>
    reservedRoles(agent.resources).map((role) => ({
      agentId: agent.id,
      role,
      resources: filterRole(agent.resources, role),
    })),
  );
}

export function maintenanceSchedule(state: ReadonlyState): MaintenanceSchedule {
  return state.maintenanceSchedule;
}

/** Mesos GET_MAINTENANCE_STATUS: machines draining and machines down. */
export function maintenanceStatus(state: ReadonlyState): { drainingMachines: MachineId[]; downMachines: MachineId[] } {
  const statuses = sortedValues(state.machines);
  return {
    drainingMachines: statuses.filter((status) => status.mode === 'DRAINING').map((status) => status.machine),
    downMachines: statuses.filter((status) => status.mode === 'DOWN').map((status) => status.machine),
  };
}

export function kvGet(state: ReadonlyState, namespace: string, key: string): KvEntry | null {
  return state.kv.get(kvKey(namespace, key)) ?? null;
}

/**
 * Keys of one namespace in key order: those starting with `prefix`, strictly after `after`, at
 * most `limit`. One pass over the store's keys (no sorted index: the store is bounded by
 * maxKvEntries), then a sort of the matches only, so a page costs O(keys + matches × log).
 */
export function kvList(
  state: ReadonlyState,
  namespace: string,
  options: { readonly prefix?: string; readonly after?: string; readonly limit?: number } = {},
): KvEntry[] {
  const limit = clampLimit(options.limit);
  const prefix = options.prefix ?? '';
  const after = options.after ?? '';
  const matches: KvEntry[] = [];
  for (const entry of state.kv.values()) {
    if (entry.namespace !== namespace || !entry.key.startsWith(prefix)) continue;
    if (compareStrings(entry.key, after) <= 0) continue;
    matches.push(entry);
  }
  return matches.sort((left, right) => compareStrings(left.key, right.key)).slice(0, limit);
}

/** Counts for metrics (master_agents_active, master_tasks_running…). */
export function countByState(state: ReadonlyState): {
  agents: Record<AgentState, number>;
  tasks: Partial<Record<TaskState, number>>;
  frameworks: Record<FrameworkState, number>;
} {
  const frameworks: Record<FrameworkState, number> = { CONNECTED: 0, DISCONNECTED: 0, COMPLETED: 0 };
  // Tasks are counted as commands apply (derived indexes): a scrape never walks the task history.
  const taskCounts = state.derived.taskCountsByState;
  // Agents too (agent-totals.ts): /metrics reads this every scrape, and there may be 10,000.
  const agents: Record<AgentState, number> = { ...state.derived.agentTotals.byState };
  for (const framework of state.frameworks.values()) frameworks[framework.state] += 1;
  // Keys in the Mesos enum order, whatever order the tasks were inserted in.
  const tasks = Object.fromEntries(
    taskStates.filter((each) => taskCounts.has(each)).map((each) => [each, taskCounts.get(each) ?? 0]),
  );
  return { agents, tasks, frameworks };
}
