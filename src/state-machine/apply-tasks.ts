// Task status updates, acknowledgements and kill requests. Agents resend unacknowledged updates
// (at-least-once), so a resent uuid is rejected with DUPLICATE_STATUS_UUID, which the caller
// treats as already recorded. A terminal state is final: anything but an acknowledgement of a
// terminal task is rejected with TASK_TERMINAL. Acknowledging a terminal task's last update
// completes it, superseding its earlier unacknowledged updates, when the command says so
// (command format 10: AcknowledgeTaskStatus.completesTerminalTask).
import type { AcknowledgeTaskStatus, KillTask, UpdateTaskStatus } from './commands.ts';
import { reject, success, type ApplyResult } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import { taskKey, type AgentId, type FrameworkId, type LogIndex, type TaskId } from './ids.ts';
import type { State, Task } from './state.ts';
import { recordTaskStatus } from './task-lifecycle.ts';
import { needsAcknowledgement } from './task-predicates.ts';
import { recordedStatus, taskWith } from './task-records.ts';
import { putTask } from './writes.ts';
import { isTerminalTaskState } from '../protocol/task-states.ts';

function findTask(state: State, frameworkId: FrameworkId, taskId: TaskId, agentId: AgentId | null): Task | ApplyResult {
  const task = state.tasks.get(taskKey(frameworkId, taskId));
  if (task === undefined) return reject('TASK_NOT_FOUND', `framework ${frameworkId} has no task ${taskId}`);
  if (agentId !== null && task.agentId !== agentId)
    return reject('TASK_AGENT_MISMATCH', `task ${taskId} runs on agent ${task.agentId}`);
  return task;
}

const isResult = (value: Task | ApplyResult): value is ApplyResult => 'ok' in value;

export function applyUpdateTaskStatus(
  state: State,
  command: UpdateTaskStatus,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const task = findTask(state, command.frameworkId, command.taskId, command.agentId);
  if (isResult(task)) return task;
  if (isTerminalTaskState(task.state)) return reject('TASK_TERMINAL', `task ${task.id} is ${task.state}`);
  const report = command.status;
  if (report.state === 'TASK_STAGING') return reject('INVALID_TASK_STATE', 'only a launch puts a task in TASK_STAGING');
  if (report.uuid !== null && task.statuses.some((status) => status.uuid === report.uuid)) {
    return reject('DUPLICATE_STATUS_UUID', `task ${task.id} already has status ${report.uuid}`);
  }
  recordTaskStatus(state, task, recordedStatus(report, false, command.at, index), index, events);
  return success;
}

export function applyAcknowledgeTaskStatus(state: State, command: AcknowledgeTaskStatus, index: LogIndex): ApplyResult {
  const task = findTask(state, command.frameworkId, command.taskId, command.agentId);
  if (isResult(task)) return task;
  const position = task.statuses.findIndex((status) => status.uuid === command.uuid);
  const status = task.statuses[position];
  if (status === undefined) return reject('STATUS_UUID_NOT_FOUND', `task ${task.id} has no status ${command.uuid}`);
  if (status.acknowledged)
    return reject('STATUS_ALREADY_ACKNOWLEDGED', `status ${command.uuid} was already acknowledged`);
  const completes = command.completesTerminalTask === true && completesTask(task, position);
  const statuses = task.statuses.map((each, at) =>
    at === position || (completes && needsAcknowledgement(each))
      ? recordedStatus(each, true, each.receivedAt, each.index)
      : each,
  );
  putTask(state, taskWith(task, { statuses, modifyIndex: index }));
  return success;
}

/**
 * Whether acknowledging the status at `position` completes the task, as Mesos'
 * `Master::acknowledge` removes it: the task is terminal and the acknowledged update is its
 * latest (the one that made it terminal: a terminal state is final, so nothing follows it).
 */
const completesTask = (task: Task, position: number): boolean =>
  isTerminalTaskState(task.state) && position === task.statuses.length - 1;

/**
 * Kill requests repeat (a framework retries KILL); the first request's time is kept. Every
 * request emits TASK_KILL_REQUESTED, so a retried KILL reaches an agent that missed the first.
 */
export function applyKillTask(state: State, command: KillTask, index: LogIndex, events: ChangeEvent[]): ApplyResult {
  const task = findTask(state, command.frameworkId, command.taskId, null);
  if (isResult(task)) return task;
  if (isTerminalTaskState(task.state)) return reject('TASK_TERMINAL', `task ${task.id} is ${task.state}`);
  if (task.killRequestedAt !== null) {
    events.push({ type: 'TASK_KILL_REQUESTED', task });
    return success;
  }
  const updated = taskWith(task, { killRequestedAt: command.at, modifyIndex: index });
  putTask(state, updated);
  events.push({ type: 'TASK_KILL_REQUESTED', task: updated });
  return success;
}
