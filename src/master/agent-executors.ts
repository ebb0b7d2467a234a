// The executor half of the agent gateway: task groups launched as one message, SHUTDOWN and
// framework messages to an executor's agent, and what agents report of their executors —
// gone (remove_executor, then FAILURE to the framework, as master.cpp `exitedExecutor` sends
// it) or a message for the scheduler (MESSAGE). Framework messages are best effort, as in
// Mesos: not replicated, dropped (with a log line) when the agent or the scheduler is away.
import type { Logger } from 'pino';
import type { AgentMessage, WireExecutorRef } from '../protocol/agent.ts';
import { isTerminalTaskState } from '../protocol/task-states.ts';
import {
  agentId as toAgentId,
  executorId as toExecutorId,
  executorKey,
  frameworkId as toFrameworkId,
  type AgentId,
  type FrameworkId,
} from '../state-machine/ids.ts';
import type { ReadonlyState, Task } from '../state-machine/state.ts';
import { launchGroupMessage } from './agent-wire.ts';
import type { ReplicatedMaster } from './interface.ts';

/** What the gateway tells the scheduler sessions of executors (leader only; dropped without a stream). */
export interface ExecutorEventSink {
  /** Executor MESSAGE → scheduler MESSAGE event. */
  frameworkMessage(frameworkId: string, agentId: string, executorId: string, data: string): void;
  /** The executor is gone → scheduler FAILURE event with agent_id, executor_id and status. */
  executorGone(frameworkId: string, agentId: string, executorId: string, status: number | null): void;
}

export interface ExecutorTarget {
  readonly agentId: string;
  readonly frameworkId: string;
  readonly executorId: string;
}

/**
 * Task groups leave one apply as consecutive TASK_ADDED events: they are gathered here and sent
 * at the end of the turn as one launch_group per group, so the agent starts them together.
 */
export class GroupLaunches {
  readonly #pending = new Map<string, Task[]>();

  constructor(
    private readonly state: () => ReadonlyState,
    private readonly send: (agentId: AgentId, message: ReturnType<typeof launchGroupMessage>) => void,
  ) {}

  add(task: Task): void {
    const key = `${task.frameworkId}/${task.taskGroup}`;
    const first = this.#pending.size === 0;
    const group = this.#pending.get(key) ?? [];
    group.push(task);
    this.#pending.set(key, group);
    if (first) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    const groups = [...this.#pending.values()];
    this.#pending.clear();
    for (const tasks of groups) {
      const framework = this.state().frameworks.get(tasks[0]!.frameworkId);
      if (framework !== undefined) this.send(tasks[0]!.agentId, launchGroupMessage(tasks, framework));
    }
  }
}

/** The group's tasks as they are in the state (a re-sent launch after re-registration). */
export function groupTasks(state: ReadonlyState, task: Task): Task[] {
  const tasks: Task[] = [];
  // The framework's tasks (index), not every task in the history.
  for (const key of state.derived.tasksByFramework.get(task.frameworkId) ?? []) {
    const candidate = state.tasks.get(key)!;
    if (
      candidate.frameworkId === task.frameworkId &&
      candidate.agentId === task.agentId &&
      candidate.taskGroup === task.taskGroup
    )
      tasks.push(candidate);
  }
  return tasks;
}

interface ExecutorReports {
  readonly master: Pick<ReplicatedMaster, 'state' | 'submit'>;
  readonly events: ExecutorEventSink;
  readonly logger: Logger;
}

/** The agent reports an executor gone: its resources go back (remove_executor), its framework hears FAILURE. */
export async function onExecutorExited(
  parts: ExecutorReports,
  agentId: AgentId,
  message: WireExecutorRef & { readonly status: number | null },
): Promise<void> {
  const frameworkId = toFrameworkId(message.frameworkId);
  const executorId = toExecutorId(message.executorId);
  if (!parts.master.state().executors.has(executorKey(agentId, frameworkId, executorId))) {
    parts.logger.info({ agent: agentId, framework: frameworkId, executor: executorId }, 'an unknown executor exited');
    return;
  }
  const { result } = await parts.master.submit({ type: 'remove_executor', at: 0, agentId, frameworkId, executorId });
  parts.logger.info(
    { agent: agentId, framework: frameworkId, executor: executorId, status: message.status, ok: result.ok },
    'executor exited',
  );
  if (result.ok) parts.events.executorGone(frameworkId, agentId, executorId, message.status);
}

/** An executor's MESSAGE for its scheduler; only an executor the master has on that agent may speak. */
export function onExecutorMessage(
  parts: ExecutorReports,
  agentId: AgentId,
  message: Extract<AgentMessage, { type: 'executor_message' }>,
): void {
  const frameworkId = toFrameworkId(message.frameworkId);
  const known = parts.master.state().executors.has(executorKey(agentId, frameworkId, toExecutorId(message.executorId)));
  if (!known) {
    parts.logger.warn(
      { agent: agentId, framework: frameworkId, executor: message.executorId },
      'dropped a framework message from an executor the master does not have on that agent',
    );
    return;
  }
  parts.events.frameworkMessage(frameworkId, agentId, message.executorId, message.data);
}

/** The agent's live tasks (index), not every task in the history. */
const hasLiveTask = (state: ReadonlyState, agentId: AgentId, frameworkId: FrameworkId, executorId: string): boolean =>
  [...(state.derived.liveTasksByAgent.get(agentId) ?? [])].some((key) => {
    const task = state.tasks.get(key)!;
    return task.frameworkId === frameworkId && task.executor?.id === executorId && !isTerminalTaskState(task.state);
  });

/**
 * After a re-registration: the executors the master has on the agent that the agent no longer
 * runs are gone. One with a live task is kept: that task was launched after the agent's register
 * was sent (its launch is sent again, agent-registration.ts), or its terminal update is on the
 * way, after which the agent reports the executor exited.
 */
export async function removeUnreportedExecutors(
  parts: ExecutorReports,
  agentId: AgentId,
  reported: readonly WireExecutorRef[],
): Promise<void> {
  const state = parts.master.state();
  const live = new Set(
    reported.map((ref) => executorKey(agentId, toFrameworkId(ref.frameworkId), toExecutorId(ref.executorId))),
  );
  // The agent's executors (index): after a failover every agent re-registers at once, and a walk
  // of every executor per registration was O(agents × executors) on the new leader's loop.
  for (const key of [...(state.derived.executorsByAgent.get(agentId) ?? [])]) {
    const executor = state.executors.get(key);
    // Gone meanwhile (each removal below awaits its commit): nothing left to remove.
    if (executor === undefined || live.has(key)) continue;
    if (hasLiveTask(state, agentId, executor.frameworkId, executor.info.id)) continue;
    await onExecutorExited(parts, toAgentId(agentId), {
      frameworkId: executor.frameworkId,
      executorId: executor.info.id,
      status: null,
    });
  }
}
