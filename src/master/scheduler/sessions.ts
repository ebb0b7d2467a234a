// The leader's scheduler sessions, one per subscribed framework (Mesos keeps one HTTP connection
// per framework and closes the old one when the framework subscribes again). A leader service:
// sessions exist only between start(term) and stop(). Events come from the state machine's
// changes in apply order (event-routing.ts); timers add HEARTBEATs (heartbeats.ts), resend
// unacknowledged updates (update-retries.ts) and keep inverse offers current
// (inverse-offer-sync.ts). A stream that closes while this master leads marks its framework
// disconnected (disconnects.ts); when leadership ends every stream ends, and the schedulers
// re-subscribe to the new leader.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { SchedulerEvent } from '../../protocol/scheduler.ts';
import { assert } from '../../util/assert.ts';
import type { ChangeEvent } from '../../state-machine/events.ts';
import { taskKey, type FrameworkId } from '../../state-machine/ids.ts';
import { compareStrings } from '../../state-machine/ordering.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import type { MasterCore } from '../interface.ts';
import type { LeaderService } from '../leadership/service.ts';
import * as limits from '../limits.ts';
import { MasterError } from '../errors.ts';
import { proposeDisconnect } from './disconnects.ts';
import type { EventSink } from './event-sink.ts';
import { routeChange, type RoutingTarget } from './event-routing.ts';
import { heartbeatEvent, masterInfo, offersEvent, subscribedEvent } from './events.ts';
import { sendHeartbeats } from './heartbeats.ts';
import { InverseOfferAnswers, type InverseOfferStatusView } from './inverse-offer-answers.ts';
import { InverseOfferSync } from './inverse-offer-sync.ts';
import { AcknowledgementsOnTheirWay } from './acknowledgements-on-their-way.ts';
import { SchedulerSession } from './session.ts';
import { updatesToResend } from './task-updates.ts';
import { UpdateRetries } from './update-retries.ts';

export interface SchedulerSessionSettings {
  readonly heartbeatIntervalSeconds: number;
  readonly statusUpdateRetryIntervalMs: number;
  readonly inverseOfferRefreshIntervalMs: number;
  readonly maxStreams: number;
  /** Streams of frameworks of one principal; frameworks without one count against maxStreams only. */
  readonly maxStreamsPerPrincipal: number;
  /** Tasks the update retries look at per event-loop turn (limits.ts maxTasksTrackedPerTurn). */
  readonly maxTasksTrackedPerTurn: number;
}

export const defaultSessionSettings: SchedulerSessionSettings = {
  heartbeatIntervalSeconds: limits.schedulerHeartbeatIntervalSeconds,
  statusUpdateRetryIntervalMs: limits.statusUpdateRetryIntervalMs,
  inverseOfferRefreshIntervalMs: limits.inverseOfferRefreshIntervalMs,
  maxStreams: limits.maxSchedulerStreams,
  maxStreamsPerPrincipal: limits.maxSchedulerStreamsPerPrincipal,
  maxTasksTrackedPerTurn: limits.maxTasksTrackedPerTurn,
};

export type SessionsMaster = Pick<MasterCore, 'id' | 'address' | 'state' | 'onChange' | 'submit'>;

export class SchedulerSessions implements LeaderService {
  readonly name = 'scheduler-sessions';
  readonly #sessions = new Map<string, SchedulerSession>();
  /** The frameworks' answers to inverse offers: this leader's memory only (see inverse-offer-answers.ts). */
  readonly #answers = new InverseOfferAnswers();
  readonly #inverseOfferSync = new InverseOfferSync();
  /**
   * ACKNOWLEDGEs answered and not yet committed (calls.ts): the retries hold their updates back.
   * Kept across terms: each entry leaves when its batch settles, and a lost leadership fails it.
   */
  readonly acknowledgementsOnTheirWay = new AcknowledgementsOnTheirWay(limits.maxAcknowledgementsOnTheirWay);
  readonly #settings: SchedulerSessionSettings;
  #term: number | null = null;
  /** This term's status update retries (update-retries.ts): told of task changes as they apply. */
  #retries: UpdateRetries | null = null;
  #timers: NodeJS.Timeout[] = [];
  /** The current retry round's next turn (update-retries.ts `step`), while it has work left. */
  #retryTurn: NodeJS.Immediate | null = null;
  #stopListening: (() => void) | null = null;
  #closed = false;

  constructor(
    private readonly master: SessionsMaster,
    private readonly logger: Logger,
    settings: Partial<SchedulerSessionSettings> = {},
  ) {
    this.#settings = { ...defaultSessionSettings, ...settings };
    const { heartbeatIntervalSeconds, statusUpdateRetryIntervalMs, inverseOfferRefreshIntervalMs, maxStreams } =
      this.#settings;
    if (!(heartbeatIntervalSeconds > 0 && statusUpdateRetryIntervalMs > 0 && inverseOfferRefreshIntervalMs > 0)) {
      throw new RangeError(`scheduler session intervals must be positive: ${JSON.stringify(this.#settings)}`);
    }
    if (!(Number.isInteger(maxStreams) && maxStreams > 0))
      throw new RangeError(`maxStreams must be a positive whole number, got ${maxStreams}`);
    const perPrincipal = this.#settings.maxStreamsPerPrincipal;
    if (!(Number.isInteger(perPrincipal) && perPrincipal > 0))
      throw new RangeError(`maxStreamsPerPrincipal must be a positive whole number, got ${perPrincipal}`);
    const tracked = this.#settings.maxTasksTrackedPerTurn;
    if (!(Number.isInteger(tracked) && tracked > 0))
      throw new RangeError(`maxTasksTrackedPerTurn must be a positive whole number, got ${tracked}`);
  }

  async start(term: number): Promise<void> {
    assert(this.#term === null && this.#sessions.size === 0, 'scheduler sessions started twice');
    this.#term = term;
    // A new term's leader starts from no answers, as any other new leader does.
    this.#answers.clear();
    this.#inverseOfferSync.reset();
    this.#stopListening = this.master.onChange((event) => this.#onChange(event));
    this.#every(this.#settings.heartbeatIntervalSeconds * 1000, () =>
      sendHeartbeats(this.#sessions.values(), this.master.state(), Date.now()),
    );
    const retries = new UpdateRetries(
      this.#settings.statusUpdateRetryIntervalMs,
      Math.max(this.#settings.statusUpdateRetryIntervalMs, limits.maxStatusUpdateRetryIntervalMs),
      { tasksTrackedPerTurn: this.#settings.maxTasksTrackedPerTurn },
      (key, uuid) => this.acknowledgementsOnTheirWay.has(key, uuid),
    );
    this.#retries = retries;
    this.#every(this.#settings.statusUpdateRetryIntervalMs, () => {
      const resent = retries.resend((frameworkId) => this.#sessions.get(frameworkId), this.master.state(), Date.now());
      this.#continueRound(retries, resent);
    });
    this.#every(this.#settings.inverseOfferRefreshIntervalMs, () =>
      this.#inverseOfferSync.refresh(
        this.master.state(),
        this.#answers,
        (frameworkId) => this.#sessions.get(frameworkId) ?? null,
        this.#sessions.values(),
        Date.now(),
      ),
    );
  }

  stop(): void {
    if (this.#term === null) return;
    this.#term = null;
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
    if (this.#retryTurn !== null) clearImmediate(this.#retryTurn);
    this.#retryTurn = null;
    this.#stopListening?.();
    this.#stopListening = null;
    this.#retries = null;
    this.#endAll('Master is no longer the leader');
    this.#answers.clear();
    assert(this.#sessions.size === 0 && this.#timers.length === 0, 'stopped sessions keep nothing running');
  }

  /** The master is stopping: no stream may open from now on. */
  close(): void {
    this.#closed = true;
    this.stop();
  }

  get leading(): boolean {
    return this.#term !== null;
  }

  has(frameworkId: string): boolean {
    return this.#sessions.has(frameworkId);
  }

  streamIdOf(frameworkId: string): string | null {
    return this.#sessions.get(frameworkId)?.streamId ?? null;
  }

  get count(): number {
    return this.#sessions.size;
  }

  /**
   * Throws when no stream can be opened for a framework of `principal`; called before a SUBSCRIBE
   * is proposed. A framework that re-subscribes replaces its own stream, so it always fits.
   */
  checkCapacity(frameworkId: string, principal: string | null): void {
    if (this.#closed) throw new MasterError('STOPPING');
    if (this.#term === null) throw new MasterError('LEADER_SERVICES_NOT_RUNNING');
    if (this.#sessions.has(frameworkId)) return;
    if (this.#sessions.size >= this.#settings.maxStreams) {
      throw new MasterError(
        'TOO_MANY_STREAMS',
        `at most ${this.#settings.maxStreams} scheduler streams may be open at once`,
      );
    }
    if (principal !== null && this.#streamsOf(principal) >= this.#settings.maxStreamsPerPrincipal) {
      throw new MasterError(
        'TOO_MANY_STREAMS',
        `at most ${this.#settings.maxStreamsPerPrincipal} scheduler streams of principal ${principal} may be open at once`,
      );
    }
  }

  /** Open streams of frameworks registered with `principal` (at most maxStreams to look at). */
  #streamsOf(principal: string): number {
    const frameworks = this.master.state().frameworks;
    let count = 0;
    for (const frameworkId of this.#sessions.keys()) {
      if (frameworks.get(frameworkId as FrameworkId)?.info.principal === principal) count += 1;
    }
    return count;
  }

  /**
   * Ends the framework's current stream without marking the framework disconnected: a new
   * SUBSCRIBE replaces it (Mesos closes the old connection on failover). Done before the new
   * subscription is proposed, so the old stream's close can never disconnect the new one.
   */
  supersede(frameworkId: string): void {
    const old = this.#sessions.get(frameworkId);
    if (old === undefined) return;
    this.#sessions.delete(frameworkId);
    old.end('Framework failed over');
  }

  /**
   * The stream of a framework whose subscription was just applied: SUBSCRIBED, a HEARTBEAT at
   * once, its outstanding offers, per task the updates it still has to acknowledge (task-updates.ts
   * `updatesToResend`), its inverse offers. The set of tasks is taken from the state in this
   * step, each task's updates are read as the stream writes them: a change meanwhile is also an
   * event after them, so an update may be heard twice (at least once, as Mesos), never missed.
   * Leadership lost while the subscription was proposed: the stream says so and ends.
   */
  open(frameworkId: string, sink: EventSink): { streamId: string } {
    this.supersede(frameworkId);
    const session = new SchedulerSession(frameworkId, randomUUID(), sink);
    if (this.#term === null) {
      session.end('Master is no longer the leader');
      return { streamId: session.streamId };
    }
    this.#sessions.set(frameworkId, session);
    session.send(
      subscribedEvent(
        frameworkId,
        this.#settings.heartbeatIntervalSeconds,
        masterInfo(this.master.id, this.master.address),
      ),
    );
    session.send(heartbeatEvent);
    this.#sendBacklog(session, this.master.state());
    session.onClose(() => this.#onSessionClosed(session));
    this.logger.info({ frameworkId, streamId: session.streamId }, 'scheduler subscribed');
    return { streamId: session.streamId };
  }

  /** Events for one framework (RECONCILE answers, refused launches); dropped if it has no stream. */
  send(frameworkId: string, events: Iterable<SchedulerEvent | null>): void {
    const session = this.#sessions.get(frameworkId);
    if (session === undefined) return;
    session.sendInSlices(events);
  }

  /**
   * ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS. Only inverse offers outstanding on the
   * framework's stream count; others are ignored, as master.cpp ignores an answer to an inverse
   * offer "no longer valid". Mesos then removes the inverse offer and makes a new one once the
   * answer's filter expires; Flotilla keeps it outstanding instead, and a later answer to it
   * replaces the earlier one (the framework changed its mind).
   */
  answerInverseOffers(frameworkId: string, inverseOfferIds: readonly string[], status: 'ACCEPT' | 'DECLINE'): void {
    const session = this.#sessions.get(frameworkId);
    if (session === undefined) return;
    const nowMs = Date.now();
    const ignored: string[] = [];
    for (const id of inverseOfferIds) {
      const outstanding = session.outstandingInverseOffer(id);
      if (outstanding === null) ignored.push(id);
      else this.#answers.record(outstanding.offer, status, nowMs);
    }
    if (ignored.length > 0) {
      this.logger.info(
        { frameworkId, inverseOfferIds: ignored.slice(0, 10), ignored: ignored.length },
        'ignoring answers to inverse offers that are no longer valid',
      );
    }
  }

  /** Per (agent, framework) in maintenance: the latest answer, or UNKNOWN while one is outstanding. */
  inverseOfferStatuses(): InverseOfferStatusView[] {
    const outstanding = [...this.#sessions.values()].flatMap((session) => session.outstandingInverseOffers());
    return this.#answers.statuses(this.master.state(), outstanding);
  }

  #sendBacklog(session: SchedulerSession, state: ReadonlyState): void {
    const offerIds = state.derived.offersByFramework.get(session.frameworkId as FrameworkId) ?? [];
    const offers = [...offerIds].sort(compareStrings).flatMap((id) => {
      const offer = state.offers.get(id);
      const agent = offer === undefined ? undefined : state.agents.get(offer.agentId);
      return offer === undefined || agent === undefined ? [] : [{ offer, agent }];
    });
    if (offers.length > 0) session.send(offersEvent(state, offers));
    const unacknowledged = state.derived.unacknowledgedTasksByFramework.get(session.frameworkId as FrameworkId) ?? [];
    session.sendInSlices(updatesToResend(() => this.master.state(), [...unacknowledged]));
    session.refreshInverseOffers(state, Date.now());
  }

  /**
   * A retry round does one turn's share of its work (update-retries.ts): the rest, one share per
   * turn, until none is left, so no turn walks every waiting task or sends every due update.
   */
  #continueRound(retries: UpdateRetries, resentSoFar: number): void {
    if (this.#retryTurn !== null) clearImmediate(this.#retryTurn);
    this.#retryTurn = null;
    if (!retries.busy) {
      if (resentSoFar > 0) this.logger.info({ resent: resentSoFar }, 'sent unacknowledged status updates again');
      return;
    }
    this.#retryTurn = setImmediate(() => {
      this.#retryTurn = null;
      if (this.#retries !== retries) return;
      let resent = resentSoFar;
      try {
        resent += retries.step(this.master.state()).resent;
      } catch (error) {
        this.logger.error({ err: error }, 'a status update retry round failed');
        return;
      }
      this.#continueRound(retries, resent);
    });
  }

  #every(intervalMs: number, run: () => void): void {
    const timer = setInterval(() => {
      try {
        run();
      } catch (error) {
        this.logger.error({ err: error }, 'scheduler session timer failed');
      }
    }, intervalMs);
    timer.unref();
    this.#timers.push(timer);
  }

  #endAll(message: string): void {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const session of all) session.end(message);
  }

  #onSessionClosed(session: SchedulerSession): void {
    if (this.#sessions.get(session.frameworkId) !== session) return;
    this.#sessions.delete(session.frameworkId);
    // The scheduler went away while this master leads: its failover timeout starts now.
    if (this.#term !== null) proposeDisconnect(this.master, session.frameworkId, this.logger);
  }

  /** Runs inside apply: must not throw. */
  #onChange(event: ChangeEvent): void {
    try {
      this.#inverseOfferSync.noteChange(event, this.master.state(), this.#sessions.keys());
      this.#noteForRetries(event);
      routeChange(this.#routing, event);
    } catch (error) {
      this.logger.error({ err: error, event: event.type }, 'a scheduler event could not be routed');
    }
  }

  #noteForRetries(event: ChangeEvent): void {
    if (event.type === 'TASK_ADDED' || event.type === 'TASK_UPDATED')
      this.#retries?.noteTask(taskKey(event.task.frameworkId, event.task.id), event.task);
    else if (event.type === 'STATE_RESTORED') this.#retries?.reset();
  }

  readonly #routing: RoutingTarget = {
    session: (frameworkId) => this.#sessions.get(frameworkId) ?? null,
    sessions: () => this.#sessions.values(),
    state: () => this.master.state(),
    endSession: (frameworkId, message) => {
      const session = this.#sessions.get(frameworkId);
      if (session === undefined) return;
      this.#sessions.delete(frameworkId);
      session.end(message);
    },
    endAll: (message) => this.#endAll(message),
  };
}
