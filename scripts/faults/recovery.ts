// How long a cluster takes to come back after a fault: until another master says it leads,
// and until a key-value write is acknowledged (following 307 redirects to the leader).
import { setTimeout as sleep } from 'node:timers/promises';
import { findLeader, type MasterHealth } from './masters.ts';

const pollMs = 25;
/** Short: a probe stuck on a paused leader must not hide the moment another one took over. */
const requestTimeoutMs = 500;
const maxRedirects = 3;
export const probeNamespace = 'flotilla-fault-drill';

export interface Recovery {
  readonly newLeader: MasterHealth | null;
  readonly newLeaderMs: number | null;
  readonly firstWriteMs: number | null;
  readonly firstWriteAt: string | null;
}

/**
 * Measured from `sinceMs` (performance.now() when the fault was injected). Two loops at once:
 * one polls /health for a new leader, one keeps trying a write (each attempt bounded, so a
 * write stuck on a paused leader does not hide when the new one took over).
 */
export async function measureRecovery(
  masters: readonly string[],
  old: MasterHealth | null,
  sinceMs: number,
  timeoutMs: number,
): Promise<Recovery> {
  const deadline = sinceMs + timeoutMs;
  const candidates = masters.filter((address) => address !== old?.address);
  let newLeader: MasterHealth | null = null;
  let newLeaderMs: number | null = null;
  const leaderLoop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const leader = await findLeader(candidates);
      if (leader !== null && (old === null || leader.term > old.term || leader.id !== old.id)) {
        newLeader = leader;
        newLeaderMs = performance.now() - sinceMs;
        return;
      }
      await sleep(pollMs);
    }
  };
  const writeLoop = async (): Promise<{ ms: number; at: string } | null> => {
    let attempt = 0;
    while (performance.now() < deadline) {
      const leader: MasterHealth | null = newLeader;
      const target = leader?.address ?? candidates[attempt++ % Math.max(1, candidates.length)] ?? masters[0]!;
      const at = await tryWrite(target);
      if (at !== null) return { ms: performance.now() - sinceMs, at };
      await sleep(pollMs);
    }
    return null;
  };
  const [, write] = await Promise.all([leaderLoop(), writeLoop()]);
  return { newLeader, newLeaderMs, firstWriteMs: write?.ms ?? null, firstWriteAt: write?.at ?? null };
}

/** One PUT of a fresh probe key; the address of the master that acknowledged it, or null. */
export async function tryWrite(address: string): Promise<string | null> {
  let target = address;
  const key = `probe-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  for (let hop = 0; hop <= maxRedirects; hop++) {
    try {
      const response = await fetch(`http://${target}/api/v1/kv/${probeNamespace}/${key}`, {
        method: 'PUT',
        redirect: 'manual',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: new Date().toISOString() }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      await response.arrayBuffer();
      if (response.status === 200) return target;
      const location = response.headers.get('location');
      const next = location === null ? undefined : /^(?:https?:)?\/\/([^/]+)/.exec(location)?.[1];
      if (response.status !== 307 || next === undefined) return null;
      target = next;
    } catch {
      return null;
    }
  }
  return null;
}

export function formatMs(value: number | null): string {
  return value === null ? 'not within the timeout' : `${Math.round(value)} ms`;
}
