// Retrying a scheduler call without applying it twice. Every call gets a fresh Idempotency-Key
// (Flotilla masters replicate the key with the first result: a retry answers that result and
// applies nothing again; Apache Mesos ignores the header). A call whose answer says "not done,
// try again" (503: no leader; 307: leadership moved, the stream will follow) or "unknown" (504:
// it may have been applied; a connection lost before the answer) is repeated with the same key
// on the master that holds the stream then, after a jittered back-off, a bounded number of
// times. Any other answer is final.
import { maxCallAttempts } from './limits.ts';
import { randomUUID } from 'node:crypto';
import type { BackoffPolicy } from '../../util/backoff.ts';
import { SchedulerError } from './errors.ts';

export const idempotencyKeyHeader = 'idempotency-key';

export interface CallRetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
}

/** About 9 s of retries at most: longer than a leader election (0.3–0.6 s on a LAN profile). */
export const defaultCallRetryPolicy: CallRetryPolicy = { maxAttempts: 8, backoff: { baseMs: 100, maxMs: 2_000 } };

const retryableStatuses: ReadonlySet<number> = new Set([307, 503, 504]);

/** A fresh key per logical call: 36 printable characters, within the 1–255 the masters accept. */
export function newIdempotencyKey(): string {
  return randomUUID();
}

/** Whether a failed attempt may be repeated with the same key. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof SchedulerError)) return false;
  if (error.code === 'NETWORK') return true;
  return error.code === 'CALL_REJECTED' && error.status !== null && retryableStatuses.has(error.status);
}

export function checkCallRetryPolicy(policy: CallRetryPolicy): void {
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > maxCallAttempts) {
    throw new Error(`SchedulerClient: callRetry.maxAttempts must be 1–${maxCallAttempts}, got ${policy.maxAttempts}`);
  }
  if (!(policy.backoff.baseMs > 0) || !(policy.backoff.maxMs >= policy.backoff.baseMs)) {
    throw new Error('SchedulerClient: callRetry.backoff needs 0 < baseMs <= maxMs');
  }
}
