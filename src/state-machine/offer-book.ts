// Adding and removing outstanding offers, keeping the agents' `offered` books in step.
import type { OfferDefinition } from './commands.ts';
import { chargeOffered, releaseOffered } from './agent-accounting.ts';
import { assert } from '../util/assert.ts';
import type { ChangeEvent, OfferRemovalCause } from './events.ts';
import type { AgentId, FrameworkId, LogIndex, OfferId } from './ids.ts';
import type { Offer, State } from './state.ts';
import { deleteOffer, putOffer, sortedKeysOf } from './writes.ts';

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
  putOffer(state, offer);
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
  deleteOffer(state, offer);
  events.push({ type: 'OFFER_REMOVED', offer, cause });
}

/**
 * The offers among `ids` that `keep` does not keep, removed in id order, so every replica emits
 * the same events in the same order. The ids come from an index (offers of one framework or one
 * agent): the work is proportional to those offers, not to every outstanding one.
 */
function removeOffersAmong(
  state: State,
  ids: ReadonlySet<OfferId> | undefined,
  cause: OfferRemovalCause,
  index: LogIndex,
  events: ChangeEvent[],
  keep: (offer: Offer) => boolean = () => false,
): void {
  for (const id of sortedKeysOf(ids)) {
    const offer = state.offers.get(id);
    assert(offer !== undefined, `indexed offer ${id} is not outstanding`);
    if (!keep(offer)) removeOffer(state, offer, cause, index, events);
  }
}

/** Every offer of the framework, or those `keep` does not keep. */
export function removeOffersOfFramework(
  state: State,
  frameworkId: FrameworkId,
  cause: OfferRemovalCause,
  index: LogIndex,
  events: ChangeEvent[],
  keep?: (offer: Offer) => boolean,
): void {
  removeOffersAmong(state, state.derived.offersByFramework.get(frameworkId), cause, index, events, keep);
}

export function removeOffersOnAgent(
  state: State,
  agentId: AgentId,
  cause: OfferRemovalCause,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  removeOffersAmong(state, state.derived.offersByAgent.get(agentId), cause, index, events);
}
