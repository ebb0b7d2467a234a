// Status updates are delivered at least once: until the framework ACKNOWLEDGEs one, the leader
// sends it again, per task the oldest unacknowledged one (in order, as Mesos' status update
// manager does) and a waiting terminal one (task-updates.ts `taskUpdatesToResend`), first
// `statusUpdateRetryIntervalMs` after it was sent and then with the wait doubling up to
// `maxStatusUpdateRetryIntervalMs` (update-backoff.ts), at most `maxResentUpdatesPerRound` per
// stream per round. The replicated state says what is unacknowledged, so a new leader resumes.
// An update whose ACKNOWLEDGE was answered and is on its way to a commit is held back meanwhile
// (acknowledgements-on-their-way.ts): due again one interval later if that commit fails.
// A round's work is what is due: each stream keeps its tasks by due time (update-backoff.ts),
// learns of new updates from the state's TASK_ADDED / TASK_UPDATED changes (`noteTask`), and
// walks the framework's unacknowledged tasks (the state's index) once, when the stream is new.
// A round is cut into event-loop turns (`step`, called again by the owner while `busy`): each
// looks at `tasksTrackedPerTurn` waiting tasks and sends `updatesResentPerTurn` due updates, all
// as of the round's time. In one turn, a new stream's walk over 50,000 tasks held the leader's
// loop 158 ms, and a round sending 10,000 updates 517 ms in the scale bench (issue 12).
import type { FrameworkId, TaskKey } from '../../state-machine/ids.ts';
import type { ReadonlyState, Task } from '../../state-machine/state.ts';
import { assert } from '../../util/assert.ts';
import { maxResentUpdatesPerRound, maxTasksTrackedPerTurn, schedulerEventsPerSlice } from '../limits.ts';
import type { SchedulerSession } from './session.ts';
import { taskUpdatesToResend, pendingUpdateEvent } from './task-updates.ts';
import { type AcknowledgementOnItsWay, UpdateBackoff } from './update-backoff.ts';

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
  /** Updates the current round may still send on this stream (`maxResentUpdatesPerRound`). */
  resendsLeft: number;
}

export interface TurnLimits {
  /** Waiting tasks (a walk's, noted ones) looked up and scheduled per turn: ~3 µs each. */
  readonly tasksTrackedPerTurn: number;
  /** Due updates sent per turn: each is built, encoded and written to the stream. */
  readonly updatesResentPerTurn: number;
}

const defaultTurnLimits: TurnLimits = {
  tasksTrackedPerTurn: maxTasksTrackedPerTurn,
  updatesResentPerTurn: schedulerEventsPerSlice,
};

type SessionOf = (frameworkId: FrameworkId) => SchedulerSession | undefined;

interface Round {
  readonly atMs: number;
  readonly sessionOf: SessionOf;
}

export interface TurnWork {
  /** Tasks whose pending updates were looked up. */
  readonly tracked: number;
  readonly resent: number;
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
  readonly #turn: TurnLimits;
  #round: Round | null = null;

  constructor(
    readonly intervalMs: number,
    readonly maximumIntervalMs: number,
    turn: Partial<TurnLimits> = {},
    /** Whether the update's ACKNOWLEDGE is answered and on its way to a commit: not sent again meanwhile. */
    readonly acknowledgementOnItsWay: AcknowledgementOnItsWay = () => false,
  ) {
    this.#turn = { ...defaultTurnLimits, ...turn };
    const { tasksTrackedPerTurn, updatesResentPerTurn } = this.#turn;
    assert(
      Number.isInteger(tasksTrackedPerTurn) && tasksTrackedPerTurn > 0 && Number.isInteger(updatesResentPerTurn),
      'per-turn limits: whole numbers > 0',
    );
    assert(updatesResentPerTurn > 0, 'updates resent per turn > 0');
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
    this.#round = null;
  }

  /** The round has work left for a later turn (`step`): tasks to look at, or updates due to send. */
  get busy(): boolean {
    const round = this.#round;
    if (round === null) return false;
    if (this.#noted.size > 0) return true;
    for (const stream of this.#streams.values()) {
      if (stream.unwalked !== null) return true;
      if (stream.resendsLeft > 0 && stream.backoff.hasDue(round.atMs)) return true;
    }
    return false;
  }

  /**
   * Begins a round at `nowMs` (streams begin or end with their frameworks' sessions) and does its
   * first turn's work (`step`). Returns how many updates that turn sent again.
   */
  resend(sessionOf: SessionOf, state: ReadonlyState, nowMs: number): number {
    this.#followSessions(sessionOf, state);
    this.#round = { atMs: nowMs, sessionOf };
    for (const stream of this.#streams.values()) stream.resendsLeft = maxResentUpdatesPerRound;
    return this.step(state).resent;
  }

  /** One turn of the current round: its share of the waiting tasks, then its share of the due updates. */
  step(state: ReadonlyState): TurnWork {
    const round = this.#round;
    if (round === null) return { tracked: 0, resent: 0 };
    const tracked = this.#track(state, round.atMs);
    const resent = this.#resendDue(state, round);
    return { tracked, resent };
  }

  /** Schedules at most a turn's share of the waiting tasks, noted ones first, then the walks. */
  #track(state: ReadonlyState, nowMs: number): number {
    let budget = this.#turn.tasksTrackedPerTurn;
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
    return this.#turn.tasksTrackedPerTurn - budget;
  }

  /** Sends at most a turn's share of the due updates, on streams whose session is still theirs. */
  #resendDue(state: ReadonlyState, round: Round): number {
    const pendingOf = (key: TaskKey) => pendingUuids(state, key);
    let budget = this.#turn.updatesResentPerTurn;
    for (const [frameworkId, stream] of this.#streams) {
      if (budget === 0) break;
      // A stream whose session was replaced or closed since the round began sends no more in it
      // (and leaves the round's work: the next round gives the framework's new session its own).
      if (round.sessionOf(frameworkId) !== stream.session) stream.resendsLeft = 0;
      if (stream.resendsLeft === 0) continue;
      const limit = Math.min(budget, stream.resendsLeft);
      const due = stream.backoff.due(round.atMs, limit, pendingOf, this.acknowledgementOnItsWay);
      for (const { key, uuid } of due) {
        const task = state.tasks.get(key);
        const status = task?.statuses.find((each) => each.uuid === uuid);
        assert(task !== undefined && status !== undefined, `update ${key}/${uuid} due but not pending`);
        stream.session.send(pendingUpdateEvent({ task, status }));
      }
      stream.resendsLeft -= due.length;
      budget -= due.length;
    }
    assert(budget >= 0, 'resent no more than a turn allows');
    return this.#turn.updatesResentPerTurn - budget;
  }

  /** A stream per framework with a session and unacknowledged updates; a new session's starts walking. */
  #followSessions(sessionOf: SessionOf, state: ReadonlyState): void {
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
      const unwalked = unacknowledged[Symbol.iterator]();
      this.#streams.set(frameworkId, { session, backoff, unwalked, resendsLeft: 0 });
      // The walk covers every task noted so far.
      this.#noted.delete(frameworkId);
    }
  }
}
