// Mesos v1 JSON shapes (include/mesos/v1/mesos.proto) as Flotilla emits them: the JSON of a
// protobuf message nests as the message does, enums are strings, int64 is a JSON number, and an
// unset optional field is absent. Only the fields Flotilla fills are listed; readers must ignore
// fields they do not know, as protobuf JSON readers do.
import type { TaskState } from './task-states.ts';

export interface IdValue {
  readonly value: string;
}

/** Nanoseconds since the epoch (TimeInfo) or a length of time (DurationInfo). */
export interface Nanoseconds {
  readonly nanoseconds: number;
}

export interface Address {
  readonly hostname?: string;
  readonly ip?: string;
  readonly port: number;
}

export interface Url {
  readonly scheme: string;
  readonly address: Address;
  readonly path?: string;
}

export interface Scalar {
  readonly value: number;
}

export interface ValueRange {
  readonly begin: number;
  readonly end: number;
}

export type ValueType = 'SCALAR' | 'RANGES' | 'SET' | 'TEXT';

export interface ReservationInfo {
  readonly type?: 'STATIC' | 'DYNAMIC';
  readonly role?: string;
  readonly principal?: string;
}

/**
 * Resource in the "endpoint" format Mesos' HTTP endpoints use: the reservation stack in
 * `reservations` (post-reservation-refinement), with the deprecated `role` filled in as well
 * so pre-refinement readers see the same reservation.
 */
/** DiskInfo of a persistent volume (the only kind of disk Flotilla has). */
export interface DiskInfo {
  readonly persistence: { readonly id: string; readonly principal?: string };
  readonly volume: { readonly container_path: string; readonly mode: 'RW' | 'RO' };
}

export interface Resource {
  readonly name: string;
  readonly type: 'SCALAR' | 'RANGES' | 'SET';
  readonly scalar?: Scalar;
  readonly ranges?: { readonly range: readonly ValueRange[] };
  readonly set?: { readonly item: readonly string[] };
  readonly role?: string;
  readonly reservations?: readonly ReservationInfo[];
  readonly allocation_info?: { readonly role: string };
  readonly disk?: DiskInfo;
}

export interface Attribute {
  readonly name: string;
  readonly type: ValueType;
  readonly scalar?: Scalar;
  readonly text?: { readonly value: string };
}

export interface Labels {
  readonly labels: readonly { readonly key: string; readonly value?: string }[];
}

export interface DomainInfo {
  readonly fault_domain: { readonly region: { readonly name: string }; readonly zone: { readonly name: string } };
}

export interface MachineId {
  readonly hostname?: string;
  readonly ip?: string;
}

export interface AgentInfo {
  readonly hostname: string;
  readonly port: number;
  readonly resources: readonly Resource[];
  readonly attributes: readonly Attribute[];
  readonly id: IdValue;
  readonly domain?: DomainInfo;
}

export type FrameworkCapabilityType = string;

export interface FrameworkInfo {
  readonly user: string;
  readonly name: string;
  readonly id: IdValue;
  /** Seconds. */
  readonly failover_timeout: number;
  readonly checkpoint: boolean;
  /** Deprecated in Mesos for `roles`; set too for a single-role framework without MULTI_ROLE. */
  readonly role?: string;
  readonly roles: readonly string[];
  readonly hostname?: string;
  readonly principal?: string;
  readonly webui_url?: string;
  readonly capabilities: readonly { readonly type: FrameworkCapabilityType }[];
}

export type { TaskState } from './task-states.ts';

export interface TaskStatus {
  readonly task_id: IdValue;
  readonly executor_id?: IdValue;
  readonly state: TaskState;
  readonly message?: string;
  readonly source?: 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';
  readonly reason?: string;
  readonly agent_id?: IdValue;
  /** Seconds since the epoch, as a double. */
  readonly timestamp?: number;
  /** Base64 of 16 bytes. */
  readonly uuid?: string;
  readonly healthy?: boolean;
  /** Base64: what the executor attached. */
  readonly data?: string;
}

export interface CommandInfo {
  readonly value: string;
  readonly shell: boolean;
  readonly arguments?: readonly string[];
  readonly environment?: {
    readonly variables: readonly { readonly name: string; readonly type: 'VALUE'; readonly value: string }[];
  };
  readonly user?: string;
  readonly uris?: readonly CommandInfoUri[];
}

/** mesos.proto CommandInfo.URI: unset booleans take Mesos' defaults (executable false, extract true, cache false). */
export interface CommandInfoUri {
  readonly value: string;
  readonly executable?: boolean;
  readonly extract?: boolean;
  readonly cache?: boolean;
  readonly output_file?: string;
}

export interface ContainerInfo {
  readonly type: 'DOCKER' | 'MESOS';
  readonly docker?: {
    readonly image: string;
    readonly network: 'HOST' | 'BRIDGE' | 'NONE';
    readonly force_pull_image: boolean;
    readonly port_mappings?: readonly {
      readonly host_port: number;
      readonly container_port: number;
      readonly protocol: string;
    }[];
    readonly privileged?: boolean;
    readonly parameters?: readonly { readonly key: string; readonly value: string }[];
  };
  readonly volumes?: readonly {
    readonly container_path: string;
    readonly host_path: string;
    readonly mode: 'RW' | 'RO';
  }[];
  readonly hostname?: string;
  readonly mesos?: {
    readonly image: { readonly type: 'DOCKER'; readonly docker: { readonly name: string }; readonly cached: boolean };
  };
}

/** mesos.proto ExecutorInfo: a framework's executor (CUSTOM) or a task group's (DEFAULT). */
export interface ExecutorInfo {
  readonly type: 'CUSTOM' | 'DEFAULT';
  readonly executor_id: IdValue;
  readonly framework_id: IdValue;
  readonly command?: CommandInfo;
  readonly resources: readonly Resource[];
  readonly name?: string;
  readonly shutdown_grace_period?: Nanoseconds;
  readonly labels?: Labels;
}

export interface HealthCheck {
  readonly type: 'COMMAND' | 'HTTP' | 'TCP';
  readonly delay_seconds: number;
  readonly interval_seconds: number;
  readonly timeout_seconds: number;
  readonly consecutive_failures: number;
  readonly grace_period_seconds: number;
  readonly command?: { readonly value: string; readonly shell: boolean };
  readonly http?: { readonly port: number; readonly path?: string };
  readonly tcp?: { readonly port: number };
}

/** Mesos ResourceStatistics (the fields Flotilla fills), as /monitor/statistics reports them. */
export interface ResourceStatistics {
  /** Seconds since the epoch, as a double. */
  readonly timestamp: number;
  readonly cpus_user_time_secs: number;
  readonly cpus_system_time_secs: number;
  readonly cpus_limit?: number;
  readonly mem_rss_bytes: number;
  readonly mem_limit_bytes?: number;
}

export interface Task {
  readonly name: string;
  readonly task_id: IdValue;
  readonly framework_id: IdValue;
  /** Set when the task runs on a framework's executor or a task group's. */
  readonly executor_id?: IdValue;
  readonly agent_id: IdValue;
  readonly state: TaskState;
  readonly resources: readonly Resource[];
  readonly statuses: readonly TaskStatus[];
  readonly status_update_state?: TaskState;
  readonly status_update_uuid?: string;
  readonly labels?: Labels;
  readonly container?: ContainerInfo;
  readonly health_check?: HealthCheck;
  readonly kill_policy?: { readonly grace_period: Nanoseconds };
  readonly user?: string;
  /** Flotilla's addition (unknown to Mesos readers, who ignore it): the usage its agent last reported, on the leader. */
  readonly statistics?: ResourceStatistics;
}

export interface Offer {
  readonly id: IdValue;
  readonly framework_id: IdValue;
  readonly agent_id: IdValue;
  readonly hostname: string;
  readonly url: Url;
  readonly domain?: DomainInfo;
  readonly resources: readonly Resource[];
  readonly attributes: readonly Attribute[];
  readonly allocation_info: { readonly role: string };
  /** Set when the agent's machine is scheduled for maintenance (maintenance.md "Draining mode"). */
  readonly unavailability?: Unavailability;
}

// ---- scheduler API additions (mesos.proto MasterInfo, InverseOffer, Filters, Unavailability)

/** MasterInfo: `ip` is the IPv4 address packed in network byte order, as Mesos fills it. */
export interface MasterInfo {
  readonly id: string;
  readonly ip: number;
  readonly port: number;
  readonly pid: string;
  readonly hostname: string;
  readonly version: string;
  readonly address: Address;
  readonly domain?: DomainInfo;
}

export interface Unavailability {
  readonly start: Nanoseconds;
  readonly duration?: Nanoseconds;
}

export interface InverseOffer {
  readonly id: IdValue;
  readonly url?: Url;
  readonly framework_id: IdValue;
  readonly agent_id?: IdValue;
  readonly unavailability: Unavailability;
}

/** TaskStatus as a scheduler UPDATE carries it: also the executor, when the task has one. */
export interface SchedulerTaskStatus extends TaskStatus {
  readonly executor_id?: IdValue;
}
