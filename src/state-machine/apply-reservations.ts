// Operator RESERVE_RESOURCES / UNRESERVE_RESOURCES (Mesos dynamic reservations): unreserved free
// resources of an agent become reserved for a role, or back. Only free resources (neither used
// nor offered) can change hands; the allocator rescinds offers first when it must.
import type { ReserveResources, UnreserveResources } from './commands.ts';
import { freeResources, setTotal } from './agent-accounting.ts';
import { reject, success, type ApplyResult } from './errors.ts';
import type { LogIndex } from './ids.ts';
import {
  add,
  canonicalize,
  contains,
  isEmpty,
  subtract,
  unreserved,
  volumesOf,
  type Resource,
  type Resources,
} from './resources.ts';
import { unreservedRole } from './roles.ts';
import type { Agent, State } from './state.ts';

function findAgentFor(state: State, agentId: Agent['id'], resources: Resources): Agent | ApplyResult {
  const agent = state.agents.get(agentId);
  if (agent === undefined) return reject('AGENT_NOT_FOUND', `agent ${agentId} is not registered`);
  if (agent.state === 'GONE') return reject('AGENT_GONE', `agent ${agentId} was marked gone`);
  if (isEmpty(resources) || resources.some((resource) => resource.role === unreservedRole)) {
    return reject('INVALID_RESOURCES', 'every resource must name the role it is reserved for');
  }
  if (volumesOf(resources).length > 0)
    return reject('INVALID_RESOURCES', 'a persistent volume is made by CREATE_VOLUMES and undone by DESTROY_VOLUMES');
  return agent;
}

const isResult = (value: Agent | ApplyResult): value is ApplyResult => 'ok' in value;

export function applyReserveResources(state: State, command: ReserveResources, index: LogIndex): ApplyResult {
  const agent = findAgentFor(state, command.agentId, command.resources);
  if (isResult(agent)) return agent;
  const source = unreserved(command.resources);
  if (!contains(freeResources(agent), source)) {
    return reject('RESOURCES_INSUFFICIENT', `agent ${agent.id} has not that many free unreserved resources`);
  }
  setTotal(state, agent.id, add(subtract(agent.resources, source), command.resources), index);
  return success;
}

export function applyUnreserveResources(state: State, command: UnreserveResources, index: LogIndex): ApplyResult {
  const agent = findAgentFor(state, command.agentId, command.resources);
  if (isResult(agent)) return agent;
  if (!contains(agent.resources, command.resources)) {
    return reject('RESERVATION_NOT_FOUND', `agent ${agent.id} has no such reserved resources`);
  }
  if (!contains(freeResources(agent), command.resources)) {
    return reject('RESOURCES_IN_USE', `agent ${agent.id}: the reserved resources are offered or used`);
  }
  setTotal(state, agent.id, add(subtract(agent.resources, command.resources), unreserved(command.resources)), index);
  return success;
}

const reservedPart = (resources: Resources): Resources =>
  resources.filter((resource) => resource.role !== unreservedRole) as readonly Resource[] as Resources;

/**
 * A re-registering agent reports what its flags and machine give it (static reservations
 * included); the dynamic reservations and persistent volumes made since live in the replicated
 * state only (Mesos checkpoints them on the agent instead). So they are carved out of the
 * reported unreserved resources again, each as long as it still fits: a volume survives an agent
 * restart. A reservation that no longer fits (the agent came back smaller) is dropped; a volume
 * never is, since dropping it would have the agent delete its data: it is kept, taking what
 * unreserved disk is left, until an operator destroys it.
 */
export function carryReservations(previous: Resources, reported: Resources): Resources {
  const dynamic = subtract(reservedPart(previous), reservedPart(reported));
  let total = reported;
  for (const resource of dynamic) {
    const made = canonicalize([resource]);
    const source = unreserved(made);
    if (!contains(total, source) && volumesOf(made).length === 0) continue;
    total = add(subtract(total, source), made);
  }
  return total;
}
