// When one stream's unacknowledged updates are due to be sent again: each update waits the retry
// interval after it was last sent, then twice that after each resend, up to a maximum, as Mesos'
// status update manager retries (10 s doubling to 10 min). Without the doubling, a framework that
// acknowledges more slowly than updates arrive hears every pending update again every round; each
// copy costs it another ACKNOWLEDGE, and its backlog grows until nothing is acknowledged at all
// (the churn bench's stall: 5,872 finished tasks left unacknowledged). Leader memory, per stream:
// a new stream hears every pending update on SUBSCRIBE and starts afresh.
import { assert } from '../../util/assert.ts';

interface Schedule {
  dueAtMs: number;
  intervalMs: number;
}

export class UpdateBackoff {
  /** By update (its task and uuid): when it is due again, and the wait after that resend. */
  readonly #schedules = new Map<string, Schedule>();

  constructor(
    readonly minimumIntervalMs: number,
    readonly maximumIntervalMs: number,
  ) {
    assert(minimumIntervalMs > 0 && maximumIntervalMs >= minimumIntervalMs, 'retry intervals: 0 < min <= max');
  }

  /**
   * Of `pending` (keys of the updates the stream has not acknowledged, each already sent on it at least once:
   * live when committed, or on SUBSCRIBE), those due at `nowMs`, at most `limit`, in the given order.
   * An update seen for the first time is due one interval later; each one returned is due again
   * after twice its last wait. Keys no longer pending are forgotten.
   */
  due(pending: readonly string[], nowMs: number, limit: number): string[] {
    const still = new Set(pending);
    for (const key of this.#schedules.keys()) if (!still.has(key)) this.#schedules.delete(key);
    const due: string[] = [];
    for (const key of pending) {
      const schedule = this.#schedules.get(key);
      if (schedule === undefined) {
        this.#schedules.set(key, { dueAtMs: nowMs + this.minimumIntervalMs, intervalMs: this.minimumIntervalMs });
      } else if (schedule.dueAtMs <= nowMs && due.length < limit) {
        schedule.intervalMs = Math.min(schedule.intervalMs * 2, this.maximumIntervalMs);
        schedule.dueAtMs = nowMs + schedule.intervalMs;
        due.push(key);
      }
    }
    return due;
  }

  /** Updates this stream is waiting to hear acknowledged (for tests and metrics). */
  get size(): number {
    return this.#schedules.size;
  }
}
