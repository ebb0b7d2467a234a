// Which status updates a framework must hear, from the replicated state (pure functions): those
// it still has to acknowledge (sent again on re-subscribe and on every retry round) and the answers to
// RECONCILE (master.cpp `_reconcileTasks`: the latest state of a known task, and for an
// unknown one a state that says what the master knows of its agent).
import type { SchedulerEvent } from '../../protocol/scheduler.ts';
import { isTerminalTaskState, type TaskState } from '../../protocol/task-states.ts';
import { taskKey, type AgentId, type TaskId, type TaskKey } from '../../state-machine/ids.ts';
import type { Framework, ReadonlyState, Task, TaskStatus } from '../../state-machine/state.ts';
import { isCompletedTask, needsAcknowledgement } from '../../state-machine/task-predicates.ts';
import { masterUpdateEvent, updateEvent } from './events.ts';
import type { TaskReference } from './call.ts';

export interface PendingUpdate {
  readonly task: Task;
  readonly status: TaskStatus;
}

/**
 * What a framework still has to hear again, per task: its oldest unacknowledged update (Mesos'
 * status update manager keeps one update of a task in flight, the oldest, and sends the next
 * once it is acknowledged), and after it the terminal update if that one waits too: its
 * acknowledgement completes the task (command format 10, state-machine/apply-tasks.ts), so the
 * framework learns how the task ended at once and the updates between are never needed. Sent on
 * re-subscription (sessions.ts) for the tasks under `keys` (the framework's unacknowledged tasks
 * then, in the order they became so), each read from `state()` as the stream writes it
 * (session.ts `sendInSlices`): null for a task acknowledged or pruned since. Sorting and building
 * 100,000 of them up front held the leader's loop ~150 ms (issue 12). The retry rounds send the
 * same per task (update-retries.ts).
 */
export function* updatesToResend(
  state: () => ReadonlyState,
  keys: readonly TaskKey[],
): Generator<SchedulerEvent | null, void, undefined> {
  for (const key of keys) {
    const task = state().tasks.get(key);
    const pending = task === undefined ? [] : taskUpdatesToResend(task);
    if (pending.length === 0) yield null;
    for (const update of pending) yield pendingUpdateEvent(update);
  }
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
 * master holds for the framework: the live ones, then the terminal ones whose last update is
 * still unacknowledged (the state's indexes, in the order tasks entered them). Produced as the
 * stream writes it (session.ts `sendInSlices`), each task read from `state()` then (null for one
 * no longer held): 100,000 answers built in one turn held the leader's loop (issue 12).
 */
export function* reconciliationAnswers(
  state: () => ReadonlyState,
  framework: Framework,
  references: readonly TaskReference[],
  nowMs: number,
): Generator<SchedulerEvent | null, void, undefined> {
  if (references.length > 0) {
    for (const reference of references) {
      const task = state().tasks.get(taskKey(framework.id, reference.taskId as TaskId));
      yield task === undefined || !heldByMaster(task)
        ? unknownTaskEvent(state(), framework, reference, nowMs)
        : latestStateEvent(task, nowMs);
    }
    return;
  }
  const { liveTasksByFramework, unacknowledgedTasksByFramework } = state().derived;
  const live = [...(liveTasksByFramework.get(framework.id) ?? [])];
  const unacknowledged = [...(unacknowledgedTasksByFramework.get(framework.id) ?? [])];
  for (const key of live) {
    const task = state().tasks.get(key);
    yield task !== undefined && heldByMaster(task) ? latestStateEvent(task, nowMs) : null;
  }
  // The live ones among them were answered above.
  for (const key of unacknowledged) {
    const task = state().tasks.get(key);
    yield task !== undefined && heldByMaster(task) && isTerminalTaskState(task.state)
      ? latestStateEvent(task, nowMs)
      : null;
  }
}

/** `reconciliationAnswers` of the state now, all at once (a few tasks: KILL of an unknown one, tests). */
export function reconcileEvents(
  state: ReadonlyState,
  framework: Framework,
  references: readonly TaskReference[],
  nowMs: number,
): SchedulerEvent[] {
  const answers: SchedulerEvent[] = [];
  for (const answer of reconciliationAnswers(() => state, framework, references, nowMs))
    if (answer !== null) answers.push(answer);
  return answers;
}
