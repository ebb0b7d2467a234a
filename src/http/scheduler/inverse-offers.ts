// Inverse offers (maintenance.md): when a machine is in a maintenance window, every framework
// with tasks or offers on an agent of that machine is asked to give the agent back for the
// window. Computed from the replicated schedule (pure); the leader's connections send new ones
// and rescind those that no longer hold. Answers (ACCEPT/DECLINE_INVERSE_OFFERS) are kept in
// the leader's memory only, as Mesos keeps them in its allocator.
import { isTerminalTaskState } from '../../state-machine/task-states.ts';
import type { AgentId } from '../../state-machine/ids.ts';
import { agentOnMachine } from '../../state-machine/machines.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import type { InverseOfferView } from './events.ts';

/** One inverse offer per (agent, window) for this framework; ids are stable across rounds. */
export function inverseOffersFor(state: ReadonlyState, frameworkId: string): InverseOfferView[] {
  const windows = state.maintenanceSchedule.windows;
  if (windows.length === 0) return [];
  const holdsAgent = new Set<string>();
  for (const offer of state.offers.values()) if (offer.frameworkId === frameworkId) holdsAgent.add(offer.agentId);
  for (const task of state.tasks.values()) {
    if (task.frameworkId === frameworkId && !isTerminalTaskState(task.state)) holdsAgent.add(task.agentId);
  }
  const views: InverseOfferView[] = [];
  for (const agentId of [...holdsAgent].sort()) {
    const agent = state.agents.get(agentId as AgentId);
    if (agent === undefined || agent.state === 'GONE') continue;
    const window = windows.find((candidate) => candidate.machines.some((machine) => agentOnMachine(agent, machine)));
    if (window === undefined) continue;
    views.push({ id: `${agent.id}.${window.startMs}`, frameworkId, agent, startMs: window.startMs, durationMs: window.durationMs });
  }
  return views;
}
