// ACCEPT: the framework consumes offers (one agent, one role) and runs operations, in order,
// against their pooled resources (Mesos master.cpp `_accept`): RESERVE turns unreserved pool
// resources into resources reserved for the offers' role, UNRESERVE the reverse, LAUNCH takes
// task resources out of the pool, LAUNCH_GROUP a task group on its DEFAULT executor. A task's
// executor (CUSTOM, or a group's DEFAULT) that is not on the agent yet takes its own resources
// out of the pool too, once. Everything is planned on copies first; only a plan that passes
// every check is applied, so an ACCEPT is never half-applied. Unused pool resources return to
// the agent's free resources.
import type { AcceptOffers, OfferOperation } from './commands.ts';
import { chargeUsed, setTotal } from './agent-accounting.ts';
import { assertNever } from '../util/assert.ts';
import { reject, success, type ApplyResult, type Rejection } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import {
  executorKey,
  taskKey,
  type AgentId,
  type ExecutorKey,
  type LogIndex,
  type TaskId,
  type TaskKey,
} from './ids.ts';
import { removeOffer } from './offer-book.ts';
import {
  add,
  canonicalize,
  contains,
  isEmpty,
  isVolume,
  subtract,
  sum,
  unreserved,
  volumesOf,
  type Resources,
} from './resources.ts';
import { findVolume, planCreateVolumes, planDestroyVolumes, type VolumePool } from './apply-volumes.ts';
import { unreservedRole, type Role } from './roles.ts';
import type { Offer, State, TaskStatus } from './state.ts';
import type { ExecutorDefinition, TaskDefinition } from './values.ts';
import { containerProblem } from './container-rules.ts';
import { addExecutor, executorProblem, planExecutor } from './executors.ts';
import { stagingTask } from './task-records.ts';
import { putTask } from './writes.ts';

/** A task as it will be made: its definition with the executor it runs on, and its group. */
interface PlannedTask {
  readonly definition: TaskDefinition;
  readonly taskGroup: TaskId | null;
}

interface Pool {
  /** What the remaining operations can still use. */
  readonly available: Resources;
  /** The agent's total after the reservations planned so far. */
  readonly total: Resources;
  readonly tasks: readonly PlannedTask[];
  /** Executors the launches make (not on the agent before), in launch order. */
  readonly executors: ReadonlyMap<ExecutorKey, ExecutorDefinition>;
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

/** Plain resources reserved to `role`: a volume is made and undone by CREATE and DESTROY, not RESERVE. */
function reservedForRoleOnly(resources: Resources, role: Role): boolean {
  return (
    !isEmpty(resources) &&
    resources.every((resource) => resource.role === role && role !== unreservedRole && !isVolume(resource))
  );
}

/** A volume-backed pool step: CREATE and DESTROY change the total as RESERVE does. */
function planVolumes(pool: Pool, planned: VolumePool | Rejection): Pool | Rejection {
  if ('ok' in planned) return planned;
  return { ...pool, available: planned.available, total: planned.total };
}

/**
 * Mesos: a task uses a volume whole, with the container path and mode it was created with. The
 * task's copy is replaced by the agent's (its principal included), so the agent mounts what exists.
 */
function adoptVolumes(definition: TaskDefinition, total: Resources): TaskDefinition | Rejection {
  const volumes = volumesOf(definition.resources);
  if (volumes.length === 0) return definition;
  const adopted: Resources[number][] = [];
  for (const volume of volumes) {
    const stored = findVolume(total, volume.role, volume.disk.persistenceId);
    if (stored === undefined || !isVolume(stored))
      return reject('VOLUME_NOT_FOUND', `task ${definition.id}: no volume ${volume.disk.persistenceId} on the agent`);
    if (stored.scalar !== volume.scalar || stored.disk.containerPath !== volume.disk.containerPath)
      return reject(
        'INVALID_VOLUME',
        `task ${definition.id}: volume ${volume.disk.persistenceId} must be used whole, as created`,
      );
    if (stored.disk.mode !== volume.disk.mode)
      return reject(
        'INVALID_VOLUME',
        `task ${definition.id}: volume ${volume.disk.persistenceId} has mode ${stored.disk.mode}`,
      );
    adopted.push(stored);
  }
  const plain = definition.resources.filter((resource) => !isVolume(resource));
  return { ...definition, resources: canonicalize([...plain, ...adopted]) };
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

/** Mesos: a task has a command or an executor, never both; a command task may have a container instead. */
function checkTaskDefinition(task: TaskDefinition): Rejection | null {
  if (task.executor !== null) {
    if (task.command !== null)
      return reject('INVALID_TASK', `task ${task.id} has both a command and an executor: give one`);
    const problem = executorProblem(task.executor, 'LAUNCH');
    if (problem !== null) return problem;
  } else if (task.command === null && task.container === null)
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

/** The pool less the executor's resources when the launch makes it; unchanged when it runs already. */
function planTaskExecutor(
  state: State,
  command: AcceptOffers,
  agentId: AgentId,
  pool: Pool,
  executor: ExecutorDefinition,
): Pool | Rejection {
  const needed = planExecutor(state, agentId, command.frameworkId, executor, pool.executors);
  if (typeof needed !== 'boolean') return needed;
  if (!needed) return pool;
  if (!contains(pool.available, executor.resources))
    return reject('RESOURCES_INSUFFICIENT', `executor ${executor.id} does not fit in the offers`);
  const executors = new Map(pool.executors).set(executorKey(agentId, command.frameworkId, executor.id), executor);
  return { ...pool, available: subtract(pool.available, executor.resources), executors };
}

function planTask(
  state: State,
  command: AcceptOffers,
  agentId: AgentId,
  pool: Pool,
  task: PlannedTask,
  launched: Set<TaskKey>,
): Pool | Rejection {
  const definition = adoptVolumes(task.definition, pool.total);
  if ('ok' in definition) return definition;
  const key = taskKey(command.frameworkId, definition.id);
  if (launched.has(key)) return reject('DUPLICATE_ID', `task ${definition.id} appears twice`);
  if (state.tasks.has(key))
    return reject('TASK_ID_ALREADY_USED', `framework ${command.frameworkId} already has a task ${definition.id}`);
  const withExecutor =
    definition.executor === null ? pool : planTaskExecutor(state, command, agentId, pool, definition.executor);
  if ('ok' in withExecutor) return withExecutor;
  if (!contains(withExecutor.available, definition.resources))
    return reject('RESOURCES_INSUFFICIENT', `task ${definition.id} does not fit in the offers`);
  launched.add(key);
  return {
    ...withExecutor,
    available: subtract(withExecutor.available, definition.resources),
    tasks: [...withExecutor.tasks, { ...task, definition }],
  };
}

function planLaunch(
  state: State,
  command: AcceptOffers,
  agentId: AgentId,
  pool: Pool,
  tasks: readonly TaskDefinition[],
  launched: Set<TaskKey>,
): Pool | Rejection {
  let planned = pool;
  for (const definition of tasks) {
    const problem = checkTaskDefinition(definition);
    if (problem !== null) return problem;
    const next = planTask(state, command, agentId, planned, { definition, taskGroup: null }, launched);
    if ('ok' in next) return next;
    planned = next;
  }
  return planned;
}

/** Mesos' default executor: every task of the group runs in it, each with a command or a container of its own. */
function planLaunchGroup(
  state: State,
  command: AcceptOffers,
  agentId: AgentId,
  pool: Pool,
  operation: Extract<OfferOperation, { type: 'LAUNCH_GROUP' }>,
  launched: Set<TaskKey>,
): Pool | Rejection {
  const executorRejection = executorProblem(operation.executor, 'LAUNCH_GROUP');
  if (executorRejection !== null) return executorRejection;
  const first = operation.tasks[0];
  if (first === undefined) return reject('INVALID_TASK_GROUP', 'a task group needs at least one task');
  let planned = pool;
  for (const definition of operation.tasks) {
    if (definition.executor !== null)
      return reject('INVALID_TASK_GROUP', `task ${definition.id} of a task group names an executor of its own`);
    const problem = checkTaskDefinition(definition);
    if (problem !== null) return problem;
    const task = { definition: { ...definition, executor: operation.executor }, taskGroup: first.id };
    const next = planTask(state, command, agentId, planned, task, launched);
    if ('ok' in next) return next;
    planned = next;
  }
  return planned;
}

function planOperation(
  state: State,
  command: AcceptOffers,
  pool: Pool,
  operation: OfferOperation,
  offer: Offer,
  launched: Set<TaskKey>,
): Pool | Rejection {
  switch (operation.type) {
    case 'RESERVE':
      return planReserve(pool, operation.resources, offer.role);
    case 'UNRESERVE':
      return planUnreserve(pool, operation.resources, offer.role);
    case 'CREATE':
      return planVolumes(pool, planCreateVolumes(pool, operation.volumes, offer.role, 'CREATE'));
    case 'DESTROY':
      return planVolumes(pool, planDestroyVolumes(pool, operation.volumes, offer.role, 'DESTROY'));
    case 'LAUNCH':
      return planLaunch(state, command, offer.agentId, pool, operation.tasks, launched);
    case 'LAUNCH_GROUP':
      return planLaunchGroup(state, command, offer.agentId, pool, operation, launched);
    default:
      return assertNever(operation);
  }
}

function planAccept(state: State, command: AcceptOffers, offers: readonly Offer[]): Pool | Rejection {
  const first = offers[0];
  const agent = first === undefined ? undefined : state.agents.get(first.agentId);
  if (first === undefined || agent === undefined) return reject('OFFER_NOT_FOUND', 'no offers to accept');
  let pool: Pool = {
    available: sum(offers.map((offer) => offer.resources)),
    total: agent.resources,
    tasks: [],
    executors: new Map(),
  };
  const launched = new Set<TaskKey>();
  for (const operation of command.operations) {
    const next = planOperation(state, command, pool, operation, first, launched);
    if ('ok' in next) return next;
    pool = next;
  }
  return pool;
}

function launchTask(
  state: State,
  planned: PlannedTask,
  command: AcceptOffers,
  agentId: AgentId,
  role: Role,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  const definition = planned.definition;
  const staging: TaskStatus = {
    state: 'TASK_STAGING',
    reason: null,
    message: null,
    source: 'SOURCE_MASTER',
    uuid: null,
    timestampMs: command.at,
    healthy: null,
    data: null,
    acknowledged: false,
    receivedAt: command.at,
    index,
  };
  const task = stagingTask(
    definition,
    {
      taskGroup: planned.taskGroup,
      frameworkId: command.frameworkId,
      // Mesos (slave.cpp): the command's user, else the framework's, as it is when the task launches.
      user: definition.command?.user ?? state.frameworks.get(command.frameworkId)?.info.user ?? null,
      agentId,
      role,
      createdAt: command.at,
      index,
    },
    staging,
  );
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
  const placement = { frameworkId: command.frameworkId, agentId: first.agentId, role: first.role };
  for (const executor of plan.executors.values()) addExecutor(state, executor, placement, command.at, index, events);
  // The agent is charged once for all the tasks: a charge per task stored a new agent version
  // and recomputed its free resources each time (issue 12, launch bench). Scalars are whole
  // thousandths and ranges sets, so the sum charged is exactly the tasks' charges one by one.
  if (plan.tasks.length > 0)
    chargeUsed(state, first.agentId, sum(plan.tasks.map((task) => task.definition.resources)), index);
  for (const task of plan.tasks) launchTask(state, task, command, first.agentId, first.role, index, events);
  if (command.operations.some((operation) => operation.type === 'CREATE' || operation.type === 'DESTROY'))
    events.push({ type: 'AGENT_VOLUMES_CHANGED', agentId: first.agentId });
  return success;
}
