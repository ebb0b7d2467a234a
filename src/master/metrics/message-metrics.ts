// Mesos' `master/messages_*` counters (monitoring.md, "Messages"): one per kind of message a
// master receives from frameworks (scheduler calls) and agents, counted on the master that
// receives them since it started, as Mesos counts them. Scheduler calls are counted as they
// arrive, before any check: a refused call was still received. Mesos' "slave" is "agent" here.
import type { AgentMessage } from '../../protocol/agent.ts';
import { assert, assertNever } from '../../util/assert.ts';
import type { MetricRegistry } from '../../util/metric-registry.ts';
import type { SchedulerApi } from '../scheduler/api.ts';
import type { FrameworkCall, SchedulerCall } from '../scheduler/call.ts';
import type { Counter } from 'prom-client';

/** Each scheduler call → the Mesos counter of the message it replaces in the v0 API. */
function schedulerMessageKey(call: SchedulerCall): string {
  switch (call.type) {
    case 'SUBSCRIBE':
      return call.frameworkId === null ? 'register_framework' : 'reregister_framework';
    case 'TEARDOWN':
      return 'unregister_framework';
    case 'ACCEPT':
      return 'launch_tasks';
    case 'DECLINE':
      return 'decline_offers';
    case 'ACCEPT_INVERSE_OFFERS':
      return 'accept_inverse_offers';
    case 'DECLINE_INVERSE_OFFERS':
      return 'decline_inverse_offers';
    case 'REVIVE':
      return 'revive_offers';
    case 'SUPPRESS':
      return 'suppress_offers';
    case 'KILL':
      return 'kill_task';
    case 'SHUTDOWN':
      return 'shutdown_executor';
    case 'MESSAGE':
      return 'framework_to_executor';
    case 'REQUEST':
      return 'resource_request';
    case 'ACKNOWLEDGE':
      return 'status_update_acknowledgement';
    case 'RECONCILE':
      return 'reconcile_tasks';
    case 'UPDATE_FRAMEWORK':
      return 'update_framework';
    default:
      return assertNever(call);
  }
}

const schedulerMessageKeys = [
  'register_framework',
  'reregister_framework',
  'unregister_framework',
  'launch_tasks',
  'decline_offers',
  'accept_inverse_offers',
  'decline_inverse_offers',
  'revive_offers',
  'suppress_offers',
  'kill_task',
  'shutdown_executor',
  'framework_to_executor',
  'resource_request',
  'status_update_acknowledgement',
  'reconcile_tasks',
  'update_framework',
] as const;

/** Agent messages that Mesos counts; pings' answers and usage reports are not among them. */
const agentMessageKeys = ['register_agent', 'reregister_agent', 'status_update'] as const;

export class MessageMetrics {
  readonly #counters = new Map<string, Counter>();

  constructor(metrics: MetricRegistry) {
    for (const key of [...schedulerMessageKeys, ...agentMessageKeys]) {
      const readable = key.replaceAll('_', ' ');
      this.#counters.set(key, metrics.mesosCounter(`master/messages_${key}`, `${readable} messages received`));
    }
  }

  schedulerCall(call: SchedulerCall): void {
    this.#increment(schedulerMessageKey(call));
  }

  /** AgentGateway's observer: every well-formed message an agent sent. */
  agentMessage(message: AgentMessage): void {
    if (message.type === 'register') this.#increment(message.agentId === null ? 'register_agent' : 'reregister_agent');
    else if (message.type === 'status_update') this.#increment('status_update');
  }

  /** The scheduler API, counting each call on its way in. */
  metered(api: SchedulerApi): SchedulerApi {
    return {
      subscribe: (call, sink) => {
        this.schedulerCall(call);
        return api.subscribe(call, sink);
      },
      call: (call: FrameworkCall, request) => {
        this.schedulerCall(call);
        return api.call(call, request);
      },
    };
  }

  #increment(key: string): void {
    const counter = this.#counters.get(key);
    assert(counter !== undefined, `no counter for master/messages_${key}`);
    counter.inc();
  }
}
