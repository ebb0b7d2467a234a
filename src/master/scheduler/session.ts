// One subscribed framework's session on the leader: its stream (an EventSink), the offers of
// the current apply waiting to leave as one OFFERS event, and the inverse offers sent on this
// stream and not rescinded. Mesos keeps one HTTP connection per framework; so does Flotilla.
import type { SchedulerEvent } from '../../protocol/scheduler.ts';
import { assert } from '../../util/assert.ts';
import type { Agent, Offer, ReadonlyState } from '../../state-machine/state.ts';
import type { EventSink } from './event-sink.ts';
import {
  errorEvent,
  type InverseOfferView,
  inverseOffersEvent,
  offersEvent,
  rescindEvent,
  rescindInverseOfferEvent,
} from './events.ts';
import { inverseOffersFor } from './inverse-offers.ts';
import { schedulerEventsPerSlice } from '../limits.ts';

export interface OutstandingInverseOffer {
  readonly offer: InverseOfferView;
  readonly sentAtMs: number;
}

/**
 * A bulk send read as the stream writes it: each `next()` is one task looked at, its answer or
 * null when it has nothing to send (a task acknowledged or pruned since the send began).
 */
class EventSource {
  constructor(readonly events: Iterator<SchedulerEvent | null>) {}
}

export class SchedulerSession {
  /** Offers added by the current apply, sent together as one OFFERS event. */
  readonly #offerBatch = new Map<string, { offer: Offer; agent: Agent }>();
  /** Inverse offers sent on this stream and not rescinded, by id, with when they were sent. */
  readonly #inverseOffers = new Map<string, OutstandingInverseOffer>();
  #ended = false;
  /**
   * Events of bulk sends not written yet, in order, from `#queuedHead` on: while any wait, every
   * event sent joins them, so the stream's order is the order of the calls.
   */
  #queued: (SchedulerEvent | EventSource)[] = [];
  #queuedHead = 0;
  #draining = false;

  constructor(
    readonly frameworkId: string,
    readonly streamId: string,
    private readonly sink: EventSink,
  ) {
    assert(frameworkId !== '' && streamId !== '', 'a session needs a framework id and a stream id');
  }

  send(event: SchedulerEvent): void {
    if (this.#draining) this.#queued.push(event);
    else this.sink.send(event);
  }

  /**
   * Sends `events` in order, `schedulerEventsPerSlice` per event-loop turn (the first slice now):
   * answering a RECONCILE of 10,000 tasks in one turn held the leader's loop for 25-64 ms. Events
   * sent meanwhile follow them. Anything but an array is read lazily, as its turn comes (a null
   * counts toward the slice and sends nothing): building a SUBSCRIBE backlog or a RECONCILE answer
   * of 100,000 tasks up front was a long turn of its own (issue 12).
   */
  sendInSlices(events: Iterable<SchedulerEvent | null>): void {
    if (Array.isArray(events)) {
      for (const event of events as readonly (SchedulerEvent | null)[]) if (event !== null) this.#queued.push(event);
    } else this.#queued.push(new EventSource(events[Symbol.iterator]()));
    if (this.#draining) return;
    this.#draining = true;
    this.#sendSlice();
  }

  #sendSlice(): void {
    for (let budget = schedulerEventsPerSlice; budget > 0 && this.#queuedHead < this.#queued.length; budget -= 1) {
      const head = this.#queued[this.#queuedHead]!;
      if (!(head instanceof EventSource)) {
        this.#queuedHead += 1;
        this.sink.send(head);
        continue;
      }
      const next = head.events.next();
      if (next.done === true) this.#queuedHead += 1;
      else if (next.value !== null) this.sink.send(next.value);
    }
    if (this.#queuedHead === this.#queued.length) {
      this.#dropQueued();
      return;
    }
    setImmediate(() => {
      if (this.#draining) this.#sendSlice();
    });
  }

  #dropQueued(): void {
    this.#queued = [];
    this.#queuedHead = 0;
    this.#draining = false;
  }

  /** Events of bulk sends still waiting to be written, a lazy one counting as one (tests, metrics). */
  get queuedEvents(): number {
    return this.#queued.length - this.#queuedHead;
  }

  /**
   * Ends the stream, after an ERROR carrying `message` if one is given. Events of a bulk send not
   * written yet are dropped: a stream that ends (failover, lost leadership) is subscribed again,
   * and SUBSCRIBE and RECONCILE on the new one tell the framework everything again.
   */
  end(message: string | null): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#dropQueued();
    if (message !== null) this.sink.send(errorEvent(message));
    this.sink.end();
  }

  onClose(listener: () => void): void {
    this.sink.onClose(listener);
  }

  /**
   * One create_offers applies all its offers synchronously: they leave as one OFFERS event, at
   * the end of the current turn (`state` is read then, after the whole apply).
   */
  queueOffer(offer: Offer, agent: Agent, state: () => ReadonlyState): void {
    const first = this.#offerBatch.size === 0;
    this.#offerBatch.set(offer.id, { offer, agent });
    if (!first) return;
    queueMicrotask(() => {
      const batch = [...this.#offerBatch.values()];
      this.#offerBatch.clear();
      if (batch.length > 0) this.send(offersEvent(state(), batch));
    });
  }

  /** An offer the framework must hear is gone; one made and removed within a batch was never seen. */
  rescindOffer(offerId: string): void {
    if (this.#offerBatch.delete(offerId)) return;
    this.send(rescindEvent(offerId));
  }

  /** Sends the inverse offers that now hold and rescinds those that no longer do. */
  refreshInverseOffers(state: ReadonlyState, nowMs: number): void {
    const current = inverseOffersFor(state, this.frameworkId);
    const currentIds = new Set(current.map((offer) => offer.id));
    for (const id of [...this.#inverseOffers.keys()]) {
      if (currentIds.has(id)) continue;
      this.#inverseOffers.delete(id);
      this.send(rescindInverseOfferEvent(id));
    }
    const fresh = current.filter((offer) => !this.#inverseOffers.has(offer.id));
    for (const offer of fresh) this.#inverseOffers.set(offer.id, { offer, sentAtMs: nowMs });
    if (fresh.length > 0) this.send(inverseOffersEvent(fresh));
    assert(this.#inverseOffers.size === current.length, 'outstanding inverse offers are exactly the current ones');
  }

  outstandingInverseOffer(id: string): OutstandingInverseOffer | null {
    return this.#inverseOffers.get(id) ?? null;
  }

  outstandingInverseOffers(): OutstandingInverseOffer[] {
    return [...this.#inverseOffers.values()];
  }
}
