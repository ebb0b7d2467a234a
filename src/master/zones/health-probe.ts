// The zone registry's probe: another master's GET /health, as any load balancer reads it. It
// answers on every master, leader or not, and says who the master is, its zone, its term and the
// leader it follows (src/http/routes/health.ts).
import { memberProbeTimeoutMs } from '../limits.ts';
import type { ProbeAnswer } from './zone-registry.ts';

export async function probeMasterHealth(address: string): Promise<ProbeAnswer> {
  const response = await fetch(`http://${address}/health`, { signal: AbortSignal.timeout(memberProbeTimeoutMs) });
  if (response.status !== 200) throw new Error(`GET /health answered ${response.status}`);
  const body = (await response.json()) as Record<string, unknown>;
  const { id, zone, term, leader } = body;
  if (typeof id !== 'string' || typeof term !== 'number') throw new Error('GET /health answered no id or term');
  return {
    id,
    zone: typeof zone === 'string' ? zone : null,
    term,
    leader: typeof leader === 'string' ? leader : null,
  };
}
