// The leader's scheduler streams, one per subscribed framework (Mesos keeps one HTTP connection
// per framework and closes the old one when the framework subscribes again). Events come from
// the state machine's changes, in apply order: OFFERS (batched per apply), RESCIND, UPDATE,
// FAILURE, ERROR; timers add HEARTBEATs, resend unacknowledged updates and keep inverse offers
// current. A stream that closes (the scheduler went away, or read too slowly) marks its
// framework disconnected, which starts its failover timeout; a master that stops leading ends
// every stream, and the schedulers re-subscribe to the new leader.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { SchedulerEvent } from '../../protocol/scheduler.ts';
import type { ChangeEvent, OfferRemovalCause } from '../../state-machine/events.ts';
import type { FrameworkId } from '../../state-machine/ids.ts';
import type { Agent, Offer } from '../../state-machine/state.ts';
import { silentLogger } from '../../util/logger.ts';
import { HttpError } from '../errors.ts';
import type { MasterFacade } from '../facade.ts';
import { retryAfterSeconds } from '../leader.ts';
import { stampedOnSubmit } from '../submit.ts';
import {
  agentFailureEvent,
  errorEvent,
  heartbeatEvent,
  type InverseOfferView,
  inverseOffersEvent,
  masterInfo,
  offersEvent,
  rescindEvent,
  rescindInverseOfferEvent,
  subscribedEvent,
  updateEvent,
} from './events.ts';
import { InverseOfferAnswers, type InverseOfferStatusView } from './inverse-offer-answers.ts';
import { inverseOffersFor } from './inverse-offers.ts';
import * as limits from './limits.ts';
import { SchedulerStream } from './stream.ts';
import { oldestUnacknowledgedUpdates, pendingUpdateEvent, unacknowledgedUpdates } from './task-updates.ts';

export interface SchedulerConnectionOptions {
  readonly heartbeatIntervalSeconds: number;
  readonly statusUpdateRetryIntervalMs: number;
  readonly maxStreams: number;
  readonly maxQueuedBytes: number;
  readonly logger: Logger;
}

export const defaultConnectionOptions: SchedulerConnectionOptions = {
  heartbeatIntervalSeconds: limits.schedulerHeartbeatIntervalSeconds,
  statusUpdateRetryIntervalMs: limits.statusUpdateRetryIntervalMs,
  maxStreams: limits.maxSchedulerStreams,
  maxQueuedBytes: limits.maxQueuedBytesPerStream,
  logger: silentLogger,
};

/** Offer removals the framework must hear of; ACCEPTED and DECLINED are its own doing. */
const rescindCauses: ReadonlySet<OfferRemovalCause> = new Set([
  'RESCINDED',
  'AGENT_CHANGED',
  'MAINTENANCE',
  'FRAMEWORK_CHANGED',
]);

interface Connection {
  readonly frameworkId: string;
  readonly streamId: string;
  readonly stream: SchedulerStream;
  /** Offers added by the current apply, sent together as one OFFERS event. */
  readonly offerBatch: Map<string, { offer: Offer; agent: Agent }>;
  /** Inverse offers sent on this stream and not rescinded, by id, with when they were sent. */
  readonly inverseOffers: Map<string, OutstandingInverseOffer>;
}

interface OutstandingInverseOffer {
  readonly offer: InverseOfferView;
  readonly sentAtMs: number;
}

export class SchedulerConnections {
  readonly #connections = new Map<string, Connection>();
  /** The frameworks' answers to inverse offers: this leader's memory only (see inverse-offer-answers.ts). */
  readonly #inverseOfferAnswers = new InverseOfferAnswers();
  readonly #options: SchedulerConnectionOptions;
  #timers: NodeJS.Timeout[] = [];
  #stopListening: (() => void) | null = null;
  #scheduleIndexSeen = -1;
  /**
   * Frameworks whose use of agents changed (a task or an offer came or went) while machines are
   * scheduled: their inverse offers are brought up to date at the next leadership check rather
   * than the next heartbeat, as Mesos' allocator makes inverse offers in its next cycle.
   */
  readonly #inverseOffersStale = new Set<string>();
  #closed = false;

  constructor(
    private readonly master: MasterFacade,
    options: Partial<SchedulerConnectionOptions> = {},
  ) {
    this.#options = { ...defaultConnectionOptions, ...options };
    if (
      !(
        this.#options.heartbeatIntervalSeconds > 0 &&
        this.#options.statusUpdateRetryIntervalMs > 0 &&
        this.#options.maxStreams > 0
      )
    ) {
      throw new RangeError(
        `scheduler connection intervals and limits must be positive: ${JSON.stringify({ ...this.#options, logger: undefined })}`,
      );
    }
  }

  has(frameworkId: string): boolean {
    return this.#connections.has(frameworkId);
  }

  streamIdOf(frameworkId: string): string | null {
    return this.#connections.get(frameworkId)?.streamId ?? null;
  }

  get count(): number {
    return this.#connections.size;
  }

  /** Throws 429 when no stream can be opened; called before a SUBSCRIBE is proposed. */
  checkCapacity(frameworkId: string): void {
    if (this.#closed)
      throw new HttpError('UNAVAILABLE', 'the master is stopping', { 'retry-after': retryAfterSeconds });
    if (this.#connections.size >= this.#options.maxStreams && !this.#connections.has(frameworkId)) {
      throw new HttpError(
        'TOO_MANY_REQUESTS',
        `at most ${this.#options.maxStreams} scheduler streams may be open at once`,
        { 'retry-after': retryAfterSeconds },
      );
    }
  }

  /**
   * Ends the framework's current stream without marking the framework disconnected: a new
   * SUBSCRIBE replaces it (Mesos closes the old connection on failover). Done before the new
   * subscription is proposed, so the old stream's close can never disconnect the new one.
   */
  supersede(frameworkId: string): void {
    const old = this.#connections.get(frameworkId);
    if (old === undefined) return;
    this.#connections.delete(frameworkId);
    old.stream.send(errorEvent('Framework failed over'));
    old.stream.end();
  }

  /**
   * The stream of a framework whose subscription was just applied: SUBSCRIBED, a HEARTBEAT at
   * once, its outstanding offers, every update it has not acknowledged, its inverse offers. All
   * read from the state in one synchronous step, so each change is either in it or an event.
   */
  open(frameworkId: string): { streamId: string; stream: SchedulerStream } {
    this.supersede(frameworkId);
    const connection: Connection = {
      frameworkId,
      streamId: randomUUID(),
      stream: new SchedulerStream(this.#options.maxQueuedBytes),
      offerBatch: new Map(),
      inverseOffers: new Map(),
    };
    this.#connections.set(frameworkId, connection);
    this.#startTimers();
    const send = (event: SchedulerEvent): void => connection.stream.send(event);
    send(
      subscribedEvent(
        frameworkId,
        this.#options.heartbeatIntervalSeconds,
        masterInfo(this.master.id, this.master.address),
      ),
    );
    send(heartbeatEvent);
    const state = this.master.state();
    const offers = [...state.offers.values()]
      .filter((offer) => offer.frameworkId === frameworkId)
      .flatMap((offer) => {
        const agent = state.agents.get(offer.agentId);
        return agent === undefined ? [] : [{ offer, agent }];
      });
    if (offers.length > 0) send(offersEvent(state, offers));
    for (const pending of unacknowledgedUpdates(state, frameworkId)) send(pendingUpdateEvent(pending));
    this.#refreshInverseOffers(connection);
    connection.stream.body.once('close', () => this.#onStreamClosed(connection));
    this.#options.logger.info({ frameworkId, streamId: connection.streamId }, 'scheduler subscribed');
    return { streamId: connection.streamId, stream: connection.stream };
  }

  /** Events for one framework (RECONCILE answers, refused launches); dropped if it has no stream. */
  send(frameworkId: string, events: readonly SchedulerEvent[]): void {
    const connection = this.#connections.get(frameworkId);
    if (connection === undefined) return;
    for (const event of events) connection.stream.send(event);
  }

  /**
   * ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS. Only inverse offers outstanding on the
   * framework's stream count; others are ignored, as master.cpp ignores an answer to an inverse
   * offer "no longer valid". Mesos then removes the inverse offer and makes a new one once the
   * answer's filter expires; Flotilla keeps it outstanding instead, and a later answer to it
   * replaces the earlier one (the framework changed its mind).
   */
  answerInverseOffers(frameworkId: string, inverseOfferIds: readonly string[], status: 'ACCEPT' | 'DECLINE'): void {
    const connection = this.#connections.get(frameworkId);
    if (connection === undefined) return;
    const nowMs = Date.now();
    const ignored: string[] = [];
    for (const id of inverseOfferIds) {
      const outstanding = connection.inverseOffers.get(id);
      if (outstanding === undefined) ignored.push(id);
      else this.#inverseOfferAnswers.record(outstanding.offer, status, nowMs);
    }
    if (ignored.length > 0) {
      this.#options.logger.info(
        { frameworkId, inverseOfferIds: ignored.slice(0, 10), ignored: ignored.length },
        'ignoring answers to inverse offers that are no longer valid',
      );
    }
  }

  /** Per (agent, framework) in maintenance: the latest answer, or UNKNOWN while one is outstanding. */
  inverseOfferStatuses(): InverseOfferStatusView[] {
    const outstanding = [...this.#connections.values()].flatMap((connection) => [...connection.inverseOffers.values()]);
    return this.#inverseOfferAnswers.statuses(this.master.state(), outstanding);
  }

  /** The server is closing: every stream ends (the frameworks stay CONNECTED; a new leader gives them a grace period). */
  close(): void {
    this.#closed = true;
    this.#endAll();
  }

  #endAll(message: string | null = null): void {
    const all = [...this.#connections.values()];
    this.#connections.clear();
    for (const connection of all) {
      if (message !== null) connection.stream.send(errorEvent(message));
      connection.stream.end();
    }
    this.#stopTimers();
  }

  #onStreamClosed(connection: Connection): void {
    if (this.#connections.get(connection.frameworkId) !== connection) return;
    this.#connections.delete(connection.frameworkId);
    if (this.#connections.size === 0) this.#stopTimers();
    if (this.master.raft().role !== 'leader') return;
    // The scheduler went away: its failover timeout starts now (replicated, so any later
    // leader continues the countdown).
    const frameworkId = connection.frameworkId as FrameworkId;
    this.master.submit({ type: 'disconnect_framework', at: stampedOnSubmit, frameworkId }).catch((error: unknown) => {
      this.#options.logger.warn({ frameworkId, err: error }, 'could not mark a framework disconnected');
    });
  }

  #startTimers(): void {
    if (this.#stopListening === null) this.#stopListening = this.master.onChange((event) => this.#onChange(event));
    if (this.#timers.length > 0) return;
    const every = (ms: number, run: () => void): void => {
      const timer = setInterval(() => {
        try {
          run();
        } catch (error) {
          this.#options.logger.error({ err: error }, 'scheduler stream timer failed');
        }
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#options.heartbeatIntervalSeconds * 1000, () => this.#heartbeat());
    every(this.#options.statusUpdateRetryIntervalMs, () => this.#resendUnacknowledged());
    every(limits.leadershipCheckIntervalMs, () => this.#checkLeadership());
  }

  #stopTimers(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#stopListening?.();
    this.#stopListening = null;
  }

  #heartbeat(): void {
    for (const connection of this.#connections.values()) {
      connection.stream.send(heartbeatEvent);
      this.#refreshInverseOffers(connection);
    }
  }

  #resendUnacknowledged(): void {
    const state = this.master.state();
    for (const connection of this.#connections.values()) {
      const pending = oldestUnacknowledgedUpdates(state, connection.frameworkId).slice(
        0,
        limits.maxResentUpdatesPerRound,
      );
      for (const update of pending) connection.stream.send(pendingUpdateEvent(update));
    }
  }

  /** Streams live only on the leader: a master that lost leadership ends them all. */
  #checkLeadership(): void {
    if (this.master.raft().role !== 'leader') {
      this.#endAll('Master is no longer the leader');
      // A later term's leader starts from no answers, as any other new leader does.
      this.#inverseOfferAnswers.clear();
      return;
    }
    const scheduleIndex = this.master.state().maintenanceSchedule.modifyIndex;
    if (scheduleIndex !== this.#scheduleIndexSeen) {
      this.#scheduleIndexSeen = scheduleIndex;
      this.#inverseOfferAnswers.prune(this.master.state());
      this.#inverseOffersStale.clear();
      for (const connection of this.#connections.values()) this.#refreshInverseOffers(connection);
    }
    for (const frameworkId of this.#inverseOffersStale) {
      const connection = this.#connections.get(frameworkId);
      if (connection !== undefined) this.#refreshInverseOffers(connection);
    }
    this.#inverseOffersStale.clear();
  }

  #refreshInverseOffers(connection: Connection): void {
    const current = inverseOffersFor(this.master.state(), connection.frameworkId);
    const currentIds = new Set(current.map((offer) => offer.id));
    for (const id of [...connection.inverseOffers.keys()]) {
      if (currentIds.has(id)) continue;
      connection.inverseOffers.delete(id);
      connection.stream.send(rescindInverseOfferEvent(id));
    }
    const fresh = current.filter((offer) => !connection.inverseOffers.has(offer.id));
    const sentAtMs = Date.now();
    for (const offer of fresh) connection.inverseOffers.set(offer.id, { offer, sentAtMs });
    if (fresh.length > 0) connection.stream.send(inverseOffersEvent(fresh));
  }

  /** Runs inside apply: must not throw. */
  #onChange(event: ChangeEvent): void {
    try {
      this.#route(event);
    } catch (error) {
      this.#options.logger.error({ err: error, event: event.type }, 'a scheduler event could not be routed');
    }
  }

  #route(event: ChangeEvent): void {
    this.#noteUseOfAgents(event);
    switch (event.type) {
      case 'OFFER_ADDED':
        this.#queueOffer(event.offer);
        return;
      case 'OFFER_REMOVED': {
        const connection = this.#connections.get(event.offer.frameworkId);
        if (connection === undefined || !rescindCauses.has(event.cause)) return;
        // An offer made and removed within one batch was never seen: nothing to rescind.
        if (connection.offerBatch.delete(event.offer.id)) return;
        connection.stream.send(rescindEvent(event.offer.id));
        return;
      }
      case 'TASK_UPDATED':
        if (event.status.state !== 'TASK_STAGING')
          this.send(event.task.frameworkId, [updateEvent(event.task, event.status)]);
        return;
      case 'AGENT_REMOVED':
        for (const connection of this.#connections.values()) connection.stream.send(agentFailureEvent(event.agentId));
        return;
      case 'FRAMEWORK_REMOVED': {
        const connection = this.#connections.get(event.framework.id);
        if (connection === undefined) return;
        this.#connections.delete(event.framework.id);
        connection.stream.send(errorEvent('Framework has been removed'));
        connection.stream.end();
        return;
      }
      case 'STATE_RESTORED':
        // The leader's state was replaced from a snapshot: the streams' view no longer adds up.
        this.#endAll('Master state was restored from a snapshot; subscribe again');
        return;
      default:
        return;
    }
  }

  #noteUseOfAgents(event: ChangeEvent): void {
    if (this.master.state().maintenanceSchedule.windows.length === 0) return;
    switch (event.type) {
      case 'TASK_ADDED':
      case 'TASK_UPDATED':
        this.#inverseOffersStale.add(event.task.frameworkId);
        return;
      case 'OFFER_ADDED':
      case 'OFFER_REMOVED':
        this.#inverseOffersStale.add(event.offer.frameworkId);
        return;
      case 'AGENT_ADDED':
      case 'AGENT_REMOVED':
        for (const frameworkId of this.#connections.keys()) this.#inverseOffersStale.add(frameworkId);
        return;
      default:
        return;
    }
  }

  #queueOffer(offer: Offer): void {
    const connection = this.#connections.get(offer.frameworkId);
    const agent = this.master.state().agents.get(offer.agentId);
    if (connection === undefined || agent === undefined) return;
    const first = connection.offerBatch.size === 0;
    connection.offerBatch.set(offer.id, { offer, agent });
    if (!first) return;
    // One create_offers applies all its offers synchronously; they leave as one OFFERS event.
    queueMicrotask(() => {
      const batch = [...connection.offerBatch.values()];
      connection.offerBatch.clear();
      if (batch.length > 0) connection.stream.send(offersEvent(this.master.state(), batch));
    });
  }
}
