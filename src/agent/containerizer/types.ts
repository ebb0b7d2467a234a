// What the agent asks of a containerizer (process or docker), and what it gets back. The agent
// owns the task lifecycle and the checkpoint; a containerizer only starts, watches, stops and
// finds again the thing that runs a task. Everything in a `ContainerHandle` is checkpointed, so
// a restarted agent can hand it back to `recover`.
import type { WirePortMapping, WireUsage, WireVolume } from '../../protocol/agent.ts';
import type { TaskUser } from '../task-user.ts';

export type ContainerizerKind = 'process' | 'docker';

export interface ContainerCommand {
  readonly value: string;
  /** true: `value` runs through /bin/sh -c; false: `value` is the program and `arguments` its whole argv, argv[0] first (Mesos). */
  readonly shell: boolean;
  readonly arguments: readonly string[];
}

/** A persistent volume of the task: its data folder on the host, and where the task sees it. */
export interface PersistentMount {
  readonly hostPath: string;
  /** Relative to the sandbox. */
  readonly containerPath: string;
  readonly mode: 'RW' | 'RO';
}

export interface ContainerSpec {
  /** Docker containers are labelled with agent, framework and task ids. */
  readonly agentId: string;
  readonly frameworkId: string;
  readonly taskId: string;
  /** Absolute, created by the agent before launch; `stdout` and `stderr` are written in it. */
  readonly sandbox: string;
  /** null: the image's default command (docker only). */
  readonly command: ContainerCommand | null;
  /** docker only: the image, as the engine names it. */
  readonly image: string | null;
  /** docker only: pull the image even when the engine has it (Mesos force_pull_image). */
  readonly forcePullImage: boolean;
  readonly network: 'HOST' | 'BRIDGE' | 'NONE';
  /** docker only (BRIDGE): host ports, all among the task's port resources. */
  readonly portMappings: readonly WirePortMapping[];
  /** docker only: host paths (absolute, allow-listed by the agent) or sandbox-relative ones. */
  readonly volumes: readonly WireVolume[];
  /** The task's persistent volumes (persistent-volumes.ts): bound by Docker, linked for a process task. */
  readonly persistentVolumes: readonly PersistentMount[];
  readonly privileged: boolean;
  /** docker only: `docker run --key=value` options, read by src/protocol/docker-parameters.ts. */
  readonly parameters: readonly { readonly key: string; readonly value: string }[];
  readonly hostname: string | null;
  /** The user the task runs as; null: the agent's own. Set by the agent once it resolved it. */
  readonly user: TaskUser | null;
  /** The whole environment of the task (the agent adds MESOS_SANDBOX, PORT0…, the task's own). */
  readonly environment: Readonly<Record<string, string>>;
  /** Limits from the task's resources; null: unlimited. */
  readonly cpus: number | null;
  readonly memMb: number | null;
}

/** Checkpointed: enough to find the container again after an agent restart. */
export interface ContainerHandle {
  readonly kind: ContainerizerKind;
  /** process: the pid of the process group leader. */
  readonly pid: number | null;
  /** process: the start time of `pid` (field 22 of /proc/<pid>/stat), so a reused pid is not mistaken for it. */
  readonly startTime: string | null;
  /** docker: the container id. */
  readonly containerId: string | null;
  /** The user the task runs as (its check commands too); null: the agent's own. */
  readonly user: TaskUser | null;
}

export type ContainerExit =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signalled'; readonly signal: string }
  /** The kernel or engine killed it for exceeding its memory limit. */
  | { readonly kind: 'oom'; readonly message: string }
  /** It is gone and how it ended cannot be known (e.g. it ended while the agent was down). */
  | { readonly kind: 'vanished'; readonly message: string };

/** One sample, as it travels to the master (cpuPercent: of one core over the last sample, as pidusage reports it). */
export type ContainerUsage = WireUsage;

export interface RunningContainer {
  readonly handle: ContainerHandle;
  /** Settles once, when the container has ended. Never rejects. */
  readonly exited: Promise<ContainerExit>;
  /** SIGTERM, then SIGKILL after `gracePeriodMs` if still running; resolves when it has ended. */
  kill(gracePeriodMs: number): Promise<ContainerExit>;
  /** null once ended or when the numbers cannot be read. */
  usage(): Promise<ContainerUsage | null>;
  /** Runs a health-check command where the task runs (its sandbox, or inside its container); the exit code. */
  runCheckCommand(command: string, timeoutMs: number): Promise<number>;
  /**
   * docker only: new limits for a running container (an executor's, as its tasks come and go);
   * rejects when the engine refuses them. The process containerizer does not resize its cgroups.
   */
  resize?(cpus: number | null, memMb: number | null): Promise<void>;
}

/** Thrown by `launch` when the task cannot start at all (missing image, bad command…). */
export class ContainerLaunchError extends Error {
  override name = 'ContainerLaunchError';
}

/** What a launch tells while it prepares (an image pull), for TASK_STARTING messages. */
export type LaunchProgress = (message: string) => void;

export interface Containerizer {
  readonly kind: ContainerizerKind;
  /** Starts the task; rejects with ContainerLaunchError (the message says why) if it cannot. */
  launch(spec: ContainerSpec, progress?: LaunchProgress): Promise<RunningContainer>;
  /**
   * Re-attaches to a checkpointed container; null if it is no longer there and how it ended
   * cannot be known. One that ended while the agent was away but whose outcome is still known
   * (the process wrapper's exit status file, a stopped Docker container) is returned with
   * `exited` already settling, so the agent reports the real terminal state.
   */
  recover(handle: ContainerHandle, spec: ContainerSpec): Promise<RunningContainer | null>;
  /** Removes containers this agent made whose task is not in `knownTasks` (keys `framework/task`); their ids. */
  removeOrphans(agentId: string, knownTasks: ReadonlySet<string>): Promise<readonly string[]>;
  /**
   * docker only: the host's address on the engine's "bridge" network (its gateway), where a
   * bridged container reaches a service of the host that listens on every address.
   */
  bridgeGateway?(): Promise<string>;
}
