// Which agents the leader should mark UNREACHABLE now: a pure decision over the replicated agents
// and what this leader has heard. An agent this leader has heard from is late once it has been
// silent for `pingIntervalMs × maxMissedPings`; one it has never heard from (it was connected to
// the previous leader) gets `reregistrationGraceMs` from the moment this master became leader,
// so a failover does not mark every agent unreachable before it had a chance to find us.
import type { AgentId } from '../state-machine/ids.ts';
import type { Agent } from '../state-machine/state.ts';

export interface LivenessSettings {
  readonly pingIntervalMs: number;
  readonly maxMissedPings: number;
  readonly reregistrationGraceMs: number;
}

export function lateAgents(
  agents: Iterable<Agent>,
  lastHeardMs: ReadonlyMap<AgentId, number>,
  leaderSinceMs: number,
  nowMs: number,
  settings: LivenessSettings,
): AgentId[] {
  const late: AgentId[] = [];
  const silenceMs = settings.pingIntervalMs * settings.maxMissedPings;
  for (const agent of agents) {
    if (agent.state !== 'ACTIVE') continue;
    const heard = lastHeardMs.get(agent.id);
    const deadline = heard === undefined ? leaderSinceMs + settings.reregistrationGraceMs : heard + silenceMs;
    if (nowMs > deadline) late.push(agent.id);
  }
  return late;
}
