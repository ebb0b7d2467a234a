// Whether the local cluster is up: each master's /health (role, leader), the agent's /health
// (registered, its id). Polled by `npm start` while it draws its progress line.
import type { Layout } from './layout.ts';

const probeTimeoutMs = 1_000;

export interface MasterHealth {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
}

export interface AgentHealth {
  readonly agentId: string | null;
  readonly registered: boolean;
}

export interface ClusterReadiness {
  readonly masters: readonly (MasterHealth | null)[];
  readonly leader: MasterHealth | null;
  readonly agent: AgentHealth | null;
}

async function health<Answer>(address: string): Promise<Answer | null> {
  try {
    const response = await fetch(`http://${address}/health`, { signal: AbortSignal.timeout(probeTimeoutMs) });
    return response.status === 200 ? ((await response.json()) as Answer) : null;
  } catch {
    return null;
  }
}

export async function probeCluster(layout: Layout): Promise<ClusterReadiness> {
  const [agent, ...masters] = await Promise.all([
    health<AgentHealth>(layout.agent.address),
    ...layout.masters.map((master) => health<MasterHealth>(master.address)),
  ]);
  const leaders = (masters as (MasterHealth | null)[]).filter((master) => master?.role === 'leader');
  const leader = leaders.sort((a, b) => b!.term - a!.term)[0] ?? null;
  return { masters: masters as (MasterHealth | null)[], leader, agent: agent as AgentHealth | null };
}

export function isReady(readiness: ClusterReadiness): boolean {
  return (
    readiness.leader !== null &&
    readiness.masters.every((master) => master !== null) &&
    readiness.agent?.registered === true &&
    readiness.agent.agentId !== null
  );
}

/** "masters 2/3 · leader m1 · agent registering": the progress line's text. */
export function describeProgress(readiness: ClusterReadiness): string {
  const up = readiness.masters.filter((master) => master !== null).length;
  const leader = readiness.leader === null ? 'electing a leader' : `leader ${readiness.leader.id}`;
  const agent =
    readiness.agent === null ? 'agent starting' : readiness.agent.registered ? 'agent registered' : 'agent registering';
  return `masters ${up}/${readiness.masters.length} up · ${leader} · ${agent}`;
}
