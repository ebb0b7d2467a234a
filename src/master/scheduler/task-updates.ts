// Which status updates a framework must hear, from the replicated state (pure functions): those
// it still has to acknowledge (sent again on re-subscribe and on every retry round) and the answers to
// RECONCILE (master.cpp `_reconcileTasks`: the latest state of a known task, and for an
// unknown one a state that says what the master knows of its agent).
import type { SchedulerEvent } from '../../protocol/scheduler.ts';
import { isTerminalTaskState, type TaskState } from '../../protocol/task-states.ts';
import { taskKey, type AgentId, type FrameworkId, type TaskId, type TaskKey } from '../../state-machine/ids.ts';
import { compareStrings } from '../../state-machine/ordering.ts';
import type { Framework, ReadonlyState, Task, TaskStatus } from '../../state-machine/state.ts';
import { isCompletedTask, needsAcknowledgement } from '../../state-machine/task-predicates.ts';
import { masterUpdateEvent, updateEvent } from './events.ts';
import type { TaskReference } from './call.ts';

export interface PendingUpdate {
  readonly task: Task;
  readonly status: TaskStatus;
}

/** The tasks under `keys` (from the state's indexes), in key order (keys are "<framework>/<task>"). */
function tasksAt(state: ReadonlyState, keys: Iterable<TaskKey>): Task[] {
  return [...keys].sort(compareStrings).map((key) => {
    const task = state.tasks.get(key);
    if (task === undefined) throw new Error(`indexed task ${key} is not in the state`);
    return task;
  });
}

/** The framework's tasks with an update it has not acknowledged, in key order (an index: no scan). */
function tasksWithUnacknowledged(state: ReadonlyState, frameworkId: string): Task[] {
  return tasksAt(state, state.derived.unacknowledgedTasksByFramework.get(frameworkId as FrameworkId) ?? []);
}

/**
 * What a framework still has to hear again, per task in key order: its oldest unacknowledged
 * update (Mesos' status update manager keeps one update of a task in flight, the oldest, and
 * sends the next once it is acknowledged), and after it the terminal update if that one waits
 * too: its acknowledgement completes the task (command format 10, state-machine/apply-tasks.ts),
 * so the framework learns how the task ended at once and the updates between are never needed.
 * Sent on every retry round (update-retries.ts) and on re-subscription (sessions.ts).
 */
export function updatesToResend(state: ReadonlyState, frameworkId: string): PendingUpdate[] {
  return tasksWithUnacknowledged(state, frameworkId).flatMap(taskUpdatesToResend);
}

/** One task's share of `updatesToResend`: its oldest unacknowledged update and a waiting terminal one. */
export function taskUpdatesToResend(task: Task): PendingUpdate[] {
  const pending: PendingUpdate[] = [];
  const oldest = task.statuses.find(needsAcknowledgement);
  if (oldest !== undefined) pending.push({ task, status: oldest });
  const latest = task.statuses[task.statuses.length - 1];
  if (latest !== undefined && latest !== oldest && needsAcknowledgement(latest) && isTerminalTaskState(latest.state))
    pending.push({ task, status: latest });
  return pending;
}

export const pendingUpdateEvent = (pending: PendingUpdate): SchedulerEvent => updateEvent(pending.task, pending.status);

/**
 * Whether Mesos' master would still hold the task in `framework->tasks`: a live task, or a
 * terminal one whose update is not yet acknowledged. Once acknowledged it is a completed task,
 * which RECONCILE and KILL treat as unknown (master.cpp `_reconcileTasks`, `kill`), exactly as a
 * completed task that history pruning has forgotten since (state-machine/history.ts).
 */
export const heldByMaster = (task: Task): boolean => !isCompletedTask(task);

/** The tasks the master holds for a framework (live, or waiting for an acknowledgement), in key order. */
function heldTasks(state: ReadonlyState, frameworkId: FrameworkId): Task[] {
  const { liveTasksByFramework, unacknowledgedTasksByFramework } = state.derived;
  const keys = new Set([
    ...(liveTasksByFramework.get(frameworkId) ?? []),
    ...(unacknowledgedTasksByFramework.get(frameworkId) ?? []),
  ]);
  return tasksAt(state, keys);
}

const partitionAware = (framework: Framework): boolean => framework.info.capabilities.includes('PARTITION_AWARE');

function latestStateEvent(task: Task, nowMs: number): SchedulerEvent {
  const latest = task.statuses[task.statuses.length - 1];
  return masterUpdateEvent(
    task.id,
    task.agentId,
    task.state,
    'REASON_RECONCILIATION',
    'Reconciliation: Latest task state',
    nowMs,
    latest?.healthy ?? null,
  );
}

/** A task the master does not know: what it can say depends on what it knows of the agent. */
function unknownTaskEvent(
  state: ReadonlyState,
  framework: Framework,
  reference: TaskReference,
  nowMs: number,
): SchedulerEvent {
  const aware = partitionAware(framework);
  const agent = reference.agentId === null ? undefined : state.agents.get(reference.agentId as AgentId);
  let taskState: TaskState = aware ? 'TASK_UNKNOWN' : 'TASK_LOST';
  let message = 'Reconciliation: Task is unknown';
  if (agent?.state === 'ACTIVE')
    [taskState, message] = [aware ? 'TASK_GONE' : 'TASK_LOST', 'Reconciliation: Task is unknown to the agent'];
  else if (agent?.state === 'UNREACHABLE')
    [taskState, message] = [aware ? 'TASK_UNREACHABLE' : 'TASK_LOST', 'Reconciliation: Task is unreachable'];
  else if (agent?.state === 'GONE')
    [taskState, message] = [aware ? 'TASK_GONE_BY_OPERATOR' : 'TASK_LOST', 'Reconciliation: Task is gone'];
  return masterUpdateEvent(
    reference.taskId,
    reference.agentId,
    taskState,
    'REASON_RECONCILIATION',
    message,
    nowMs,
    null,
  );
}

/**
 * Explicit reconciliation answers each listed task, a completed one as unknown (Mesos keeps
 * no completed task in `framework->tasks`); implicit (an empty list) answers every task the
 * master holds for the framework: the live ones and the terminal ones whose last update is
 * still unacknowledged.
 */
export function reconcileEvents(
  state: ReadonlyState,
  framework: Framework,
  references: readonly TaskReference[],
  nowMs: number,
): SchedulerEvent[] {
  if (references.length === 0) return heldTasks(state, framework.id).map((task) => latestStateEvent(task, nowMs));
  return references.map((reference) => {
    const task = state.tasks.get(taskKey(framework.id, reference.taskId as TaskId));
    return task === undefined || !heldByMaster(task)
      ? unknownTaskEvent(state, framework, reference, nowMs)
      : latestStateEvent(task, nowMs);
  });
}
