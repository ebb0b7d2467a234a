// Scheduler events (scheduler.proto Event) made from Flotilla's state: SUBSCRIBED with the
// MasterInfo, OFFERS, RESCIND, UPDATE, FAILURE, ERROR, HEARTBEAT, INVERSE_OFFERS. Offers and
// task statuses reuse the operator API's Mesos JSON (mesos-entities.ts, mesos-tasks.ts), so both
// APIs show an offer or a status the same way.
import { isIPv4 } from 'node:net';
import type * as Mesos from '../../protocol/mesos.ts';
import type { SchedulerEvent } from '../../protocol/scheduler.ts';
import type { Agent, Offer, ReadonlyState, Task, TaskStatus } from '../../state-machine/state.ts';
import type { TaskReason, TaskState } from '../../protocol/task-states.ts';
import { flotillaVersion } from '../../util/version.ts';
import { mesosOffer } from '../mesos/mesos-entities.ts';
import { idValue, nanoseconds } from '../mesos/mesos-json.ts';
import { mesosTaskStatus } from '../mesos/mesos-tasks.ts';
import { maintenanceWindowOf } from './inverse-offers.ts';

const millisecondsPerSecond = 1000;

/**
 * MasterInfo.ip is a uint32 holding the IPv4 address in network byte order, as Mesos copies
 * `in_addr.s_addr` on a little-endian host: 127.0.0.1 is 16777343. 0 for a non-IPv4 host.
 */
export function packedIpv4(ip: string): number {
  if (!isIPv4(ip)) return 0;
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return ((d << 24) >>> 0) + (c << 16) + (b << 8) + a;
}

export function masterInfo(id: string, address: string): Mesos.MasterInfo {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));
  return {
    id,
    ip: packedIpv4(host),
    port,
    pid: `master@${address}`,
    hostname: host,
    version: flotillaVersion(),
    address: { hostname: host, ...(isIPv4(host) ? { ip: host } : {}), port },
  };
}

export function subscribedEvent(
  frameworkId: string,
  heartbeatIntervalSeconds: number,
  master: Mesos.MasterInfo,
): SchedulerEvent {
  return {
    type: 'SUBSCRIBED',
    subscribed: {
      framework_id: idValue(frameworkId),
      heartbeat_interval_seconds: heartbeatIntervalSeconds,
      master_info: master,
    },
  };
}

export const heartbeatEvent: SchedulerEvent = { type: 'HEARTBEAT' };

/** Offers from a machine scheduled for maintenance carry its unavailability (maintenance.md, "Draining mode"). */
export function offersEvent(state: ReadonlyState, offers: readonly { offer: Offer; agent: Agent }[]): SchedulerEvent {
  return {
    type: 'OFFERS',
    offers: {
      offers: offers.map(({ offer, agent }) => {
        const window = maintenanceWindowOf(state, agent);
        const unavailability = window === null ? {} : { unavailability: mesosUnavailability(window) };
        return { ...mesosOffer(offer, agent), ...unavailability };
      }),
    },
  };
}

const mesosUnavailability = (window: {
  readonly startMs: number;
  readonly durationMs: number;
}): Mesos.Unavailability => ({ start: nanoseconds(window.startMs), duration: nanoseconds(window.durationMs) });

export const rescindEvent = (offerId: string): SchedulerEvent => ({
  type: 'RESCIND',
  rescind: { offer_id: idValue(offerId) },
});

/** The status carries executor_id for agent and executor updates (see mesosTaskStatus). */
export function updateEvent(task: Task, status: TaskStatus): SchedulerEvent {
  return { type: 'UPDATE', update: { status: mesosTaskStatus(task, status) } };
}

/** Mesos LostSlaveMessage → FAILURE with only the agent id. */
export const agentFailureEvent = (agentId: string): SchedulerEvent => ({
  type: 'FAILURE',
  failure: { agent_id: idValue(agentId) },
});

export const errorEvent = (message: string): SchedulerEvent => ({ type: 'ERROR', error: { message } });

/** An executor's framework message, as master.cpp `executorMessage` forwards it. */
export const frameworkMessageEvent = (agentId: string, executorId: string, data: string): SchedulerEvent => ({
  type: 'MESSAGE',
  message: { agent_id: idValue(agentId), executor_id: idValue(executorId), data },
});

/** Mesos ExitedExecutorMessage → FAILURE with the agent, the executor and its exit status (when known). */
export const executorFailureEvent = (agentId: string, executorId: string, status: number | null): SchedulerEvent => ({
  type: 'FAILURE',
  failure: { agent_id: idValue(agentId), executor_id: idValue(executorId), ...(status === null ? {} : { status }) },
});

/** A status the master makes for the framework alone (reconciliation, a refused launch): no uuid, nothing to acknowledge. */
export function masterUpdateEvent(
  taskId: string,
  agentId: string | null,
  state: TaskState,
  reason: TaskReason,
  message: string,
  nowMs: number,
  healthy: boolean | null = null,
): SchedulerEvent {
  return {
    type: 'UPDATE',
    update: {
      status: {
        task_id: idValue(taskId),
        state,
        message,
        source: 'SOURCE_MASTER',
        reason,
        ...(agentId === null ? {} : { agent_id: idValue(agentId) }),
        timestamp: nowMs / millisecondsPerSecond,
        ...(healthy === null ? {} : { healthy }),
      },
    },
  };
}

export interface InverseOfferView {
  readonly id: string;
  readonly frameworkId: string;
  readonly agent: Agent;
  readonly startMs: number;
  readonly durationMs: number;
}

export function inverseOffersEvent(offers: readonly InverseOfferView[]): SchedulerEvent {
  return {
    type: 'INVERSE_OFFERS',
    inverse_offers: {
      inverse_offers: offers.map((offer) => ({
        id: idValue(offer.id),
        framework_id: idValue(offer.frameworkId),
        agent_id: idValue(offer.agent.id),
        url: {
          scheme: 'http',
          address: { hostname: offer.agent.hostname, ip: offer.agent.address.ip, port: offer.agent.address.port },
          path: '/slave(1)',
        },
        unavailability: mesosUnavailability(offer),
      })),
    },
  };
}

export const rescindInverseOfferEvent = (id: string): SchedulerEvent => ({
  type: 'RESCIND_INVERSE_OFFER',
  rescind_inverse_offer: { inverse_offer_id: idValue(id) },
});
