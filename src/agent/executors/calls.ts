// The executor calls (executor-http-api.md), after the registry found the executor: SUBSCRIBE
// (a first subscription, or a re-subscription with what the executor has not seen acknowledged),
// UPDATE (through the agent's checkpointed status update manager, then ACKNOWLEDGED), MESSAGE
// (to the framework's scheduler, best effort). Mesos' slave.cpp `subscribe`, `statusUpdate`,
// `executorMessage`.
import type { ExecutorCall, ExecutorStatus } from '../../protocol/executor.ts';
import { isTerminalTaskState } from '../../protocol/task-states.ts';
import { AgentHttpError } from '../errors.ts';
import { watchIdleness } from './custom-executor.ts';
import { resizeExecutor } from './executor-container.ts';
import type { ExecutorStream } from './event-stream.ts';
import { agentInfoJson, executorInfoJson, frameworkInfoJson, taskInfoJson } from './mesos-json.ts';
import type { ExecutorRegistry } from './registry.ts';
import type { ExecutorSession } from './session.ts';

type Subscribe = Extract<ExecutorCall, { type: 'SUBSCRIBE' }>;

function subscribedEvent(registry: ExecutorRegistry, session: ExecutorSession) {
  const agentId = registry.host.agentId() ?? '';
  const info = session.info;
  const executorInfo =
    info === null
      ? {
          executor_id: { value: session.executorId },
          framework_id: { value: session.frameworkId },
          type: 'CUSTOM',
          name: `Command Executor (Task: ${session.executorId})`,
        }
      : executorInfoJson(session.frameworkId, info);
  const framework = session.framework;
  return {
    type: 'SUBSCRIBED' as const,
    subscribed: {
      executor_info: executorInfo,
      framework_info:
        framework === null ? { id: { value: session.frameworkId }, name: '', user: '' } : frameworkInfoJson(framework),
      agent_info: agentInfoJson(agentId, registry.host.agentInfo()),
      container_id: { value: `${session.frameworkId}.${session.executorId}` },
    },
  };
}

/**
 * What a re-subscribing framework executor misses: tasks the agent gave it that it does not list
 * and never reported on (their LAUNCH was lost with the agent or the stream), sent again; and
 * kills requested while it was away.
 */
function resendMissed(registry: ExecutorRegistry, session: ExecutorSession, call: Subscribe): void {
  const known = new Set(call.unacknowledgedTasks);
  for (const event of session.queued) if (event.type === 'LAUNCH') known.add(event.launch.task.task_id.value);
  const agentId = registry.host.agentId() ?? '';
  const info = session.info === null ? null : executorInfoJson(session.frameworkId, session.info);
  for (const task of registry.host.checkpoint.liveTasksOfExecutor(session.frameworkId, session.executorId)) {
    if (task.state === 'TASK_STAGING' && !known.has(task.taskId))
      session.send({ type: 'LAUNCH', launch: { task: taskInfoJson(agentId, task.spec, info) } });
    if (task.killRequested) session.send({ type: 'KILL', kill: { task_id: { value: task.taskId } } });
  }
}

export function handleSubscribe(
  registry: ExecutorRegistry,
  session: ExecutorSession,
  call: Subscribe,
  stream: ExecutorStream,
): void {
  if (session.state === 'terminated') throw new AgentHttpError('UNKNOWN_EXECUTOR', 'the executor has ended');
  // The agent may have died after it checkpointed an update and before the ACKNOWLEDGED went out:
  // such a repeat is recognised by its uuid and acknowledged again.
  for (const status of call.unacknowledgedUpdates) recordUpdate(registry, session, status);
  const previous = session.stream;
  session.stream = stream;
  session.subscriptions += 1;
  if (previous !== null && previous !== stream) previous.end();
  stream.onClose(() => onStreamClosed(registry, session, stream));
  const shuttingDown = session.state === 'terminating';
  if (!shuttingDown) {
    session.moveTo('subscribed');
    session.clearDeadline();
  }
  registry.host.logger.info(
    { framework: session.frameworkId, executor: session.executorId, kind: session.kind, times: session.subscriptions },
    session.subscriptions === 1 ? 'executor subscribed' : 'executor subscribed again',
  );
  stream.send(subscribedEvent(registry, session));
  if (shuttingDown) {
    stream.send({ type: 'SHUTDOWN' });
    return;
  }
  if (session.kind === 'custom') resendMissed(registry, session, call);
  for (const event of session.queued.splice(0)) session.send(event);
  if (session.kind === 'custom') watchIdleness(registry, session);
}

/** A framework executor's stream broke: it has MESOS_RECOVERY_TIMEOUT to subscribe again, else it is lost. */
function onStreamClosed(registry: ExecutorRegistry, session: ExecutorSession, stream: ExecutorStream): void {
  if (session.stream !== stream) return;
  session.stream = null;
  if (session.state !== 'subscribed' || session.builtin) return;
  session.moveTo('disconnected');
  registry.host.logger.warn(
    {
      framework: session.frameworkId,
      executor: session.executorId,
      recoveryTimeoutMs: registry.host.settings.recoveryTimeoutMs,
    },
    'executor disconnected: waiting for it to subscribe again',
  );
  session.setDeadline('resubscription', registry.host.settings.recoveryTimeoutMs, () => {
    session.termination = {
      state: 'TASK_LOST',
      reason: 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT',
      message: `the executor did not subscribe again within ${registry.host.settings.recoveryTimeoutMs} ms`,
    };
    void session.container?.kill(0);
  });
}

export function handleUpdate(registry: ExecutorRegistry, session: ExecutorSession, status: ExecutorStatus): void {
  if (session.state === 'launching' || session.state === 'registering')
    throw new AgentHttpError('EXECUTOR_NOT_SUBSCRIBED');
  recordUpdate(registry, session, status);
}

/** Checkpointed (and on its way to the master), then ACKNOWLEDGED to the executor; a repeat is only acknowledged. */
function recordUpdate(registry: ExecutorRegistry, session: ExecutorSession, status: ExecutorStatus): void {
  const { checkpoint, updates, logger } = registry.host;
  const task = checkpoint.task(session.frameworkId, status.taskId);
  if (task === null || (task.spec.executorId ?? task.spec.id) !== session.executorId)
    throw new AgentHttpError('UNKNOWN_TASK', `executor ${session.executorId} has no task ${status.taskId}`);
  const repeat = checkpoint.hasUpdate(status.uuid) || isTerminalTaskState(task.state);
  if (repeat) {
    logger.info(
      { task: status.taskId, uuid: status.uuid, state: task.state },
      'repeated or late executor update: acknowledged',
    );
  } else {
    updates.record(
      session.frameworkId,
      status.taskId,
      {
        state: status.state,
        reason: status.reason,
        message: status.message,
        source: 'SOURCE_EXECUTOR',
        healthy: status.healthy,
        data: status.data,
      },
      { uuid: status.uuid, timestampMs: status.timestampMs ?? Date.now() },
    );
  }
  // Only once the update is durable (the checkpoint commits a turn's updates together).
  checkpoint.afterCommit(() => {
    const stream = session.stream;
    if (stream?.open === true)
      stream.send({ type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: status.taskId }, uuid: status.uuid } });
  });
  if (!repeat && isTerminalTaskState(status.state) && session.kind === 'custom') {
    resizeExecutor(registry, session);
    watchIdleness(registry, session);
  }
}

/** MESSAGE: to the master, which sends it on the framework's scheduler stream; best effort. */
export function handleMessage(registry: ExecutorRegistry, session: ExecutorSession, data: string): void {
  if (session.state === 'launching' || session.state === 'registering')
    throw new AgentHttpError('EXECUTOR_NOT_SUBSCRIBED');
  const sent = registry.host.sendToMaster({
    type: 'executor_message',
    frameworkId: session.frameworkId,
    executorId: session.executorId,
    data,
  });
  if (!sent)
    registry.host.logger.warn(
      { framework: session.frameworkId, executor: session.executorId },
      'dropped an executor message: not registered with a master',
    );
}
