// A framework's executor program on the agent: started once per (framework, executor id) in
// its own sandbox through the process containerizer, with the Mesos environment
// (executor-http-api.md "Executor Environment Variables", plus the agent's own environment, which
// Mesos executors inherit), watched until it exits, and held to its deadlines: subscribe within
// the registration timeout, subscribe again within the recovery timeout, be shut down once idle,
// exit within the shutdown grace period.
import { mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import { executorEnvironment } from '../../protocol/executor.ts';
import { formatDuration } from '../../protocol/durations.ts';
import type { ContainerExit, ContainerSpec, RunningContainer } from '../containerizer/types.ts';
import { prepareSandbox } from '../sandbox-owner.ts';
import { lookupUser, resolveTaskUser, TaskUserError } from '../task-user.ts';
import type { ExecutorRegistry } from './registry.ts';
import type { ExecutorSession, ExecutorTermination } from './session.ts';

/** ContainerSpec.taskId of an executor's container: no task id has a "/", so it is never a task's. */
export const executorContainerKey = (executorId: string): string => `executor/${executorId}`;

function executorContainerSpec(registry: ExecutorRegistry, session: ExecutorSession): ContainerSpec {
  const { host } = registry;
  const info = session.info;
  const command = info?.command ?? null;
  const settings = host.settings;
  const grace = info?.shutdownGracePeriodMs ?? settings.shutdownGracePeriodMs;
  return {
    agentId: host.agentId() ?? '',
    frameworkId: session.frameworkId,
    taskId: executorContainerKey(session.executorId),
    sandbox: session.sandbox,
    command: command === null ? null : { value: command.value, shell: command.shell, arguments: command.arguments },
    image: null,
    forcePullImage: false,
    network: 'HOST',
    portMappings: [],
    volumes: [],
    persistentVolumes: [],
    privileged: false,
    parameters: [],
    hostname: null,
    user: null,
    environment: {
      ...(process.env as Record<string, string>),
      MESOS_AGENT_ID: host.agentId() ?? '',
      MESOS_SLAVE_ID: host.agentId() ?? '',
      [executorEnvironment.agentEndpoint]: host.endpoint,
      [executorEnvironment.frameworkId]: session.frameworkId,
      [executorEnvironment.executorId]: session.executorId,
      [executorEnvironment.directory]: session.sandbox,
      [executorEnvironment.sandbox]: session.sandbox,
      [executorEnvironment.checkpoint]: '1',
      [executorEnvironment.recoveryTimeout]: formatDuration(settings.recoveryTimeoutMs),
      [executorEnvironment.subscriptionBackoffMax]: formatDuration(settings.subscriptionBackoffMaxMs),
      [executorEnvironment.shutdownGracePeriod]: formatDuration(grace),
      ...(command?.environment ?? {}),
      // After the framework's own: the token is the agent's to give, never the framework's to choose.
      ...(session.authenticationToken === null
        ? {}
        : { [executorEnvironment.authenticationToken]: session.authenticationToken }),
      // Only the CA: the agent's own key stays the agent's.
      ...(host.tlsCaFile === null
        ? {}
        : { [executorEnvironment.sslEnabled]: 'true', [executorEnvironment.sslCaFile]: host.tlsCaFile }),
    },
    // Its tasks' resources arrive after it starts, and a running process's cgroup is not resized yet.
    cpus: null,
    memMb: null,
  };
}

/** Mesos reports an executor's exit as a wait status: the exit code shifted left by 8, or the signal number. */
export function waitStatus(exit: ContainerExit): number | null {
  if (exit.kind === 'exited') return exit.code << 8;
  if (exit.kind === 'signalled') return constants.signals[exit.signal as NodeJS.Signals] ?? null;
  return null;
}

function describe(exit: ContainerExit): string {
  switch (exit.kind) {
    case 'exited':
      return `exited with status ${exit.code}`;
    case 'signalled':
      return `terminated by signal ${exit.signal}`;
    case 'oom':
    case 'vanished':
      return exit.message;
  }
}

/** Starts the executor's process; its launches wait in the session until it subscribes. */
export async function launchCustomExecutor(registry: ExecutorRegistry, session: ExecutorSession): Promise<void> {
  const { host } = registry;
  const containerizer = host.containerizers.get('process');
  const spec = executorContainerSpec(registry, session);
  let container: RunningContainer;
  try {
    if (containerizer === undefined) throw new Error('the process containerizer is not enabled on this agent');
    mkdirSync(session.sandbox, { recursive: true });
    const user = await resolveTaskUser(session.info?.user ?? null, host.userPolicy, lookupUser);
    prepareSandbox(session.sandbox, user);
    container = await containerizer.launch({ ...spec, user });
  } catch (error) {
    const message =
      error instanceof TaskUserError ? error.message : `the executor could not start: ${(error as Error).message}`;
    host.logger.warn(
      { framework: session.frameworkId, executor: session.executorId, problem: message },
      'executor launch failed',
    );
    failQueued(registry, session, { state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message });
    registry.end(session, null);
    return;
  }
  host.checkpoint.setExecutorHandle(session.frameworkId, session.executorId, container.handle);
  host.logger.info(
    {
      framework: session.frameworkId,
      executor: session.executorId,
      pid: container.handle.pid,
      sandbox: session.sandbox,
    },
    'executor started',
  );
  attachCustomExecutor(registry, session, container);
  if (session.state !== 'launching') return;
  session.moveTo('registering');
  session.setDeadline('registration', host.settings.registrationTimeoutMs, () => {
    session.termination = {
      state: 'TASK_FAILED',
      reason: 'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
      message: `the executor did not subscribe within ${host.settings.registrationTimeoutMs} ms`,
    };
    void container.kill(0);
  });
}

/** Watches a launched or recovered executor until it exits; then its live tasks end with the reason why. */
export function attachCustomExecutor(
  registry: ExecutorRegistry,
  session: ExecutorSession,
  container: RunningContainer,
): void {
  session.container = container;
  void container.exited.then((exit) => {
    session.clearDeadline();
    const termination: ExecutorTermination = session.termination ?? {
      state: 'TASK_FAILED',
      reason: 'REASON_EXECUTOR_TERMINATED',
      message: `the executor ${describe(exit)}`,
    };
    registry.host.logger.info(
      {
        framework: session.frameworkId,
        executor: session.executorId,
        exit: describe(exit),
        reason: termination.reason,
      },
      'executor exited',
    );
    failQueued(registry, session, termination);
    for (const task of registry.host.checkpoint.liveTasksOfExecutor(session.frameworkId, session.executorId))
      registry.agentUpdate(session.frameworkId, task.taskId, {
        ...termination,
        message: `${termination.message} (${describe(exit)})`,
      });
    registry.end(session, waitStatus(exit));
  });
}

/** Launches that never reached the executor end as `termination` says. */
function failQueued(registry: ExecutorRegistry, session: ExecutorSession, termination: ExecutorTermination): void {
  for (const event of session.queued.splice(0)) {
    const tasks =
      event.type === 'LAUNCH'
        ? [event.launch.task]
        : event.type === 'LAUNCH_GROUP'
          ? event.launch_group.task_group.tasks
          : [];
    for (const task of tasks) registry.agentUpdate(session.frameworkId, task.task_id.value, termination);
  }
}

/** SHUTDOWN, then the grace period, then the kill (a built-in executor ends its tasks and itself). */
export function shutdownExecutor(
  registry: ExecutorRegistry,
  session: ExecutorSession,
  termination: ExecutorTermination,
): void {
  if (!session.accepting) return;
  session.termination ??= termination;
  session.moveTo('terminating');
  failQueued(registry, session, session.termination);
  session.send({ type: 'SHUTDOWN' });
  const graceMs = session.info?.shutdownGracePeriodMs ?? registry.host.settings.shutdownGracePeriodMs;
  registry.host.logger.info(
    { framework: session.frameworkId, executor: session.executorId, graceMs },
    'shutting an executor down',
  );
  if (session.builtin) return;
  const container = session.container;
  if (container === null) {
    registry.end(session, null);
    return;
  }
  session.setDeadline('shutdown', graceMs, () => void container.kill(0));
}

/** A framework's executor with no live task and no launch waiting is shut down after the idle timeout. */
export function watchIdleness(registry: ExecutorRegistry, session: ExecutorSession): void {
  if (session.state !== 'subscribed' || session.queued.length > 0) return;
  if (registry.host.checkpoint.liveTasksOfExecutor(session.frameworkId, session.executorId).length > 0) return;
  session.setDeadline('idle', registry.host.settings.idleTimeoutMs, () =>
    shutdownExecutor(registry, session, {
      state: 'TASK_LOST',
      reason: 'REASON_EXECUTOR_TERMINATED',
      message: 'the executor was shut down: it had no task left',
    }),
  );
}
