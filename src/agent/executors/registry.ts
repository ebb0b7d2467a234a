// The agent's executors: every executor session, and the one place executor calls are handled,
// whoever makes them — a framework's executor over HTTP (POST /api/v1/executor), or the agent's
// built-in command and default executors in-process, through the very same handlers. The
// master's launches, kills, SHUTDOWNs and framework messages become executor events here.
import { isTerminalTaskState } from '../../protocol/task-states.ts';
import type { WireExecutorInfo, WireExecutorRef, WireFrameworkInfo, WireTaskSpec } from '../../protocol/agent.ts';
import type { ExecutorCall, ExecutorEvent } from '../../protocol/executor.ts';
import { AgentHttpError } from '../errors.ts';
import { sandboxPath } from '../task-environment.ts';
import { type BuiltinExecutor, startBuiltinExecutor } from './builtin-executor.ts';
import { handleMessage, handleSubscribe, handleUpdate } from './calls.ts';
import { launchCustomExecutor, shutdownExecutor } from './custom-executor.ts';
import type { ExecutorStream } from './event-stream.ts';
import { resizeExecutor } from './executor-container.ts';
import { endExecutor, reportExitedExecutors } from './exits.ts';
import type { ExecutorHost } from './host.ts';
import { executorInfoJson, taskInfoJson } from './mesos-json.ts';
import { newExecutorToken } from './tokens.ts';
import { ExecutorSession, type ExecutorSessionKind } from './session.ts';

export interface ExecutorView {
  readonly frameworkId: string;
  readonly executorId: string;
  readonly kind: ExecutorSessionKind;
  readonly state: string;
  readonly sandbox: string;
  readonly subscriptions: number;
  readonly pid: number | null;
}

export class ExecutorRegistry {
  /** Frameworks' and task groups' executors, by "framework/executor". */
  readonly sessions = new Map<string, ExecutorSession>();
  /** Command executors of plain tasks, by "framework/task": a task id may equal a framework's executor id. */
  readonly commandSessions = new Map<string, ExecutorSession>();
  #heartbeats: NodeJS.Timeout | null = null;
  /** Some ended executor may not have been reported to the master yet (exits.ts). */
  unreportedExits = true;
  /** The built-in executor of each command or default executor session. */
  readonly builtins = new WeakMap<ExecutorSession, BuiltinExecutor>();

  constructor(readonly host: ExecutorHost) {}

  start(): void {
    this.#heartbeats = setInterval(() => this.#heartbeat(), this.host.settings.heartbeatIntervalMs);
    this.#heartbeats.unref();
  }

  /** The agent stops: executors keep running (a restarted agent recovers them); timers and streams go. */
  stop(): void {
    if (this.#heartbeats !== null) clearInterval(this.#heartbeats);
    for (const session of [...this.sessions.values(), ...this.commandSessions.values()]) {
      session.clearDeadline();
      session.stream?.end();
    }
  }

  // ---------------------------------------------------------------- from the master

  /** A task to run: on the command executor made for it, or on the framework's executor it names. */
  launchTask(
    frameworkId: string,
    spec: WireTaskSpec,
    executor: WireExecutorInfo | null,
    framework: WireFrameworkInfo | null,
  ): void {
    const checkpoint = this.host.checkpoint;
    if (executor === null) {
      const sandbox = sandboxPath(this.host.workDir, frameworkId, spec.id);
      checkpoint.addTask({ frameworkId, spec, sandbox });
      const session = new ExecutorSession(frameworkId, spec.id, 'command', null, null, sandbox, 'launching');
      this.commandSessions.set(session.key, session);
      session.send(this.#launchEvent(spec, null));
      // Queued until the executor subscribes: a KILL meanwhile drops it, as for any executor not yet up.
      checkpoint.afterCommit(() => startBuiltinExecutor(this, session));
      return;
    }
    if (framework === null) {
      this.#refuseLaunch(frameworkId, spec, 'the launch names no framework');
      return;
    }
    const session = this.#framworkExecutor(frameworkId, executor, framework, 'custom');
    checkpoint.addTask({ frameworkId, spec, sandbox: session.sandbox });
    if (!session.accepting) {
      this.#refuseLaunch(frameworkId, spec, `executor ${executor.id} is shutting down`);
      return;
    }
    session.clearDeadline('idle');
    resizeExecutor(this, session);
    const launch = this.#launchEvent(spec, executorInfoJson(frameworkId, executor));
    checkpoint.afterCommit(() => session.send(launch));
  }

  /** A task group, on its DEFAULT executor: its tasks go to it together, in one LAUNCH_GROUP. */
  launchGroup(
    frameworkId: string,
    executor: WireExecutorInfo,
    framework: WireFrameworkInfo,
    tasks: readonly WireTaskSpec[],
  ): void {
    const session = this.#framworkExecutor(frameworkId, executor, framework, 'default');
    const fresh = tasks.filter((spec) => !this.host.checkpoint.hasTask(frameworkId, spec.id));
    if (fresh.length === 0) return;
    for (const spec of fresh) {
      const sandbox = `${session.sandbox}/tasks/${spec.id}`;
      this.host.checkpoint.addTask({ frameworkId, spec, sandbox });
    }
    if (!session.accepting) {
      for (const spec of fresh) this.#refuseLaunch(frameworkId, spec, `executor ${executor.id} is shutting down`);
      return;
    }
    const agentId = this.host.agentId() ?? '';
    const launch = {
      type: 'LAUNCH_GROUP',
      launch_group: { task_group: { tasks: fresh.map((spec) => taskInfoJson(agentId, spec, null)) } },
    } as const;
    this.host.checkpoint.afterCommit(() => session.send(launch));
  }

  /** KILL: to the task's executor; a launch still queued for an executor not subscribed yet is dropped. */
  killTask(frameworkId: string, taskId: string, maxGracePeriodMs: number | null = null): boolean {
    const task = this.host.checkpoint.task(frameworkId, taskId);
    const session = task === null ? undefined : this.sessionOfTask(frameworkId, task.spec);
    if (task === null || session === undefined || isTerminalTaskState(task.state)) return false;
    this.host.checkpoint.setKillRequested(frameworkId, taskId);
    const queued = session.queued.findIndex(
      (event) => event.type === 'LAUNCH' && event.launch.task.task_id.value === taskId,
    );
    if (queued >= 0) {
      session.queued.splice(queued, 1);
      this.agentUpdate(frameworkId, taskId, {
        state: 'TASK_KILLED',
        reason: 'REASON_TASK_KILLED_DURING_LAUNCH',
        message: 'killed before its executor subscribed',
      });
      return true;
    }
    const gracePeriodMs = cappedGracePeriodMs(task.spec.killGracePeriodMs, maxGracePeriodMs);
    session.send({
      type: 'KILL',
      kill: {
        task_id: { value: taskId },
        ...(gracePeriodMs === null
          ? {}
          : { kill_policy: { grace_period: { nanoseconds: gracePeriodMs * nanosecondsPerMillisecond } } }),
      },
    });
    return true;
  }

  /** Scheduler SHUTDOWN: the executor is told (SHUTDOWN), then killed after its grace period. */
  shutdown(frameworkId: string, executorId: string): void {
    const session =
      this.sessions.get(`${frameworkId}/${executorId}`) ?? this.commandSessions.get(`${frameworkId}/${executorId}`);
    if (session === undefined) {
      this.host.logger.info({ framework: frameworkId, executor: executorId }, 'SHUTDOWN of an executor not here');
      return;
    }
    shutdownExecutor(this, session, {
      state: 'TASK_LOST',
      reason: 'REASON_EXECUTOR_TERMINATED',
      message: 'the executor was shut down (SHUTDOWN) and did not end its tasks itself',
    });
  }

  /** Scheduler MESSAGE: best effort, as in Mesos; dropped (and logged) unless the executor is subscribed. */
  frameworkMessage(frameworkId: string, executorId: string, data: string): void {
    const session = this.sessions.get(`${frameworkId}/${executorId}`);
    if (session === undefined || session.state !== 'subscribed' || session.stream?.open !== true) {
      this.host.logger.warn(
        { framework: frameworkId, executor: executorId, state: session?.state ?? 'unknown' },
        'dropped a framework message: the executor is not subscribed here',
      );
      return;
    }
    session.send({ type: 'MESSAGE', message: { data } });
  }

  // ---------------------------------------------------------------- from executors

  /**
   * Every executor call: `stream` is where a SUBSCRIBE's events go (HTTP, or a built-in's own).
   * Throws AgentHttpError with Mesos' answers (400 unknown framework or executor, 403 not subscribed).
   */
  handleCall(call: ExecutorCall, stream: ExecutorStream | null, remote: boolean): void {
    if (call.type === 'HEARTBEAT') return;
    const session = this.#sessionForCall(call.frameworkId, call.executorId, remote);
    switch (call.type) {
      case 'SUBSCRIBE':
        if (stream === null) throw new AgentHttpError('BAD_REQUEST', 'SUBSCRIBE needs a stream');
        handleSubscribe(this, session, call, stream);
        return;
      case 'UPDATE':
        handleUpdate(this, session, call.status);
        return;
      case 'MESSAGE':
        handleMessage(this, session, call.data);
        return;
    }
  }

  /** The secret of the framework executor a call names: null when there is none (or it has no token). */
  tokenOf(frameworkId: string, executorId: string): string | null {
    return this.sessions.get(`${frameworkId}/${executorId}`)?.authenticationToken ?? null;
  }

  #sessionForCall(frameworkId: string, executorId: string, remote: boolean): ExecutorSession {
    const key = `${frameworkId}/${executorId}`;
    const session = this.sessions.get(key) ?? (remote ? undefined : this.commandSessions.get(key));
    if (session === undefined) {
      const framework = [...this.sessions.values(), ...this.commandSessions.values()].some(
        (each) => each.frameworkId === frameworkId,
      );
      throw new AgentHttpError(framework || this.commandSessions.has(key) ? 'UNKNOWN_EXECUTOR' : 'UNKNOWN_FRAMEWORK');
    }
    if (remote && session.builtin)
      throw new AgentHttpError('BUILTIN_EXECUTOR', `executor ${executorId} is the agent's own task-group executor`);
    return session;
  }

  // ---------------------------------------------------------------- shared

  sessionOfTask(frameworkId: string, spec: WireTaskSpec): ExecutorSession | undefined {
    return spec.executorId === null
      ? this.commandSessions.get(`${frameworkId}/${spec.id}`)
      : this.sessions.get(`${frameworkId}/${spec.executorId}`);
  }

  /** The agent's own update of a task (SOURCE_AGENT): its executor could not run it, or is gone. */
  agentUpdate(
    frameworkId: string,
    taskId: string,
    fields: { readonly state: string; readonly reason: string | null; readonly message: string },
  ): void {
    this.host.updates.record(frameworkId, taskId, { ...fields, source: 'SOURCE_AGENT', healthy: null, data: null });
  }

  /** The live executors of frameworks and task groups, for `register` (the master removes the others once idle). */
  liveExecutors(): WireExecutorRef[] {
    return [...this.sessions.values()]
      .filter((session) => session.state !== 'terminated')
      .map((session) => ({ frameworkId: session.frameworkId, executorId: session.executorId }));
  }

  /** After registering and after each acknowledgement: executors whose end the master may now hear of. */
  reportExited(): void {
    reportExitedExecutors(this);
  }

  view(): ExecutorView[] {
    return [...this.sessions.values(), ...this.commandSessions.values()].map((session) => ({
      frameworkId: session.frameworkId,
      executorId: session.executorId,
      kind: session.kind,
      state: session.state,
      sandbox: session.sandbox,
      subscriptions: session.subscriptions,
      pid: session.container?.handle.pid ?? null,
    }));
  }

  end(session: ExecutorSession, exitStatus: number | null): void {
    endExecutor(this, session, exitStatus);
  }

  #framworkExecutor(
    frameworkId: string,
    executor: WireExecutorInfo,
    framework: WireFrameworkInfo,
    kind: 'custom' | 'default',
  ): ExecutorSession {
    const key = `${frameworkId}/${executor.id}`;
    const existing = this.sessions.get(key);
    if (existing !== undefined) return existing;
    const sandbox = `${this.host.workDir}/frameworks/${frameworkId}/executors/${executor.id}`;
    const token = kind === 'custom' ? newExecutorToken() : null;
    this.host.checkpoint.addExecutor({
      frameworkId,
      executorId: executor.id,
      kind,
      info: executor,
      framework,
      sandbox,
      token,
    });
    const session = new ExecutorSession(frameworkId, executor.id, kind, executor, framework, sandbox, 'launching');
    session.authenticationToken = token;
    this.sessions.set(key, session);
    if (kind === 'default') startBuiltinExecutor(this, session);
    else void launchCustomExecutor(this, session);
    return session;
  }

  #launchEvent(spec: WireTaskSpec, executor: ReturnType<typeof executorInfoJson> | null): ExecutorEvent {
    return { type: 'LAUNCH', launch: { task: taskInfoJson(this.host.agentId() ?? '', spec, executor) } };
  }

  #refuseLaunch(frameworkId: string, spec: WireTaskSpec, why: string): void {
    this.host.logger.warn({ framework: frameworkId, task: spec.id, why }, 'launch refused by the agent');
    this.agentUpdate(frameworkId, spec.id, {
      state: 'TASK_FAILED',
      reason: 'REASON_EXECUTOR_TERMINATED',
      message: why,
    });
  }

  #heartbeat(): void {
    for (const session of this.sessions.values()) {
      if (session.stream?.remote === true && session.state === 'subscribed') session.send({ type: 'HEARTBEAT' });
    }
  }
}

const nanosecondsPerMillisecond = 1_000_000;

/**
 * A drain's max_grace_period over the task's kill policy (Mesos' agent: the smaller, and the cap
 * for a task without one); null when there is no cap: the executor uses the task's own.
 */
export function cappedGracePeriodMs(taskGracePeriodMs: number | null, maxGracePeriodMs: number | null): number | null {
  if (maxGracePeriodMs === null) return null;
  return taskGracePeriodMs === null ? maxGracePeriodMs : Math.min(taskGracePeriodMs, maxGracePeriodMs);
}
