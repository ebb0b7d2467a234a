// The allocation loop's offer expiries (master/offer-expiries.ts): the next wake-up and the offers
// to rescind come from an index by expiry time, not from a scan of every outstanding offer on each
// ACCEPT (issue 12: at 10,000 agents the first offer round's 10,000 ACCEPTs each walked about
// 10,000 offers on the leader's loop). Counts, not time: the offers a refuse() walks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AllocationLoop } from '../../src/master/allocation-loop.ts';
import { OfferExpiries } from '../../src/master/offer-expiries.ts';
import type { ChangeListener } from '../../src/master/interface.ts';
import { agentId, frameworkId, offerId, type OfferId } from '../../src/state-machine/ids.ts';
import type { Offer, ReadonlyState } from '../../src/state-machine/state.ts';
import { silentLogger } from '../../src/util/logger.ts';

const offerTimeoutMs = 60_000;

function offerAt(id: string, createdAt: number): Offer {
  return {
    id: offerId(id),
    frameworkId: frameworkId('f1'),
    agentId: agentId(`agent-of-${id}`),
    createdAt,
  } as unknown as Offer;
}

/** A map that counts the entries its iterators hand out: how much of the offers a caller walked. */
class CountingMap<Key, Value> extends Map<Key, Value> {
  visited = 0;

  override *entries(): MapIterator<[Key, Value]> {
    for (const entry of super.entries()) {
      this.visited += 1;
      yield entry;
    }
  }

  override *values(): MapIterator<Value> {
    for (const [, value] of this.entries()) yield value;
  }

  override *keys(): MapIterator<Key> {
    for (const [key] of this.entries()) yield key;
  }

  override [Symbol.iterator](): MapIterator<[Key, Value]> {
    return this.entries();
  }

  override forEach(callback: (value: Value, key: Key, map: Map<Key, Value>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }
}

test("refuse() after an ACCEPT walks none of the outstanding offers to find the loop's next wake-up", async () => {
  const offers = new CountingMap<OfferId, Offer>();
  const state = { offers, agents: new Map(), frameworks: new Map() } as unknown as ReadonlyState;
  const listeners: ChangeListener[] = [];
  const loop = new AllocationLoop({
    master: {
      state: () => state,
      onChange: (listener) => {
        listeners.push(listener);
        return () => listeners.splice(listeners.indexOf(listener), 1);
      },
      submit: () => Promise.reject(new Error('this test proposes nothing')),
    },
    // No cycle runs within the test: the window outlasts it.
    settings: { batchMs: 600_000, offerTimeoutMs, minAllocatable: [] },
    logger: silentLogger,
  });
  await loop.start(1);
  try {
    const outstanding = 2_000;
    for (let index = 0; index < outstanding; index += 1) {
      const offer = offerAt(`o${index}`, 1_000 + index);
      offers.set(offer.id, offer);
      for (const listener of listeners) listener({ type: 'OFFER_ADDED', offer }, index + 1);
    }
    offers.visited = 0;
    const accepts = 100;
    for (let index = 0; index < accepts; index += 1) loop.refuse('f1', [`agent-of-o${index}`], 5);
    // Before the index: each refuse walked every offer, 100 × 2,000 entries.
    assert.is(offers.visited, 0);
  } finally {
    loop.stop();
  }
});

test('the next expiry is the earliest outstanding offer; gone offers are skipped', () => {
  const expiries = new OfferExpiries(offerTimeoutMs);
  const offers = new Map<OfferId, Offer>();
  for (const [id, createdAt] of [
    ['late', 30],
    ['early', 10],
    ['middle', 20],
  ] as const) {
    const offer = offerAt(id, createdAt);
    offers.set(offer.id, offer);
    expiries.add(offer);
  }
  assert.is(expiries.nextExpiryMs(offers), 10 + offerTimeoutMs);
  offers.delete(offerId('early')); // accepted
  assert.is(expiries.nextExpiryMs(offers), 20 + offerTimeoutMs);
  offers.clear();
  assert.is(expiries.nextExpiryMs(offers), null);
});

test('expired offers come earliest first, at most the limit, and stay indexed until they are gone', () => {
  const expiries = new OfferExpiries(offerTimeoutMs);
  const offers = new Map<OfferId, Offer>();
  for (let index = 0; index < 10; index += 1) {
    const offer = offerAt(`o${9 - index}`, 9 - index);
    offers.set(offer.id, offer);
    expiries.add(offer);
  }
  const nowMs = 5 + offerTimeoutMs; // o0 … o5 expired
  assert.equal(expiries.expired(nowMs, 4, offers), ['o0', 'o1', 'o2', 'o3']);
  // Not rescinded (leadership lost, say): found again.
  assert.equal(expiries.expired(nowMs, 10, offers), ['o0', 'o1', 'o2', 'o3', 'o4', 'o5']);
  for (const id of ['o0', 'o1', 'o2']) offers.delete(offerId(id));
  assert.equal(expiries.expired(nowMs, 10, offers), ['o3', 'o4', 'o5']);
});

test('entries of offers long gone are compacted away: the index stays near the outstanding count', () => {
  const expiries = new OfferExpiries(offerTimeoutMs);
  const offers = new Map<OfferId, Offer>();
  // Offers accepted as fast as they come, the later ones expiring first (a clock step back):
  // stale entries never reach the top on their own.
  for (let index = 0; index < 20_000; index += 1) {
    const offer = offerAt(`o${index}`, 1_000_000 - index);
    offers.set(offer.id, offer);
    expiries.add(offer);
    if (index % 10 !== 0) offers.delete(offer.id);
    expiries.nextExpiryMs(offers);
  }
  assert.is(offers.size, 2_000);
  assert.ok(expiries.size <= 2 * offers.size + 1024, `${expiries.size} entries for ${offers.size} offers`);
});

test.run();
