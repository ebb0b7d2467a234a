// Deactivation and draining (Mesos 1.9+, maintenance.md "Automatic Node Draining"): separate
// facts from the agent's reachability (`state`) and from its machine's maintenance mode.
// - DEACTIVATE_AGENT: no new offers for the agent, its outstanding ones removed; tasks run on.
// - DRAIN_AGENT: deactivates, records DrainInfo {DRAINING, config} and asks for every live task
//   to be killed (TASK_KILL_REQUESTED: the leader's gateway sends the kills, with the grace period
//   capped by max_grace_period; an agent away hears them when it re-registers).
// - mark_agent_drained: the leader saw no live task left: DRAINED, then gone if mark_gone.
// - REACTIVATE_AGENT: offers again; ends any drain.
import type { DeactivateAgent, DrainAgent, MarkAgentDrained, ReactivateAgent } from './commands.ts';
import { findLiveAgent, isResult, markGone } from './apply-agents.ts';
import { reject, success, type ApplyResult } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import type { LogIndex } from './ids.ts';
import { removeOffersOnAgent } from './offer-book.ts';
import type { Agent, State } from './state.ts';
import { liveTasksAmong } from './task-lifecycle.ts';
import { putAgent, putTask } from './writes.ts';

function updateAgent(state: State, agent: Agent, events: ChangeEvent[]): void {
  putAgent(state, agent);
  events.push({ type: 'AGENT_UPDATED', agent });
}

export function applyDeactivateAgent(
  state: State,
  command: DeactivateAgent,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const found = findLiveAgent(state, command.agentId);
  if (isResult(found)) return found;
  if (found.deactivated) return success;
  removeOffersOnAgent(state, found.id, 'AGENT_CHANGED', index, events);
  const current = state.agents.get(found.id) ?? found;
  updateAgent(state, { ...current, deactivated: true, modifyIndex: index }, events);
  return success;
}

/** As Mesos ("Agent is not deactivated"): only a deactivated agent can be reactivated. */
export function applyReactivateAgent(
  state: State,
  command: ReactivateAgent,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const found = findLiveAgent(state, command.agentId);
  if (isResult(found)) return found;
  if (!found.deactivated) return reject('INVALID_AGENT_TRANSITION', `agent ${found.id} is not deactivated`);
  updateAgent(state, { ...found, deactivated: false, drain: null, modifyIndex: index }, events);
  return success;
}

/**
 * A second DRAIN_AGENT replaces the config and drains again (a DRAINED agent is found drained at
 * once unless a task lives there). Every live task is asked to die again, so a kill lost with an
 * earlier leader is sent again, with the new cap.
 */
export function applyDrainAgent(
  state: State,
  command: DrainAgent,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const found = findLiveAgent(state, command.agentId);
  if (isResult(found)) return found;
  removeOffersOnAgent(state, found.id, 'AGENT_CHANGED', index, events);
  const drain = {
    state: 'DRAINING',
    maxGracePeriodMs: command.maxGracePeriodMs,
    markGone: command.markGone,
    startedAt: command.at,
  } as const;
  const current = state.agents.get(found.id) ?? found;
  updateAgent(state, { ...current, deactivated: true, drain, modifyIndex: index }, events);
  for (const task of liveTasksAmong(state, state.derived.liveTasksByAgent.get(found.id))) {
    const updated = task.killRequestedAt === null ? { ...task, killRequestedAt: command.at, modifyIndex: index } : task;
    if (updated !== task) putTask(state, updated);
    events.push({ type: 'TASK_KILL_REQUESTED', task: updated });
  }
  return success;
}

export function applyMarkAgentDrained(
  state: State,
  command: MarkAgentDrained,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const found = findLiveAgent(state, command.agentId);
  if (isResult(found)) return found;
  if (found.drain?.state !== 'DRAINING') return reject('AGENT_NOT_DRAINING', `agent ${found.id} is not draining`);
  const live = state.derived.liveTasksByAgent.get(found.id)?.size ?? 0;
  if (live > 0) return reject('AGENT_HAS_LIVE_TASKS', `agent ${found.id} still has ${live} live tasks`);
  const drained: Agent = { ...found, drain: { ...found.drain, state: 'DRAINED' }, modifyIndex: index };
  updateAgent(state, drained, events);
  if (drained.drain?.markGone === true) markGone(state, drained, command.at, index, events);
  return success;
}
