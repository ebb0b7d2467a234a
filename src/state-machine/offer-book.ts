// Adding and removing outstanding offers, keeping the agents' `offered` books in step.
import type { OfferDefinition } from './commands.ts';
import { chargeOffered, releaseOffered } from './agent-accounting.ts';
import { assert } from '../util/assert.ts';
import type { ChangeEvent, OfferRemovalCause } from './events.ts';
import type { LogIndex } from './ids.ts';
import { sortedValues } from './ordering.ts';
import type { Offer, State } from './state.ts';

export function addOffer(
  state: State,
  definition: OfferDefinition,
  at: number,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  assert(!state.offers.has(definition.offerId), `offer ${definition.offerId} already outstanding`);
  const offer: Offer = {
    id: definition.offerId,
    frameworkId: definition.frameworkId,
    agentId: definition.agentId,
    role: definition.role,
    resources: definition.resources,
    createdAt: at,
    createIndex: index,
  };
  chargeOffered(state, offer.agentId, offer.resources, index);
  state.offers.set(offer.id, offer);
  events.push({ type: 'OFFER_ADDED', offer });
}

export function removeOffer(
  state: State,
  offer: Offer,
  cause: OfferRemovalCause,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  assert(state.offers.get(offer.id) === offer, `offer ${offer.id} is not outstanding`);
  releaseOffered(state, offer.agentId, offer.resources, index);
  state.offers.delete(offer.id);
  events.push({ type: 'OFFER_REMOVED', offer, cause });
}

/** In id order, so every replica emits the same events in the same order. */
export function removeOffersWhere(
  state: State,
  predicate: (offer: Offer) => boolean,
  cause: OfferRemovalCause,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  for (const offer of sortedValues(state.offers)) {
    if (predicate(offer)) removeOffer(state, offer, cause, index, events);
  }
}
