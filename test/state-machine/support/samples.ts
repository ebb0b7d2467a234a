// One valid-looking sample of every command type; the mapped type makes the list exhaustive, so
// a new command type must get a sample (and with it a codec round trip and fuzz coverage).
import type { CommandOf, CommandType } from '../../../src/state-machine/commands.ts';
import {
  A1,
  accept,
  agentInfo,
  baseTime,
  cpus,
  createOffers,
  F1,
  frameworkInfo,
  launch,
  mem,
  O1,
  offerDefinition,
  registerAgent,
  resources,
  subscribe,
  T1,
  taskDefinition,
  updateStatus,
  uuid,
} from './fixtures.ts';

const machine = { hostname: 'node1', ip: '10.0.0.1' };

export const commandSamples: { readonly [K in CommandType]: CommandOf<K> } = {
  register_agent: registerAgent() as CommandOf<'register_agent'>,
  reregister_agent: {
    type: 'reregister_agent',
    at: baseTime,
    agentId: A1,
    info: agentInfo(),
    tasks: [{ frameworkId: F1, taskId: T1 }],
  },
  update_agent_state: { type: 'update_agent_state', at: baseTime, agentId: A1, state: 'DRAINING' },
  mark_agent_gone: { type: 'mark_agent_gone', at: baseTime, agentId: A1 },
  subscribe_framework: subscribe() as CommandOf<'subscribe_framework'>,
  update_framework: {
    type: 'update_framework',
    at: baseTime,
    frameworkId: F1,
    info: frameworkInfo({ roles: ['*', 'web'] }),
  },
  disconnect_framework: { type: 'disconnect_framework', at: baseTime, frameworkId: F1 },
  teardown_framework: { type: 'teardown_framework', at: baseTime, frameworkId: F1 },
  create_offers: createOffers(offerDefinition(O1, resources(cpus(1), mem(64)))) as CommandOf<'create_offers'>,
  rescind_offer: { type: 'rescind_offer', at: baseTime, offerId: O1 },
  decline_offers: { type: 'decline_offers', at: baseTime, frameworkId: F1, offerIds: [O1] },
  accept_offers: accept(
    [O1],
    [
      { type: 'RESERVE', resources: resources(cpus(1, 'web')) },
      { type: 'UNRESERVE', resources: resources(cpus(1, 'web')) },
      launch(
        taskDefinition(T1, resources(cpus(1)), {
          container: { type: 'DOCKER', image: 'busybox', network: 'BRIDGE', forcePullImage: false },
          healthCheck: {
            type: 'TCP',
            command: null,
            port: 8080,
            path: null,
            delayMs: 0,
            intervalMs: 1000,
            timeoutMs: 500,
            consecutiveFailures: 3,
            gracePeriodMs: 10000,
          },
          killGracePeriodMs: 5000,
          labels: { team: 'core' },
        }),
      ),
    ],
  ) as CommandOf<'accept_offers'>,
  update_task_status: updateStatus(T1, 'TASK_RUNNING', {
    uuid: uuid(1),
    healthy: true,
    reason: 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED',
  }) as CommandOf<'update_task_status'>,
  acknowledge_task_status: {
    type: 'acknowledge_task_status',
    at: baseTime,
    frameworkId: F1,
    taskId: T1,
    agentId: A1,
    uuid: uuid(1),
  },
  kill_task: { type: 'kill_task', at: baseTime, frameworkId: F1, taskId: T1 },
  reserve_resources: { type: 'reserve_resources', at: baseTime, agentId: A1, resources: resources(cpus(1, 'web')) },
  unreserve_resources: { type: 'unreserve_resources', at: baseTime, agentId: A1, resources: resources(cpus(1, 'web')) },
  update_quota: { type: 'update_quota', configs: [{ role: 'web', guarantees: { cpus: 1 }, limits: { cpus: 2 } }] },
  update_weights: { type: 'update_weights', weights: [{ role: 'web', weight: 2 }] },
  update_maintenance_schedule: {
    type: 'update_maintenance_schedule',
    at: baseTime,
    windows: [{ machines: [machine], startMs: baseTime, durationMs: 60_000 }],
  },
  start_maintenance: { type: 'start_maintenance', at: baseTime, machines: [machine] },
  stop_maintenance: { type: 'stop_maintenance', at: baseTime, machines: [machine] },
  kv_put: { type: 'kv_put', namespace: 'jobs', key: 'cron/nightly', value: '{"every":"1d"}', expectedVersion: 0 },
  kv_delete: { type: 'kv_delete', namespace: 'jobs', key: 'cron/nightly', expectedVersion: null },
  noop: { type: 'noop' },
};
