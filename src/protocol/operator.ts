// The master operator API's responses and events in Mesos v1 JSON (include/mesos/v1/master/
// master.proto, quota/quota.proto, maintenance/maintenance.proto). Only the fields Flotilla
// fills are listed.
import type {
  AgentInfo,
  ExecutorInfo,
  FrameworkInfo,
  IdValue,
  MachineId,
  Nanoseconds,
  Offer,
  Resource,
  Scalar,
  Task,
  TaskState,
  TaskStatus,
} from './mesos.ts';

/** Response.GetAgents.Agent */
export interface Agent {
  readonly agent_info: AgentInfo;
  readonly active: boolean;
  readonly deactivated: boolean;
  readonly version: string;
  readonly pid: string;
  readonly registered_time: Nanoseconds;
  readonly reregistered_time?: Nanoseconds;
  readonly total_resources: readonly Resource[];
  readonly allocated_resources: readonly Resource[];
  readonly offered_resources: readonly Resource[];
  readonly drain_info?: DrainInfo;
}

/** mesos.proto DrainConfig: max_grace_period unset means each task's own kill grace period. */
export interface DrainConfig {
  readonly max_grace_period?: Nanoseconds;
  readonly mark_gone: boolean;
}

/** mesos.proto DrainInfo */
export interface DrainInfo {
  readonly state: 'DRAINING' | 'DRAINED';
  readonly config: DrainConfig;
}

export interface GetAgents {
  readonly agents: readonly Agent[];
  readonly recovered_agents: readonly AgentInfo[];
}

/** Response.GetFrameworks.Framework */
export interface Framework {
  readonly framework_info: FrameworkInfo;
  readonly active: boolean;
  readonly connected: boolean;
  readonly recovered: boolean;
  readonly registered_time: Nanoseconds;
  readonly reregistered_time?: Nanoseconds;
  readonly unregistered_time?: Nanoseconds;
  readonly offers: readonly Offer[];
  readonly inverse_offers: readonly never[];
  readonly allocated_resources: readonly Resource[];
  readonly offered_resources: readonly Resource[];
}

export interface GetFrameworks {
  readonly frameworks: readonly Framework[];
  readonly completed_frameworks: readonly Framework[];
}

export interface GetTasks {
  readonly pending_tasks: readonly Task[];
  readonly tasks: readonly Task[];
  readonly unreachable_tasks: readonly Task[];
  readonly completed_tasks: readonly Task[];
  readonly orphan_tasks: readonly Task[];
}

/** master.proto Response.GetExecutors.Executor. */
export interface Executor {
  readonly executor_info: ExecutorInfo;
  readonly agent_id: IdValue;
}

export interface GetExecutors {
  readonly executors: readonly Executor[];
  /** Deprecated in Mesos: an executor of a framework the master does not know. Flotilla has none. */
  readonly orphan_executors: readonly Executor[];
}

export interface GetState {
  readonly get_tasks: GetTasks;
  readonly get_executors: GetExecutors;
  readonly get_frameworks: GetFrameworks;
  readonly get_agents: GetAgents;
}

/** mesos.proto Role */
export interface Role {
  readonly name: string;
  readonly weight: number;
  readonly frameworks: readonly IdValue[];
  /** What is allocated to the role (live tasks). */
  readonly resources: readonly Resource[];
}

export interface WeightInfo {
  readonly weight: number;
  readonly role: string;
}

/** quota.proto QuotaInfo (deprecated, still filled) and QuotaConfig. */
export interface QuotaInfo {
  readonly role: string;
  readonly guarantee: readonly Resource[];
}

export interface QuotaConfig {
  readonly role: string;
  readonly guarantees: Readonly<Record<string, Scalar>>;
  readonly limits: Readonly<Record<string, Scalar>>;
}

export interface QuotaStatus {
  readonly infos: readonly QuotaInfo[];
  readonly configs: readonly QuotaConfig[];
}

export interface MaintenanceWindow {
  readonly machine_ids: readonly MachineId[];
  readonly unavailability: { readonly start: Nanoseconds; readonly duration: Nanoseconds };
}

export interface MaintenanceSchedule {
  readonly windows: readonly MaintenanceWindow[];
}

/** allocator.proto InverseOfferStatus: one framework's latest answer to an inverse offer (TimeInfo timestamp). */
export interface InverseOfferStatus {
  readonly status: 'UNKNOWN' | 'ACCEPT' | 'DECLINE';
  readonly framework_id: IdValue;
  readonly timestamp: Nanoseconds;
}

export interface ClusterStatus {
  readonly draining_machines: readonly { readonly id: MachineId; readonly statuses: readonly InverseOfferStatus[] }[];
  readonly down_machines: readonly MachineId[];
}

export interface Metric {
  readonly name: string;
  readonly value: number;
}

/** master.proto Event */
export type Event =
  | {
      readonly type: 'SUBSCRIBED';
      readonly subscribed: { readonly get_state: GetState; readonly heartbeat_interval_seconds: number };
    }
  | { readonly type: 'TASK_ADDED'; readonly task_added: { readonly task: Task } }
  | {
      readonly type: 'TASK_UPDATED';
      readonly task_updated: { readonly framework_id: IdValue; readonly status: TaskStatus; readonly state: TaskState };
    }
  | { readonly type: 'AGENT_ADDED'; readonly agent_added: { readonly agent: Agent } }
  | { readonly type: 'AGENT_REMOVED'; readonly agent_removed: { readonly agent_id: IdValue } }
  | { readonly type: 'FRAMEWORK_ADDED'; readonly framework_added: { readonly framework: Framework } }
  | { readonly type: 'FRAMEWORK_UPDATED'; readonly framework_updated: { readonly framework: Framework } }
  | { readonly type: 'FRAMEWORK_REMOVED'; readonly framework_removed: { readonly framework_info: FrameworkInfo } }
  | { readonly type: 'HEARTBEAT' };

export type EventType = Event['type'];
