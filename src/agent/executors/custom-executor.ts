// A framework's executor program on the agent: started once per (framework, executor id) in
// its own sandbox, as a process or in its Docker image (executor-container.ts says which and
// with what), with the Mesos environment (executor-http-api.md "Executor Environment
// Variables"), watched until it exits (a container's end is the executor's), and held to its
// deadlines: subscribe within the registration timeout, subscribe again within the recovery
// timeout, be shut down once idle, exit within the shutdown grace period.
import { mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import type { ContainerExit, RunningContainer } from '../containerizer/types.ts';
import { FetchError, fetchUris } from '../fetcher.ts';
import { prepareSandbox } from '../sandbox-owner.ts';
import { lookupUser, resolveContainerUser, TaskUserError } from '../task-user.ts';
import { executorContainerizer, executorContainerSpec, resizeExecutor } from './executor-container.ts';
import type { ExecutorRegistry } from './registry.ts';
import type { ExecutorSession, ExecutorTermination } from './session.ts';

export { executorContainerKey } from './executor-container.ts';

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
  const kind = executorContainerizer(session.info);
  const containerizer = host.containerizers.get(kind);
  let container: RunningContainer;
  try {
    if (containerizer === undefined) {
      const enabled = [...host.containerizers.keys()].join(',');
      throw new Error(`the ${kind} containerizer is not enabled on this agent (--containerizers ${enabled})`);
    }
    mkdirSync(session.sandbox, { recursive: true });
    const parameters = session.info?.container?.parameters ?? [];
    const user = await resolveContainerUser(session.info?.user ?? null, parameters, host.userPolicy, lookupUser);
    prepareSandbox(session.sandbox, user);
    await fetchUris(session.info?.command?.uris ?? [], {
      sandbox: session.sandbox,
      user,
      logger: host.logger,
      containerName: session.executorId,
      logFields: { framework: session.frameworkId, executor: session.executorId },
    });
    container = await containerizer.launch({ ...(await executorContainerSpec(registry, session)), user });
  } catch (error) {
    const message =
      error instanceof TaskUserError || error instanceof FetchError
        ? error.message
        : `the executor could not start: ${(error as Error).message}`;
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
      containerId: container.handle.containerId,
      sandbox: session.sandbox,
    },
    'executor started',
  );
  attachCustomExecutor(registry, session, container);
  // Tasks checkpointed while the container was being made count in its limits too.
  resizeExecutor(registry, session);
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
