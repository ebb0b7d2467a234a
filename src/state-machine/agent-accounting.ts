// An agent's resource books: `resources` is its total, `used` what its live tasks hold,
// `offered` what its outstanding offers hold. Every change goes through here and asserts both
// sides (TigerBeetle style): before, that what is released was held; after, that used plus
// offered still fits the total. Validation happened before; a failure here is a bug.
import { assert } from '../util/assert.ts';
import type { LogIndex } from './ids.ts';
import { add, contains, subtract, type Resources } from './resources.ts';
import type { Agent, State } from './state.ts';
import { putAgent } from './writes.ts';

/**
 * Each agent version's free resources, computed once: an agent is never changed in place (a
 * change stores a new object), so the cache cannot go stale, and an allocation cycle reads the
 * free resources of an agent that did not change since the last cycle without recomputing them.
 */
const freeByAgentVersion = new WeakMap<Agent, Resources>();

/** What is neither used nor offered. */
export function freeResources(agent: Agent): Resources {
  let free = freeByAgentVersion.get(agent);
  if (free === undefined) {
    free = subtract(subtract(agent.resources, agent.used), agent.offered);
    freeByAgentVersion.set(agent, free);
  }
  return free;
}

function store(state: State, agent: Agent, index: LogIndex): void {
  assert(
    contains(agent.resources, add(agent.used, agent.offered)),
    `agent ${agent.id}: used plus offered exceed the total`,
  );
  putAgent(state, { ...agent, modifyIndex: index });
}

function agentOf(state: State, agent: Agent['id']): Agent {
  const found = state.agents.get(agent);
  assert(found !== undefined, `agent ${agent} is not registered`);
  return found;
}

export function chargeOffered(state: State, agentId: Agent['id'], resources: Resources, index: LogIndex): void {
  const agent = agentOf(state, agentId);
  assert(contains(freeResources(agent), resources), `agent ${agentId}: offered resources are not free`);
  store(state, { ...agent, offered: add(agent.offered, resources) }, index);
}

export function releaseOffered(state: State, agentId: Agent['id'], resources: Resources, index: LogIndex): void {
  const agent = agentOf(state, agentId);
  assert(contains(agent.offered, resources), `agent ${agentId}: released offer resources were not offered`);
  store(state, { ...agent, offered: subtract(agent.offered, resources) }, index);
}

export function chargeUsed(state: State, agentId: Agent['id'], resources: Resources, index: LogIndex): void {
  const agent = agentOf(state, agentId);
  assert(contains(freeResources(agent), resources), `agent ${agentId}: task resources are not free`);
  store(state, { ...agent, used: add(agent.used, resources) }, index);
}

export function releaseUsed(state: State, agentId: Agent['id'], resources: Resources, index: LogIndex): void {
  const agent = agentOf(state, agentId);
  assert(contains(agent.used, resources), `agent ${agentId}: released task resources were not used`);
  store(state, { ...agent, used: subtract(agent.used, resources) }, index);
}

/** Replaces the total (reservations, re-registration); used plus offered must still fit. */
export function setTotal(state: State, agentId: Agent['id'], resources: Resources, index: LogIndex): void {
  const agent = agentOf(state, agentId);
  store(state, { ...agent, resources }, index);
}
