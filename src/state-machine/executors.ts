// Executors: a framework's own (CUSTOM) or Flotilla's task-group executor (DEFAULT) on one
// agent. The first task that names an executor id on an agent makes it, and its resources are
// charged to the agent's books on top of the tasks' (master.cpp `addExecutor`); later tasks
// naming it must carry the same ExecutorInfo (Mesos: "ExecutorInfo is not compatible"). It goes
// when the agent reports it gone, or with its agent (gone) or its framework (torn down).
import type { RemoveExecutor } from './commands.ts';
import { chargeUsed, releaseUsed } from './agent-accounting.ts';
import { assert } from '../util/assert.ts';
import { canonicalJson } from './canonical-json.ts';
import { executorContainerProblem } from './container-rules.ts';
import { reject, success, type ApplyResult, type Rejection } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import { executorKey, type AgentId, type ExecutorKey, type FrameworkId, type LogIndex } from './ids.ts';
import { sortedKeysOf } from './writes.ts';
import type { Role } from './roles.ts';
import type { Executor, ReadonlyState, State, Task } from './state.ts';
import { liveTasksAmong, masterStatus, transitionTasks } from './task-lifecycle.ts';
import type { ExecutorDefinition } from './values.ts';

/** What a LAUNCH (CUSTOM executors) or a LAUNCH_GROUP (DEFAULT) may name. */
export function executorProblem(executor: ExecutorDefinition, operation: 'LAUNCH' | 'LAUNCH_GROUP'): Rejection | null {
  if (operation === 'LAUNCH' && executor.type !== 'CUSTOM')
    return reject('INVALID_EXECUTOR', `executor ${executor.id}: a DEFAULT executor runs task groups (LAUNCH_GROUP)`);
  if (operation === 'LAUNCH_GROUP' && executor.type !== 'DEFAULT')
    return reject('INVALID_EXECUTOR', `executor ${executor.id}: a task group runs on a DEFAULT executor`);
  if (executor.type === 'CUSTOM' && executor.command === null)
    return reject('INVALID_EXECUTOR', `executor ${executor.id}: a CUSTOM executor needs a command`);
  if (executor.type === 'DEFAULT' && executor.command !== null)
    return reject('INVALID_EXECUTOR', `executor ${executor.id}: a DEFAULT executor takes no command`);
  const container = executorContainerProblem(executor);
  if (container !== null)
    return reject('INVALID_EXECUTOR', `executor ${executor.id}: ${container.field}: ${container.message}`);
  return null;
}

/**
 * Whether a launch of a task on `executor` needs the executor made (true), finds it running or
 * already planned by the same ACCEPT with the same info (false), or is refused.
 */
export function planExecutor(
  state: State,
  agentId: AgentId,
  frameworkId: FrameworkId,
  executor: ExecutorDefinition,
  planned: ReadonlyMap<ExecutorKey, ExecutorDefinition>,
): boolean | Rejection {
  const key = executorKey(agentId, frameworkId, executor.id);
  const existing = state.executors.get(key)?.info ?? planned.get(key);
  if (existing === undefined) return true;
  if (canonicalJson(existing) === canonicalJson(executor)) return false;
  return reject(
    'EXECUTOR_INFO_MISMATCH',
    `executor ${executor.id} runs on agent ${agentId} with another ExecutorInfo; a task must name it as it was launched`,
  );
}

/**
 * Whether `task` could run on this state's executors: it names none, or its executor is on its
 * agent with the ExecutorInfo it was launched with (not removed, nor replaced by another launch).
 */
export function findsItsExecutor(state: ReadonlyState, task: Task): boolean {
  if (task.executor === null) return true;
  const executor = state.executors.get(executorKey(task.agentId, task.frameworkId, task.executor.id));
  return executor !== undefined && canonicalJson(executor.info) === canonicalJson(task.executor);
}

export function addExecutor(
  state: State,
  info: ExecutorDefinition,
  placement: { readonly frameworkId: FrameworkId; readonly agentId: AgentId; readonly role: Role },
  at: number,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  const key = executorKey(placement.agentId, placement.frameworkId, info.id);
  assert(!state.executors.has(key), `executor ${key} already exists`);
  chargeUsed(state, placement.agentId, info.resources, index);
  const executor: Executor = { ...placement, info, createdAt: at, createIndex: index, modifyIndex: index };
  state.executors.set(key, executor);
  state.derived.noteExecutor(executor, true);
  events.push({ type: 'EXECUTOR_ADDED', executor });
}

function removeExecutor(state: State, executor: Executor, index: LogIndex, events: ChangeEvent[]): void {
  const key = executorKey(executor.agentId, executor.frameworkId, executor.info.id);
  assert(state.executors.get(key) === executor, `executor ${key} is not the current version`);
  releaseUsed(state, executor.agentId, executor.info.resources, index);
  state.executors.delete(key);
  state.derived.noteExecutor(executor, false);
  events.push({ type: 'EXECUTOR_REMOVED', executor });
}

/**
 * The executors filed under `keys` (an index set: the agent's or the framework's), in key order,
 * so every replica emits the same events in the same order whatever order its set was built in.
 */
export function removeExecutorsAmong(
  state: State,
  keys: ReadonlySet<ExecutorKey> | undefined,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  for (const key of sortedKeysOf(keys)) removeExecutor(state, state.executors.get(key)!, index, events);
}

/**
 * The agent sends its tasks' terminal updates before it reports their executor gone; a task still
 * live here missed them (they are lost with the agent's checkpoint, say), and is lost with its executor.
 */
export function applyRemoveExecutor(
  state: State,
  command: RemoveExecutor,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const executor = state.executors.get(executorKey(command.agentId, command.frameworkId, command.executorId));
  if (executor === undefined) {
    return reject(
      'EXECUTOR_NOT_FOUND',
      `framework ${command.frameworkId} has no executor ${command.executorId} on agent ${command.agentId}`,
    );
  }
  transitionTasks(
    state,
    liveTasksAmong(state, state.derived.liveTasksByAgent.get(executor.agentId)).filter(
      (task) => task.frameworkId === executor.frameworkId && task.executor?.id === executor.info.id,
    ),
    () =>
      masterStatus(
        'TASK_LOST',
        'REASON_EXECUTOR_TERMINATED',
        `executor ${executor.info.id} is gone from agent ${executor.agentId}`,
        command.at,
        index,
      ),
    index,
    events,
  );
  removeExecutor(state, executor, index, events);
  return success;
}
