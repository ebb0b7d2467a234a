// Agents: register, re-register, state changes, mark gone. When an agent stops being ACTIVE its
// offers are removed (no offer may point at an agent that cannot run it); when it is lost or
// gone its live tasks get the state Mesos gives them (master.cpp, markUnreachable/markGone).
import type { MarkAgentGone, RegisterAgent, ReregisterAgent, UpdateAgentState } from './commands.ts';
import { chargeUsed, freeResources, setTotal } from './agent-accounting.ts';
import { carryReservations } from './apply-reservations.ts';
import { reject, success, type ApplyResult } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import { taskKey, type LogIndex } from './ids.ts';
import { findsItsExecutor, removeExecutorsAmong } from './executors.ts';
import { removeOffersOnAgent } from './offer-book.ts';
import { contains, emptyResources, rangesOverlapAcrossRoles, subtract, sum } from './resources.ts';
import type { Agent, Framework, State } from './state.ts';
import { liveTasksAmong, masterStatus, recordTaskStatus, transitionTasks } from './task-lifecycle.ts';
import { maxStatusHistory } from './limits.ts';
import { isUnreachableLoss } from './task-predicates.ts';
import { taskWith } from './task-records.ts';
import { putAgent, putTask } from './writes.ts';
import { isTerminalTaskState, type TaskState } from '../protocol/task-states.ts';

export function findLiveAgent(state: State, agentId: Agent['id']): Agent | ApplyResult {
  const agent = state.agents.get(agentId);
  if (agent === undefined) return reject('AGENT_NOT_FOUND', `agent ${agentId} is not registered`);
  if (agent.state === 'GONE') return reject('AGENT_GONE', `agent ${agentId} was marked gone`);
  return agent;
}

export const isResult = (value: Agent | ApplyResult): value is ApplyResult => 'ok' in value;

export function applyRegisterAgent(
  state: State,
  command: RegisterAgent,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  if (state.agents.has(command.agentId))
    return reject('AGENT_ALREADY_REGISTERED', `agent ${command.agentId} is already registered`);
  if (rangesOverlapAcrossRoles(command.info.resources)) {
    return reject('INVALID_RESOURCES', 'the same range value is listed under two roles');
  }
  const agent: Agent = {
    ...command.info,
    id: command.agentId,
    state: 'ACTIVE',
    deactivated: false,
    drain: null,
    used: emptyResources,
    offered: emptyResources,
    registeredAt: command.at,
    reregisteredAt: null,
    stateChangedAt: command.at,
    createIndex: index,
    modifyIndex: index,
  };
  putAgent(state, agent);
  events.push({ type: 'AGENT_ADDED', agent });
  return success;
}

/** Mesos: a partition-aware framework hears TASK_UNREACHABLE/TASK_DROPPED, others TASK_LOST. */
function lostState(framework: Framework | undefined, partitionAware: TaskState): TaskState {
  return framework?.info.capabilities.includes('PARTITION_AWARE') === true ? partitionAware : 'TASK_LOST';
}

export function applyReregisterAgent(
  state: State,
  command: ReregisterAgent,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const found = findLiveAgent(state, command.agentId);
  if (isResult(found)) return found;
  if (rangesOverlapAcrossRoles(command.info.resources)) {
    return reject('INVALID_RESOURCES', 'the same range value is listed under two roles');
  }
  const reported = new Set(command.tasks.map((reference) => taskKey(reference.frameworkId, reference.taskId)));
  const missing = liveTasksAmong(state, state.derived.liveTasksByAgent.get(found.id)).filter(
    (task) => !reported.has(taskKey(task.frameworkId, task.id)),
  );
  const stillUsed = subtract(found.used, sum(missing.map((task) => task.resources)));
  const total = command.keepsReservations
    ? carryReservations(found.resources, command.info.resources)
    : command.info.resources;
  if (!contains(total, stillUsed)) {
    return reject('RESOURCES_INSUFFICIENT', `agent ${found.id} reports fewer resources than its tasks use`);
  }
  removeOffersOnAgent(state, found.id, 'AGENT_CHANGED', index, events);
  for (const task of missing) {
    const status = lostState(state.frameworks.get(task.frameworkId), 'TASK_DROPPED');
    const message = 'the re-registering agent does not report this task';
    recordTaskStatus(
      state,
      task,
      masterStatus(status, 'REASON_RECONCILIATION', message, command.at, index),
      index,
      events,
    );
  }
  restoreReachedTasks(state, command, index, events);
  setTotal(state, found.id, total, index);
  if (command.restoresLostTasks !== undefined && found.state === 'UNREACHABLE')
    restoreLostTasks(state, command, index, events);
  const current = state.agents.get(found.id) ?? found;
  const nextState = found.state === 'UNREACHABLE' ? 'ACTIVE' : found.state;
  const agent: Agent = {
    ...current,
    ...command.info,
    resources: total,
    state: nextState,
    reregisteredAt: command.at,
    stateChangedAt: nextState === found.state ? found.stateChangedAt : command.at,
    modifyIndex: index,
  };
  putAgent(state, agent);
  if (found.state === 'UNREACHABLE') events.push({ type: 'AGENT_ADDED', agent });
  return success;
}

/**
 * A task held TASK_UNREACHABLE while its agent was away takes the live state the returning agent
 * reports (Mesos re-adds a partition-aware framework's tasks as the agent has them). Without this
 * a task whose TASK_RUNNING was acknowledged before the partition stays unreachable for good: the
 * agent has no update left to send. Terminal states reported here come as the agent's own
 * unacknowledged updates, so only live ones are taken.
 */
function restoreReachedTasks(state: State, command: ReregisterAgent, index: LogIndex, events: ChangeEvent[]): void {
  for (const reference of command.tasks) {
    if (reference.state === null || isTerminalTaskState(reference.state)) continue;
    if (reference.state === 'TASK_UNREACHABLE' || reference.state === 'TASK_UNKNOWN') continue;
    const task = state.tasks.get(taskKey(reference.frameworkId, reference.taskId));
    if (task === undefined || task.agentId !== command.agentId || task.state !== 'TASK_UNREACHABLE') continue;
    const message = `agent ${command.agentId} re-registered and reports the task ${reference.state}`;
    recordTaskStatus(
      state,
      task,
      masterStatus(reference.state, 'REASON_AGENT_REREGISTERED', message, command.at, index),
      index,
      events,
    );
  }
}

/**
 * A non-partition-aware framework's task made TASK_LOST only because its agent was unreachable
 * (`isUnreachableLoss`) and reported live by the returning agent takes the reported state again,
 * holds its resources again and is live in the indexes (Mesos' `_reregisterSlave` re-adds the
 * tasks the agent reports; MasterTest.UnreachableTaskAfterFailover). Command format 11. A task
 * already pruned from history cannot come back (the agent reports only its id), nor one whose
 * framework completed, nor one that no longer fits the agent's reported resources (in report
 * order): the gateway tells the agent to kill those, as before. With format 12's 'checked' nor
 * one whose executor was removed or replaced while the agent was away: a correct agent does not
 * report such a task, but a buggy or hostile one must not make the state hold a live task without
 * its executor (format 11 did; no snapshot of that state restores).
 */
function restoreLostTasks(state: State, command: ReregisterAgent, index: LogIndex, events: ChangeEvent[]): void {
  for (const reference of command.tasks) {
    if (reference.state === null || isTerminalTaskState(reference.state)) continue;
    if (reference.state === 'TASK_UNREACHABLE' || reference.state === 'TASK_UNKNOWN') continue;
    const task = state.tasks.get(taskKey(reference.frameworkId, reference.taskId));
    if (task === undefined || task.agentId !== command.agentId || task.state !== 'TASK_LOST') continue;
    if (!isUnreachableLoss(task.statuses[task.statuses.length - 1]!)) continue;
    const framework = state.frameworks.get(task.frameworkId);
    if (framework === undefined || framework.state === 'COMPLETED') continue;
    if (command.restoresLostTasks === 'checked' && !findsItsExecutor(state, task)) continue;
    const agent = state.agents.get(command.agentId);
    if (agent === undefined || !contains(freeResources(agent), task.resources)) continue;
    const status = masterStatus(
      reference.state,
      'REASON_AGENT_REREGISTERED',
      `agent ${command.agentId} re-registered and reports the task ${reference.state}`,
      command.at,
      index,
    );
    const statuses = [...task.statuses, status].slice(-maxStatusHistory);
    const restored = taskWith(task, { state: status.state, statuses, modifyIndex: index });
    chargeUsed(state, task.agentId, task.resources, index);
    putTask(state, restored);
    events.push({ type: 'TASK_UPDATED', task: restored, status });
  }
}

export function applyUpdateAgentState(
  state: State,
  command: UpdateAgentState,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const found = findLiveAgent(state, command.agentId);
  if (isResult(found)) return found;
  if (found.state === command.state) return success;
  removeOffersOnAgent(state, found.id, 'AGENT_CHANGED', index, events);
  transitionTasks(
    state,
    liveTasksAmong(state, state.derived.liveTasksByAgent.get(found.id)),
    (task) =>
      masterStatus(
        lostState(state.frameworks.get(task.frameworkId), 'TASK_UNREACHABLE'),
        'REASON_AGENT_REMOVED',
        `agent ${found.id} is unreachable`,
        command.at,
        index,
      ),
    index,
    events,
  );
  const current = state.agents.get(found.id) ?? found;
  putAgent(state, { ...current, state: command.state, stateChangedAt: command.at, modifyIndex: index });
  // Mesos' operator stream announces an unreachable agent as removed, and its return as added.
  events.push({ type: 'AGENT_REMOVED', agentId: found.id });
  return success;
}

export function applyMarkAgentGone(
  state: State,
  command: MarkAgentGone,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const found = findLiveAgent(state, command.agentId);
  if (isResult(found)) return found;
  markGone(state, found, command.at, index, events);
  return success;
}

/** MARK_AGENT_GONE, or the end of a drain with mark_gone: nothing can fail any more. */
export function markGone(state: State, found: Agent, at: number, index: LogIndex, events: ChangeEvent[]): void {
  removeOffersOnAgent(state, found.id, 'AGENT_CHANGED', index, events);
  transitionTasks(
    state,
    liveTasksAmong(state, state.derived.liveTasksByAgent.get(found.id)),
    () =>
      masterStatus(
        'TASK_GONE_BY_OPERATOR',
        'REASON_AGENT_REMOVED_BY_OPERATOR',
        `agent ${found.id} was marked gone`,
        at,
        index,
      ),
    index,
    events,
  );
  removeExecutorsAmong(state, state.derived.executorsByAgent.get(found.id), index, events);
  const current = state.agents.get(found.id) ?? found;
  putAgent(state, { ...current, state: 'GONE', stateChangedAt: at, modifyIndex: index });
  events.push({ type: 'AGENT_REMOVED', agentId: found.id });
}
