// When one stream's unacknowledged updates are due to be sent again: each update waits the retry
// interval after it was last sent, then twice that after each resend, up to a maximum, as Mesos'
// status update manager retries (10 s doubling to 10 min). Without the doubling, a framework that
// acknowledges more slowly than updates arrive hears every pending update again every round; each
// copy costs it another ACKNOWLEDGE, and its backlog grows until nothing is acknowledged at all
// (the churn bench's stall: 5,872 finished tasks left unacknowledged). Leader memory, per stream:
// a new stream hears every pending update on SUBSCRIBE and starts afresh.
//
// Indexed by due time per task (retry-heap.ts): a round pops the tasks with an update due and
// looks at nothing else, so its work is what it sends, not every unacknowledged update of the
// stream (issue 12: one round over 100,000 tasks held the leader's loop 215 ms). The owner says
// when a task's pending updates may have grown (`track`); one that shrank (an acknowledgement)
// is found out when the task is next due, and its acknowledged updates forgotten then.
import { assert } from '../../util/assert.ts';
import type { TaskKey } from '../../state-machine/ids.ts';
import { RetryHeap } from './retry-heap.ts';

interface Schedule {
  dueAtMs: number;
  intervalMs: number;
}

interface TaskSchedules {
  /** By update uuid (only a task's own uuids are distinct), in the order the task lists them. */
  readonly updates: Map<string, Schedule>;
  /** The earliest of `updates`: the heap entry that is not stale. */
  dueAtMs: number;
}

export interface DueUpdate {
  readonly key: TaskKey;
  readonly uuid: string;
}

/** A task's updates waiting for an acknowledgement now, by uuid, oldest first (task-updates.ts). */
export type PendingUuids = (key: TaskKey) => readonly string[];

/** Whether the update's acknowledgement is answered and on its way to a commit (acknowledgements-on-their-way.ts). */
export type AcknowledgementOnItsWay = (key: TaskKey, uuid: string) => boolean;

export class UpdateBackoff {
  readonly #tasks = new Map<TaskKey, TaskSchedules>();
  readonly #heap = new RetryHeap();
  #updates = 0;

  constructor(
    readonly minimumIntervalMs: number,
    readonly maximumIntervalMs: number,
  ) {
    assert(minimumIntervalMs > 0 && maximumIntervalMs >= minimumIntervalMs, 'retry intervals: 0 < min <= max');
  }

  /**
   * The task's pending updates are `pending` (each already sent on the stream at least once:
   * live when committed, or on SUBSCRIBE): one seen for the first time is due one interval
   * after `nowMs`, those no longer pending are forgotten.
   */
  track(key: TaskKey, pending: readonly string[], nowMs: number): void {
    let task = this.#tasks.get(key);
    if (task === undefined) {
      if (pending.length === 0) return;
      task = { updates: new Map(), dueAtMs: Number.POSITIVE_INFINITY };
      this.#tasks.set(key, task);
    }
    this.#reconcile(task, pending, nowMs);
    this.#reschedule(key, task);
  }

  /**
   * The updates due at `nowMs`, at most `limit`: per task in the order `pendingOf` lists them,
   * tasks by due time, then key. Each returned is due again after twice its last wait. Only
   * the tasks with an update due are looked at (`pendingOf` is asked for those alone). One whose
   * acknowledgement is on its way is not returned and waits its last wait again, undoubled: it is
   * forgotten if that acknowledgement commits, and sent as any other due update if it fails.
   */
  due(
    nowMs: number,
    limit: number,
    pendingOf: PendingUuids,
    acknowledgementOnItsWay: AcknowledgementOnItsWay = () => false,
  ): DueUpdate[] {
    const due: DueUpdate[] = [];
    for (let top = this.#heap.peek(); top !== undefined && top.dueAtMs <= nowMs && due.length < limit; ) {
      this.#heap.pop();
      const task = this.#tasks.get(top.key);
      if (task !== undefined && task.dueAtMs === top.dueAtMs) {
        // Its heap entry is gone: rescheduled below whatever its earliest due time is now.
        task.dueAtMs = Number.POSITIVE_INFINITY;
        const pending = pendingOf(top.key);
        this.#reconcile(task, pending, nowMs);
        for (const uuid of pending) {
          const schedule = task.updates.get(uuid);
          if (schedule === undefined || schedule.dueAtMs > nowMs || due.length >= limit) continue;
          if (acknowledgementOnItsWay(top.key, uuid)) {
            schedule.dueAtMs = nowMs + schedule.intervalMs;
            continue;
          }
          schedule.intervalMs = Math.min(schedule.intervalMs * 2, this.maximumIntervalMs);
          schedule.dueAtMs = nowMs + schedule.intervalMs;
          due.push({ key: top.key, uuid });
        }
        this.#reschedule(top.key, task);
      }
      top = this.#heap.peek();
    }
    return due;
  }

  /** Whether a task's heap entry is due at `nowMs` (it may be stale: `due` then finds nothing). */
  hasDue(nowMs: number): boolean {
    const top = this.#heap.peek();
    return top !== undefined && top.dueAtMs <= nowMs;
  }

  #reconcile(task: TaskSchedules, pending: readonly string[], nowMs: number): void {
    const still = new Set(pending);
    for (const uuid of task.updates.keys()) {
      if (still.has(uuid)) continue;
      task.updates.delete(uuid);
      this.#updates -= 1;
    }
    for (const uuid of pending) {
      if (task.updates.has(uuid)) continue;
      task.updates.set(uuid, { dueAtMs: nowMs + this.minimumIntervalMs, intervalMs: this.minimumIntervalMs });
      this.#updates += 1;
    }
  }

  #reschedule(key: TaskKey, task: TaskSchedules): void {
    if (task.updates.size === 0) {
      this.#tasks.delete(key);
      return;
    }
    let earliest = Number.POSITIVE_INFINITY;
    for (const schedule of task.updates.values()) earliest = Math.min(earliest, schedule.dueAtMs);
    if (earliest === task.dueAtMs) return;
    task.dueAtMs = earliest;
    this.#heap.push({ dueAtMs: earliest, key });
  }

  /** Updates this stream is waiting to hear acknowledged (for tests and metrics). */
  get size(): number {
    return this.#updates;
  }
}
