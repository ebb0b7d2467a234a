// ACCEPT: the framework consumes offers (one agent, one role) and runs operations, in order,
// against their pooled resources (Mesos master.cpp `_accept`): RESERVE turns unreserved pool
// resources into resources reserved for the offers' role, UNRESERVE the reverse, LAUNCH takes
// task resources out of the pool. Everything is planned on copies first; only a plan that
// passes every check is applied, so an ACCEPT is never half-applied. Unused pool resources
// return to the agent's free resources.
import type { AcceptOffers, OfferOperation } from './commands.ts';
import { chargeUsed, setTotal } from './agent-accounting.ts';
import { assertNever } from '../util/assert.ts';
import { reject, success, type ApplyResult, type Rejection } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import { taskKey, type AgentId, type LogIndex, type TaskKey } from './ids.ts';
import { removeOffer } from './offer-book.ts';
import { add, contains, isEmpty, subtract, sum, unreserved, type Resources } from './resources.ts';
import { unreservedRole, type Role } from './roles.ts';
import type { Offer, State, Task } from './state.ts';
import type { TaskDefinition } from './values.ts';
import { containerProblem } from './container-rules.ts';
import { putTask } from './writes.ts';

interface Pool {
  /** What the remaining operations can still use. */
  readonly available: Resources;
  /** The agent's total after the reservations planned so far. */
  readonly total: Resources;
  readonly tasks: readonly TaskDefinition[];
}

function collectOffers(state: State, command: AcceptOffers): Offer[] | Rejection {
  const offers: Offer[] = [];
  for (const id of command.offerIds) {
    const offer = state.offers.get(id);
    if (offer === undefined) return reject('OFFER_NOT_FOUND', `offer ${id} is not outstanding`);
    if (offers.some((other) => other.id === id)) return reject('DUPLICATE_ID', `offer ${id} appears twice`);
    if (offer.frameworkId !== command.frameworkId)
      return reject('OFFER_FRAMEWORK_MISMATCH', `offer ${id} was made to another framework`);
    const first = offers[0];
    if (first !== undefined && offer.agentId !== first.agentId)
      return reject('OFFER_AGENT_MISMATCH', 'the offers are on different agents');
    if (first !== undefined && offer.role !== first.role)
      return reject('OFFER_ROLE_MISMATCH', 'the offers are for different roles');
    offers.push(offer);
  }
  return offers;
}

function reservedForRoleOnly(resources: Resources, role: Role): boolean {
  return !isEmpty(resources) && resources.every((resource) => resource.role === role && role !== unreservedRole);
}

function planReserve(pool: Pool, resources: Resources, role: Role): Pool | Rejection {
  if (!reservedForRoleOnly(resources, role))
    return reject('INVALID_RESOURCES', `RESERVE must name resources reserved for "${role}"`);
  const source = unreserved(resources);
  if (!contains(pool.available, source))
    return reject('RESOURCES_INSUFFICIENT', 'RESERVE asks for more than the offers hold');
  return {
    ...pool,
    available: add(subtract(pool.available, source), resources),
    total: add(subtract(pool.total, source), resources),
  };
}

function planUnreserve(pool: Pool, resources: Resources, role: Role): Pool | Rejection {
  if (!reservedForRoleOnly(resources, role))
    return reject('INVALID_RESOURCES', `UNRESERVE must name resources reserved for "${role}"`);
  if (!contains(pool.available, resources))
    return reject('RESOURCES_INSUFFICIENT', 'UNRESERVE asks for more than the offers hold');
  const released = unreserved(resources);
  return {
    ...pool,
    available: add(subtract(pool.available, resources), released),
    total: add(subtract(pool.total, resources), released),
  };
}

function checkTaskDefinition(task: TaskDefinition): Rejection | null {
  if (task.command === null && task.container === null)
    return reject('INVALID_TASK', `task ${task.id} has neither command nor container`);
  if (task.container?.type === 'DOCKER' && task.container.image === null)
    return reject('INVALID_TASK', `task ${task.id}: a DOCKER container needs an image`);
  if (isEmpty(task.resources)) return reject('INVALID_TASK', `task ${task.id} has no resources`);
  const container = containerProblem(task);
  if (container !== null) return reject('INVALID_TASK', `task ${task.id}: ${container.field}: ${container.message}`);
  const check = task.healthCheck;
  if (check?.type === 'COMMAND' && check.command === null)
    return reject('INVALID_TASK', `task ${task.id}: a COMMAND health check needs a command`);
  if ((check?.type === 'HTTP' || check?.type === 'TCP') && check.port === null)
    return reject('INVALID_TASK', `task ${task.id}: the health check needs a port`);
  return null;
}

function planLaunch(
  state: State,
  command: AcceptOffers,
  pool: Pool,
  tasks: readonly TaskDefinition[],
  launched: Set<TaskKey>,
): Pool | Rejection {
  let available = pool.available;
  for (const task of tasks) {
    const key = taskKey(command.frameworkId, task.id);
    if (launched.has(key)) return reject('DUPLICATE_ID', `task ${task.id} appears twice`);
    if (state.tasks.has(key))
      return reject('TASK_ID_ALREADY_USED', `framework ${command.frameworkId} already has a task ${task.id}`);
    const problem = checkTaskDefinition(task);
    if (problem !== null) return problem;
    if (!contains(available, task.resources))
      return reject('RESOURCES_INSUFFICIENT', `task ${task.id} does not fit in the offers`);
    available = subtract(available, task.resources);
    launched.add(key);
  }
  return { ...pool, available, tasks: [...pool.tasks, ...tasks] };
}

function planOperation(
  state: State,
  command: AcceptOffers,
  pool: Pool,
  operation: OfferOperation,
  role: Role,
  launched: Set<TaskKey>,
): Pool | Rejection {
  switch (operation.type) {
    case 'RESERVE':
      return planReserve(pool, operation.resources, role);
    case 'UNRESERVE':
      return planUnreserve(pool, operation.resources, role);
    case 'LAUNCH':
      return planLaunch(state, command, pool, operation.tasks, launched);
    default:
      return assertNever(operation);
  }
}

function planAccept(state: State, command: AcceptOffers, offers: readonly Offer[]): Pool | Rejection {
  const first = offers[0];
  const agent = first === undefined ? undefined : state.agents.get(first.agentId);
  if (first === undefined || agent === undefined) return reject('OFFER_NOT_FOUND', 'no offers to accept');
  let pool: Pool = { available: sum(offers.map((offer) => offer.resources)), total: agent.resources, tasks: [] };
  const launched = new Set<TaskKey>();
  for (const operation of command.operations) {
    const next = planOperation(state, command, pool, operation, first.role, launched);
    if ('ok' in next) return next;
    pool = next;
  }
  return pool;
}

function launchTask(
  state: State,
  definition: TaskDefinition,
  command: AcceptOffers,
  agentId: AgentId,
  role: Role,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  chargeUsed(state, agentId, definition.resources, index);
  const task: Task = {
    ...definition,
    frameworkId: command.frameworkId,
    // Mesos (slave.cpp): the command's user, else the framework's, as it is when the task launches.
    user: definition.command?.user ?? state.frameworks.get(command.frameworkId)?.info.user ?? null,
    agentId,
    role,
    state: 'TASK_STAGING',
    killRequestedAt: null,
    statuses: [
      {
        state: 'TASK_STAGING',
        reason: null,
        message: null,
        source: 'SOURCE_MASTER',
        uuid: null,
        timestampMs: command.at,
        healthy: null,
        acknowledged: false,
        receivedAt: command.at,
        index,
      },
    ],
    createdAt: command.at,
    createIndex: index,
    modifyIndex: index,
  };
  putTask(state, task);
  events.push({ type: 'TASK_ADDED', task });
}

export function applyAcceptOffers(
  state: State,
  command: AcceptOffers,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const framework = state.frameworks.get(command.frameworkId);
  if (framework === undefined)
    return reject('FRAMEWORK_NOT_FOUND', `framework ${command.frameworkId} is not registered`);
  if (framework.state === 'COMPLETED') return reject('FRAMEWORK_COMPLETED', `framework ${framework.id} was torn down`);
  if (framework.state !== 'CONNECTED')
    return reject('FRAMEWORK_NOT_CONNECTED', `framework ${framework.id} is disconnected`);
  const offers = collectOffers(state, command);
  if ('ok' in offers) return offers;
  const plan = planAccept(state, command, offers);
  if ('ok' in plan) return plan;
  const first = offers[0];
  if (first === undefined) return success;
  for (const offer of offers) removeOffer(state, offer, 'ACCEPTED', index, events);
  setTotal(state, first.agentId, plan.total, index);
  for (const task of plan.tasks) launchTask(state, task, command, first.agentId, first.role, index, events);
  return success;
}
