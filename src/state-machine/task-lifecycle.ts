// Recording task status updates: the newest status sets the state, a terminal status releases the
// task's resources on its agent, and a terminal state is final (asserted: callers reject first).
import { releaseUsed } from './agent-accounting.ts';
import { assert } from '../util/assert.ts';
import type { ChangeEvent } from './events.ts';
import { taskKey, type LogIndex } from './ids.ts';
import { maxStatusHistory } from './limits.ts';
import { sortedValues } from './ordering.ts';
import type { State, Task, TaskStatus } from './state.ts';
import { isTerminalTaskState, type TaskReason, type TaskState } from '../protocol/task-states.ts';

export function recordTaskStatus(
  state: State,
  task: Task,
  status: TaskStatus,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  const key = taskKey(task.frameworkId, task.id);
  assert(state.tasks.get(key) === task, `task ${key} is not the current version`);
  assert(!isTerminalTaskState(task.state), `task ${key} is terminal (${task.state}) and cannot change`);
  const statuses = [...task.statuses, status].slice(-maxStatusHistory);
  const updated: Task = { ...task, state: status.state, statuses, modifyIndex: index };
  if (isTerminalTaskState(status.state)) releaseUsed(state, task.agentId, task.resources, index);
  state.tasks.set(key, updated);
  events.push({ type: 'TASK_UPDATED', task: updated, status });
}

/** A status the master makes itself (agent lost, framework removed…): nothing to acknowledge. */
export function masterStatus(
  state: TaskState,
  reason: TaskReason,
  message: string,
  at: number,
  index: LogIndex,
): TaskStatus {
  return {
    state,
    reason,
    message,
    source: 'SOURCE_MASTER',
    uuid: null,
    timestampMs: at,
    healthy: null,
    data: null,
    acknowledged: false,
    receivedAt: at,
    index,
  };
}

/** Live tasks matching `predicate`, in key order. */
export function liveTasksWhere(state: State, predicate: (task: Task) => boolean): Task[] {
  return sortedValues(state.tasks).filter((task) => !isTerminalTaskState(task.state) && predicate(task));
}

/** Moves each live task matching `predicate` to the status `statusFor` gives it. */
export function transitionLiveTasks(
  state: State,
  predicate: (task: Task) => boolean,
  statusFor: (task: Task) => TaskStatus,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  for (const task of liveTasksWhere(state, predicate)) {
    recordTaskStatus(state, task, statusFor(task), index, events);
  }
}
