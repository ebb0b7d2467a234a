// Which agents the leader should mark UNREACHABLE now: a pure decision over the replicated agents
// and what this leader has heard. An agent this leader has heard from is late once it has left
// `maxMissedPings` pings in a row unanswered, each given `pingIntervalMs` to be answered, as Mesos
// counts `max_agent_ping_timeouts`. Counting pings, not wall time since the agent was last heard,
// keeps a leader whose own loop was held (a long turn, a starved process: no pings went out, no
// pongs were read) from marking every agent unreachable when it wakes. One it has never heard from
// (it was connected to the previous leader) gets `reregistrationGraceMs` from the moment this
// master became leader, so a failover does not mark every agent unreachable before it had a
// chance to find us.
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
  /** When this leader sent its latest pings, oldest first (at least the last `maxMissedPings`). */
  pingsSentMs: readonly number[],
  nowMs: number,
  settings: LivenessSettings,
): AgentId[] {
  const late: AgentId[] = [];
  // The pings whose answer is due: each had a whole interval to come back.
  let due = pingsSentMs.length;
  while (due > 0 && pingsSentMs[due - 1]! > nowMs - settings.pingIntervalMs) due -= 1;
  // Heard from before the first of the last `maxMissedPings` due pings: it missed them all.
  const missedAllSince = due >= settings.maxMissedPings ? pingsSentMs[due - settings.maxMissedPings]! : null;
  for (const agent of agents) {
    if (agent.state !== 'ACTIVE') continue;
    const heard = lastHeardMs.get(agent.id);
    if (heard === undefined) {
      if (nowMs > leaderSinceMs + settings.reregistrationGraceMs) late.push(agent.id);
    } else if (missedAllSince !== null && heard < missedAllSince) late.push(agent.id);
  }
  return late;
}
