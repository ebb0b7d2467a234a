// What a task's statuses say about where it stands, in one place: the indexes (derived-indexes.ts),
// history pruning (history.ts), the scheduler API's retries and reconciliation, and the
// operator views all ask these, so they cannot disagree on which task is completed.
import { isTerminalTaskState } from '../protocol/task-states.ts';
import type { Task, TaskStatus } from './state.ts';

/** An update the framework must acknowledge: it carries a uuid (the master's own have none) and is not acknowledged yet. */
export const needsAcknowledgement = (status: TaskStatus): boolean => status.uuid !== null && !status.acknowledged;

export const hasUnacknowledgedStatus = (task: Task): boolean => task.statuses.some(needsAcknowledgement);

export const isLiveTask = (task: Task): boolean => !isTerminalTaskState(task.state);

/**
 * The TASK_LOST the master gives a non-partition-aware framework's task when its agent becomes
 * unreachable (apply-agents.ts `applyUpdateAgentState`). It is the one terminal status that may be
 * followed by another: the agent may return with the task still running (command format 11,
 * reregister_agent's `restoresLostTasks`), as Mesos re-adds an unreachable agent's tasks.
 */
export const isUnreachableLoss = (status: TaskStatus): boolean =>
  status.state === 'TASK_LOST' && status.source === 'SOURCE_MASTER' && status.reason === 'REASON_AGENT_REMOVED';

/**
 * Completed, as Mesos moves a task to its framework's completed tasks: terminal, and no update
 * of it is waiting for an acknowledgement (the terminal one acknowledged, or made by the master
 * with no uuid). A completed task never changes again, but for an unreachable loss
 * (`isUnreachableLoss`) whose agent returns; only completed tasks are pruned, so nothing a
 * framework still has to acknowledge is ever forgotten.
 */
export const isCompletedTask = (task: Task): boolean =>
  isTerminalTaskState(task.state) && !hasUnacknowledgedStatus(task);
