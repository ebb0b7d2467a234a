// One task's life on the agent, from launch (or re-attachment after an agent restart) to its
// terminal status: TASK_STARTING, launch through the containerizer, TASK_RUNNING, health checks,
// and the terminal state from how the container ended. Kill: TASK_KILLING, SIGTERM, the grace
// period, SIGKILL, TASK_KILLED. Every status goes through the status update manager.
import { mkdirSync } from 'node:fs';
import type { Logger } from '../util/logger.ts';
import type { WireHealthCheck, WireTaskSpec } from '../protocol/agent.ts';
import type { Checkpoint } from './checkpoint.ts';
import {
  ContainerLaunchError,
  type ContainerExit,
  type Containerizer,
  type ContainerizerKind,
  type ContainerSpec,
  type RunningContainer,
} from './containerizer/types.ts';
import { FetchError, fetchUris } from './fetcher.ts';
import { prepareVolumes } from './persistent-volumes.ts';
import { prepareSandbox } from './sandbox-owner.ts';
import type { StatusFields } from './status-updates.ts';
import { containerizerFor, hostSideHealthCheck } from './task-environment.ts';
import {
  lookupUser,
  resolveContainerUser,
  TaskUserError,
  type TaskUser,
  type UserLookup,
  type UserPolicy,
} from './task-user.ts';

/** A running health check; the daemon builds it from the health module. */
export interface HealthWatch {
  stop(): void;
}

export interface HealthCallbacks {
  /** The health changed (first result, or flipped): report it in a status update. */
  readonly onHealthChange: (healthy: boolean) => void;
  /** consecutiveFailures reached after the grace period: the task must be killed. */
  readonly onUnhealthy: (message: string) => void;
}

export type StartHealthCheck = (
  check: WireHealthCheck,
  container: RunningContainer,
  callbacks: HealthCallbacks,
) => HealthWatch;

/**
 * Where a run's status updates go: its executor's, through the executor API's UPDATE path
 * (SOURCE_EXECUTOR); the agent's own (SOURCE_AGENT: the container could not start, or is gone)
 * straight to the status update manager, as Mesos' agent sends its own.
 */
export type StatusReporter = (frameworkId: string, taskId: string, fields: StatusFields) => void;

export interface TaskRunContext {
  readonly checkpoint: Checkpoint;
  readonly report: StatusReporter;
  readonly containerizers: ReadonlyMap<ContainerizerKind, Containerizer>;
  readonly startHealthCheck: StartHealthCheck;
  readonly defaultKillGracePeriodMs: number;
  /** Who tasks may run as (--switch-user, --no-root-tasks). */
  readonly userPolicy: UserPolicy;
  /** How a user name becomes a uid (getent; tests may give their own). */
  readonly lookupUser?: UserLookup;
  /** At most one TASK_STARTING progress message (an image pull) per this many ms. */
  readonly progressIntervalMs: number;
  readonly logger: Logger;
  /** Called once the task reached a terminal state, with that state. */
  readonly onEnded: (run: TaskRun, state: string) => void;
}

type KillCause =
  /** `gracePeriodMs`: Event.Kill.kill_policy, over the task's own (a drain's cap); null: the task's. */
  | { readonly kind: 'request'; readonly message: string; readonly gracePeriodMs?: number | null }
  | { readonly kind: 'health'; readonly message: string };

export class TaskRun {
  container: RunningContainer | null = null;
  #killCause: KillCause | null = null;
  #killing = false;
  /** The grace period of the kill under way, once killing. */
  #killGracePeriodMs: number | null = null;
  #ended = false;
  #healthy: boolean | null = null;
  #health: HealthWatch | null = null;

  #containerSpec: ContainerSpec;

  constructor(
    readonly frameworkId: string,
    readonly spec: WireTaskSpec,
    readonly sandbox: string,
    containerSpec: ContainerSpec,
    private readonly context: TaskRunContext,
  ) {
    this.#containerSpec = containerSpec;
  }

  get containerSpec(): ContainerSpec {
    return this.#containerSpec;
  }

  /** Recovery: the user the task was launched as, from its checkpointed handle. */
  setUser(user: TaskUser | null): void {
    this.#containerSpec = { ...this.#containerSpec, user };
  }

  get taskId(): string {
    return this.spec.id;
  }

  get key(): string {
    return `${this.frameworkId}/${this.spec.id}`;
  }

  #report(fields: Partial<StatusFields> & Pick<StatusFields, 'state'>): void {
    this.context.report(this.frameworkId, this.spec.id, {
      reason: null,
      message: null,
      source: 'SOURCE_EXECUTOR',
      healthy: this.#healthy,
      data: null,
      ...fields,
    });
  }

  /** A new task: sandbox, TASK_STARTING, its user, launch, TASK_RUNNING, then watch it. */
  async launch(): Promise<void> {
    mkdirSync(this.sandbox, { recursive: true });
    this.#report({ state: 'TASK_STARTING' });
    const kind = containerizerFor(this.spec);
    const containerizer = this.context.containerizers.get(kind);
    if (containerizer === undefined) {
      const enabled = [...this.context.containerizers.keys()].join(',');
      return this.#failLaunch(`the ${kind} containerizer is not enabled on this agent (--containerizers ${enabled})`);
    }
    if (this.#killCause !== null) {
      return this.#end({
        state: 'TASK_KILLED',
        reason: 'REASON_TASK_KILLED_DURING_LAUNCH',
        source: 'SOURCE_AGENT',
        message: 'killed before it was launched',
      });
    }
    try {
      const user = await this.#resolveUser();
      prepareSandbox(this.sandbox, user);
      this.setUser(user);
      // Before the volumes: a fetched archive must not unpack into a persistent volume.
      await fetchUris(this.spec.command?.uris ?? [], {
        sandbox: this.sandbox,
        user,
        logger: this.context.logger,
        containerName: this.spec.id,
        logFields: { framework: this.frameworkId, task: this.spec.id },
      });
      prepareVolumes(this.sandbox, this.#containerSpec.persistentVolumes, user, kind === 'process');
    } catch (error) {
      if (error instanceof TaskUserError || error instanceof ContainerLaunchError || error instanceof FetchError)
        return this.#failLaunch(error.message);
      throw error;
    }
    let container: RunningContainer;
    try {
      container = await containerizer.launch(this.#containerSpec, this.#progressReporter());
    } catch (error) {
      const message =
        error instanceof ContainerLaunchError ? error.message : `launch failed: ${(error as Error).message}`;
      return this.#failLaunch(message);
    }
    this.context.checkpoint.setHandle(this.frameworkId, this.spec.id, container.handle);
    this.#report({ state: 'TASK_RUNNING' });
    this.attach(container);
  }

  #failLaunch(message: string): void {
    this.#end({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', source: 'SOURCE_AGENT', message });
  }

  /** The task's user under the agent's policy; a Docker `user` parameter is checked against it too. */
  async #resolveUser(): Promise<TaskUser | null> {
    const parameters = this.spec.container?.parameters ?? [];
    return resolveContainerUser(
      this.spec.user,
      parameters,
      this.context.userPolicy,
      this.context.lookupUser ?? lookupUser,
    );
  }

  /** TASK_STARTING with the launch's progress, at most once per progressIntervalMs (each update is replicated). */
  #progressReporter(): (message: string) => void {
    let lastAtMs = Number.NEGATIVE_INFINITY;
    return (message) => {
      const now = Date.now();
      if (this.#ended || now - lastAtMs < this.context.progressIntervalMs) return;
      lastAtMs = now;
      this.#report({ state: 'TASK_STARTING', message });
    };
  }

  /** Watches a launched or recovered container until it ends; resumes a kill that was under way. */
  attach(container: RunningContainer, killRequested = false): void {
    this.container = container;
    void container.exited.then((exit) => this.#onExit(exit));
    const check = hostSideHealthCheck(this.spec);
    if (check !== null) {
      this.#health = this.context.startHealthCheck(check, container, {
        onHealthChange: (healthy) => {
          if (this.#ended || this.#killing) return;
          this.#healthy = healthy;
          this.#report({ state: 'TASK_RUNNING', reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' });
        },
        onUnhealthy: (message) => {
          this.#healthy = false;
          void this.kill({ kind: 'health', message });
        },
      });
    }
    if (killRequested || this.#killCause !== null)
      void this.kill(this.#killCause ?? { kind: 'request', message: 'kill resumed after an agent restart' });
  }

  async kill(cause: KillCause): Promise<void> {
    if (this.#ended) return;
    this.#killCause ??= cause;
    this.context.checkpoint.setKillRequested(this.frameworkId, this.spec.id);
    const container = this.container;
    if (container === null) return;
    const override = cause.kind === 'request' ? (cause.gracePeriodMs ?? null) : null;
    const gracePeriodMs = override ?? this.spec.killGracePeriodMs ?? this.context.defaultKillGracePeriodMs;
    if (this.#killing) {
      // A drain's cap over a kill already under way with a longer grace (the framework's): the
      // container is told again, with the shorter one, so the drain ends within its cap.
      if (this.#killGracePeriodMs !== null && gracePeriodMs < this.#killGracePeriodMs) {
        this.#killGracePeriodMs = gracePeriodMs;
        void container.kill(gracePeriodMs);
      }
      return;
    }
    this.#killing = true;
    this.#killGracePeriodMs = gracePeriodMs;
    this.#health?.stop();
    this.#report({ state: 'TASK_KILLING', message: cause.message });
    await container.kill(gracePeriodMs);
  }

  #onExit(exit: ContainerExit): void {
    if (this.#ended) return;
    const cause = this.#killCause;
    if (cause !== null && exit.kind !== 'oom') {
      const health = cause.kind === 'health';
      this.#end({
        state: 'TASK_KILLED',
        reason: health ? 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' : null,
        message: health ? `killed: ${cause.message}` : `${cause.message} (${describeExit(exit)})`,
      });
      return;
    }
    switch (exit.kind) {
      case 'exited':
        this.#end(
          exit.code === 0
            ? { state: 'TASK_FINISHED', message: 'Command exited with status 0' }
            : { state: 'TASK_FAILED', message: `Command exited with status ${exit.code}` },
        );
        return;
      case 'signalled':
        this.#end({ state: 'TASK_FAILED', message: `Command terminated by signal ${exit.signal}` });
        return;
      case 'oom':
        this.#end({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: exit.message });
        return;
      case 'vanished':
        this.#end({
          state: 'TASK_FAILED',
          reason: 'REASON_EXECUTOR_TERMINATED',
          source: 'SOURCE_AGENT',
          message: exit.message,
        });
        return;
    }
  }

  #end(fields: Partial<StatusFields> & Pick<StatusFields, 'state'>): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#health?.stop();
    this.#report(fields);
    this.context.onEnded(this, fields.state);
  }

  /** Recovery re-attached a task whose TASK_RUNNING was never recorded (the agent died in between). */
  reportRunning(): void {
    this.#report({ state: 'TASK_RUNNING' });
  }

  /** Recovery found nothing to re-attach to. */
  endAsVanished(message: string): void {
    this.#end({ state: 'TASK_FAILED', reason: 'REASON_EXECUTOR_TERMINATED', source: 'SOURCE_AGENT', message });
  }
}

function describeExit(exit: ContainerExit): string {
  switch (exit.kind) {
    case 'exited':
      return `exit status ${exit.code}`;
    case 'signalled':
      return `signal ${exit.signal}`;
    case 'oom':
      return exit.message;
    case 'vanished':
      return exit.message;
  }
}
