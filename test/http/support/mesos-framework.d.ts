// Types for the parts of the third-party `mesos-framework` package (tobilg, 0.5.x, plain
// CommonJS without typings) that the compatibility test drives: its Scheduler as documented in
// its README, and the protobuf.js builders it exports for CommandInfo.
declare module 'mesos-framework' {
  import type { EventEmitter } from 'node:events';
  import type { ClientRequest } from 'node:http';

  interface IdValue {
    value: string;
  }

  export interface MesosTaskStatus {
    task_id: IdValue;
    state: string;
    agent_id?: IdValue;
    executor_id?: { value?: string };
    source?: string;
    reason?: string;
    message?: string;
    uuid?: string;
    healthy?: boolean;
    timestamp?: number;
  }

  export interface TaskResources {
    cpus: number;
    mem: number;
    disk: number;
    ports: number;
    staticPorts?: number[];
  }

  export interface TaskOptions {
    instances?: number;
    priority?: number;
    commandInfo: object;
    resources: TaskResources;
    healthCheck?: { http?: { path: string; port?: number } };
  }

  /** A task as the scheduler tracks it once launched. */
  export interface TrackedTask {
    name: string;
    taskId: string;
    runtimeInfo: { agentId: string; executorId?: string; state: string };
  }

  export interface SchedulerOptions {
    masterUrl: string;
    port: number;
    frameworkName?: string;
    /** FrameworkInfo.user; the package's default is "root". */
    user?: string;
    useZk?: boolean;
    restartStates?: string[];
    masterConnectionTimeout?: number;
    exponentialBackoffMinimum?: number;
    logging?: { path?: string; fileName?: string; level?: string };
    tasks?: Record<string, TaskOptions>;
    handlers?: Record<string, (argument: unknown) => void>;
  }

  /** The library's log (winston): it calls only these, each with one message. */
  export interface LibraryLogger {
    debug(message: unknown): void;
    info(message: unknown): void;
    error(message: unknown): void;
  }

  export class Scheduler extends EventEmitter {
    constructor(options: SchedulerOptions);
    logger: LibraryLogger;
    options: { masterUrl: string; port: number | string; frameworkName: string };
    frameworkId: string | null;
    mesosStreamId: string | null;
    httpRequest: ClientRequest;
    launchedTasks: TrackedTask[];
    pendingTasks: unknown[];
    subscribe(): void;
    reconcile(taskId?: string, agentId?: string): void;
    kill(taskId: string, agentId: string): void;
    shutdown(agentId: string, executorId: string): void;
    teardown(): void;
  }

  interface ProtobufBuilders {
    /** CommandInfo(uris, environment, shell, value, arguments, user), as in the package's README. */
    CommandInfo: new (
      uris: null,
      environment: null,
      shell: boolean,
      value: string,
      argumentList: null,
      user: null,
    ) => object;
  }

  export const Mesos: { getMesos(): ProtobufBuilders };

  /** The package's executor: MESOS_* from the environment, handlers by event type (one argument each). */
  export interface ExecutorOptions {
    handlers?: Record<string, (argument: unknown) => void>;
  }

  export class Executor extends EventEmitter {
    constructor(options: ExecutorOptions);
    subscribe(): void;
    update(taskStatus: object): void;
    message(data: string): void;
  }
}
