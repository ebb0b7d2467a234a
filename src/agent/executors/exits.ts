// An executor's end: its session goes, its stream closes, and the master hears of it
// (`executor_exited`, so the executor's resources go back) only once every update of its tasks
// has been acknowledged, so the master records the tasks' ends before the executor's (the
// terminal updates carry the reason; a removal would only say TASK_LOST). Until then, and
// across agent restarts, the checkpoint keeps it as terminated.
import type { ExecutorRegistry } from './registry.ts';
import type { ExecutorSession } from './session.ts';

export function endExecutor(registry: ExecutorRegistry, session: ExecutorSession, exitStatus: number | null): void {
  if (session.state === 'terminated') return;
  session.clearDeadline();
  session.moveTo('terminated');
  session.queued.length = 0;
  const stream = session.stream;
  session.stream = null;
  stream?.end();
  if (session.kind === 'command') {
    registry.commandSessions.delete(session.key);
    return;
  }
  registry.sessions.delete(session.key);
  registry.host.checkpoint.setExecutorTerminated(session.frameworkId, session.executorId, exitStatus);
  registry.host.logger.info(
    { framework: session.frameworkId, executor: session.executorId, kind: session.kind, exitStatus },
    'executor ended',
  );
  registry.unreportedExits = true;
  reportExitedExecutors(registry);
}

/** Sends `executor_exited` for each ended executor whose tasks' updates are all acknowledged. */
export function reportExitedExecutors(registry: ExecutorRegistry): void {
  if (!registry.unreportedExits) return;
  const checkpoint = registry.host.checkpoint;
  let waiting = false;
  for (const executor of checkpoint.executors()) {
    if (!executor.terminated) continue;
    if (checkpoint.hasPendingUpdatesOfExecutor(executor.frameworkId, executor.executorId)) {
      waiting = true;
      continue;
    }
    const sent = registry.host.sendToMaster({
      type: 'executor_exited',
      frameworkId: executor.frameworkId,
      executorId: executor.executorId,
      status: executor.exitStatus,
    });
    if (!sent) return;
    checkpoint.removeExecutor(executor.frameworkId, executor.executorId);
  }
  registry.unreportedExits = waiting;
}
