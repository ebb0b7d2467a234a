// Every change to the cluster state is one of these commands, carried in a Raft entry and applied
// by `apply` in log order on every replica. The leader fills in everything that is not
// deterministic: `at` (its clock, ms since the epoch) and every new id. `apply` never reads a
// clock or invents an id, so replicas agree (DESIGN.md, "The cluster state machine").
//
// Commands are forever: a retired `type` is never reused for another meaning, and a change of
// shape bumps `commandFormatVersion` (codec.ts) with a `COMPAT:` shim for the old one.
import type { TaskState } from '../protocol/task-states.ts';
import type { AgentId, ExecutorId, FrameworkId, OfferId, TaskId } from './ids.ts';
import type { Resources } from './resources.ts';
import type { Role } from './roles.ts';
import type {
  AgentInfo,
  ExecutorDefinition,
  FrameworkInfo,
  MachineId,
  MaintenanceWindow,
  QuotaConfig,
  RoleWeight,
  StatusReport,
  TaskDefinition,
} from './values.ts';

/** Leader-stamped time, ms since the epoch. May go backwards across a leader change. */
interface Stamped {
  readonly at: number;
}

// ---- agents

export interface RegisterAgent extends Stamped {
  readonly type: 'register_agent';
  readonly agentId: AgentId;
  readonly info: AgentInfo;
}

/** A task an agent still runs, as it reports on re-registration. */
export interface TaskReference {
  readonly frameworkId: FrameworkId;
  readonly taskId: TaskId;
  /** Its latest state on the agent (null: an agent that does not say, or a command of format 3). */
  readonly state: TaskState | null;
}

export interface ReregisterAgent extends Stamped {
  readonly type: 'reregister_agent';
  readonly agentId: AgentId;
  readonly info: AgentInfo;
  /** Live tasks the master knows on this agent but the agent does not report are lost. */
  readonly tasks: readonly TaskReference[];
  /**
   * The agent keeps its dynamic reservations and volumes across re-registration. Commands of
   * formats 1–4 read false: they replay as they applied then, when re-registration dropped them.
   */
  readonly keepsReservations: boolean;
  /**
   * A task the master made TASK_LOST only because this agent was unreachable, and that the agent
   * reports live, returns to the state reported (Mesos re-adds an unreachable agent's tasks when
   * it re-registers, partition-aware framework or not). Added in command format 11: absent, as
   * in formats 1–10, such a task stays TASK_LOST and the agent is told to kill it.
   * `'checked'` (command format 12): only a task whose executor is still on the agent with the
   * ExecutorInfo it was launched with comes back (besides format 11's checks: its framework not
   * completed, its resources free on the agent). `true` (format 11) trusts the agent's report and
   * revives a task whose executor was removed meanwhile: replayed as it applied then.
   */
  readonly restoresLostTasks?: true | 'checked';
}

/** One item of an agent_registration_batch: a single registration or re-registration, stamped by the batch. */
export type AgentRegistrationBatchItem = Omit<RegisterAgent, 'at'> | Omit<ReregisterAgent, 'at'>;

/**
 * The agent registrations and re-registrations the leader received in one event-loop turn, as one
 * Raft entry: each item applies exactly as its single command would, in order, at the batch's
 * index and `at`, with a result of its own (Success.items). After a leader failover every agent
 * re-registers at once: one entry per agent was one decode, checksum, log row and replication
 * slot each (issue 12, scale bench). Added in command format 9.
 */
export interface AgentRegistrationBatch extends Stamped {
  readonly type: 'agent_registration_batch';
  readonly items: readonly AgentRegistrationBatchItem[];
}

/**
 * The only state a command sets directly: an agent that missed its pings. It comes back by
 * re-registering. COMPAT: command formats 1–4 also had 'ACTIVE' and 'DRAINING' here, decoded as
 * reactivate_agent and deactivate_agent (command-schema.ts).
 */
export type SettableAgentState = 'UNREACHABLE';

export interface UpdateAgentState extends Stamped {
  readonly type: 'update_agent_state';
  readonly agentId: AgentId;
  readonly state: SettableAgentState;
}

/** Operator DEACTIVATE_AGENT: no new offers for the agent (its outstanding ones are removed); tasks run on. */
export interface DeactivateAgent extends Stamped {
  readonly type: 'deactivate_agent';
  readonly agentId: AgentId;
}

/** Operator REACTIVATE_AGENT: offers again; ends a drain (DRAINING or DRAINED). */
export interface ReactivateAgent extends Stamped {
  readonly type: 'reactivate_agent';
  readonly agentId: AgentId;
}

/**
 * Operator DRAIN_AGENT (Mesos DrainConfig): deactivates the agent and asks every live task of it
 * to be killed, with its kill grace period capped by `maxGracePeriodMs` (null: no cap).
 */
export interface DrainAgent extends Stamped {
  readonly type: 'drain_agent';
  readonly agentId: AgentId;
  readonly maxGracePeriodMs: number | null;
  readonly markGone: boolean;
}

/**
 * The leader saw no task of a DRAINING agent left non-terminal: the agent becomes DRAINED, and
 * gone too if its drain asked for it. Rejected while a task still lives, so it is safe to retry.
 */
export interface MarkAgentDrained extends Stamped {
  readonly type: 'mark_agent_drained';
  readonly agentId: AgentId;
}

/** Operator MARK_AGENT_GONE: the agent will never come back; its tasks are gone. */
export interface MarkAgentGone extends Stamped {
  readonly type: 'mark_agent_gone';
  readonly agentId: AgentId;
}

// ---- frameworks

/** SUBSCRIBE: registers a new framework, or reconnects (fails over) an existing one. */
export interface SubscribeFramework extends Stamped {
  readonly type: 'subscribe_framework';
  readonly frameworkId: FrameworkId;
  readonly info: FrameworkInfo;
}

export interface UpdateFramework extends Stamped {
  readonly type: 'update_framework';
  readonly frameworkId: FrameworkId;
  readonly info: FrameworkInfo;
}

export interface DisconnectFramework extends Stamped {
  readonly type: 'disconnect_framework';
  readonly frameworkId: FrameworkId;
}

/** TEARDOWN by the framework or an operator, or failover timeout expiry: the framework completes. */
export interface TeardownFramework extends Stamped {
  readonly type: 'teardown_framework';
  readonly frameworkId: FrameworkId;
}

// ---- offers

export interface OfferDefinition {
  readonly offerId: OfferId;
  readonly frameworkId: FrameworkId;
  readonly agentId: AgentId;
  /** The role the resources are allocated to; one of the framework's roles. */
  readonly role: Role;
  readonly resources: Resources;
}

/** One allocation cycle's offers; applied all or none. */
export interface CreateOffers extends Stamped {
  readonly type: 'create_offers';
  readonly offers: readonly OfferDefinition[];
}

export interface RescindOffer extends Stamped {
  readonly type: 'rescind_offer';
  readonly offerId: OfferId;
}

/** DECLINE: offers already gone (rescinded meanwhile) are reported, not an error (as in Mesos). */
export interface DeclineOffers extends Stamped {
  readonly type: 'decline_offers';
  readonly frameworkId: FrameworkId;
  readonly offerIds: readonly OfferId[];
}

export type OfferOperation =
  | { readonly type: 'LAUNCH'; readonly tasks: readonly TaskDefinition[] }
  /** A task group (Mesos TaskGroupInfo): its tasks name no executor; they all run on `executor` (DEFAULT). */
  | {
      readonly type: 'LAUNCH_GROUP';
      readonly executor: ExecutorDefinition;
      readonly tasks: readonly TaskDefinition[];
    }
  | { readonly type: 'RESERVE'; readonly resources: Resources }
  | { readonly type: 'UNRESERVE'; readonly resources: Resources }
  /** Persistent volumes (resources with `disk`) made from the offers' disk reserved to their role. */
  | { readonly type: 'CREATE'; readonly volumes: Resources }
  | { readonly type: 'DESTROY'; readonly volumes: Resources };

/**
 * ACCEPT: the offers (same agent, same role) are consumed; operations run in order against
 * their pooled resources; what no operation used goes back to the agent's free resources.
 */
export interface AcceptOffers extends Stamped {
  readonly type: 'accept_offers';
  readonly frameworkId: FrameworkId;
  readonly offerIds: readonly OfferId[];
  readonly operations: readonly OfferOperation[];
}

// ---- tasks

export interface UpdateTaskStatus extends Stamped {
  readonly type: 'update_task_status';
  readonly frameworkId: FrameworkId;
  readonly taskId: TaskId;
  readonly agentId: AgentId;
  readonly status: StatusReport;
}

export interface AcknowledgeTaskStatus extends Stamped {
  readonly type: 'acknowledge_task_status';
  readonly frameworkId: FrameworkId;
  readonly taskId: TaskId;
  readonly agentId: AgentId;
  readonly uuid: string;
  /**
   * Mesos' rule (master.cpp `Master::acknowledge`): acknowledging the update that made the task
   * terminal completes it, and the earlier updates still unacknowledged are superseded (recorded
   * as acknowledged, never sent again). Added in command format 10 and set by a leader only
   * while every replica reads format 10 (scheduler/acknowledgement-rule.ts); absent (older
   * entries, or a cluster not yet upgraded): each update waits for its own acknowledgement.
   */
  readonly completesTerminalTask?: true;
}

/** One item of a task_status_batch: a single update or acknowledgement, stamped by the batch. */
export type TaskStatusBatchItem = Omit<UpdateTaskStatus, 'at'> | Omit<AcknowledgeTaskStatus, 'at'>;

/**
 * The status updates (of agents) and acknowledgements (of frameworks) the leader received in one
 * event-loop turn, as one Raft entry: each item applies exactly as its single command would, in
 * order, at the batch's index and `at`, with a result of its own (Success.items). One entry per
 * turn instead of one per update: each entry costs a decode, a checksum, a log row and a
 * replication slot (issue 12, launch bench). Added in command format 8.
 */
export interface TaskStatusBatch extends Stamped {
  readonly type: 'task_status_batch';
  readonly items: readonly TaskStatusBatchItem[];
}

/** KILL: recorded; the agent is told by the master, and reports TASK_KILLED in time. */
export interface KillTask extends Stamped {
  readonly type: 'kill_task';
  readonly frameworkId: FrameworkId;
  readonly taskId: TaskId;
}

// ---- executors

/**
 * The agent reports the executor gone (it exited, or it is not among the executors the agent
 * reports when it re-registers): its resources go back to the agent. Its tasks still live, if
 * any, are lost with it.
 */
export interface RemoveExecutor extends Stamped {
  readonly type: 'remove_executor';
  readonly agentId: AgentId;
  readonly frameworkId: FrameworkId;
  readonly executorId: ExecutorId;
}

// ---- reservations, quota, weights

/** Operator RESERVE_RESOURCES: each resource's role is the role it is reserved for. */
export interface ReserveResources extends Stamped {
  readonly type: 'reserve_resources';
  readonly agentId: AgentId;
  readonly resources: Resources;
  /** The operator who asked (null: anonymous, or a command of formats 1–4); GET_OPERATIONS shows it. */
  readonly principal: string | null;
}

export interface UnreserveResources extends Stamped {
  readonly type: 'unreserve_resources';
  readonly agentId: AgentId;
  readonly resources: Resources;
  readonly principal: string | null;
}

/**
 * Operator CREATE_VOLUMES: each volume (a disk resource with `disk`) is carved out of the agent's
 * free disk reserved to its role. Its `disk.principal` is the operator's.
 */
export interface CreateVolumes extends Stamped {
  readonly type: 'create_volumes';
  readonly agentId: AgentId;
  readonly volumes: Resources;
}

/** Operator DESTROY_VOLUMES: the volumes go back to plain reserved disk; the agent deletes their data. */
export interface DestroyVolumes extends Stamped {
  readonly type: 'destroy_volumes';
  readonly agentId: AgentId;
  readonly volumes: Resources;
}

/** UPDATE_QUOTA: a config with no guarantees and no limits removes the role's quota. */
export interface UpdateQuota {
  readonly type: 'update_quota';
  readonly configs: readonly QuotaConfig[];
}

export interface UpdateWeights {
  readonly type: 'update_weights';
  readonly weights: readonly RoleWeight[];
}

// ---- maintenance

/** Scheduled machines go DRAINING; machines left out go back UP (unless DOWN: rejected). */
export interface UpdateMaintenanceSchedule extends Stamped {
  readonly type: 'update_maintenance_schedule';
  readonly windows: readonly MaintenanceWindow[];
}

export interface StartMaintenance extends Stamped {
  readonly type: 'start_maintenance';
  readonly machines: readonly MachineId[];
}

export interface StopMaintenance extends Stamped {
  readonly type: 'stop_maintenance';
  readonly machines: readonly MachineId[];
}

// ---- key-value store

/** `expectedVersion`: null writes unconditionally; 0 only if absent; n only if the version is n. */
export interface KvPut {
  readonly type: 'kv_put';
  readonly namespace: string;
  readonly key: string;
  readonly value: string;
  readonly expectedVersion: number | null;
}

export interface KvDelete {
  readonly type: 'kv_delete';
  readonly namespace: string;
  readonly key: string;
  readonly expectedVersion: number | null;
}

// ---- history

/**
 * The leading master's history limits (its --max_completed_frameworks,
 * --max_completed_tasks_per_framework, --registry_max_agent_age and --registry_max_agent_count),
 * proposed when it starts leading and the state's differ: as in Mesos, the active master's flags
 * apply. What is beyond the new limits is pruned at once.
 */
export interface UpdateHistoryLimits extends Stamped {
  readonly type: 'update_history_limits';
  readonly maxCompletedFrameworks: number;
  readonly maxCompletedTasksPerFramework: number;
  readonly maxRemovedAgentAgeMs: number;
  readonly maxRemovedAgentCount: number;
}

/** Changes nothing; lets a new leader commit an entry of its term through the state machine. */
export interface Noop {
  readonly type: 'noop';
}

export type Command =
  | RegisterAgent
  | ReregisterAgent
  | AgentRegistrationBatch
  | UpdateAgentState
  | MarkAgentGone
  | DeactivateAgent
  | ReactivateAgent
  | DrainAgent
  | MarkAgentDrained
  | SubscribeFramework
  | UpdateFramework
  | DisconnectFramework
  | TeardownFramework
  | CreateOffers
  | RescindOffer
  | DeclineOffers
  | AcceptOffers
  | UpdateTaskStatus
  | AcknowledgeTaskStatus
  | TaskStatusBatch
  | KillTask
  | RemoveExecutor
  | ReserveResources
  | UnreserveResources
  | CreateVolumes
  | DestroyVolumes
  | UpdateQuota
  | UpdateWeights
  | UpdateMaintenanceSchedule
  | StartMaintenance
  | StopMaintenance
  | KvPut
  | KvDelete
  | UpdateHistoryLimits
  | Noop;

export type CommandType = Command['type'];

export type CommandOf<T extends CommandType> = Extract<Command, { readonly type: T }>;
