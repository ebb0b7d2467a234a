// A state with something in every table, for snapshot and query tests.
import type { Command } from '../../../src/state-machine/commands.ts';
import { offerId, taskId } from '../../../src/state-machine/ids.ts';
import type { TaskContainer } from '../../../src/state-machine/values.ts';
import {
  A1,
  A2,
  accept,
  baseTime,
  cpus,
  createOffers,
  executorDefinition,
  F1,
  F2,
  launch,
  launchGroup,
  mem,
  O1,
  O2,
  O3,
  offerDefinition,
  ports,
  registerAgent,
  resources,
  subscribe,
  T1,
  T2,
  taskDefinition,
  updateStatus,
  uuid,
} from './fixtures.ts';

/** Every container field set, so snapshots and hashes cover them. */
const webContainer: TaskContainer = {
  type: 'DOCKER',
  image: 'registry.local:5000/web:1',
  network: 'BRIDGE',
  forcePullImage: true,
  portMappings: [{ hostPort: 31000, containerPort: 80, protocol: 'tcp' }],
  volumes: [
    { containerPath: '/data', hostPath: '/srv/web', mode: 'RO' },
    { containerPath: 'cache', hostPath: 'cache', mode: 'RW' },
  ],
  privileged: true,
  parameters: [{ key: 'label', value: 'team=web' }],
  hostname: 'web-1',
};

export const richScenario: readonly Command[] = [
  registerAgent(A1),
  registerAgent(A2, { hostname: 'node2', address: { ip: '10.0.0.2', port: 5051 }, zone: 'z2' }),
  subscribe(F1, { roles: ['*', 'web'], user: 'nobody' }),
  subscribe(F2, { name: 'jobs', roles: ['batch'], capabilities: ['PARTITION_AWARE'] }),
  {
    type: 'reserve_resources',
    principal: null,
    at: baseTime,
    agentId: A2,
    resources: resources(cpus(1, 'batch'), ports(31000, 31009, 'batch')),
  },
  createOffers(
    offerDefinition(O1, resources(cpus(2), mem(512), ports(31000, 31010))),
    offerDefinition(O2, resources(cpus(1, 'batch'), cpus(1), mem(128)), {
      frameworkId: F2,
      agentId: A2,
      role: 'batch',
    }),
  ),
  accept(
    [O1],
    [launch(taskDefinition(T1, resources(cpus(1), mem(256), ports(31000, 31000)), { container: webContainer }))],
  ),
  accept(
    [O2],
    [
      launch(
        taskDefinition(T1, resources(cpus(1, 'batch'), mem(64)), {
          command: { value: 'true', shell: true, arguments: [], environment: {}, user: 'daemon' },
        }),
        taskDefinition(T2, resources(cpus(0.5))),
      ),
    ],
    F2,
  ),
  updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1), healthy: true }),
  { type: 'acknowledge_task_status', at: baseTime, frameworkId: F1, taskId: T1, agentId: A1, uuid: uuid(1) },
  updateStatus(T2, 'TASK_FINISHED', { uuid: uuid(2) }, F2, A2),
  createOffers(offerDefinition(O3, resources(cpus(1)), { agentId: A2 })),
  // A framework's executor with a task and its data, and a task group on a DEFAULT executor.
  createOffers(offerDefinition(offerId('o4'), resources(cpus(0.5), mem(128)))),
  accept(
    [offerId('o4')],
    [
      launch(
        taskDefinition(taskId('t3'), resources(cpus(0.2), mem(32)), {
          command: null,
          executor: executorDefinition('e1', resources(mem(32)), { shutdownGracePeriodMs: 2000 }),
          data: Buffer.from('payload').toString('base64'),
        }),
      ),
      launchGroup(
        executorDefinition('pod', resources(cpus(0.1))),
        taskDefinition(taskId('pod-a'), resources(cpus(0.1), mem(32))),
      ),
    ],
  ),
  updateStatus(taskId('t3'), 'TASK_RUNNING', { uuid: uuid(3), data: Buffer.from('50%').toString('base64') }),
  { type: 'update_quota', configs: [{ role: 'web', guarantees: { cpus: 1 }, limits: { cpus: 4, mem: 2048 } }] },
  {
    type: 'update_weights',
    weights: [
      { role: 'web', weight: 2 },
      { role: 'batch', weight: 0.5 },
    ],
  },
  {
    type: 'update_maintenance_schedule',
    at: baseTime,
    windows: [{ machines: [{ hostname: 'node9', ip: '' }], startMs: baseTime, durationMs: 1000 }],
  },
  { type: 'start_maintenance', at: baseTime, machines: [{ hostname: 'node9', ip: '' }] },
  { type: 'kv_put', namespace: 'jobs', key: 'cron/nightly', value: '{"every":"1d"}', expectedVersion: 0 },
  {
    type: 'kv_put',
    namespace: 'services',
    key: 'web',
    value: 'ünïcode \u0000 \ud800 lone surrogate',
    expectedVersion: null,
  },
];
