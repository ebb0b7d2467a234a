// Which master to dial next after the subscription stream is lost, and after how long. A
// pure function of the attempt count, so tests can pin it (the caller injects the random
// source). Masters are tried in rotation starting after the one that was lost, so a dead
// leader is tried last; the delay grows with jitter (src/raft/backoff.ts, equal jitter) so a
// fleet of schedulers that lost the same leader do not redial in lock-step.
import { backoffDelayMs, type BackoffPolicy } from '../../util/backoff.ts';
import type { MasterAddress } from './masters.ts';

/** The defaults: first retry within 100–200 ms, never more than 5 s apart. */
export const defaultReconnectPolicy: BackoffPolicy = { baseMs: 200, maxMs: 5_000 };

export interface ReconnectStep {
  readonly master: MasterAddress;
  readonly delayMs: number;
}

/**
 * The `failedAttempts`-th (0-based) reconnection attempt after losing `lost` (null: never
 * connected). The first attempt of each round of the list goes to the master after `lost`.
 */
export function reconnectStep(
  masters: readonly MasterAddress[],
  lost: MasterAddress | null,
  failedAttempts: number,
  policy: BackoffPolicy,
  random: () => number,
): ReconnectStep {
  if (masters.length === 0) throw new Error('reconnectStep: no masters');
  const lostIndex = lost === null ? -1 : masters.indexOf(lost);
  const index = (lostIndex + 1 + failedAttempts) % masters.length;
  return { master: masters[index]!, delayMs: backoffDelayMs(failedAttempts, policy, random) };
}
