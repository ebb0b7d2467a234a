// Framework rate limiting (Mesos --rate_limits, framework-rate-limiting.md): the leader serves a
// principal's scheduler calls at its qps at most. A call over the rate waits for its turn (Mesos
// keeps "outstanding messages" in memory and processes them at the rate); when `capacity` calls
// already wait, the next is refused with 429 RATE_LIMIT_EXCEEDED and Retry-After (Mesos drops it
// and sends the framework an error). Turns are spaced 1/qps apart, the first at once: no burst,
// as Mesos' RateLimiter. The state lives on this master only: a new leader starts from none.
import type { RateLimits, Throttle } from '../../auth/rate-limits.ts';
import { assert } from '../../util/assert.ts';
import { HttpError } from '../errors.ts';

/** One throttle's turns: when the next call may run, and how many calls wait for theirs. */
interface Bucket {
  readonly throttle: Throttle;
  readonly label: string;
  nextTurnMs: number;
  waiting: number;
}

const millisecondsPerSecond = 1000;

/** What the caller does with a call: run it now, wait `delayMs`, or refuse it (over capacity). */
export type Admission =
  | { readonly kind: 'now' }
  | { readonly kind: 'wait'; readonly delayMs: number; readonly done: () => void }
  | { readonly kind: 'refused'; readonly error: HttpError };

export class SchedulerRateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #aggregate: Bucket | null;
  #refused = 0;

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {
    const aggregate = limits.aggregateDefault;
    this.#aggregate = aggregate === null ? null : bucket(aggregate, 'the aggregate default');
    for (const [principal, throttle] of limits.principals) {
      if (throttle !== null) this.#buckets.set(principal, bucket(throttle, `principal ${principal}`));
    }
  }

  /** Calls refused since start, for the logs. */
  get refused(): number {
    return this.#refused;
  }

  /** Decides one call of `principal` (null: a framework without one). A waiting call must call done(). */
  admit(principal: string | null): Admission {
    const target = this.#bucketOf(principal);
    if (target === null) return { kind: 'now' };
    const nowMs = this.now();
    const turnMs = Math.max(nowMs, target.nextTurnMs);
    if (turnMs > nowMs && target.waiting >= target.throttle.capacity) {
      this.#refused += 1;
      return { kind: 'refused', error: refusal(target, turnMs - nowMs) };
    }
    target.nextTurnMs = turnMs + millisecondsPerSecond / target.throttle.qps;
    if (turnMs === nowMs) return { kind: 'now' };
    target.waiting += 1;
    let released = false;
    const done = (): void => {
      assert(!released, 'a waiting call released its turn twice');
      released = true;
      target.waiting -= 1;
      assert(target.waiting >= 0, 'more calls released than waited');
    };
    return { kind: 'wait', delayMs: turnMs - nowMs, done };
  }

  #bucketOf(principal: string | null): Bucket | null {
    if (principal !== null && this.limits.principals.has(principal)) return this.#buckets.get(principal) ?? null;
    return this.#aggregate;
  }
}

function bucket(throttle: Throttle, label: string): Bucket {
  assert(throttle.qps > 0 && throttle.capacity >= 1, `a throttle needs a positive rate and capacity: ${label}`);
  return { throttle, label, nextTurnMs: Number.NEGATIVE_INFINITY, waiting: 0 };
}

function refusal(target: Bucket, waitMs: number): HttpError {
  const { qps, capacity } = target.throttle;
  return new HttpError(
    'RATE_LIMIT_EXCEEDED',
    `scheduler calls of ${target.label} are limited to ${qps} a second, and ${capacity} already wait their turn`,
    { 'retry-after': String(Math.max(1, Math.ceil(waitMs / millisecondsPerSecond))) },
  );
}
