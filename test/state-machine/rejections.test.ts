// Every rejection code, each produced by a command that is invalid when it applies. The harness
// checks for each that the state hash is unchanged and no event was emitted (never
// half-applied); the last test checks that every code in errors.ts has a case here, so a new
// code cannot ship untested and a code no test produces is noticed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandFormatVersion } from '../../src/state-machine/codec.ts';
import type { Command } from '../../src/state-machine/commands.ts';
import { rejectionCodes, type RejectionCode } from '../../src/state-machine/errors.ts';
import { executorId, taskId } from '../../src/state-machine/ids.ts';
import { maxCommandBytes } from '../../src/state-machine/limits.ts';
import {
  A1,
  A2,
  accept,
  agentInfo,
  baseTime,
  cpus,
  createOffers,
  disk,
  executorDefinition,
  F1,
  F2,
  frameworkInfo,
  Harness,
  launch,
  launchGroup,
  mem,
  O1,
  O2,
  offerDefinition,
  ports,
  registerAgent,
  resources,
  runningTaskSetup,
  subscribe,
  T1,
  T2,
  taskDefinition,
  updateStatus,
  uuid,
  volume,
} from './support/fixtures.ts';
import { kvLimitCase } from './support/kv-limit.ts';

interface Case {
  readonly name: string;
  readonly setup: readonly Command[];
  readonly command: Command | Uint8Array;
  readonly code: RejectionCode;
}

const covered = new Set<RejectionCode>();
const text = (value: string): Uint8Array => new Uint8Array(Buffer.from(value, 'utf8'));
const agentAndFramework = [registerAgent(), subscribe(F1, { roles: ['*', 'web'] })];
const withOffer = [...agentAndFramework, createOffers(offerDefinition(O1, resources(cpus(2), mem(256))))];
const twoAgentsOffers = [
  registerAgent(A1),
  registerAgent(A2, { hostname: 'node2' }),
  subscribe(F1, { roles: ['*', 'web'] }),
  createOffers(offerDefinition(O1, resources(cpus(1))), offerDefinition(O2, resources(cpus(1)), { agentId: A2 })),
];
const node1 = { hostname: 'node1', ip: '' };
const schedule = (at: number, ...machines: { hostname: string; ip: string }[]): Command => ({
  type: 'update_maintenance_schedule',
  at,
  windows: [{ machines, startMs: at, durationMs: 1000 }],
});
const kill: Command = { type: 'kill_task', at: baseTime, frameworkId: F1, taskId: T1 };
const ack = (seed: number): Command => ({
  type: 'acknowledge_task_status',
  at: baseTime,
  frameworkId: F1,
  taskId: T1,
  agentId: A1,
  uuid: uuid(seed),
});

const cases: Case[] = [
  { name: 'bytes that are not JSON', setup: [], command: text('{"version":1,'), code: 'MALFORMED_COMMAND' },
  {
    name: 'an unknown command type',
    setup: [],
    command: text('{"version":1,"command":{"type":"format_disk"}}'),
    code: 'MALFORMED_COMMAND',
  },
  {
    name: 'a future format version',
    setup: [],
    command: text(JSON.stringify({ version: commandFormatVersion + 1, command: { type: 'noop' } })),
    code: 'UNSUPPORTED_COMMAND_VERSION',
  },
  {
    name: 'a command over the size limit',
    setup: [],
    command: new Uint8Array(maxCommandBytes + 1),
    code: 'COMMAND_TOO_LARGE',
  },
  {
    name: 'one offer id twice in create_offers',
    setup: agentAndFramework,
    code: 'DUPLICATE_ID',
    command: createOffers(offerDefinition(O1, resources(cpus(1))), offerDefinition(O1, resources(cpus(1)))),
  },
  {
    name: 'one task id twice in a launch',
    setup: withOffer,
    code: 'DUPLICATE_ID',
    command: accept([O1], [launch(taskDefinition(T1, resources(cpus(1))), taskDefinition(T1, resources(cpus(1))))]),
  },
  { name: 'one offer twice in an accept', setup: withOffer, command: accept([O1, O1], []), code: 'DUPLICATE_ID' },
  {
    name: 'state change of an unknown agent',
    setup: [],
    command: { type: 'update_agent_state', at: baseTime, agentId: A1, state: 'UNREACHABLE' },
    code: 'AGENT_NOT_FOUND',
  },
  {
    name: 'reserve on an unknown agent',
    setup: [],
    command: { type: 'reserve_resources', at: baseTime, agentId: A1, resources: resources(cpus(1, 'web')) },
    code: 'AGENT_NOT_FOUND',
  },
  {
    name: 'registering an agent id twice',
    setup: [registerAgent()],
    command: registerAgent(),
    code: 'AGENT_ALREADY_REGISTERED',
  },
  {
    name: 'a gone agent re-registering',
    setup: [registerAgent(), { type: 'mark_agent_gone', at: baseTime, agentId: A1 }],
    command: {
      type: 'reregister_agent',
      keepsReservations: true,
      at: baseTime,
      agentId: A1,
      info: agentInfo(),
      tasks: [],
    },
    code: 'AGENT_GONE',
  },
  {
    name: 'marking an agent gone twice',
    setup: [registerAgent(), { type: 'mark_agent_gone', at: baseTime, agentId: A1 }],
    command: { type: 'mark_agent_gone', at: baseTime, agentId: A1 },
    code: 'AGENT_GONE',
  },
  {
    name: 'an offer on a deactivated agent',
    setup: [...agentAndFramework, { type: 'deactivate_agent', at: baseTime, agentId: A1 }],
    command: createOffers(offerDefinition(O1, resources(cpus(1)))),
    code: 'AGENT_NOT_ACTIVE',
  },
  {
    name: 'an offer on a machine that is down',
    setup: [
      ...agentAndFramework,
      schedule(baseTime, node1),
      { type: 'start_maintenance', at: baseTime, machines: [node1] },
    ],
    command: createOffers(offerDefinition(O1, resources(cpus(1)))),
    code: 'AGENT_IN_MAINTENANCE',
  },
  {
    name: 'an offer on a draining agent',
    setup: [
      ...agentAndFramework,
      { type: 'drain_agent', at: baseTime, agentId: A1, maxGracePeriodMs: null, markGone: false },
    ],
    command: createOffers(offerDefinition(O1, resources(cpus(1)))),
    code: 'AGENT_NOT_ACTIVE',
  },
  {
    name: 'reactivating an agent that is not deactivated',
    setup: [registerAgent()],
    command: { type: 'reactivate_agent', at: baseTime, agentId: A1 },
    code: 'INVALID_AGENT_TRANSITION',
  },
  {
    name: 'deactivating an unknown agent',
    setup: [],
    command: { type: 'deactivate_agent', at: baseTime, agentId: A1 },
    code: 'AGENT_NOT_FOUND',
  },
  {
    name: 'reactivating an unknown agent',
    setup: [],
    command: { type: 'reactivate_agent', at: baseTime, agentId: A1 },
    code: 'AGENT_NOT_FOUND',
  },
  {
    name: 'draining an unknown agent',
    setup: [],
    command: { type: 'drain_agent', at: baseTime, agentId: A1, maxGracePeriodMs: null, markGone: false },
    code: 'AGENT_NOT_FOUND',
  },
  {
    name: 'draining a gone agent',
    setup: [registerAgent(), { type: 'mark_agent_gone', at: baseTime, agentId: A1 }],
    command: { type: 'drain_agent', at: baseTime, agentId: A1, maxGracePeriodMs: 1_000, markGone: true },
    code: 'AGENT_GONE',
  },
  {
    name: 'deactivating a gone agent',
    setup: [registerAgent(), { type: 'mark_agent_gone', at: baseTime, agentId: A1 }],
    command: { type: 'deactivate_agent', at: baseTime, agentId: A1 },
    code: 'AGENT_GONE',
  },
  {
    name: 'reactivating a gone agent',
    setup: [registerAgent(), { type: 'mark_agent_gone', at: baseTime, agentId: A1 }],
    command: { type: 'reactivate_agent', at: baseTime, agentId: A1 },
    code: 'AGENT_GONE',
  },
  {
    name: 'marking drained an agent that is not draining',
    setup: [registerAgent(), { type: 'deactivate_agent', at: baseTime, agentId: A1 }],
    command: { type: 'mark_agent_drained', at: baseTime, agentId: A1 },
    code: 'AGENT_NOT_DRAINING',
  },
  {
    name: 'marking drained an agent already drained',
    setup: [
      registerAgent(),
      { type: 'drain_agent', at: baseTime, agentId: A1, maxGracePeriodMs: null, markGone: false },
      { type: 'mark_agent_drained', at: baseTime, agentId: A1 },
    ],
    command: { type: 'mark_agent_drained', at: baseTime, agentId: A1 },
    code: 'AGENT_NOT_DRAINING',
  },
  {
    name: 'marking drained an agent whose task still lives',
    setup: [
      ...runningTaskSetup(),
      { type: 'drain_agent', at: baseTime, agentId: A1, maxGracePeriodMs: 1_000, markGone: false },
    ],
    command: { type: 'mark_agent_drained', at: baseTime, agentId: A1 },
    code: 'AGENT_HAS_LIVE_TASKS',
  },
  {
    name: 'a negative max grace period',
    setup: [registerAgent()],
    command: text(
      JSON.stringify({
        version: commandFormatVersion,
        command: { type: 'drain_agent', at: baseTime, agentId: A1, maxGracePeriodMs: -1, markGone: false },
      }),
    ),
    code: 'MALFORMED_COMMAND',
  },
  {
    name: 'disconnecting an unknown framework',
    setup: [],
    command: { type: 'disconnect_framework', at: baseTime, frameworkId: F1 },
    code: 'FRAMEWORK_NOT_FOUND',
  },
  {
    name: 'an offer for an unknown framework',
    setup: [registerAgent()],
    command: createOffers(offerDefinition(O1, resources(cpus(1)))),
    code: 'FRAMEWORK_NOT_FOUND',
  },
  {
    name: 'resubscribing after teardown',
    setup: [subscribe(), { type: 'teardown_framework', at: baseTime, frameworkId: F1 }],
    command: subscribe(),
    code: 'FRAMEWORK_COMPLETED',
  },
  {
    name: 'an offer for a disconnected framework',
    setup: [...agentAndFramework, { type: 'disconnect_framework', at: baseTime, frameworkId: F1 }],
    command: createOffers(offerDefinition(O1, resources(cpus(1)))),
    code: 'FRAMEWORK_NOT_CONNECTED',
  },
  {
    name: 'resubscribing with another principal',
    setup: [subscribe()],
    command: subscribe(F1, { principal: 'intruder' }),
    code: 'FRAMEWORK_PRINCIPAL_MISMATCH',
  },
  {
    name: 'updating to another principal',
    setup: [subscribe()],
    command: { type: 'update_framework', at: baseTime, frameworkId: F1, info: frameworkInfo({ principal: null }) },
    code: 'FRAMEWORK_PRINCIPAL_MISMATCH',
  },
  {
    name: 'an offer for a role the framework lacks',
    setup: agentAndFramework,
    command: createOffers(offerDefinition(O1, resources(cpus(1)), { role: 'batch' })),
    code: 'ROLE_NOT_SUBSCRIBED',
  },
  {
    name: 'rescinding an unknown offer',
    setup: [],
    command: { type: 'rescind_offer', at: baseTime, offerId: O1 },
    code: 'OFFER_NOT_FOUND',
  },
  {
    name: 'accepting an offer already used',
    setup: [...withOffer, accept([O1], [])],
    command: accept([O1], []),
    code: 'OFFER_NOT_FOUND',
  },
  {
    name: 'an offer id already outstanding',
    setup: withOffer,
    command: createOffers(offerDefinition(O1, resources(cpus(1)))),
    code: 'OFFER_ID_ALREADY_USED',
  },
  {
    name: "declining another framework's offer",
    setup: [...withOffer, subscribe(F2)],
    command: { type: 'decline_offers', at: baseTime, frameworkId: F2, offerIds: [O1] },
    code: 'OFFER_FRAMEWORK_MISMATCH',
  },
  {
    name: "accepting another framework's offer",
    setup: [...withOffer, subscribe(F2)],
    command: accept([O1], [], F2),
    code: 'OFFER_FRAMEWORK_MISMATCH',
  },
  {
    name: 'accepting offers of two agents together',
    setup: twoAgentsOffers,
    command: accept([O1, O2], []),
    code: 'OFFER_AGENT_MISMATCH',
  },
  {
    name: 'accepting offers of two roles together',
    setup: [
      ...agentAndFramework,
      createOffers(offerDefinition(O1, resources(cpus(1))), offerDefinition(O2, resources(cpus(1)), { role: 'web' })),
    ],
    command: accept([O1, O2], []),
    code: 'OFFER_ROLE_MISMATCH',
  },
  {
    name: 'an offer of resources reserved for another role',
    setup: [registerAgent(A1, { resources: resources(cpus(1), cpus(1, 'web')) }), subscribe()],
    command: createOffers(offerDefinition(O1, resources(cpus(1, 'web')))),
    code: 'INVALID_RESOURCES',
  },
  {
    name: 'an offer with no resources',
    setup: agentAndFramework,
    command: createOffers(offerDefinition(O1, resources())),
    code: 'INVALID_RESOURCES',
  },
  {
    name: 'reserving for "*"',
    setup: [registerAgent()],
    command: { type: 'reserve_resources', at: baseTime, agentId: A1, resources: resources(cpus(1)) },
    code: 'INVALID_RESOURCES',
  },
  {
    name: 'an agent listing one port under two roles',
    setup: [],
    command: registerAgent(A1, { resources: resources(ports(1, 10), ports(5, 5, 'web')) }),
    code: 'INVALID_RESOURCES',
  },
  {
    name: "RESERVE for a role other than the offer's",
    setup: withOffer,
    command: accept([O1], [{ type: 'RESERVE', resources: resources(cpus(1, 'web')) }]),
    code: 'INVALID_RESOURCES',
  },
  {
    name: "an offer larger than the agent's free resources",
    setup: agentAndFramework,
    command: createOffers(offerDefinition(O1, resources(cpus(5)))),
    code: 'RESOURCES_INSUFFICIENT',
  },
  {
    name: 'two offers that fit only one at a time',
    setup: agentAndFramework,
    command: createOffers(
      offerDefinition(O1, resources(ports(31000, 31050))),
      offerDefinition(O2, resources(ports(31050, 31060))),
    ),
    code: 'RESOURCES_INSUFFICIENT',
  },
  {
    name: 'tasks larger than the offer',
    setup: withOffer,
    command: accept([O1], [launch(taskDefinition(T1, resources(cpus(1))), taskDefinition(T2, resources(cpus(1.5))))]),
    code: 'RESOURCES_INSUFFICIENT',
  },
  {
    name: 'reserving more than is free',
    setup: withOffer,
    command: { type: 'reserve_resources', at: baseTime, agentId: A1, resources: resources(cpus(3, 'web')) },
    code: 'RESOURCES_INSUFFICIENT',
  },
  {
    name: 'an agent re-registering with less than its tasks use',
    setup: runningTaskSetup(),
    command: {
      type: 'reregister_agent',
      keepsReservations: true,
      at: baseTime,
      agentId: A1,
      info: agentInfo({ resources: resources(cpus(0.5), mem(128)) }),
      tasks: [{ frameworkId: F1, taskId: T1, state: 'TASK_RUNNING' }],
    },
    code: 'RESOURCES_INSUFFICIENT',
  },
  {
    name: 'unreserving what is not reserved',
    setup: [registerAgent()],
    command: { type: 'unreserve_resources', at: baseTime, agentId: A1, resources: resources(cpus(1, 'web')) },
    code: 'RESERVATION_NOT_FOUND',
  },
  {
    name: 'unreserving resources that are offered',
    setup: [
      registerAgent(A1, { resources: resources(cpus(1, 'web')) }),
      subscribe(F1, { roles: ['web'] }),
      createOffers(offerDefinition(O1, resources(cpus(1, 'web')), { role: 'web' })),
    ],
    command: { type: 'unreserve_resources', at: baseTime, agentId: A1, resources: resources(cpus(1, 'web')) },
    code: 'RESOURCES_IN_USE',
  },
  {
    name: 'a task with neither command nor container',
    setup: withOffer,
    command: accept([O1], [launch(taskDefinition(T1, resources(cpus(1)), { command: null }))]),
    code: 'INVALID_TASK',
  },
  {
    name: 'a docker task without an image',
    setup: withOffer,
    code: 'INVALID_TASK',
    command: accept(
      [O1],
      [
        launch(
          taskDefinition(T1, resources(cpus(1)), {
            container: {
              type: 'DOCKER',
              image: null,
              network: 'HOST',
              forcePullImage: false,
              portMappings: [],
              volumes: [],
              privileged: false,
              parameters: [],
              hostname: null,
            },
          }),
        ),
      ],
    ),
  },
  {
    name: 'an HTTP health check without a port',
    setup: withOffer,
    code: 'INVALID_TASK',
    command: accept(
      [O1],
      [
        launch(
          taskDefinition(T1, resources(cpus(1)), {
            healthCheck: {
              type: 'HTTP',
              command: null,
              port: null,
              path: '/health',
              delayMs: 0,
              intervalMs: 1000,
              timeoutMs: 500,
              consecutiveFailures: 3,
              gracePeriodMs: 10000,
            },
          }),
        ),
      ],
    ),
  },
  {
    name: 'a task with no resources',
    setup: withOffer,
    command: accept([O1], [launch(taskDefinition(T1, resources()))]),
    code: 'INVALID_TASK',
  },
  {
    name: 'a status update for an unknown task',
    setup: runningTaskSetup(),
    command: updateStatus(T2, 'TASK_RUNNING'),
    code: 'TASK_NOT_FOUND',
  },
  { name: 'killing an unknown task', setup: [], command: kill, code: 'TASK_NOT_FOUND' },
  {
    name: 'launching a task id the framework used before',
    setup: [
      ...runningTaskSetup(),
      updateStatus(T1, 'TASK_FINISHED'),
      createOffers(offerDefinition(O2, resources(cpus(1)))),
    ],
    command: accept([O2], [launch(taskDefinition(T1, resources(cpus(1))))]),
    code: 'TASK_ID_ALREADY_USED',
  },
  {
    name: 'a status update from another agent',
    setup: runningTaskSetup(),
    command: updateStatus(T1, 'TASK_RUNNING', {}, F1, A2),
    code: 'TASK_AGENT_MISMATCH',
  },
  {
    name: 'a status update after a terminal one',
    setup: [...runningTaskSetup(), updateStatus(T1, 'TASK_FINISHED')],
    command: updateStatus(T1, 'TASK_RUNNING'),
    code: 'TASK_TERMINAL',
  },
  {
    name: 'killing a killed task',
    setup: [...runningTaskSetup(), updateStatus(T1, 'TASK_KILLED')],
    command: kill,
    code: 'TASK_TERMINAL',
  },
  {
    name: 'a status update back to TASK_STAGING',
    setup: runningTaskSetup(),
    command: updateStatus(T1, 'TASK_STAGING'),
    code: 'INVALID_TASK_STATE',
  },
  {
    name: 'a resent status update',
    setup: [...runningTaskSetup(), updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1) })],
    command: updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1) }),
    code: 'DUPLICATE_STATUS_UUID',
  },
  { name: 'acknowledging an unknown uuid', setup: runningTaskSetup(), command: ack(9), code: 'STATUS_UUID_NOT_FOUND' },
  {
    name: 'acknowledging twice',
    setup: [...runningTaskSetup(), updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1) }), ack(1)],
    command: ack(1),
    code: 'STATUS_ALREADY_ACKNOWLEDGED',
  },
  {
    name: 'a guarantee above its limit',
    setup: [],
    command: { type: 'update_quota', configs: [{ role: 'web', guarantees: { cpus: 3 }, limits: { cpus: 2 } }] },
    code: 'INVALID_QUOTA',
  },
  {
    name: 'quota for "*"',
    setup: [],
    command: { type: 'update_quota', configs: [{ role: '*', guarantees: { cpus: 1 }, limits: {} }] },
    code: 'INVALID_QUOTA',
  },
  {
    name: 'one role twice in a quota update',
    setup: [],
    code: 'INVALID_QUOTA',
    command: {
      type: 'update_quota',
      configs: [
        { role: 'web', guarantees: {}, limits: { cpus: 1 } },
        { role: 'web', guarantees: {}, limits: {} },
      ],
    },
  },
  {
    name: 'one role twice in a weights update',
    setup: [],
    command: {
      type: 'update_weights',
      weights: [
        { role: 'web', weight: 1 },
        { role: 'web', weight: 2 },
      ],
    },
    code: 'INVALID_WEIGHTS',
  },
  {
    name: 'a weight for "*"',
    setup: [],
    command: { type: 'update_weights', weights: [{ role: '*', weight: 2 }] },
    code: 'INVALID_WEIGHTS',
  },
  {
    name: 'a machine in two windows',
    setup: [],
    code: 'INVALID_MAINTENANCE_SCHEDULE',
    command: {
      type: 'update_maintenance_schedule',
      at: baseTime,
      windows: [
        { machines: [node1], startMs: 0, durationMs: 1 },
        { machines: [node1], startMs: 5, durationMs: 1 },
      ],
    },
  },
  {
    name: 'dropping a machine that is down from the schedule',
    setup: [schedule(baseTime, node1), { type: 'start_maintenance', at: baseTime, machines: [node1] }],
    command: { type: 'update_maintenance_schedule', at: baseTime, windows: [] },
    code: 'MACHINE_IS_DOWN',
  },
  {
    name: 'starting maintenance on an unscheduled machine',
    setup: [],
    command: { type: 'start_maintenance', at: baseTime, machines: [node1] },
    code: 'MACHINE_NOT_SCHEDULED',
  },
  {
    name: 'starting maintenance twice',
    setup: [schedule(baseTime, node1), { type: 'start_maintenance', at: baseTime, machines: [node1] }],
    command: { type: 'start_maintenance', at: baseTime, machines: [node1] },
    code: 'MACHINE_NOT_DRAINING',
  },
  {
    name: 'stopping maintenance on a draining machine',
    setup: [schedule(baseTime, node1)],
    command: { type: 'stop_maintenance', at: baseTime, machines: [node1] },
    code: 'MACHINE_NOT_DOWN',
  },
  {
    name: 'a task naming a DEFAULT executor in a LAUNCH',
    setup: withOffer,
    command: accept(
      [O1],
      [
        launch(
          taskDefinition(T1, resources(cpus(1)), {
            command: null,
            executor: executorDefinition('e1', resources(), { type: 'DEFAULT', command: null }),
          }),
        ),
      ],
    ),
    code: 'INVALID_EXECUTOR',
  },
  {
    name: 'a CUSTOM executor without a command',
    setup: withOffer,
    command: accept(
      [O1],
      [
        launch(
          taskDefinition(T1, resources(cpus(1)), {
            command: null,
            executor: executorDefinition('e1', resources(), { command: null }),
          }),
        ),
      ],
    ),
    code: 'INVALID_EXECUTOR',
  },
  {
    name: 'a task group task naming its own executor',
    setup: withOffer,
    command: accept(
      [O1],
      [
        launchGroup(
          executorDefinition('g1', resources()),
          taskDefinition(T1, resources(cpus(1)), { executor: executorDefinition('e1', resources()) }),
        ),
      ],
    ),
    code: 'INVALID_TASK_GROUP',
  },
  {
    name: 'a second task naming a running executor with another ExecutorInfo',
    setup: [
      ...withOffer,
      accept(
        [O1],
        [
          launch(
            taskDefinition(T1, resources(cpus(1)), {
              command: null,
              executor: executorDefinition('e1', resources(mem(32))),
            }),
          ),
        ],
      ),
      createOffers(offerDefinition(O2, resources(cpus(1), mem(32)))),
    ],
    command: accept(
      [O2],
      [
        launch(
          taskDefinition(T2, resources(cpus(1)), {
            command: null,
            executor: executorDefinition('e1', resources(mem(64))),
          }),
        ),
      ],
    ),
    code: 'EXECUTOR_INFO_MISMATCH',
  },
  {
    name: 'removing an executor the agent does not run',
    setup: agentAndFramework,
    command: { type: 'remove_executor', at: baseTime, agentId: A1, frameworkId: F1, executorId: executorId('e1') },
    code: 'EXECUTOR_NOT_FOUND',
  },
  {
    name: 'a put at the wrong version',
    setup: [{ type: 'kv_put', namespace: 'n', key: 'k', value: 'v', expectedVersion: null }],
    command: { type: 'kv_put', namespace: 'n', key: 'k', value: 'w', expectedVersion: 2 },
    code: 'VERSION_MISMATCH',
  },
  {
    name: 'creating a volume on unreserved disk',
    setup: [registerAgent(A1, { resources: resources(disk(100)) })],
    command: {
      type: 'create_volumes',
      at: baseTime,
      agentId: A1,
      volumes: resources(cpus(1, 'web')),
    },
    code: 'INVALID_VOLUME',
  },
  {
    name: 'creating a volume whose id the role already has on the agent',
    setup: [
      registerAgent(A1, { resources: resources(disk(100, 'web')) }),
      { type: 'create_volumes', at: baseTime, agentId: A1, volumes: resources(volume('v1', 10)) },
    ],
    command: { type: 'create_volumes', at: baseTime, agentId: A1, volumes: resources(volume('v1', 10)) },
    code: 'VOLUME_ALREADY_EXISTS',
  },
  {
    name: 'destroying a volume the agent does not have',
    setup: [registerAgent(A1, { resources: resources(disk(100, 'web')) })],
    command: { type: 'destroy_volumes', at: baseTime, agentId: A1, volumes: resources(volume('v1', 10)) },
    code: 'VOLUME_NOT_FOUND',
  },
  {
    name: 'destroying a volume that is offered',
    setup: [
      registerAgent(A1, { resources: resources(disk(100, 'web')) }),
      { type: 'create_volumes', at: baseTime, agentId: A1, volumes: resources(volume('v1', 10)) },
      subscribe(F1, { roles: ['web'] }),
      createOffers(offerDefinition(O1, resources(volume('v1', 10)), { role: 'web' })),
    ],
    command: { type: 'destroy_volumes', at: baseTime, agentId: A1, volumes: resources(volume('v1', 10)) },
    code: 'VOLUME_IN_USE',
  },
];

for (const each of cases) {
  test(`${each.code}: ${each.name}`, () => {
    const harness = new Harness(each.setup);
    if (each.command instanceof Uint8Array) {
      const result = harness.applyBytes(each.command);
      assert.is(result.ok ? 'ok' : result.code, each.code);
    } else {
      harness.rejects(each.command, each.code);
    }
    covered.add(each.code);
  });
}

test('KV_LIMIT_EXCEEDED: a new key beyond maxKvEntries (existing keys can still be written)', () => {
  kvLimitCase();
  covered.add('KV_LIMIT_EXCEEDED');
});

test('a rejected accept leaves everything in place, even after a valid operation earlier in the list', () => {
  const harness = new Harness([
    ...agentAndFramework,
    createOffers(offerDefinition(O1, resources(cpus(2)), { role: 'web' })),
  ]);
  const totalBefore = harness.state.agents.get(A1)?.resources;
  harness.rejects(
    accept(
      [O1],
      [
        { type: 'RESERVE', resources: resources(cpus(1, 'web')) },
        launch(taskDefinition(T1, resources(cpus(1, 'web'))), taskDefinition(taskId('big'), resources(cpus(100)))),
      ],
    ),
    'RESOURCES_INSUFFICIENT',
  );
  assert.is(harness.state.offers.size, 1);
  assert.is(harness.state.tasks.size, 0);
  assert.is(harness.state.agents.get(A1)?.resources, totalBefore);
});

test('every rejection code has a case, and every case names a listed code', () => {
  const listed = Object.keys(rejectionCodes).sort();
  assert.equal([...covered].sort(), listed);
});

test.run();
