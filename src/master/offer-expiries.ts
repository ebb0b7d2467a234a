// The leader's outstanding offers by expiry time (`--offer-timeout-ms`), so the allocation loop
// finds its next wake-up and the offers to rescind without scanning every offer. It scanned them
// at the end of each cycle and on every refuse(), that is on every ACCEPT that left resources
// unused: at 10,000 agents, 10,000 ACCEPTs each walked about 10,000 offers on the leader's loop
// (issue 12: work per event proportional to what changed).
//
// A binary min-heap fed as offers are added. Entries are never removed in place: an offer
// accepted, declined or rescinded leaves a stale entry, dropped when it reaches the top, and the
// heap is compacted once stale entries outnumber live ones, so it stays within twice the
// outstanding offers (plus `minimumCompactionSize`).
import { assert } from '../util/assert.ts';
import type { OfferId } from '../state-machine/ids.ts';
import type { Offer } from '../state-machine/state.ts';

interface OfferExpiry {
  readonly expiresAtMs: number;
  readonly offerId: OfferId;
}

/** The state's outstanding offers, as far as the index needs them. */
export type OutstandingOffers = Pick<ReadonlyMap<OfferId, Offer>, 'get' | 'size'>;

const minimumCompactionSize = 1024;

export class OfferExpiries {
  readonly #heap: OfferExpiry[] = [];
  #compactAtSize = minimumCompactionSize;

  constructor(private readonly timeoutMs: number) {
    assert(timeoutMs > 0, 'offer expiries need a positive offer timeout');
  }

  get size(): number {
    return this.#heap.length;
  }

  /** From the change listener, inside apply: pushes only (the offer may not be in the state yet). */
  add(offer: Offer): void {
    this.#push({ expiresAtMs: offer.createdAt + this.timeoutMs, offerId: offer.id });
  }

  /** When the earliest outstanding offer expires; null with none outstanding. */
  nextExpiryMs(outstanding: OutstandingOffers): number | null {
    this.#compactIfDue(outstanding);
    this.#dropStaleTop(outstanding);
    return this.#heap[0]?.expiresAtMs ?? null;
  }

  /**
   * Up to `limit` outstanding offers expired at `nowMs`, earliest first. They stay indexed until
   * they are gone: a rescind that did not happen (leadership lost) is found again.
   */
  expired(nowMs: number, limit: number, outstanding: OutstandingOffers): OfferId[] {
    this.#compactIfDue(outstanding);
    const found: OfferExpiry[] = [];
    for (this.#dropStaleTop(outstanding); found.length < limit; this.#dropStaleTop(outstanding)) {
      const top = this.#heap[0];
      if (top === undefined || top.expiresAtMs > nowMs) break;
      found.push(this.#pop()!);
    }
    for (const entry of found) this.#push(entry);
    assert(found.length <= limit, 'no more expired offers than asked for');
    return found.map((entry) => entry.offerId);
  }

  clear(): void {
    this.#heap.length = 0;
    this.#compactAtSize = minimumCompactionSize;
  }

  #isLive(entry: OfferExpiry, outstanding: OutstandingOffers): boolean {
    const offer = outstanding.get(entry.offerId);
    return offer !== undefined && offer.createdAt + this.timeoutMs === entry.expiresAtMs;
  }

  #dropStaleTop(outstanding: OutstandingOffers): void {
    while (this.#heap.length > 0 && !this.#isLive(this.#heap[0]!, outstanding)) this.#pop();
  }

  #compactIfDue(outstanding: OutstandingOffers): void {
    if (this.#heap.length < this.#compactAtSize) return;
    const live = this.#heap.filter((entry) => this.#isLive(entry, outstanding));
    this.#heap.length = 0;
    for (const entry of live) this.#push(entry);
    this.#compactAtSize = Math.max(minimumCompactionSize, 2 * live.length);
    assert(this.#heap.length <= outstanding.size, 'every live entry is an outstanding offer');
  }

  #push(entry: OfferExpiry): void {
    const heap = this.#heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (heap[parent]!.expiresAtMs <= heap[index]!.expiresAtMs) return;
      [heap[parent], heap[index]] = [heap[index]!, heap[parent]!];
      index = parent;
    }
  }

  #pop(): OfferExpiry | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && heap[left]!.expiresAtMs < heap[smallest]!.expiresAtMs) smallest = left;
      if (right < heap.length && heap[right]!.expiresAtMs < heap[smallest]!.expiresAtMs) smallest = right;
      if (smallest === index) return top;
      [heap[smallest], heap[index]] = [heap[index]!, heap[smallest]!];
      index = smallest;
    }
  }
}
