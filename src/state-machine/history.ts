// Bounded history, as Mesos bounds it, pruned inside apply so every replica forgets the same
// things at the same index (and the state hash stays equal everywhere):
//  - a framework's completed tasks (task-predicates.ts `isCompletedTask`: terminal, nothing left
//    to acknowledge) beyond --max_completed_tasks_per_framework, oldest completion first;
//  - completed (torn-down) frameworks beyond --max_completed_frameworks, oldest first, with
//    every task they still had;
//  - unreachable agents and gone agents (each list on its own, as Mesos' registry GC) beyond
//    --registry_max_agent_count, oldest removal first, and those removed longer ago than
//    --registry_max_agent_age, measured with the command's leader-stamped `at` (never a clock).
//    An unreachable agent takes its still-unreachable tasks with it (master.cpp
//    `_doRegistryGc`): a framework reconciling one then hears TASK_UNKNOWN (or TASK_LOST).
//
// The work per command is proportional to what it changed: the tasks that completed in it, and
// the oldest entries of each list while they are beyond a limit. A change of the limits prunes
// at once (all frameworks' lists are looked at then, and only then).
import { assert } from '../util/assert.ts';
import type { Command, UpdateHistoryLimits } from './commands.ts';
import { success, type ApplyResult } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import type { AgentId, FrameworkId, LogIndex, TaskKey } from './ids.ts';
import { compareStrings } from './ordering.ts';
import type { RemovalQueue } from './removal-queue.ts';
import type { HistoryLimits, State } from './state.ts';
import { isLiveTask } from './task-predicates.ts';
import { removeExecutorsAmong } from './executors.ts';
import { deleteAgent, deleteFramework, deleteTask, sortedKeysOf } from './writes.ts';

export function applyUpdateHistoryLimits(state: State, command: UpdateHistoryLimits, index: LogIndex): ApplyResult {
  const limits: HistoryLimits = {
    maxCompletedFrameworks: command.maxCompletedFrameworks,
    maxCompletedTasksPerFramework: command.maxCompletedTasksPerFramework,
    maxRemovedAgentAgeMs: command.maxRemovedAgentAgeMs,
    maxRemovedAgentCount: command.maxRemovedAgentCount,
    modifyIndex: index,
  };
  state.historyLimits = limits;
  // Lower limits apply at once, to every framework (settleHistory looks at all of them now).
  return success;
}

/**
 * After every successful command: files the tasks that completed in it, then prunes what is
 * beyond the limits. A rejected command changed nothing, so nothing completed in it.
 */
export function settleHistory(state: State, command: Command, index: LogIndex, events: ChangeEvent[]): void {
  const limits = state.historyLimits;
  const touched = fileNewlyCompleted(state, index);
  const frameworks =
    command.type === 'update_history_limits' ? [...state.derived.completedTasksByFramework.keys()] : touched;
  if (limits.maxCompletedTasksPerFramework !== null) {
    for (const frameworkId of frameworks.sort(compareStrings))
      pruneCompletedTasks(state, frameworkId, limits.maxCompletedTasksPerFramework, events);
  }
  if (limits.maxCompletedFrameworks !== null) pruneCompletedFrameworks(state, limits.maxCompletedFrameworks, events);
  const at = 'at' in command ? command.at : null;
  for (const queue of [state.derived.unreachableAgents, state.derived.goneAgents])
    pruneRemovedAgents(state, queue, limits, at, index, events);
  assert(state.derived.newlyCompleted.length === 0, `apply ${index}: completed tasks left unfiled`);
}

/** Appends this command's completions to their frameworks' lists, in key order; returns those frameworks. */
function fileNewlyCompleted(state: State, index: LogIndex): FrameworkId[] {
  const pending = state.derived.newlyCompleted;
  if (pending.length === 0) return [];
  const touched = new Set<FrameworkId>();
  for (const key of pending.splice(0).sort(compareStrings)) {
    const task = state.tasks.get(key);
    assert(task !== undefined, `completed task ${key} is not in the state`);
    state.derived.fileCompleted(key, task.frameworkId, index);
    touched.add(task.frameworkId);
  }
  return [...touched];
}

function pruneTask(state: State, key: TaskKey, events: ChangeEvent[]): void {
  const task = deleteTask(state, key);
  events.push({ type: 'TASK_PRUNED', task });
}

function pruneCompletedTasks(state: State, frameworkId: FrameworkId, limit: number, events: ChangeEvent[]): void {
  const completed = state.derived.completedTasksByFramework.get(frameworkId);
  // Each pass removes the oldest: Set iteration starts at the first key still present.
  while (completed !== undefined && completed.size > limit) {
    const oldest = completed.values().next().value as TaskKey;
    pruneTask(state, oldest, events);
  }
}

function pruneCompletedFrameworks(state: State, limit: number, events: ChangeEvent[]): void {
  const completed = state.derived.completedFrameworks;
  while (completed.size > limit) {
    const oldest = completed.values().next().value as FrameworkId;
    // Its tasks first, in key order: all terminal (a completed framework has no live task).
    for (const key of sortedKeysOf(state.derived.tasksByFramework.get(oldest))) {
      const task = state.tasks.get(key);
      assert(task !== undefined && !isLiveTask(task), `completed framework ${oldest} has live task ${key}`);
      pruneTask(state, key, events);
    }
    const framework = deleteFramework(state, oldest);
    events.push({ type: 'FRAMEWORK_PRUNED', framework });
  }
}

/** Beyond the count, then older than the age (strictly, as Mesos: `age > registry_max_agent_age`). */
function pruneRemovedAgents(
  state: State,
  queue: RemovalQueue,
  limits: HistoryLimits,
  at: number | null,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  const { maxRemovedAgentCount: count, maxRemovedAgentAgeMs: age } = limits;
  while (count !== null && queue.size > count) pruneAgent(state, queue.oldest()!.agentId, index, events);
  if (age === null || at === null) return;
  for (let oldest = queue.oldest(); oldest !== undefined && at - oldest.removedAt > age; oldest = queue.oldest())
    pruneAgent(state, oldest.agentId, index, events);
}

function pruneAgent(state: State, agentId: AgentId, index: LogIndex, events: ChangeEvent[]): void {
  for (const key of sortedKeysOf(state.derived.liveTasksByAgent.get(agentId))) pruneTask(state, key, events);
  // An unreachable agent keeps its executors (it may return); forgotten, it takes them along.
  removeExecutorsAmong(state, state.derived.executorsByAgent.get(agentId), index, events);
  const agent = deleteAgent(state, agentId);
  assert(agent.state === 'UNREACHABLE' || agent.state === 'GONE', `pruned agent ${agentId} was ${agent.state}`);
  events.push({ type: 'AGENT_PRUNED', agent });
}
