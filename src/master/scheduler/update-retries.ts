// Status updates are delivered at least once: until the framework ACKNOWLEDGEs one, the leader
// sends it again, per task the oldest unacknowledged one (in order, as Mesos' status update
// manager does) and a waiting terminal one (task-updates.ts `updatesToResend`), first `statusUpdateRetryIntervalMs` after it was sent and then with the wait
// doubling up to `maxStatusUpdateRetryIntervalMs` (update-backoff.ts), at most
// `maxResentUpdatesPerRound` per stream per round. The replicated state says what is
// unacknowledged, so a new leader resumes. A round visits only the frameworks with
// unacknowledged updates (the state's index), and only their tasks that have one: a stream with
// nothing pending costs nothing.
import { assert } from '../../util/assert.ts';
import type { FrameworkId } from '../../state-machine/ids.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import { maxResentUpdatesPerRound } from '../limits.ts';
import type { SchedulerSession } from './session.ts';
import { updatesToResend, pendingUpdateEvent } from './task-updates.ts';
import { UpdateBackoff } from './update-backoff.ts';

export class UpdateRetries {
  /** Per stream: a new stream (a re-subscription) heard every pending update and starts afresh. */
  readonly #backoffs = new WeakMap<SchedulerSession, UpdateBackoff>();

  constructor(
    readonly intervalMs: number,
    readonly maximumIntervalMs: number,
  ) {}

  /** One round at `nowMs`; returns how many updates were sent again. */
  resend(
    sessionOf: (frameworkId: FrameworkId) => SchedulerSession | undefined,
    state: ReadonlyState,
    nowMs: number,
  ): number {
    let resent = 0;
    for (const frameworkId of state.derived.unacknowledgedTasksByFramework.keys()) {
      const session = sessionOf(frameworkId);
      if (session === undefined) continue;
      let backoff = this.#backoffs.get(session);
      if (backoff === undefined) {
        backoff = new UpdateBackoff(this.intervalMs, this.maximumIntervalMs);
        this.#backoffs.set(session, backoff);
      }
      const pending = updatesToResend(state, frameworkId);
      // Keyed by task and uuid: uuids come from agents, and only a task's own are distinct.
      const byKey = new Map(pending.map((update) => [`${update.task.id}/${update.status.uuid}`, update]));
      for (const key of backoff.due([...byKey.keys()], nowMs, maxResentUpdatesPerRound)) {
        const update = byKey.get(key);
        assert(update !== undefined, `update ${key} due but not pending`);
        session.send(pendingUpdateEvent(update));
        resent += 1;
      }
    }
    return resent;
  }
}
