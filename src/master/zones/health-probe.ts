// The zone registry's probe: another master's GET /health, as any load balancer reads it. It
// answers on every master, leader or not, and says who the master is, its zone, its term and the
// leader it follows (src/http/routes/health.ts).
import { memberProbeTimeoutMs } from '../limits.ts';
import type { ProbeAnswer } from './zone-registry.ts';
import { type ClientTls, fetchWithTls, httpScheme } from '../../protocol/tls-client.ts';

/** The probe of a cluster with TLS (`tls()`: the CA and certificate of the moment) or without (null). */
export function masterHealthProbe(tls: (() => ClientTls) | null): (address: string) => Promise<ProbeAnswer> {
  return (address) => probeMasterHealth(address, tls === null ? null : tls());
}

export async function probeMasterHealth(address: string, tls: ClientTls | null = null): Promise<ProbeAnswer> {
  const response = await fetchWithTls(tls, `${httpScheme(tls)}://${address}/health`, {
    signal: AbortSignal.timeout(memberProbeTimeoutMs),
  });
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
