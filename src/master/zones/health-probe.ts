// The zone registry's probe: another master's GET /health, as any load balancer reads it. It
// answers on every master, leader or not, and says who the master is, its zone, its term and the
// leader it follows (src/http/routes/health.ts).
import { memberProbeTimeoutMs } from '../limits.ts';
import type { ProbeAnswer } from './zone-registry.ts';
import { type ClientTls, fetchWithTls, httpScheme } from '../../protocol/tls-client.ts';
import { assert } from '../../util/assert.ts';

/**
 * The probe of a cluster with TLS (`tls()`: the CA and certificate of the moment) or without (null).
 * Built when the master starts, it loads Node's fetch (undici, loaded on first use) there and then:
 * otherwise the first probe round loads it, synchronously inside master-zones' start, just as a new
 * leader takes its agents' sockets after a failover (25-45 ms of CPU at rest; the scale bench once
 * saw that start take 399 ms at load 19-27, the event loop held all along).
 */
export function masterHealthProbe(tls: (() => ClientTls) | null): (address: string) => Promise<ProbeAnswer> {
  assert(typeof Response === 'function', "Node's fetch is loaded");
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
