// Agent restart: every task the checkpoint has as live is re-attached through its containerizer
// (the process one checks pid and start time, the docker one the labelled container). A task
// whose container is gone, or that never got one (the agent died while launching it), is
// reported TASK_FAILED with a reason. Then each containerizer removes what belongs to no task
// it re-attached (orphans).
import type { Agent } from './agent.ts';
import type { CheckpointedTask } from './checkpoint.ts';
import type { RunningContainer } from './containerizer/types.ts';
import { containerizerFor } from './task-environment.ts';

export async function recoverTasks(agent: Agent): Promise<void> {
  const logger = agent.options.logger;
  const recovered = new Set<string>();
  for (const task of agent.checkpoint.liveTasks()) {
    if (await recoverTask(agent, task)) recovered.add(`${task.frameworkId}/${task.taskId}`);
  }
  const agentId = agent.agentId();
  if (agentId === null) return;
  for (const containerizer of agent.options.containerizers.values()) {
    try {
      const removed = await containerizer.removeOrphans(agentId, recovered);
      if (removed.length > 0)
        logger.warn({ containerizer: containerizer.kind, removed }, 'removed orphaned containers');
    } catch (error) {
      logger.warn(
        { containerizer: containerizer.kind, error: (error as Error).message },
        'could not look for orphaned containers',
      );
    }
  }
}

async function recoverTask(agent: Agent, task: CheckpointedTask): Promise<boolean> {
  const logger = agent.options.logger;
  const run = agent.newRun(task.frameworkId, task.spec, task.sandbox);
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
