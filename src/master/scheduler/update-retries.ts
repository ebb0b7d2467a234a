// Status updates are delivered at least once: until the framework ACKNOWLEDGEs one, the leader
// sends it again, per task the oldest unacknowledged one (in order, as Mesos' status update
// manager does) and a waiting terminal one (task-updates.ts `taskUpdatesToResend`), first
// `statusUpdateRetryIntervalMs` after it was sent and then with the wait doubling up to
// `maxStatusUpdateRetryIntervalMs` (update-backoff.ts), at most `maxResentUpdatesPerRound` per
// stream per round. The replicated state says what is unacknowledged, so a new leader resumes.
// A round's work is what is due: each stream keeps its tasks by due time (update-backoff.ts),
// learns of new updates from the state's TASK_ADDED / TASK_UPDATED changes (`noteTask`), and
// walks the framework's unacknowledged tasks (the state's index) once, when the stream is new.
// That walk and the noted tasks are looked at `tasksTrackedPerTurn` per event-loop turn (`track`,
// called again by the owner while `tracking`): in one turn, a new stream's walk over 50,000 tasks
// held the leader's loop 158 ms, ~300 ms at 100,000 after a leader change (issue 12).
import type { FrameworkId, TaskKey } from '../../state-machine/ids.ts';
import type { ReadonlyState, Task } from '../../state-machine/state.ts';
import { assert } from '../../util/assert.ts';
import { maxResentUpdatesPerRound, maxTasksTrackedPerTurn } from '../limits.ts';
import type { SchedulerSession } from './session.ts';
import { taskUpdatesToResend, pendingUpdateEvent } from './task-updates.ts';
import { UpdateBackoff } from './update-backoff.ts';

interface StreamRetries {
  /** A new stream (a re-subscription) heard every pending update on SUBSCRIBE and starts afresh. */
  readonly session: SchedulerSession;
  readonly backoff: UpdateBackoff;
  /**
   * A new stream's walk over its framework's unacknowledged tasks, null once done. The index is
   * iterated live across turns: a task acknowledged meanwhile is skipped, one given an update
   * meanwhile is noted too (tracking a task twice changes nothing).
   */
  unwalked: Iterator<TaskKey> | null;
}

const pendingUuids = (state: ReadonlyState, key: TaskKey): string[] => {
  const task = state.tasks.get(key);
  return task === undefined ? [] : taskUpdatesToResend(task).map(({ status }) => status.uuid ?? '');
};

export class UpdateRetries {
  readonly #streams = new Map<FrameworkId, StreamRetries>();
  /**
   * Tasks of a stream's framework given a status and not tracked yet: their pending updates may
   * have grown. Only for frameworks with a stream: a new stream walks all their tasks anyway.
   */
  readonly #noted = new Map<FrameworkId, Set<TaskKey>>();

  constructor(
    readonly intervalMs: number,
    readonly maximumIntervalMs: number,
    readonly tasksTrackedPerTurn: number = maxTasksTrackedPerTurn,
  ) {
    assert(
      Number.isInteger(tasksTrackedPerTurn) && tasksTrackedPerTurn > 0,
      'tasks tracked per turn: a whole number > 0',
    );
  }

  /** The task was added or given a status (a state change, in apply order). */
  noteTask(key: TaskKey, task: Task): void {
    if (!this.#streams.has(task.frameworkId)) return;
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

  /** Tasks wait to be looked at: `track` should run again in a later turn. */
  get tracking(): boolean {
    if (this.#noted.size > 0) return true;
    for (const stream of this.#streams.values()) if (stream.unwalked !== null) return true;
    return false;
  }

  /**
   * One round at `nowMs`: streams begin or end with their frameworks' sessions, one turn's share of
   * the waiting tasks is tracked, and what is due is sent. Returns how many updates were sent again.
   */
  resend(
    sessionOf: (frameworkId: FrameworkId) => SchedulerSession | undefined,
    state: ReadonlyState,
    nowMs: number,
  ): number {
    this.#followSessions(sessionOf, state);
    this.track(state, nowMs);
    const pendingOf = (key: TaskKey) => pendingUuids(state, key);
    let resent = 0;
    for (const { session, backoff } of this.#streams.values()) {
      for (const { key, uuid } of backoff.due(nowMs, maxResentUpdatesPerRound, pendingOf)) {
        const task = state.tasks.get(key);
        const status = task?.statuses.find((each) => each.uuid === uuid);
        assert(task !== undefined && status !== undefined, `update ${key}/${uuid} due but not pending`);
        session.send(pendingUpdateEvent({ task, status }));
        resent += 1;
      }
    }
    return resent;
  }

  /**
   * Schedules at most `tasksTrackedPerTurn` waiting tasks (noted ones first, then the walks), each
   * first due an interval after `nowMs`; returns how many were looked at.
   */
  track(state: ReadonlyState, nowMs: number): number {
    let budget = this.tasksTrackedPerTurn;
    const trackOne = (backoff: UpdateBackoff, key: TaskKey): void => {
      backoff.track(key, pendingUuids(state, key), nowMs);
      budget -= 1;
    };
    for (const [frameworkId, stream] of this.#streams) {
      const noted = this.#noted.get(frameworkId);
      for (const key of noted ?? []) {
        if (budget === 0) break;
        noted?.delete(key);
        trackOne(stream.backoff, key);
      }
      if (noted?.size === 0) this.#noted.delete(frameworkId);
      while (stream.unwalked !== null && budget > 0) {
        const next = stream.unwalked.next();
        if (next.done === true) stream.unwalked = null;
        else trackOne(stream.backoff, next.value);
      }
      if (budget === 0) break;
    }
    assert(budget >= 0, 'tracked no more than a turn allows');
    return this.tasksTrackedPerTurn - budget;
  }

  /** A stream per framework with a session and unacknowledged updates; a new session's starts walking. */
  #followSessions(sessionOf: (frameworkId: FrameworkId) => SchedulerSession | undefined, state: ReadonlyState): void {
    const { unacknowledgedTasksByFramework } = state.derived;
    const frameworks = new Set([...unacknowledgedTasksByFramework.keys(), ...this.#streams.keys()]);
    for (const frameworkId of frameworks) {
      const session = sessionOf(frameworkId);
      const unacknowledged = unacknowledgedTasksByFramework.get(frameworkId);
      if (session === undefined || unacknowledged === undefined) {
        this.#streams.delete(frameworkId);
        this.#noted.delete(frameworkId);
        continue;
      }
      if (this.#streams.get(frameworkId)?.session === session) continue;
      const backoff = new UpdateBackoff(this.intervalMs, this.maximumIntervalMs);
      this.#streams.set(frameworkId, { session, backoff, unwalked: unacknowledged[Symbol.iterator]() });
      // The walk covers every task noted so far.
      this.#noted.delete(frameworkId);
    }
  }
}
