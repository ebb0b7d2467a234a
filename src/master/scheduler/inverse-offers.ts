// Inverse offers (Mesos "maintenance.md"): while a machine is scheduled for maintenance, every
// framework using resources on one of its agents (tasks or offers: what Mesos' allocator counts
// as allocated to it there) is asked to give the agent back for the window. Computed from the
// replicated schedule (pure); the leader's connections send new ones and rescind those that no
// longer hold (session.ts, inverse-offer-sync.ts), and keep the frameworks' answers (inverse-offer-answers.ts).
import { createHash } from 'node:crypto';
import type { AgentId, FrameworkId } from '../../state-machine/ids.ts';
import { agentIsDown, agentOnMachine } from '../../state-machine/machines.ts';
import type { Agent, ReadonlyState } from '../../state-machine/state.ts';
import type { MaintenanceWindow } from '../../state-machine/values.ts';
import type { InverseOfferView } from './events.ts';

/** Hex digits of the hash in an inverse offer id: 96 bits, no collision among a cluster's few thousand. */
const inverseOfferIdHexDigits = 24;

/**
 * The window an agent's machine is in, or null. Mesos sends inverse offers for agents it still
 * allocates from: registered and connected (not UNREACHABLE or GONE), on a machine not yet
 * down (START_MAINTENANCE removes those agents).
 */
export function maintenanceWindowOf(state: ReadonlyState, agent: Agent): MaintenanceWindow | null {
  if (agent.state !== 'ACTIVE') return null;
  const windows = state.maintenanceSchedule.windows;
  if (windows.length === 0 || agentIsDown(state, agent)) return null;
  return windows.find((candidate) => candidate.machines.some((machine) => agentOnMachine(agent, machine))) ?? null;
}

/**
 * Deterministic, so a round that finds the same inverse offer sends nothing, and unique per
 * (agent, framework, unavailability) as a Mesos OfferID is: a changed window is a new inverse
 * offer (the old one is rescinded), as Mesos' `updateUnavailability` rescinds and re-sends.
 */
export function inverseOfferId(
  agentId: string,
  frameworkId: string,
  window: Pick<MaintenanceWindow, 'startMs' | 'durationMs'>,
): string {
  const digest = createHash('sha256')
    .update(`${agentId}\n${frameworkId}\n${window.startMs}\n${window.durationMs}`)
    .digest('hex');
  return `inverse-${digest.slice(0, inverseOfferIdHexDigits)}`;
}

/** The agents this framework uses: its outstanding offers and its live tasks (the state's indexes). */
function agentsUsedBy(state: ReadonlyState, frameworkId: string): string[] {
  const used = new Set<string>();
  const id = frameworkId as FrameworkId;
  for (const offerId of state.derived.offersByFramework.get(id) ?? []) {
    const offer = state.offers.get(offerId);
    if (offer !== undefined) used.add(offer.agentId);
  }
  for (const key of state.derived.liveTasksByFramework.get(id) ?? []) {
    const task = state.tasks.get(key);
    if (task !== undefined) used.add(task.agentId);
  }
  return [...used].sort();
}

/** One inverse offer per agent in maintenance that this framework uses, in agent id order. */
export function inverseOffersFor(state: ReadonlyState, frameworkId: string): InverseOfferView[] {
  if (state.maintenanceSchedule.windows.length === 0) return [];
  const views: InverseOfferView[] = [];
  for (const agentId of agentsUsedBy(state, frameworkId)) {
    const agent = state.agents.get(agentId as AgentId);
    if (agent === undefined) continue;
    const window = maintenanceWindowOf(state, agent);
    if (window === null) continue;
    views.push({
      id: inverseOfferId(agent.id, frameworkId, window),
      frameworkId,
      agent,
      startMs: window.startMs,
      durationMs: window.durationMs,
    });
  }
  return views;
}
