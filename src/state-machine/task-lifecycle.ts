// Recording task status updates: the newest status sets the state, a terminal status releases the
// task's resources on its agent, and a terminal state is final (asserted: callers reject first).
import { releaseUsed } from './agent-accounting.ts';
import { assert } from '../util/assert.ts';
import type { ChangeEvent } from './events.ts';
import { taskKey, type LogIndex, type TaskKey } from './ids.ts';
import { maxStatusHistory } from './limits.ts';
import type { State, Task, TaskStatus } from './state.ts';
import { taskWith } from './task-records.ts';
import { putTask, sortedKeysOf } from './writes.ts';
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
  const updated = taskWith(task, { state: status.state, statuses, modifyIndex: index });
  if (isTerminalTaskState(status.state)) releaseUsed(state, task.agentId, task.resources, index);
  putTask(state, updated);
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

/**
 * The live tasks among `keys` (an index set: one agent's or one framework's live tasks), in key
 * order. The copy is taken before anything changes, so callers may transition them one by one.
 */
export function liveTasksAmong(state: State, keys: ReadonlySet<TaskKey> | undefined): Task[] {
  return sortedKeysOf(keys).map((key) => {
    const task = state.tasks.get(key);
    assert(task !== undefined && !isTerminalTaskState(task.state), `indexed live task ${key} is not live`);
    return task;
  });
}

/** Moves each task to the status `statusFor` gives it, in the order given (key order). */
export function transitionTasks(
  state: State,
  tasks: readonly Task[],
  statusFor: (task: Task) => TaskStatus,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  for (const task of tasks) recordTaskStatus(state, task, statusFor(task), index, events);
}
