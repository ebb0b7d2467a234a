// The Mesos v1 scheduler API in JSON (include/mesos/v1/scheduler/scheduler.proto): the call
// types a framework sends to POST /api/v1/scheduler and the events streamed back. The JSON of a
// message nests as the message does: `{"type":"OFFERS","offers":{"offers":[…]}}`. Calls arrive
// as `unknown` and are parsed by src/http/scheduler; these are the shapes Flotilla emits.
import type { IdValue, InverseOffer, MasterInfo, Offer, SchedulerTaskStatus } from './mesos.ts';

export const schedulerCallTypes = [
  'SUBSCRIBE',
  'TEARDOWN',
  'ACCEPT',
  'DECLINE',
  'ACCEPT_INVERSE_OFFERS',
  'DECLINE_INVERSE_OFFERS',
  'REVIVE',
  'KILL',
  'SHUTDOWN',
  'ACKNOWLEDGE',
  'RECONCILE',
  'MESSAGE',
  'REQUEST',
  'SUPPRESS',
  'UPDATE_FRAMEWORK',
] as const;
export type SchedulerCallType = (typeof schedulerCallTypes)[number];

/** The path of the scheduler API on every master (a follower redirects there on the leader). */
export const schedulerApiPath = '/api/v1/scheduler';

/** The response header that names a SUBSCRIBE stream; every later call must echo it. */
export const streamIdHeader = 'mesos-stream-id';

export type SchedulerEvent =
  | {
      readonly type: 'SUBSCRIBED';
      readonly subscribed: {
        readonly framework_id: IdValue;
        readonly heartbeat_interval_seconds: number;
        readonly master_info: MasterInfo;
      };
    }
  | { readonly type: 'OFFERS'; readonly offers: { readonly offers: readonly Offer[] } }
  | { readonly type: 'INVERSE_OFFERS'; readonly inverse_offers: { readonly inverse_offers: readonly InverseOffer[] } }
  | { readonly type: 'RESCIND'; readonly rescind: { readonly offer_id: IdValue } }
  | { readonly type: 'RESCIND_INVERSE_OFFER'; readonly rescind_inverse_offer: { readonly inverse_offer_id: IdValue } }
  | { readonly type: 'UPDATE'; readonly update: { readonly status: SchedulerTaskStatus } }
  | {
      readonly type: 'MESSAGE';
      readonly message: { readonly agent_id: IdValue; readonly executor_id: IdValue; readonly data: string };
    }
  | {
      readonly type: 'FAILURE';
      readonly failure: { readonly agent_id?: IdValue; readonly executor_id?: IdValue; readonly status?: number };
    }
  | { readonly type: 'ERROR'; readonly error: { readonly message: string } }
  | { readonly type: 'HEARTBEAT' };

export type SchedulerEventType = SchedulerEvent['type'];
