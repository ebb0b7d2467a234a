// Random command sequences that mostly make sense: a recipe is a command kind and a few random
// numbers, realized against the current state (pick an outstanding offer, a live task, a size
// that fits the agent's free resources…), so a run exercises the success paths as well as the
// rejections. Small id pools make collisions (reused task ids, re-registrations) frequent.
import fc from 'fast-check';
import { freeResources } from '../../../src/state-machine/agent-accounting.ts';
import type {
  AcknowledgeTaskStatus,
  AgentRegistrationBatchItem,
  Command,
  RegisterAgent,
  ReregisterAgent,
  TaskStatusBatchItem,
  UpdateTaskStatus,
} from '../../../src/state-machine/commands.ts';
import {
  agentId,
  executorId,
  executorKey,
  frameworkId,
  offerId,
  taskId,
  type AgentId,
  type FrameworkId,
  type TaskId,
} from '../../../src/state-machine/ids.ts';
import { canonicalJson } from '../../../src/state-machine/canonical-json.ts';
import { sortedValues } from '../../../src/state-machine/ordering.ts';
import {
  canonicalize,
  contains,
  subtract,
  sum,
  withRole,
  type Resource,
  type Resources,
} from '../../../src/state-machine/resources.ts';
import { kvKey, type Agent, type ReadonlyState, type Task } from '../../../src/state-machine/state.ts';
import { isTerminalTaskState, taskStates } from '../../../src/protocol/task-states.ts';
import type { AgentInfo, FrameworkInfo, MachineId } from '../../../src/state-machine/values.ts';
import { cpus, executorDefinition, mem, ports, resources, taskDefinition, uuid } from './fixtures.ts';

export interface Recipe {
  readonly kind: number;
  readonly picks: readonly number[];
}

const agentPool: readonly AgentId[] = ['a1', 'a2', 'a3'].map(agentId);
const frameworkPool: readonly FrameworkId[] = ['f1', 'f2', 'f3'].map(frameworkId);
const taskPool: readonly TaskId[] = ['t1', 't2', 't3', 't4', 't5', 't6'].map(taskId);
const executorPool = ['e1', 'e2'] as const;
const rolePool = ['*', 'web', 'batch'] as const;
const machinePool: readonly MachineId[] = [
  { hostname: 'node1', ip: '' },
  { hostname: 'node2', ip: '' },
  { hostname: '', ip: '10.0.0.3' },
];

class Context {
  #next = 0;
  constructor(
    readonly state: ReadonlyState,
    readonly index: number,
    readonly picks: readonly number[],
  ) {}

  get at(): number {
    return 1_700_000_000_000 + this.index * 1000;
  }

  pick(): number {
    const value = this.picks[this.#next % this.picks.length] ?? 0;
    this.#next += 1;
    return value;
  }

  chance(oneIn: number): boolean {
    return this.pick() % oneIn === 0;
  }

  choose<T>(list: readonly T[]): T | undefined {
    return list.length === 0 ? undefined : list[this.pick() % list.length];
  }
}

function agentInfoFor(id: AgentId, context: Context): AgentInfo {
  const number = agentPool.indexOf(id) + 1;
  return {
    hostname: `node${number}`,
    address: { ip: `10.0.0.${number}`, port: 5051 },
    zone: null,
    attributes: {},
    resources: resources(
      cpus(2 + (context.pick() % 4)),
      mem(1024 * (1 + (context.pick() % 3))),
      ports(31000, 31010 + (context.pick() % 40)),
    ),
  };
}

function frameworkInfoFor(context: Context): FrameworkInfo {
  const bits = context.pick();
  const roles = rolePool.filter((_, position) => ((bits >> position) & 1) === 1);
  return {
    name: 'generated',
    principal: context.chance(12) ? 'intruder' : 'ops',
    roles: roles.length === 0 ? ['*'] : roles,
    failoverTimeoutMs: 1000,
    capabilities: context.chance(2) ? ['PARTITION_AWARE'] : [],
    hostname: null,
    webuiUrl: null,
    user: null,
  };
}

/** A part of `available` usable by `role`: a fraction of each scalar, a few values of each range. */
function portion(available: Resources, role: string, context: Context): Resources {
  const parts: Resource[] = [];
  for (const resource of available) {
    if (resource.role !== '*' && resource.role !== role) continue;
    if (resource.type === 'SCALAR')
      parts.push({ ...resource, scalar: Math.floor((resource.scalar * (1 + (context.pick() % 3))) / 4) });
    else {
      const first = resource.ranges[0];
      if (first !== undefined)
        parts.push({
          ...resource,
          ranges: [{ begin: first.begin, end: Math.min(first.end, first.begin + (context.pick() % 3)) }],
        });
    }
  }
  const chosen = canonicalize(parts);
  return chosen.length === 0 ? resources(cpus(1)) : chosen;
}

const liveAgents = (state: ReadonlyState): Agent[] =>
  sortedValues(state.agents).filter((agent) => agent.state !== 'GONE');
const tasks = (state: ReadonlyState): Task[] => sortedValues(state.tasks);

/**
 * Whether a correct agent can still report `task`: not a terminal one whose executor the master
 * removed (or replaced). An agent reports an executor's exit only once every update of its tasks
 * was acknowledged (agent/executors/exits.ts), so it never reports such a task running again.
 * Generated agents report them anyway (a buggy or hostile agent can); command format 11's
 * `restoresLostTasks: true` takes such a report at its word and revives the task without its
 * executor (FLOTILLA_SEED=1350828537 in registration-batch.test.ts), so it is generated only with
 * reports a correct agent sends, and format 12's 'checked' with any.
 */
function agentMayReport(state: ReadonlyState, task: Task): boolean {
  if (task.executor === null || !isTerminalTaskState(task.state)) return true;
  const executor = state.executors.get(executorKey(task.agentId, task.frameworkId, task.executor.id));
  return executor !== undefined && canonicalJson(executor.info) === canonicalJson(task.executor);
}

function createOffersCommand(context: Context): Command {
  const framework = context.choose(sortedValues(context.state.frameworks).filter((each) => each.state === 'CONNECTED'));
  const agent = context.choose(liveAgents(context.state));
  // Mostly the step an offer waits for, so runs reach launched tasks (and what happens to them);
  // else the offer to nobody that the state machine rejects.
  if (framework === undefined && !context.chance(3)) return subscribeCommand(context);
  if (agent === undefined && !context.chance(3)) return registerCommand(context);
  if (framework === undefined || agent === undefined) {
    const offer = {
      offerId: offerId(`o${context.index}`),
      frameworkId: frameworkId('f1'),
      agentId: agentId('a1'),
      role: '*',
      resources: resources(cpus(1)),
    };
    return { type: 'create_offers', at: context.at, offers: [offer] };
  }
  const role = context.choose(framework.info.roles) ?? '*';
  const count = context.chance(3) ? 2 : 1;
  const offers = Array.from({ length: count }, (_, position) => ({
    offerId: offerId(`o${context.index}-${position}`),
    frameworkId: framework.id,
    agentId: agent.id,
    role,
    resources: portion(freeResources(agent), role, context),
  }));
  return { type: 'create_offers', at: context.at, offers };
}

function acceptCommand(context: Context): Command {
  const offer = context.choose(sortedValues(context.state.offers));
  // Mostly an offer first (see createOffersCommand), else an ACCEPT of an offer that is not there.
  if (offer === undefined && !context.chance(3)) return createOffersCommand(context);
  if (offer === undefined)
    return {
      type: 'accept_offers',
      at: context.at,
      frameworkId: frameworkId('f1'),
      offerIds: [offerId('o0')],
      operations: [],
    };
  const siblings = sortedValues(context.state.offers).filter(
    (other) => other.agentId === offer.agentId && other.frameworkId === offer.frameworkId && other.role === offer.role,
  );
  const chosen = context.chance(3) ? siblings : [offer];
  let pool = sum(chosen.map((each) => each.resources));
  const operations: Extract<Command, { type: 'accept_offers' }>['operations'][number][] = [];
  if (offer.role !== '*' && context.chance(4)) {
    const reserved = withRole(
      portion(pool.filter((resource) => resource.role === '*') as readonly Resource[] as Resources, '*', context),
      offer.role,
    );
    operations.push({ type: 'RESERVE', resources: reserved });
    pool = reserved;
  }
  const definitions = Array.from({ length: 1 + (context.pick() % 2) }, () =>
    taskDefinition(context.choose(taskPool) ?? taskId('t1'), portion(pool, offer.role, context)),
  );
  // The executor's part of what the tasks leave, so that launches with an executor fit as often as
  // those without (a part of the whole pool besides the tasks' was mostly RESOURCES_INSUFFICIENT).
  const taken = sum(definitions.map((definition) => definition.resources));
  const left = contains(pool, taken) ? subtract(pool, taken) : pool;
  if (context.chance(3)) operations.push(executorLaunch(context, definitions, portion(left, offer.role, context)));
  else if (!context.chance(6)) operations.push({ type: 'LAUNCH', tasks: definitions });
  const framework = context.chance(15) ? (context.choose(frameworkPool) ?? offer.frameworkId) : offer.frameworkId;
  return {
    type: 'accept_offers',
    at: context.at,
    frameworkId: framework,
    offerIds: chosen.map((each) => each.id),
    operations,
  };
}

function statusCommand(context: Context): Command {
  const task = context.choose(tasks(context.state));
  const state = context.chance(20)
    ? 'TASK_STAGING'
    : (context.choose(taskStates.filter((each) => each !== 'TASK_STAGING')) ?? 'TASK_RUNNING');
  return {
    type: 'update_task_status',
    at: context.at,
    frameworkId: task?.frameworkId ?? frameworkId('f1'),
    taskId: task?.id ?? taskId('t1'),
    agentId: task?.agentId ?? agentId('a1'),
    status: {
      state,
      reason: null,
      message: null,
      source: 'SOURCE_EXECUTOR',
      uuid: context.chance(5) ? null : uuid(1 + (context.pick() % 30)),
      timestampMs: context.at,
      healthy: null,
      data: null,
    },
  };
}

/**
 * Tasks on a framework's executor, or as a task group: two executor ids and two infos each, so
 * launches find the executor made, running, or running with another info (a mismatch).
 */
function executorLaunch(
  context: Context,
  definitions: readonly ReturnType<typeof taskDefinition>[],
  held: Resources,
): Extract<Command, { type: 'accept_offers' }>['operations'][number] {
  const executor = executorDefinition(
    context.choose(executorPool) ?? 'e1',
    context.chance(2) ? held : resources(cpus(0)),
    {
      name: context.chance(2) ? 'first' : 'second',
    },
  );
  if (context.chance(2))
    return { type: 'LAUNCH_GROUP', executor: { ...executor, type: 'DEFAULT', command: null }, tasks: definitions };
  return { type: 'LAUNCH', tasks: definitions.map((definition) => ({ ...definition, command: null, executor })) };
}

function removeExecutorCommand(context: Context): Command {
  const executor = context.choose(sortedValues(context.state.executors));
  return {
    type: 'remove_executor',
    at: context.at,
    agentId: executor?.agentId ?? context.choose(agentPool) ?? agentId('a1'),
    frameworkId: executor?.frameworkId ?? frameworkId('f1'),
    executorId: executor?.info.id ?? executorId('e1'),
  };
}

function acknowledgeCommand(context: Context): Command {
  const task = context.choose(tasks(context.state));
  const known = task?.statuses.flatMap((status) => (status.uuid === null ? [] : [status.uuid])) ?? [];
  return {
    type: 'acknowledge_task_status',
    at: context.at,
    frameworkId: task?.frameworkId ?? frameworkId('f1'),
    taskId: task?.id ?? taskId('t1'),
    agentId: task?.agentId ?? agentId('a1'),
    uuid: context.choose(known) ?? uuid(1),
  };
}

/** One item of a task_status_batch realized against `state`: a status update or an acknowledgement. */
export function realizeStatusItem(picks: readonly number[], state: ReadonlyState, index: number): TaskStatusBatchItem {
  const context = new Context(state, index, picks);
  const command = (context.chance(3) ? acknowledgeCommand(context) : statusCommand(context)) as
    | UpdateTaskStatus
    | AcknowledgeTaskStatus;
  const { at: _at, ...item } = command;
  return item;
}

/** One to six items, each from its own picks, all realized against the state before the batch. */
function batchCommand(context: Context): Command {
  const count = 1 + (context.pick() % 6);
  const items = Array.from({ length: count }, (_, position) =>
    realizeStatusItem(
      context.picks.map((pick) => pick + position * 7919),
      context.state,
      context.index,
    ),
  );
  return { type: 'task_status_batch', at: context.at, items };
}

function reregisterCommand(context: Context): Command {
  const id = context.choose(agentPool) ?? agentId('a1');
  const agent = context.state.agents.get(id);
  const reported = tasks(context.state).filter((task) => task.agentId === id && !context.chance(4));
  const info =
    agent === undefined || context.chance(3)
      ? agentInfoFor(id, context)
      : { ...agentInfoFor(id, context), resources: agent.resources };
  const command: ReregisterAgent = {
    type: 'reregister_agent',
    keepsReservations: true,
    at: context.at,
    agentId: id,
    info,
    tasks: reported.map((task) => ({
      frameworkId: task.frameworkId,
      taskId: task.id,
      state: context.chance(2) ? null : ('TASK_RUNNING' as const),
    })),
  };
  // Command format 11's or 12's member, as a leader writes it once every replica reads that format:
  // half the re-registrations, so a returning unreachable agent's lost tasks come back (or, without
  // it, stay lost). Picked last, so the picks before it realize what they did before it was generated.
  return context.chance(2) ? { ...command, restoresLostTasks: lostTaskReturnRule(context, reported) } : command;
}

/** Format 11's rule or format 12's checked one; format 11's only with a report a correct agent sends. */
function lostTaskReturnRule(context: Context, reported: readonly Task[]): true | 'checked' {
  const correct = reported.every((task) => agentMayReport(context.state, task));
  return correct && context.chance(2) ? true : 'checked';
}

/**
 * A partition and its end, the path by which a terminal task becomes live again: an agent that
 * runs tasks becomes unreachable (its tasks lost or unreachable), and an unreachable agent comes
 * back reporting them running, with command format 11's or 12's `restoresLostTasks` (Mesos re-adds them).
 * Random agents and tasks rarely line up so (most states run no task): this realizer picks them.
 */
function partitionCommand(context: Context): Command {
  const agents = liveAgents(context.state);
  const away = context.choose(agents.filter((agent) => agent.state === 'UNREACHABLE'));
  if (away === undefined) {
    const running = agents.filter(
      (agent) => agent.state === 'ACTIVE' && context.state.derived.liveTasksByAgent.has(agent.id),
    );
    const agent = context.choose(running);
    if (agent === undefined) return reregisterCommand(context);
    return { type: 'update_agent_state', at: context.at, agentId: agent.id, state: 'UNREACHABLE' };
  }
  const reported = tasks(context.state).filter(
    (task) => task.agentId === away.id && (!isTerminalTaskState(task.state) || task.state === 'TASK_LOST'),
  );
  return {
    type: 'reregister_agent',
    keepsReservations: true,
    at: context.at,
    agentId: away.id,
    info: { ...agentInfoFor(away.id, context), resources: away.resources },
    tasks: reported.map((task) => ({ frameworkId: task.frameworkId, taskId: task.id, state: 'TASK_RUNNING' as const })),
    restoresLostTasks: lostTaskReturnRule(context, reported),
  };
}

function reservationCommand(context: Context, reserve: boolean): Command {
  const agent = context.choose(liveAgents(context.state));
  const id = agent?.id ?? agentId('a1');
  const role = context.choose(['web', 'batch']) ?? 'web';
  if (reserve) {
    const free = agent === undefined ? resources(cpus(1)) : freeResources(agent);
    return {
      type: 'reserve_resources',
      principal: null,
      at: context.at,
      agentId: id,
      resources: withRole(portion(free, '*', context), role),
    };
  }
  const reserved = agent?.resources.filter((resource) => resource.role !== '*') ?? [];
  const target =
    reserved.length === 0 ? resources(cpus(1, role)) : canonicalize([context.choose(reserved) ?? cpus(1, role)]);
  return { type: 'unreserve_resources', principal: null, at: context.at, agentId: id, resources: target };
}

function scheduleCommand(context: Context): Command {
  const bits = context.pick();
  const machines = machinePool.filter((_, position) => ((bits >> position) & 1) === 1);
  const split = context.pick() % (machines.length + 1);
  const windows = [machines.slice(0, split), machines.slice(context.chance(6) ? 0 : split)]
    .filter((list) => list.length > 0)
    .map((list) => ({ machines: list, startMs: context.at, durationMs: 60_000 }));
  return { type: 'update_maintenance_schedule', at: context.at, windows };
}

function kvCommand(context: Context, put: boolean): Command {
  const namespace = context.choose(['a', 'b']) ?? 'a';
  const key = context.choose(['k1', 'k2', 'k3']) ?? 'k1';
  const current = context.state.kv.get(kvKey(namespace, key))?.version ?? 0;
  const expectedVersion = context.choose([null, current, 0, 1 + (context.pick() % 50)]) ?? null;
  return put
    ? { type: 'kv_put', namespace, key, value: `v${context.index}`, expectedVersion }
    : { type: 'kv_delete', namespace, key, expectedVersion };
}

function garbage(context: Context): Uint8Array {
  const variants = [
    '{"version":1,"command":{"type":"kill_task","at":-5}}',
    '{"version":4}',
    'null',
    '{"version":1,"command":{"type":"noop"',
  ];
  return new Uint8Array(Buffer.from(context.choose(variants) ?? 'null', 'utf8'));
}

const machineCommand =
  (type: 'start_maintenance' | 'stop_maintenance') =>
  (context: Context): Command => {
    const scheduled = sortedValues(context.state.machines).map((status) => status.machine);
    return {
      type,
      at: context.at,
      machines: [
        context.choose(context.chance(4) ? machinePool : scheduled) ?? machinePool[0] ?? { hostname: 'x', ip: '' },
      ],
    };
  };

function subscribeCommand(context: Context): Command {
  return {
    type: 'subscribe_framework',
    at: context.at,
    frameworkId: context.choose(frameworkPool) ?? frameworkId('f1'),
    info: frameworkInfoFor(context),
  };
}

function registerCommand(context: Context): Command {
  return {
    type: 'register_agent',
    at: context.at,
    agentId: context.choose(agentPool) ?? agentId('a1'),
    info: agentInfoFor(context.choose(agentPool) ?? agentId('a1'), context),
  };
}

/** One item of an agent_registration_batch realized against `state`: a registration or a re-registration. */
export function realizeRegistrationItem(
  picks: readonly number[],
  state: ReadonlyState,
  index: number,
): AgentRegistrationBatchItem {
  const context = new Context(state, index, picks);
  const command = (context.chance(2) ? registerCommand(context) : reregisterCommand(context)) as
    | RegisterAgent
    | ReregisterAgent;
  const { at: _at, ...item } = command;
  return item;
}

/** One to six registrations and re-registrations, each from its own picks, realized against the state before. */
function registrationBatchCommand(context: Context): Command {
  const count = 1 + (context.pick() % 6);
  const items = Array.from({ length: count }, (_, position) =>
    realizeRegistrationItem(
      context.picks.map((pick) => pick + position * 7919),
      context.state,
      context.index,
    ),
  );
  return { type: 'agent_registration_batch', at: context.at, items };
}

const realizers: readonly ((context: Context) => Command | Uint8Array)[] = [
  registerCommand,
  reregisterCommand,
  partitionCommand,
  partitionCommand,
  partitionCommand,
  (context) => ({
    type: 'update_agent_state',
    at: context.at,
    agentId: context.choose(agentPool) ?? agentId('a1'),
    state: 'UNREACHABLE',
  }),
  (context) => ({
    type: context.choose(['deactivate_agent', 'reactivate_agent', 'mark_agent_drained'] as const) ?? 'deactivate_agent',
    at: context.at,
    agentId: context.choose(agentPool) ?? agentId('a1'),
  }),
  (context) => ({
    type: 'drain_agent',
    at: context.at,
    agentId: context.choose(agentPool) ?? agentId('a1'),
    maxGracePeriodMs: context.chance(2) ? null : 1_000,
    markGone: context.chance(3),
  }),
  (context) =>
    context.chance(3)
      ? { type: 'mark_agent_gone', at: context.at, agentId: context.choose(agentPool) ?? agentId('a1') }
      : { type: 'noop' },
  subscribeCommand,
  (context) => ({
    type: 'update_framework',
    at: context.at,
    frameworkId: context.choose(frameworkPool) ?? frameworkId('f1'),
    info: frameworkInfoFor(context),
  }),
  (context) => ({
    type: 'disconnect_framework',
    at: context.at,
    frameworkId: context.choose(frameworkPool) ?? frameworkId('f1'),
  }),
  (context) =>
    context.chance(3)
      ? { type: 'teardown_framework', at: context.at, frameworkId: context.choose(frameworkPool) ?? frameworkId('f1') }
      : { type: 'noop' },
  createOffersCommand,
  createOffersCommand,
  createOffersCommand,
  (context) => ({
    type: 'rescind_offer',
    at: context.at,
    offerId: context.choose(sortedValues(context.state.offers))?.id ?? offerId('o0'),
  }),
  (context) => {
    const offer = context.choose(sortedValues(context.state.offers));
    return {
      type: 'decline_offers',
      at: context.at,
      frameworkId: offer?.frameworkId ?? frameworkId('f1'),
      offerIds: [offer?.id ?? offerId('o0'), offerId('o0')],
    };
  },
  acceptCommand,
  acceptCommand,
  acceptCommand,
  acceptCommand,
  statusCommand,
  statusCommand,
  statusCommand,
  acknowledgeCommand,
  batchCommand,
  batchCommand,
  removeExecutorCommand,
  (context) => {
    const task = context.choose(tasks(context.state));
    return {
      type: 'kill_task',
      at: context.at,
      frameworkId: task?.frameworkId ?? frameworkId('f1'),
      taskId: task?.id ?? taskId('t1'),
    };
  },
  (context) => reservationCommand(context, true),
  (context) => reservationCommand(context, false),
  (context) => ({
    type: 'update_quota',
    configs: [
      {
        role: context.choose(rolePool) ?? 'web',
        guarantees: { cpus: context.pick() % 4 },
        limits: { cpus: context.pick() % 6 },
      },
    ],
  }),
  (context) => ({
    type: 'update_weights',
    weights: [{ role: context.choose(rolePool) ?? 'web', weight: (1 + (context.pick() % 8)) / 2 }],
  }),
  scheduleCommand,
  machineCommand('start_maintenance'),
  machineCommand('stop_maintenance'),
  (context) => kvCommand(context, true),
  (context) => kvCommand(context, true),
  (context) => kvCommand(context, false),
  () => ({ type: 'noop' }),
  garbage,
  // Small history limits, so random runs prune tasks, frameworks and agents (by count and by age).
  (context) => ({
    type: 'update_history_limits',
    at: context.at,
    maxCompletedFrameworks: context.pick() % 3,
    maxCompletedTasksPerFramework: context.pick() % 4,
    maxRemovedAgentAgeMs: 1000 * (context.pick() % 20),
    maxRemovedAgentCount: context.pick() % 3,
  }),
  registrationBatchCommand,
];

export const recipeArbitrary: fc.Arbitrary<Recipe> = fc.record({
  kind: fc.nat({ max: realizers.length - 1 }),
  picks: fc.array(fc.nat({ max: 1_000_000 }), { minLength: 8, maxLength: 8 }),
});

export function realize(recipe: Recipe, state: ReadonlyState, index: number): Command | Uint8Array {
  const realizer = realizers[recipe.kind % realizers.length];
  if (realizer === undefined) throw new Error('no realizers');
  return realizer(new Context(state, index, recipe.picks));
}
