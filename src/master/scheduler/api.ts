// The Mesos v1 scheduler API as the master offers it to src/http: SUBSCRIBE with the sink its
// events go to, and the calls of subscribed frameworks. Both run on the leader's sessions only,
// so both first wait for this master's leader services (a request that reaches a leader still
// establishing its term waits the few milliseconds that takes, rather than failing).
import type { AllocationControl } from '../../offers/control.ts';
import { type RequestIdempotency, withRequestKeys } from '../idempotency.ts';
import type { ReplicatedMaster } from '../interface.ts';
import { TaskStatusBatcher } from '../status-batcher.ts';
import type { Logger } from 'pino';
import type { FrameworkCall, SubscribeCall } from './call.ts';
import type { ExecutorChannel } from './executor-channel.ts';
import { handleFrameworkCall } from './calls.ts';
import type { EventSink } from './event-sink.ts';
import { approveEverything, type OperationApproval } from './operation-approval.ts';
import type { SchedulerSessions } from './sessions.ts';
import { type Subscription, subscribe } from './subscribe.ts';

export interface SchedulerApi {
  /**
   * Resolves once the subscription is applied and its stream opened on `sink`. Throws a
   * MasterError (NOT_LEADER, TOO_MANY_STREAMS, REJECTED, …); `sink` is then never written to.
   */
  subscribe(call: SubscribeCall, sink: EventSink): Promise<Subscription>;
  /**
   * Throws UNKNOWN_FRAMEWORK, FRAMEWORK_NOT_SUBSCRIBED, STREAM_ID_REQUIRED or STREAM_ID_MISMATCH
   * first, as http.cpp checks.
   */
  call(call: FrameworkCall, request: FrameworkCallRequest): Promise<void>;
}

/** What a framework call's request brings besides the call. */
export interface FrameworkCallRequest {
  /** The Mesos-Stream-Id the request named. */
  readonly streamId: string | null;
  /** The request's keys, so a retried call applies its commands at most once. */
  readonly idempotency?: RequestIdempotency | null;
  /** Whether the caller may do each operation of an ACCEPT; default: everything. */
  readonly approval?: OperationApproval;
}

export interface SchedulerApiParts {
  readonly master: Pick<ReplicatedMaster, 'state' | 'submit'>;
  readonly allocation: AllocationControl;
  readonly sessions: SchedulerSessions;
  readonly executors: ExecutorChannel;
  readonly logger: Logger;
  /** Resolves once the leader services run in this master's current term; throws a MasterError if they do not. */
  readonly leaderServicesRunning: () => Promise<void>;
  /** Whether every replica reads command format 10 (acknowledgement-rule.ts); default: no. */
  readonly terminalAcknowledgementAgreed?: () => boolean;
}

export function createSchedulerApi(parts: SchedulerApiParts): SchedulerApi {
  const context = {
    master: parts.master,
    // Not keyed: one entry carries the acknowledgements of many requests (calls.ts `acknowledge`).
    acknowledgements: new TaskStatusBatcher(parts.master),
    terminalAcknowledgementAgreed: parts.terminalAcknowledgementAgreed ?? (() => false),
    allocation: parts.allocation,
    sessions: parts.sessions,
    executors: parts.executors,
    logger: parts.logger,
  };
  return {
    async subscribe(call, sink) {
      await parts.leaderServicesRunning();
      return subscribe(context, call, sink);
    },
    async call(call, request) {
      await parts.leaderServicesRunning();
      await handleFrameworkCall(
        {
          ...context,
          master: withRequestKeys(parts.master, request.idempotency ?? null),
          streamId: request.streamId,
          approval: request.approval ?? approveEverything,
        },
        call,
      );
    },
  };
}
