// Offers: created by the leader's allocator, removed by rescind, decline or accept (accept.ts).
// An offer holds part of an agent's free resources for one framework and one role; reserved
// resources are offered only to their role (Mesos "reservation.md").
import type { CreateOffers, DeclineOffers, OfferDefinition, RescindOffer } from './commands.ts';
import { freeResources } from './agent-accounting.ts';
import { reject, success, type ApplyResult, type Rejection } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import type { AgentId, LogIndex, OfferId } from './ids.ts';
import { agentIsDown } from './machines.ts';
import { addOffer, removeOffer } from './offer-book.ts';
import { add, contains, emptyResources, isEmpty, subtract, type Resources } from './resources.ts';
import { unreservedRole } from './roles.ts';
import type { Offer, State } from './state.ts';

function checkOfferTarget(state: State, definition: OfferDefinition): Rejection | null {
  const framework = state.frameworks.get(definition.frameworkId);
  if (framework === undefined)
    return reject('FRAMEWORK_NOT_FOUND', `framework ${definition.frameworkId} is not registered`);
  if (framework.state === 'COMPLETED') return reject('FRAMEWORK_COMPLETED', `framework ${framework.id} was torn down`);
  if (framework.state !== 'CONNECTED')
    return reject('FRAMEWORK_NOT_CONNECTED', `framework ${framework.id} is disconnected`);
  if (!framework.info.roles.includes(definition.role)) {
    return reject('ROLE_NOT_SUBSCRIBED', `framework ${framework.id} is not subscribed to role "${definition.role}"`);
  }
  const agent = state.agents.get(definition.agentId);
  if (agent === undefined) return reject('AGENT_NOT_FOUND', `agent ${definition.agentId} is not registered`);
  if (agent.state === 'GONE') return reject('AGENT_GONE', `agent ${agent.id} was marked gone`);
  if (agent.state !== 'ACTIVE') return reject('AGENT_NOT_ACTIVE', `agent ${agent.id} is ${agent.state.toLowerCase()}`);
  if (agent.deactivated) return reject('AGENT_NOT_ACTIVE', `agent ${agent.id} is deactivated`);
  if (agentIsDown(state, agent))
    return reject('AGENT_IN_MAINTENANCE', `agent ${agent.id} is on a machine that is down`);
  return null;
}

function checkOfferResources(definition: OfferDefinition): Rejection | null {
  if (isEmpty(definition.resources)) return reject('INVALID_RESOURCES', `offer ${definition.offerId} has no resources`);
  const foreign = definition.resources.find(
    (resource) => resource.role !== unreservedRole && resource.role !== definition.role,
  );
  if (foreign !== undefined) {
    return reject(
      'INVALID_RESOURCES',
      `offer ${definition.offerId} holds resources reserved for "${foreign.role}", not "${definition.role}"`,
    );
  }
  return null;
}

/** All offers of the batch are checked together: several may share one agent's free resources. */
function checkCreateOffers(state: State, command: CreateOffers): Rejection | null {
  const seen = new Set<OfferId>();
  const pending = new Map<AgentId, Resources>();
  for (const definition of command.offers) {
    if (seen.has(definition.offerId)) return reject('DUPLICATE_ID', `offer ${definition.offerId} appears twice`);
    seen.add(definition.offerId);
    if (state.offers.has(definition.offerId))
      return reject('OFFER_ID_ALREADY_USED', `offer ${definition.offerId} is outstanding`);
    const problem = checkOfferTarget(state, definition) ?? checkOfferResources(definition);
    if (problem !== null) return problem;
    const agent = state.agents.get(definition.agentId);
    const alreadyPending = pending.get(definition.agentId) ?? emptyResources;
    if (agent === undefined || !contains(subtract(freeResources(agent), alreadyPending), definition.resources)) {
      return reject(
        'RESOURCES_INSUFFICIENT',
        `offer ${definition.offerId} does not fit in agent ${definition.agentId}'s free resources`,
      );
    }
    pending.set(definition.agentId, add(alreadyPending, definition.resources));
  }
  return null;
}

export function applyCreateOffers(
  state: State,
  command: CreateOffers,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const problem = checkCreateOffers(state, command);
  if (problem !== null) return problem;
  for (const definition of command.offers) addOffer(state, definition, command.at, index, events);
  return success;
}

export function applyRescindOffer(
  state: State,
  command: RescindOffer,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const offer = state.offers.get(command.offerId);
  if (offer === undefined) return reject('OFFER_NOT_FOUND', `offer ${command.offerId} is not outstanding`);
  removeOffer(state, offer, 'RESCINDED', index, events);
  return success;
}

export function applyDeclineOffers(
  state: State,
  command: DeclineOffers,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  if (!state.frameworks.has(command.frameworkId)) {
    return reject('FRAMEWORK_NOT_FOUND', `framework ${command.frameworkId} is not registered`);
  }
  const present: Offer[] = [];
  const unknownOfferIds: OfferId[] = [];
  for (const id of new Set(command.offerIds)) {
    const offer = state.offers.get(id);
    if (offer === undefined) unknownOfferIds.push(id);
    else if (offer.frameworkId !== command.frameworkId) {
      return reject('OFFER_FRAMEWORK_MISMATCH', `offer ${id} was made to another framework`);
    } else present.push(offer);
  }
  for (const offer of present) removeOffer(state, offer, 'DECLINED', index, events);
  return { ok: true, unknownOfferIds };
}
