// Value types shared by commands and state: what an agent or framework says about itself, what
// a task is, maintenance windows, quota. Absent values are `null`, never `undefined`, so a value
// serialises the same way before and after a snapshot round trip.
import type { CommandUri } from '../protocol/command-uris.ts';
import type { ExecutorId, TaskId } from './ids.ts';
import type { Resources } from './resources.ts';
import type { Role } from './roles.ts';
import type { TaskReason, TaskSource, TaskState } from '../protocol/task-states.ts';

export interface AgentAddress {
  readonly ip: string;
  readonly port: number;
}

export interface AgentInfo {
  readonly hostname: string;
  readonly address: AgentAddress;
  readonly zone: string | null;
  /** Total resources, including reservations (the agent checkpoints dynamic ones, as in Mesos). */
  readonly resources: Resources;
  readonly attributes: Readonly<Record<string, string>>;
}

export const frameworkCapabilities = [
  'MULTI_ROLE',
  'PARTITION_AWARE',
  'GPU_RESOURCES',
  'TASK_KILLING_STATE',
  'RESERVATION_REFINEMENT',
  'REGION_AWARE',
  'REVOCABLE_RESOURCES',
  'SHARED_RESOURCES',
] as const;
export type FrameworkCapability = (typeof frameworkCapabilities)[number];

export interface FrameworkInfo {
  readonly name: string;
  /** The authenticated principal; a framework cannot change it by resubscribing. */
  readonly principal: string | null;
  /** Sorted, unique, at least one. */
  readonly roles: readonly Role[];
  readonly failoverTimeoutMs: number;
  /** Sorted, unique. */
  readonly capabilities: readonly FrameworkCapability[];
  readonly hostname: string | null;
  readonly webuiUrl: string | null;
  /** Mesos FrameworkInfo.user: the Unix user its tasks run as when their command names none; null: not given. */
  readonly user: string | null;
}

export interface TaskCommand {
  readonly value: string;
  /** true: `value` runs through /bin/sh -c; false: `value` is the program and `arguments` its whole argv, argv[0] first (Mesos). */
  readonly shell: boolean;
  readonly arguments: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  readonly user: string | null;
  /** CommandInfo.uris the agent fetches into the sandbox first; absent when there are none (older entries too). */
  readonly uris?: readonly CommandUri[];
}

/** Mesos DockerInfo.PortMapping: a host port (one of the task's port resources) → a container port. */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp';
}

/** Mesos Volume with a host_path: absolute (checked against the agent's allow-list) or relative to the sandbox. */
export interface ContainerVolume {
  /** Absolute, or relative to the sandbox inside the container. */
  readonly containerPath: string;
  readonly hostPath: string;
  readonly mode: 'RW' | 'RO';
}

/** Mesos DockerInfo.Parameter: `--key=value` for `docker run`, in the order given. */
export interface DockerParameter {
  readonly key: string;
  readonly value: string;
}

export interface TaskContainer {
  readonly type: 'DOCKER' | 'MESOS';
  readonly image: string | null;
  readonly network: 'HOST' | 'BRIDGE' | 'NONE';
  readonly forcePullImage: boolean;
  /** DOCKER with BRIDGE network only. */
  readonly portMappings: readonly PortMapping[];
  /** DOCKER only. */
  readonly volumes: readonly ContainerVolume[];
  readonly privileged: boolean;
  readonly parameters: readonly DockerParameter[];
  /** ContainerInfo.hostname; DOCKER with a network other than HOST only. */
  readonly hostname: string | null;
}

export interface HealthCheck {
  readonly type: 'COMMAND' | 'HTTP' | 'TCP';
  /** COMMAND only. */
  readonly command: string | null;
  /** HTTP and TCP only. */
  readonly port: number | null;
  /** HTTP only. */
  readonly path: string | null;
  readonly delayMs: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly consecutiveFailures: number;
  /** Failures within this long after the task starts do not count (Mesos grace_period_seconds). */
  readonly gracePeriodMs: number;
}

/**
 * Mesos ExecutorInfo: the framework's own executor program (CUSTOM: the agent starts `command`
 * once per framework, executor id and agent, and hands it every task naming it), or Flotilla's
 * task-group executor (DEFAULT, LAUNCH_GROUP only: no command, it runs on the agent itself).
 */
export interface ExecutorDefinition {
  readonly id: ExecutorId;
  readonly type: 'CUSTOM' | 'DEFAULT';
  readonly name: string | null;
  /** CUSTOM: required; DEFAULT: null. */
  readonly command: TaskCommand | null;
  /** The executor's own resources, held on its agent on top of its tasks' while it lives (may be empty). */
  readonly resources: Resources;
  /** ExecutorInfo.shutdown_grace_period: SHUTDOWN, then this long before the agent kills it; null: the agent's. */
  readonly shutdownGracePeriodMs: number | null;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * ExecutorInfo.container: CUSTOM only; a DOCKER container (or a MESOS one with an image) runs
   * the executor in that image, its sandbox mounted; null or a MESOS container without an image:
   * a process on the agent.
   */
  readonly container: TaskContainer | null;
}

/** What a framework asks to launch (a LAUNCH operation's TaskInfo). */
export interface TaskDefinition {
  readonly id: TaskId;
  readonly name: string;
  readonly resources: Resources;
  readonly command: TaskCommand | null;
  readonly container: TaskContainer | null;
  readonly healthCheck: HealthCheck | null;
  /** SIGTERM, then SIGKILL after this grace period; null: the agent's default. */
  readonly killGracePeriodMs: number | null;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The executor the task runs on (TaskInfo.executor); null: Flotilla's command executor, named
   * after the task. In a LAUNCH_GROUP the operation names the executor and its tasks name none.
   */
  readonly executor: ExecutorDefinition | null;
  /** TaskInfo.data, base64, for a framework's executor to read; null: none. */
  readonly data: string | null;
}

/** A status update as the agent or executor reported it (Mesos TaskStatus). */
export interface StatusReport {
  readonly state: TaskState;
  readonly reason: TaskReason | null;
  readonly message: string | null;
  readonly source: TaskSource;
  /** Base64 of 16 bytes; null for updates that need no acknowledgement (made by the master). */
  readonly uuid: string | null;
  /** When the update was generated, ms since the epoch (Mesos sends seconds as a double). */
  readonly timestampMs: number;
  readonly healthy: boolean | null;
  /** TaskStatus.data from the executor, base64; null: none. */
  readonly data: string | null;
}

/** Mesos MachineID: at least one of the two is non-empty; "" means "not given". */
export interface MachineId {
  readonly hostname: string;
  readonly ip: string;
}

export interface MaintenanceWindow {
  /** Sorted by (hostname, ip), unique. */
  readonly machines: readonly MachineId[];
  readonly startMs: number;
  readonly durationMs: number;
}

/** Resource name → amount (Mesos Quota's ResourceQuantities). */
export type ResourceQuantities = Readonly<Record<string, number>>;

export interface QuotaConfig {
  readonly role: Role;
  readonly guarantees: ResourceQuantities;
  readonly limits: ResourceQuantities;
}

export interface RoleWeight {
  readonly role: Role;
  readonly weight: number;
}
