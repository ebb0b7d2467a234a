// Builders for commands and resources, and a harness that runs commands through the real
// machine (encode → decode → apply) and checks after every one of them: all invariants, terminal
// tasks unchanged, and for a rejection, an unchanged state hash and no events.
import * as assert from 'uvu/assert';
import type { Command, OfferDefinition, OfferOperation } from '../../../src/state-machine/commands.ts';
import { encodeCommand } from '../../../src/state-machine/codec.ts';
import type { ApplyResult, RejectionCode } from '../../../src/state-machine/errors.ts';
import type { ChangeEvent } from '../../../src/state-machine/events.ts';
import { stateHash } from '../../../src/state-machine/hash.ts';
import {
  agentId,
  executorId,
  frameworkId,
  offerId,
  taskId,
  taskKey,
  type AgentId,
  type FrameworkId,
  type OfferId,
  type TaskId,
  type TaskKey,
} from '../../../src/state-machine/ids.ts';
import { checkTerminalTasksUnchanged } from '../../../src/state-machine/invariants.ts';
import { ClusterStateMachine } from '../../../src/state-machine/machine.ts';
import { isCompletedTask } from '../../../src/state-machine/task-predicates.ts';
import { canonicalize, type Resource, type Resources } from '../../../src/state-machine/resources.ts';
import type { TaskState } from '../../../src/protocol/task-states.ts';
import type {
  AgentInfo,
  ExecutorDefinition,
  FrameworkCapability,
  FrameworkInfo,
  StatusReport,
  TaskDefinition,
} from '../../../src/state-machine/values.ts';

export const baseTime = 1_700_000_000_000;

export const cpus = (amount: number, role = '*'): Resource => ({ name: 'cpus', role, type: 'SCALAR', scalar: amount });
export const mem = (amount: number, role = '*'): Resource => ({ name: 'mem', role, type: 'SCALAR', scalar: amount });
export const ports = (begin: number, end: number, role = '*'): Resource => ({
  name: 'ports',
  role,
  type: 'RANGES',
  ranges: [{ begin, end }],
});
export const resources = (...list: Resource[]): Resources => canonicalize(list);
export const disk = (amount: number, role = '*'): Resource => ({ name: 'disk', role, type: 'SCALAR', scalar: amount });
/** A persistent volume of `amount` MB reserved to `role`, mounted at `containerPath`. */
export const volume = (id: string, amount: number, role = 'web', containerPath = 'data'): Resource => ({
  name: 'disk',
  role,
  type: 'SCALAR',
  scalar: amount,
  disk: { persistenceId: id, principal: 'ops', containerPath, mode: 'RW' },
});

export const A1: AgentId = agentId('a1');
export const A2: AgentId = agentId('a2');
export const F1: FrameworkId = frameworkId('f1');
export const F2: FrameworkId = frameworkId('f2');
export const O1: OfferId = offerId('o1');
export const O2: OfferId = offerId('o2');
export const O3: OfferId = offerId('o3');
export const T1: TaskId = taskId('t1');
export const T2: TaskId = taskId('t2');
export const T3: TaskId = taskId('t3');

export const agentResources = resources(cpus(4), mem(4096), ports(31000, 31099));

export function agentInfo(overrides: Partial<AgentInfo> = {}): AgentInfo {
  return {
    hostname: 'node1',
    address: { ip: '10.0.0.1', port: 5051 },
    zone: null,
    resources: agentResources,
    attributes: { rack: 'r1' },
    ...overrides,
  };
}

export const registerAgent = (id: AgentId = A1, overrides: Partial<AgentInfo> = {}, at = baseTime): Command => ({
  type: 'register_agent',
  at,
  agentId: id,
  info: agentInfo(overrides),
});

export function frameworkInfo(overrides: Partial<FrameworkInfo> = {}): FrameworkInfo {
  return {
    name: 'services',
    principal: 'ops',
    roles: ['*'],
    failoverTimeoutMs: 60_000,
    capabilities: [],
    hostname: null,
    webuiUrl: null,
    user: null,
    ...overrides,
  };
}

export const subscribe = (id: FrameworkId = F1, overrides: Partial<FrameworkInfo> = {}, at = baseTime): Command => ({
  type: 'subscribe_framework',
  at,
  frameworkId: id,
  info: frameworkInfo(overrides),
});

export const partitionAware: readonly FrameworkCapability[] = ['PARTITION_AWARE'];

export function offerDefinition(
  id: OfferId,
  held: Resources,
  overrides: Partial<OfferDefinition> = {},
): OfferDefinition {
  return { offerId: id, frameworkId: F1, agentId: A1, role: '*', resources: held, ...overrides };
}

export const createOffers = (...offers: OfferDefinition[]): Command => ({
  type: 'create_offers',
  at: baseTime,
  offers,
});

export function taskDefinition(id: TaskId, held: Resources, overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    id,
    name: `task ${id}`,
    resources: held,
    command: { value: 'sleep 100', shell: true, arguments: [], environment: {}, user: null },
    container: null,
    healthCheck: null,
    killGracePeriodMs: null,
    labels: {},
    executor: null,
    data: null,
    ...overrides,
  };
}

/** A framework's executor (CUSTOM) or a task group's (DEFAULT), with the resources it holds itself. */
export function executorDefinition(
  id: string,
  held: Resources,
  overrides: Partial<ExecutorDefinition> = {},
): ExecutorDefinition {
  return {
    id: executorId(id),
    type: 'CUSTOM',
    name: `executor ${id}`,
    command: { value: './my-executor', shell: true, arguments: [], environment: {}, user: null },
    resources: held,
    shutdownGracePeriodMs: null,
    labels: {},
    container: null,
    ...overrides,
  };
}

export const launchGroup = (executor: ExecutorDefinition, ...tasks: TaskDefinition[]): OfferOperation => ({
  type: 'LAUNCH_GROUP',
  executor: { ...executor, type: 'DEFAULT', command: null },
  tasks,
});

export const launch = (...tasks: TaskDefinition[]): OfferOperation => ({ type: 'LAUNCH', tasks });

export const accept = (offerIds: OfferId[], operations: OfferOperation[], framework: FrameworkId = F1): Command => ({
  type: 'accept_offers',
  at: baseTime,
  frameworkId: framework,
  offerIds,
  operations,
});

export const uuid = (seed: number): string => Buffer.alloc(16, seed).toString('base64');

export function statusReport(state: TaskState, overrides: Partial<StatusReport> = {}): StatusReport {
  return {
    state,
    reason: null,
    message: null,
    source: 'SOURCE_EXECUTOR',
    uuid: null,
    timestampMs: baseTime,
    healthy: null,
    data: null,
    ...overrides,
  };
}

export const updateStatus = (
  task: TaskId,
  state: TaskState,
  overrides: Partial<StatusReport> = {},
  framework = F1,
  agent = A1,
): Command => ({
  type: 'update_task_status',
  at: baseTime,
  frameworkId: framework,
  taskId: task,
  agentId: agent,
  status: statusReport(state, overrides),
});

/** Agent a1, framework f1 (role "*"), offer o1 of 1 cpu and 128 mem accepted as task t1. */
export const runningTaskSetup = (): Command[] => [
  registerAgent(),
  subscribe(),
  createOffers(offerDefinition(O1, resources(cpus(1), mem(128)))),
  accept([O1], [launch(taskDefinition(T1, resources(cpus(1), mem(128))))]),
];

/**
 * A pruned task was completed (nothing left to acknowledge), or went with its pruned framework
 * or agent in the same command (an unreachable agent takes its unreachable tasks). Returns the
 * pruned tasks' keys.
 */
function checkPruning(events: readonly ChangeEvent[]): Set<TaskKey> {
  const frameworks = new Set(
    events.flatMap((event) => (event.type === 'FRAMEWORK_PRUNED' ? [event.framework.id] : [])),
  );
  const agents = new Set(events.flatMap((event) => (event.type === 'AGENT_PRUNED' ? [event.agent.id] : [])));
  const pruned = new Set<TaskKey>();
  for (const event of events) {
    if (event.type !== 'TASK_PRUNED') continue;
    const { task } = event;
    assert.ok(
      isCompletedTask(task) || frameworks.has(task.frameworkId) || agents.has(task.agentId),
      `task ${task.frameworkId}/${task.id} was pruned while its framework still needed it`,
    );
    pruned.add(taskKey(task.frameworkId, task.id));
  }
  return pruned;
}

export class Harness {
  readonly machine: ClusterStateMachine;
  readonly events: ChangeEvent[] = [];
  index = 0;

  /**
   * `snapshotSliceBudgetMs`: the machine's (0 makes the sliced snapshot writer yield at every step);
   * `snapshotWorkerMinimumRows` likewise (0: the sliced writer always uses the worker thread).
   */
  constructor(setup: readonly Command[] = [], snapshotSliceBudgetMs?: number, snapshotWorkerMinimumRows?: number) {
    this.machine = new ClusterStateMachine({
      checkInvariants: true,
      onListenerError: (error) => {
        throw error;
      },
      ...(snapshotSliceBudgetMs === undefined ? {} : { snapshotSliceBudgetMs }),
      ...(snapshotWorkerMinimumRows === undefined ? {} : { snapshotWorkerMinimumRows }),
    });
    this.machine.subscribe((event) => this.events.push(event));
    for (const command of setup) this.ok(command);
  }

  get state() {
    return this.machine.state;
  }

  /** Applies raw bytes; checks the cross-apply invariants; a rejection must change nothing. */
  applyBytes(bytes: Uint8Array): ApplyResult {
    const hashBefore = stateHash(this.state);
    const tasksBefore = new Map(this.state.tasks);
    const eventsBefore = this.events.length;
    this.index += 1;
    const result = this.machine.apply(bytes, this.index);
    const pruned = checkPruning(this.events.slice(eventsBefore));
    checkTerminalTasksUnchanged(tasksBefore, this.state, pruned);
    if (!result.ok) {
      assert.is(stateHash(this.state), hashBefore, `rejected ${result.code} changed the state`);
      assert.is(this.events.length, eventsBefore, `rejected ${result.code} emitted events`);
    }
    return result;
  }

  run(command: Command): ApplyResult {
    return this.applyBytes(encodeCommand(command));
  }

  ok(command: Command): ApplyResult {
    const result = this.run(command);
    if (!result.ok) assert.unreachable(`${command.type} rejected: ${result.code} ${result.message}`);
    return result;
  }

  rejects(command: Command, code: RejectionCode): void {
    const result = this.run(command);
    assert.is(result.ok, false, `${command.type} should be rejected with ${code}`);
    if (!result.ok) assert.is(result.code, code, result.message);
  }

  eventsSince(count: number): ChangeEvent[] {
    return this.events.slice(count);
  }
}
