// The replicated cluster state: maps keyed by id, holding immutable entity objects. `apply`
// mutates the maps but never an entity in place: it replaces the entity with a changed copy.
// So an entity handed out (to a query, an event listener, a test's "before" copy) never changes
// under its holder, and a shallow copy of a map is a true snapshot of it.
//
// Every entity keeps the Raft index of its creation and of its last change (Nomad's
// CreateIndex/ModifyIndex); a key-value entry's version is its modify index.
import { DerivedIndexes, type ReadonlyDerivedIndexes } from './derived-indexes.ts';
import type { Brand, AgentId, ExecutorKey, FrameworkId, LogIndex, OfferId, TaskId, TaskKey } from './ids.ts';
import type { Resources } from './resources.ts';
import type { Role } from './roles.ts';
import type { TaskState } from '../protocol/task-states.ts';
import type {
  AgentInfo,
  ExecutorDefinition,
  FrameworkInfo,
  MachineId,
  MaintenanceWindow,
  QuotaConfig,
  StatusReport,
  TaskDefinition,
} from './values.ts';

export interface Indexed {
  readonly createIndex: LogIndex;
  readonly modifyIndex: LogIndex;
}

/**
 * Whether the master can reach the agent (ACTIVE, UNREACHABLE) or has removed it for good (GONE).
 * Deactivation, draining and maintenance are separate facts (Mesos 1.9+): `deactivated` and
 * `drain` on the agent, the machine's mode in `machines`.
 */
export type AgentState = 'ACTIVE' | 'UNREACHABLE' | 'GONE';

/** Mesos DrainInfo.state: DRAINING until no task of the agent is left non-terminal, then DRAINED. */
export type DrainState = 'DRAINING' | 'DRAINED';

/** Mesos DrainInfo: the operator's DRAIN_AGENT and how far it has got. */
export interface AgentDrain {
  readonly state: DrainState;
  /** DrainConfig.max_grace_period: caps each task's kill grace period; null: the task's own. */
  readonly maxGracePeriodMs: number | null;
  /** DrainConfig.mark_gone: once DRAINED, the agent is marked gone. */
  readonly markGone: boolean;
  readonly startedAt: number;
}

export interface Agent extends AgentInfo, Indexed {
  readonly id: AgentId;
  readonly state: AgentState;
  /**
   * DEACTIVATE_AGENT or DRAIN_AGENT: the agent gets no offers (its outstanding ones are removed)
   * until REACTIVATE_AGENT; its tasks run on.
   */
  readonly deactivated: boolean;
  /** DRAIN_AGENT (which also deactivates); null when the agent is not being or has not been drained. */
  readonly drain: AgentDrain | null;
  /** Sum of the resources of this agent's live (non-terminal) tasks and of its executors. */
  readonly used: Resources;
  /** Sum of the resources of this agent's outstanding offers. */
  readonly offered: Resources;
  readonly registeredAt: number;
  readonly reregisteredAt: number | null;
  readonly stateChangedAt: number;
}

export type FrameworkState = 'CONNECTED' | 'DISCONNECTED' | 'COMPLETED';

export interface Framework extends Indexed {
  readonly id: FrameworkId;
  readonly info: FrameworkInfo;
  readonly state: FrameworkState;
  readonly registeredAt: number;
  readonly reregisteredAt: number | null;
  readonly disconnectedAt: number | null;
  readonly completedAt: number | null;
}

export interface Offer {
  readonly id: OfferId;
  readonly frameworkId: FrameworkId;
  readonly agentId: AgentId;
  readonly role: Role;
  readonly resources: Resources;
  readonly createdAt: number;
  readonly createIndex: LogIndex;
}

export interface TaskStatus extends StatusReport {
  readonly acknowledged: boolean;
  /** When the master recorded it (the command's `at`), and at which index. */
  readonly receivedAt: number;
  readonly index: LogIndex;
}

export interface Task extends TaskDefinition, Indexed {
  readonly frameworkId: FrameworkId;
  /**
   * The Unix user the task runs as (Mesos Task.user): its CommandInfo.user, else its framework's
   * FrameworkInfo.user at launch; null: the agent's own user.
   */
  readonly user: string | null;
  readonly agentId: AgentId;
  /** The role of the offer it was launched from; its resources count against this role. */
  readonly role: Role;
  /** Always the state of the newest status. */
  readonly state: TaskState;
  /** Oldest first, at most `maxStatusHistory`. */
  readonly statuses: readonly TaskStatus[];
  readonly killRequestedAt: number | null;
  readonly createdAt: number;
  /** LAUNCH_GROUP: the id of the group's first task (the same for the whole group); null otherwise. */
  readonly taskGroup: TaskId | null;
}

/**
 * A framework's executor on one agent (CUSTOM or DEFAULT; the command executor of a plain task
 * is not one): made with the first task that names it, its resources held on the agent on top
 * of its tasks' until the agent reports it gone (remove_executor), the agent is gone, or the
 * framework is torn down.
 */
export interface Executor extends Indexed {
  readonly info: ExecutorDefinition;
  readonly frameworkId: FrameworkId;
  readonly agentId: AgentId;
  /** The role of the offer it was launched from; its resources count against this role. */
  readonly role: Role;
  readonly createdAt: number;
}

export interface QuotaEntry extends QuotaConfig {
  readonly modifyIndex: LogIndex;
}

export interface WeightEntry {
  readonly role: Role;
  readonly weight: number;
  readonly modifyIndex: LogIndex;
}

export interface MaintenanceSchedule {
  readonly windows: readonly MaintenanceWindow[];
  readonly modifyIndex: LogIndex;
}

/** Mesos machine modes; a machine absent from `machines` is UP. */
export type MachineMode = 'DRAINING' | 'DOWN';

export type MachineKey = Brand<string, 'MachineKey'>;
export const machineKey = (machine: MachineId): MachineKey => `${machine.hostname}|${machine.ip}` as MachineKey;

export interface MachineStatus {
  readonly machine: MachineId;
  readonly mode: MachineMode;
  readonly modeChangedAt: number;
  readonly modifyIndex: LogIndex;
}

export type KvKey = Brand<string, 'KvKey'>;
/** Namespaces cannot contain "/", so the first "/" separates namespace from key. */
export const kvKey = (namespace: string, key: string): KvKey => `${namespace}/${key}` as KvKey;

export interface KvEntry {
  readonly namespace: string;
  readonly key: string;
  readonly value: string;
  /** The index of the last write: grows with every write of this key. */
  readonly version: LogIndex;
  readonly createIndex: LogIndex;
}

/**
 * How much finished history the state keeps (Mesos' --max_completed_frameworks,
 * --max_completed_tasks_per_framework, --registry_max_agent_age and --registry_max_agent_count).
 * Replicated, so every replica prunes alike: the leading master proposes its flags
 * (update_history_limits). Null is "no bound": a state no leader has set limits in yet (a log
 * written before limits existed replays unchanged).
 */
export interface HistoryLimits {
  readonly maxCompletedFrameworks: number | null;
  readonly maxCompletedTasksPerFramework: number | null;
  /** Unreachable and gone agents are forgotten this long (ms) after they were removed. */
  readonly maxRemovedAgentAgeMs: number | null;
  /** Unreachable agents kept at most, and gone agents kept at most (each list on its own, as Mesos). */
  readonly maxRemovedAgentCount: number | null;
  readonly modifyIndex: LogIndex;
}

export const unboundedHistory: HistoryLimits = Object.freeze({
  maxCompletedFrameworks: null,
  maxCompletedTasksPerFramework: null,
  maxRemovedAgentAgeMs: null,
  maxRemovedAgentCount: null,
  modifyIndex: 0,
});

export type OperationType = 'RESERVE' | 'UNRESERVE' | 'CREATE' | 'DESTROY';

/**
 * One reservation or volume operation Flotilla ran (Mesos' Operation with its latest
 * OperationStatus, for GET_OPERATIONS): from an operator call (frameworkId null) or a
 * framework's ACCEPT. Only applied operations are kept: a rejected command changes nothing, so
 * its refusal is the caller's answer (a 4xx, or the framework's TASK_ERROR/ERROR), not a record.
 * The last `maxOperations` are kept, keyed so that key order is apply order (operations.ts).
 */
export interface OperationRecord {
  readonly key: string;
  /** Base64 of 16 bytes derived from the log index and position: equal on every replica. */
  readonly uuid: string;
  readonly type: OperationType;
  readonly frameworkId: FrameworkId | null;
  readonly agentId: AgentId;
  readonly resources: Resources;
  readonly state: 'OPERATION_FINISHED';
  readonly at: number;
  readonly index: LogIndex;
}

/** The replicated part of the state, read-only: what snapshots, the state hash and views read. */
export interface ReplicatedState {
  readonly agents: ReadonlyMap<AgentId, Agent>;
  readonly frameworks: ReadonlyMap<FrameworkId, Framework>;
  readonly offers: ReadonlyMap<OfferId, Offer>;
  readonly tasks: ReadonlyMap<TaskKey, Task>;
  readonly executors: ReadonlyMap<ExecutorKey, Executor>;
  readonly quotas: ReadonlyMap<Role, QuotaEntry>;
  readonly weights: ReadonlyMap<Role, WeightEntry>;
  readonly machines: ReadonlyMap<MachineKey, MachineStatus>;
  readonly maintenanceSchedule: MaintenanceSchedule;
  readonly kv: ReadonlyMap<KvKey, KvEntry>;
  readonly historyLimits: HistoryLimits;
  readonly operations: ReadonlyMap<string, OperationRecord>;
}

/**
 * The maps are written only through writes.ts, which keeps `derived` (indexes by framework,
 * agent and state; not replicated, rebuilt on restore) in step with them.
 */
export interface State {
  readonly agents: Map<AgentId, Agent>;
  readonly frameworks: Map<FrameworkId, Framework>;
  readonly offers: Map<OfferId, Offer>;
  readonly tasks: Map<TaskKey, Task>;
  readonly executors: Map<ExecutorKey, Executor>;
  readonly quotas: Map<Role, QuotaEntry>;
  readonly weights: Map<Role, WeightEntry>;
  readonly machines: Map<MachineKey, MachineStatus>;
  maintenanceSchedule: MaintenanceSchedule;
  readonly kv: Map<KvKey, KvEntry>;
  historyLimits: HistoryLimits;
  readonly operations: Map<string, OperationRecord>;
  readonly derived: DerivedIndexes;
}

/** What readers get: the same state, with no way to change it, and its indexes. */
export interface ReadonlyState extends ReplicatedState {
  readonly derived: ReadonlyDerivedIndexes;
}

export function emptyState(): State {
  return {
    agents: new Map(),
    frameworks: new Map(),
    offers: new Map(),
    tasks: new Map(),
    executors: new Map(),
    quotas: new Map(),
    weights: new Map(),
    machines: new Map(),
    maintenanceSchedule: { windows: [], modifyIndex: 0 },
    kv: new Map(),
    historyLimits: unboundedHistory,
    operations: new Map(),
    derived: new DerivedIndexes(),
  };
}
