// Status updates are delivered at least once: until the framework ACKNOWLEDGEs one, the leader
// sends it again, per task the oldest unacknowledged one (in order, as Mesos' status update
// manager does) and a waiting terminal one (task-updates.ts `taskUpdatesToResend`), first
// `statusUpdateRetryIntervalMs` after it was sent and then with the wait doubling up to
// `maxStatusUpdateRetryIntervalMs` (update-backoff.ts), at most `maxResentUpdatesPerRound` per
// stream per round. The replicated state says what is unacknowledged, so a new leader resumes.
// A round's work is what is due: each stream keeps its tasks by due time (update-backoff.ts),
// learns of new updates from the state's TASK_ADDED / TASK_UPDATED changes (`noteTask`), and
// walks the framework's unacknowledged tasks (the state's index) once, when the stream is new.
import type { FrameworkId, TaskKey } from '../../state-machine/ids.ts';
import type { ReadonlyState, Task } from '../../state-machine/state.ts';
import { assert } from '../../util/assert.ts';
import { maxResentUpdatesPerRound } from '../limits.ts';
import type { SchedulerSession } from './session.ts';
import { taskUpdatesToResend, pendingUpdateEvent } from './task-updates.ts';
import { UpdateBackoff } from './update-backoff.ts';

interface StreamRetries {
  /** A new stream (a re-subscription) heard every pending update on SUBSCRIBE and starts afresh. */
  readonly session: SchedulerSession;
  readonly backoff: UpdateBackoff;
}

const pendingUuids = (state: ReadonlyState, key: TaskKey): string[] => {
  const task = state.tasks.get(key);
  return task === undefined ? [] : taskUpdatesToResend(task).map(({ status }) => status.uuid ?? '');
};

export class UpdateRetries {
  readonly #streams = new Map<FrameworkId, StreamRetries>();
  /** Tasks given a status since the last round, by framework: their pending updates may have grown. */
  readonly #noted = new Map<FrameworkId, Set<TaskKey>>();

  constructor(
    readonly intervalMs: number,
    readonly maximumIntervalMs: number,
  ) {}

  /** The task was added or given a status (a state change, in apply order). */
  noteTask(key: TaskKey, task: Task): void {
    let keys = this.#noted.get(task.frameworkId);
    if (keys === undefined) {
      keys = new Set();
      this.#noted.set(task.frameworkId, keys);
    }
    keys.add(key);
  }

  /** The state was replaced (a snapshot): every stream walks its framework's tasks again. */
  reset(): void {
    this.#streams.clear();
    this.#noted.clear();
  }

  /** One round at `nowMs`; returns how many updates were sent again. */
  resend(
    sessionOf: (frameworkId: FrameworkId) => SchedulerSession | undefined,
    state: ReadonlyState,
    nowMs: number,
  ): number {
    const { unacknowledgedTasksByFramework } = state.derived;
    const frameworks = new Set([...unacknowledgedTasksByFramework.keys(), ...this.#streams.keys()]);
    const pendingOf = (key: TaskKey) => pendingUuids(state, key);
    let resent = 0;
    for (const frameworkId of frameworks) {
      const session = sessionOf(frameworkId);
      const unacknowledged = unacknowledgedTasksByFramework.get(frameworkId);
      if (session === undefined || unacknowledged === undefined) {
        this.#streams.delete(frameworkId);
        continue;
      }
      let stream = this.#streams.get(frameworkId);
      let changed: Iterable<TaskKey> = this.#noted.get(frameworkId) ?? [];
      if (stream?.session !== session) {
        stream = { session, backoff: new UpdateBackoff(this.intervalMs, this.maximumIntervalMs) };
        this.#streams.set(frameworkId, stream);
        changed = unacknowledged;
      }
      for (const key of changed) stream.backoff.track(key, pendingOf(key), nowMs);
      for (const { key, uuid } of stream.backoff.due(nowMs, maxResentUpdatesPerRound, pendingOf)) {
        const task = state.tasks.get(key);
        const status = task?.statuses.find((each) => each.uuid === uuid);
        assert(task !== undefined && status !== undefined, `update ${key}/${uuid} due but not pending`);
        session.send(pendingUpdateEvent({ task, status }));
        resent += 1;
      }
    }
    this.#noted.clear();
    return resent;
  }
}
