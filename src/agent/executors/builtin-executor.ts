// The agent's own executors, run in the agent process rather than as a process each (a process
// per task would double the agent's process count; recovery re-attaches to the tasks' own
// processes as before). They speak the executor API all the same: they SUBSCRIBE, take LAUNCH,
// LAUNCH_GROUP, KILL and SHUTDOWN events from their stream, and send every update of theirs as an
// UPDATE call (JSON, parsed and checked as an HTTP one) through the registry's handlers into the
// status update manager. Updates only the agent can make (the task's container could not start,
// or is gone) go to the status update manager directly, as Mesos' agent sends its own.
//
// The command executor runs one plain task (its executor id is the task's id, as Mesos names it).
// The default executor runs task groups (Mesos' default_executor.cpp): every task of a group in
// its own container and sandbox, inside the executor's shared sandbox; when one ends FAILED or
// KILLED, the rest of its group is killed; when none is left, the executor ends.
import { randomBytes } from 'node:crypto';
import { type ExecutorEvent, parseExecutorCall, updateCallJson } from '../../protocol/executor.ts';
import { executorApiLimits } from '../../protocol/limits.ts';
import type { TaskState } from '../../protocol/task-states.ts';
import type { CheckpointedTask } from '../checkpoint.ts';
import type { StatusFields } from '../status-updates.ts';
import type { TaskRun } from '../task-run.ts';
import { InProcessExecutorStream } from './event-stream.ts';
import type { ExecutorRegistry } from './registry.ts';
import type { ExecutorSession } from './session.ts';

/** States after which the default executor kills the rest of the group (default_executor.cpp `waited`). */
const groupKillingStates: ReadonlySet<string> = new Set(['TASK_FAILED', 'TASK_KILLED']);

export class BuiltinExecutor {
  /** Live runs, by task id. */
  readonly runs = new Map<string, TaskRun>();
  /** The default executor's groups: group id → its task ids. */
  readonly #groups = new Map<string, Set<string>>();
  #shuttingDown = false;
  /** Recovery re-attaches its tasks one by one: it must not end when the first found gone has ended. */
  recovering = false;

  constructor(
    readonly registry: ExecutorRegistry,
    readonly session: ExecutorSession,
  ) {}

  subscribe(): void {
    const stream = new InProcessExecutorStream((event) => this.onEvent(event));
    this.registry.handleCall(
      {
        type: 'SUBSCRIBE',
        frameworkId: this.session.frameworkId,
        executorId: this.session.executorId,
        unacknowledgedTasks: [],
        unacknowledgedUpdates: [],
      },
      stream,
      false,
    );
  }

  onEvent(event: ExecutorEvent): void {
    if (this.session.state === 'terminated') {
      this.#refuseLate(event);
      return;
    }
    switch (event.type) {
      case 'LAUNCH':
        this.#launch([event.launch.task.task_id.value]);
        return;
      case 'LAUNCH_GROUP':
        this.#launch(event.launch_group.task_group.tasks.map((task) => task.task_id.value));
        return;
      case 'KILL':
        this.#kill(event.kill.task_id.value, 'killed by the framework', killPolicyMs(event));
        return;
      case 'SHUTDOWN':
        this.#shuttingDown = true;
        for (const taskId of [...this.runs.keys()]) this.#kill(taskId, 'the executor was shut down');
        this.#endIfDone();
        return;
      default:
        // SUBSCRIBED, ACKNOWLEDGED, HEARTBEAT: nothing to do (the status update manager holds
        // every update); MESSAGE and ERROR do not come to the agent's own executors.
        return;
    }
  }

  /** A launch that reached it after it ended (its last task ended while the launch was on its way). */
  #refuseLate(event: ExecutorEvent): void {
    const tasks =
      event.type === 'LAUNCH'
        ? [event.launch.task]
        : event.type === 'LAUNCH_GROUP'
          ? event.launch_group.task_group.tasks
          : [];
    for (const task of tasks)
      this.registry.agentUpdate(this.session.frameworkId, task.task_id.value, {
        state: 'TASK_FAILED',
        reason: 'REASON_EXECUTOR_TERMINATED',
        message: `executor ${this.session.executorId} ended before the task reached it`,
      });
  }

  /** Recovery: a task whose container the agent re-attached (or found gone) after a restart. */
  recoverRun(task: CheckpointedTask): TaskRun {
    this.#join(task.spec.taskGroup, task.taskId);
    return this.#newRun(task.taskId, task.spec, task.sandbox);
  }

  /** Recovery re-attached all it could: an executor with nothing left to run ends. */
  endIfIdle(): void {
    this.recovering = false;
    this.#endIfDone();
  }

  #launch(taskIds: readonly string[]): void {
    for (const taskId of taskIds) {
      const task = this.registry.host.checkpoint.task(this.session.frameworkId, taskId);
      if (task === null || this.runs.has(taskId)) continue;
      this.#join(task.spec.taskGroup, taskId);
      const run = this.#newRun(taskId, task.spec, task.sandbox);
      void run
        .launch()
        .catch((error: unknown) => this.registry.host.logger.error({ task: taskId, err: error }, 'launch crashed'));
    }
  }

  #newRun(taskId: string, spec: CheckpointedTask['spec'], sandbox: string): TaskRun {
    const run = this.registry.host.newRun(this.session.frameworkId, spec, sandbox, {
      report: (frameworkId, id, fields) => this.#report(frameworkId, id, fields),
      onEnded: (ended, state) => this.#ended(ended, state),
    });
    this.runs.set(taskId, run);
    return run;
  }

  #join(group: string | null, taskId: string): void {
    if (group === null) return;
    const members = this.#groups.get(group) ?? new Set<string>();
    members.add(taskId);
    this.#groups.set(group, members);
  }

  #kill(taskId: string, message: string, gracePeriodMs: number | null = null): void {
    void this.runs.get(taskId)?.kill({ kind: 'request', message, gracePeriodMs });
  }

  /** The executor's own updates as UPDATE calls, through the same parsing and checks as an HTTP executor's. */
  #report(frameworkId: string, taskId: string, fields: StatusFields): void {
    if (fields.source === 'SOURCE_AGENT') {
      this.registry.host.updates.record(frameworkId, taskId, fields);
      return;
    }
    const call = parseExecutorCall(
      updateCallJson(
        { frameworkId, executorId: this.session.executorId },
        {
          taskId,
          state: fields.state as TaskState,
          uuid: randomBytes(16).toString('base64'),
          reason: fields.reason as never,
          message: fields.message === null ? null : fields.message.slice(0, executorApiLimits.maxTextLength),
          healthy: fields.healthy,
          data: fields.data,
          timestampMs: Date.now(),
        },
      ),
    );
    try {
      this.registry.handleCall(call, null, false);
    } catch (error) {
      // Only a bug makes the agent's own update invalid: say so, and let the agent report it.
      this.registry.host.logger.error({ task: taskId, err: error }, "the built-in executor's update was refused");
      this.registry.host.updates.record(frameworkId, taskId, { ...fields, source: 'SOURCE_AGENT' });
    }
  }

  #ended(run: TaskRun, state: string): void {
    this.runs.delete(run.taskId);
    const group = run.spec.taskGroup;
    if (group !== null && groupKillingStates.has(state)) {
      for (const member of this.#groups.get(group) ?? [])
        this.#kill(member, `task ${run.taskId} of its group ended ${state}`);
    }
    this.#endIfDone();
  }

  #endIfDone(): void {
    if (this.runs.size > 0 || this.recovering) return;
    if (this.session.kind === 'default' && !this.#shuttingDown && this.session.queued.length > 0) return;
    this.registry.end(this.session, null);
  }
}

/** Makes the session's built-in executor and subscribes it (in-process: at once). */
export function startBuiltinExecutor(registry: ExecutorRegistry, session: ExecutorSession): BuiltinExecutor {
  const executor = new BuiltinExecutor(registry, session);
  registry.builtins.set(session, executor);
  executor.subscribe();
  return executor;
}

/** Event.Kill.kill_policy (a drain's cap): it overrides the task's own kill policy. */
function killPolicyMs(event: Extract<ExecutorEvent, { type: 'KILL' }>): number | null {
  const nanoseconds = event.kill.kill_policy?.grace_period.nanoseconds;
  return nanoseconds === undefined ? null : Math.floor(nanoseconds / 1_000_000);
}
