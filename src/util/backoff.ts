// Reconnect delays for the peer transport. Exponential growth, so a peer that is down is not
// hammered; jitter, so replicas that lost the same peer at the same moment do not redial it in
// lock-step when it comes back ("equal jitter": half the window fixed, half random — AWS
// Architecture Blog, "Exponential Backoff And Jitter", 2015). Equal rather than full jitter so
// that no retry is ever scheduled at ~0 ms, which would turn a refusing peer into a busy loop.
// A pure function: the caller injects the random source, so tests can pin it.

export interface BackoffPolicy {
  /** The window of the first retry. */
  readonly baseMs: number;
  /** The window never grows past this. */
  readonly maxMs: number;
}

/** 2^30 times any sane base already exceeds every sane cap; the bound keeps the arithmetic finite. */
const exponentMax = 30;

/**
 * The delay before the next attempt, after `failedAttempts` consecutive failures (0 for the
 * first retry). `random` returns a number in [0, 1), like Math.random.
 */
export function backoffDelayMs(failedAttempts: number, policy: BackoffPolicy, random: () => number): number {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 0) {
    throw new Error(`backoff: failedAttempts must be a non-negative integer, got ${failedAttempts}`);
  }
  if (!(policy.baseMs > 0) || !(policy.maxMs >= policy.baseMs)) {
    throw new Error(`backoff: need 0 < baseMs <= maxMs, got baseMs ${policy.baseMs}, maxMs ${policy.maxMs}`);
  }
  const draw = random();
  if (!(draw >= 0 && draw < 1)) throw new Error(`backoff: random() must be in [0, 1), got ${draw}`);

  const windowMs = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failedAttempts, exponentMax));
  const delayMs = Math.round(windowMs / 2 + (draw * windowMs) / 2);
  // Both halves of the contract: never above the cap, never below half the window.
  if (delayMs > policy.maxMs || delayMs < Math.floor(windowMs / 2)) {
    throw new Error(`backoff: delay ${delayMs} ms outside [${windowMs / 2}, ${policy.maxMs}]`);
  }
  return delayMs;
}
