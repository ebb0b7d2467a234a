// Agent restart. Executors first: a framework's executor whose process (or container: found by
// its checkpointed container id, and labelled like a task's, so the orphan sweep keeps it) is
// still there waits for it to subscribe again (within MESOS_RECOVERY_TIMEOUT, keeping its tasks);
// one that is gone takes its live tasks with it (TASK_FAILED, REASON_EXECUTOR_TERMINATED). The
// built-in executors are made again in the agent, and every task they ran is re-attached through
// its containerizer (the process one checks pid and start time, the docker one the labelled container); a task
// whose container is gone, or that never got one (the agent died while launching it), is
// reported TASK_FAILED with a reason. Then each containerizer removes what belongs to no task or
// executor it re-attached (orphans).
import type { Agent } from './agent.ts';
import type { CheckpointedExecutor, CheckpointedTask } from './checkpoint.ts';
import type { RunningContainer } from './containerizer/types.ts';
import { type BuiltinExecutor, startBuiltinExecutor } from './executors/builtin-executor.ts';
import { attachCustomExecutor, executorContainerKey } from './executors/custom-executor.ts';
import { executorLimits } from './executors/executor-container.ts';
import { ExecutorSession } from './executors/session.ts';
import { containerizerFor, sandboxPath } from './task-environment.ts';
import type { TaskRun } from './task-run.ts';

export async function recoverTasks(agent: Agent): Promise<void> {
  const logger = agent.options.logger;
  const recovered = new Set<string>();
  const builtins = new Map<string, BuiltinExecutor>();
  for (const executor of agent.checkpoint.executors()) {
    if (executor.terminated) continue;
    if (executor.kind === 'default')
      builtins.set(`${executor.frameworkId}/${executor.executorId}`, recoverDefault(agent, executor));
    else if (await recoverCustom(agent, executor))
      recovered.add(`${executor.frameworkId}/${executorContainerKey(executor.executorId)}`);
  }
  for (const task of agent.checkpoint.liveTasks()) {
    const executor = builtinFor(agent, task, builtins);
    if (executor === null) continue;
    if (await recoverTask(agent, executor.recoverRun(task), task)) recovered.add(`${task.frameworkId}/${task.taskId}`);
  }
  for (const executor of builtins.values()) executor.endIfIdle();
  await removeOrphans(agent, recovered);
  logger.info({ executors: agent.executors.view().length, tasks: recovered.size }, 'recovery done');
}

/** The built-in executor a task runs on: its own command executor, or its group's; null for a framework's executor. */
function builtinFor(
  agent: Agent,
  task: CheckpointedTask,
  groups: ReadonlyMap<string, BuiltinExecutor>,
): BuiltinExecutor | null {
  const executorId = task.spec.executorId;
  if (executorId !== null) return groups.get(`${task.frameworkId}/${executorId}`) ?? null;
  const sandbox = sandboxPath(agent.options.workDir, task.frameworkId, task.taskId);
  const session = new ExecutorSession(task.frameworkId, task.taskId, 'command', null, null, sandbox, 'launching');
  agent.executors.commandSessions.set(session.key, session);
  return startBuiltinExecutor(agent.executors, session);
}

function recoverDefault(agent: Agent, executor: CheckpointedExecutor): BuiltinExecutor {
  const session = new ExecutorSession(
    executor.frameworkId,
    executor.executorId,
    'default',
    executor.info,
    executor.framework,
    executor.sandbox,
    'launching',
  );
  agent.executors.sessions.set(session.key, session);
  const builtin = startBuiltinExecutor(agent.executors, session);
  builtin.recovering = true;
  return builtin;
}

/** A framework's executor: re-attached and given the recovery timeout to subscribe again, or gone with its tasks. */
async function recoverCustom(agent: Agent, executor: CheckpointedExecutor): Promise<boolean> {
  const registry = agent.executors;
  const session = new ExecutorSession(
    executor.frameworkId,
    executor.executorId,
    'custom',
    executor.info,
    executor.framework,
    executor.sandbox,
    'launching',
  );
  session.authenticationToken = executor.token;
  registry.sessions.set(session.key, session);
  const container = executor.handle === null ? null : await reattach(agent, executor);
  if (container === null) {
    for (const task of agent.checkpoint.liveTasksOfExecutor(executor.frameworkId, executor.executorId))
      registry.agentUpdate(executor.frameworkId, task.taskId, {
        state: 'TASK_FAILED',
        reason: 'REASON_EXECUTOR_TERMINATED',
        message: 'the executor ended while the agent was down',
      });
    registry.end(session, null);
    return false;
  }
  session.moveTo('disconnected');
  const timeoutMs = agent.options.executors.recoveryTimeoutMs;
  session.setDeadline('resubscription', timeoutMs, () => {
    session.termination = {
      state: 'TASK_LOST',
      reason: 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT',
      message: `the executor did not subscribe again within ${timeoutMs} ms of the agent's restart`,
    };
    void container.kill(0);
  });
  attachCustomExecutor(registry, session, container);
  agent.options.logger.info(
    { framework: executor.frameworkId, executor: executor.executorId, pid: container.handle.pid, timeoutMs },
    'executor re-attached: waiting for it to subscribe again',
  );
  return true;
}

/** By its checkpointed handle, through the containerizer that made it: a process, or a labelled container. */
async function reattach(agent: Agent, executor: CheckpointedExecutor): Promise<RunningContainer | null> {
  const handle = executor.handle;
  const containerizer = handle === null ? undefined : agent.options.containerizers.get(handle.kind);
  if (handle === null || containerizer === undefined) return null;
  const container = executor.info.container;
  try {
    return await containerizer.recover(handle, {
      agentId: agent.agentId() ?? '',
      frameworkId: executor.frameworkId,
      taskId: executorContainerKey(executor.executorId),
      sandbox: executor.sandbox,
      command: null,
      image: container?.image ?? null,
      forcePullImage: false,
      network: container?.network ?? 'HOST',
      portMappings: [],
      volumes: [],
      persistentVolumes: [],
      privileged: false,
      parameters: [],
      hostname: null,
      user: handle.user ?? null,
      environment: {},
      ...executorLimits(agent.checkpoint, executor.frameworkId, executor.executorId, executor.info),
    });
  } catch (error) {
    agent.options.logger.warn(
      { executor: executor.executorId, error: (error as Error).message },
      'recovering an executor failed',
    );
    return null;
  }
}

async function recoverTask(agent: Agent, run: TaskRun, task: CheckpointedTask): Promise<boolean> {
  const logger = agent.options.logger;
  if (task.handle === null) {
    run.endAsVanished('the agent stopped while launching the task; it may never have started');
    return false;
  }
  const containerizer = agent.options.containerizers.get(task.handle.kind);
  if (containerizer === undefined || containerizer.kind !== containerizerFor(task.spec)) {
    run.endAsVanished(`the ${task.handle.kind} containerizer is not enabled any more; the task cannot be re-attached`);
    return false;
  }
  // COMPAT: a handle checkpointed before tasks had users has none: the agent's own user.
  run.setUser(task.handle.user ?? null);
  let container: RunningContainer | null;
  try {
    container = await containerizer.recover(task.handle, run.containerSpec);
  } catch (error) {
    logger.warn({ task: task.taskId, error: (error as Error).message }, 'recovering a container failed');
    container = null;
  }
  if (container === null) {
    run.endAsVanished('the task is gone: it ended while the agent was down and how it ended is unknown');
    return false;
  }
  logger.info({ framework: task.frameworkId, task: task.taskId, state: task.state }, 'task re-attached');
  if (task.state === 'TASK_STAGING' || task.state === 'TASK_STARTING') run.reportRunning();
  run.attach(container, task.killRequested);
  return true;
}

async function removeOrphans(agent: Agent, recovered: ReadonlySet<string>): Promise<void> {
  const agentId = agent.agentId();
  if (agentId === null) return;
  for (const containerizer of agent.options.containerizers.values()) {
    try {
      const removed = await containerizer.removeOrphans(agentId, recovered);
      if (removed.length > 0)
        agent.options.logger.warn({ containerizer: containerizer.kind, removed }, 'removed orphaned containers');
    } catch (error) {
      agent.options.logger.warn(
        { containerizer: containerizer.kind, error: (error as Error).message },
        'could not look for orphaned containers',
      );
    }
  }
}
