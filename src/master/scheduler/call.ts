// A scheduler Call (scheduler.proto Call) as the master handles it: typed, validated, in the
// state machine's values. src/http parses the JSON into this (parse-call.ts); the sessions and
// call handlers in this folder take it from there.
import type { Resources } from '../../state-machine/resources.ts';
import type { ExecutorDefinition, FrameworkInfo, TaskDefinition } from '../../state-machine/values.ts';

export type SchedulerOperation =
  | { readonly type: 'LAUNCH'; readonly tasks: readonly TaskDefinition[] }
  | { readonly type: 'LAUNCH_GROUP'; readonly executor: ExecutorDefinition; readonly tasks: readonly TaskDefinition[] }
  | { readonly type: 'RESERVE'; readonly resources: Resources }
  | { readonly type: 'UNRESERVE'; readonly resources: Resources }
  | { readonly type: 'CREATE'; readonly volumes: Resources }
  | { readonly type: 'DESTROY'; readonly volumes: Resources };

export interface TaskReference {
  readonly taskId: string;
  readonly agentId: string | null;
}

export type SchedulerCall =
  | {
      readonly type: 'SUBSCRIBE';
      readonly frameworkId: string | null;
      readonly info: FrameworkInfo;
      readonly suppressedRoles: readonly string[];
    }
  | { readonly type: 'TEARDOWN'; readonly frameworkId: string }
  | {
      readonly type: 'ACCEPT';
      readonly frameworkId: string;
      readonly offerIds: readonly string[];
      readonly operations: readonly SchedulerOperation[];
      readonly refuseSeconds: number | null;
    }
  | {
      readonly type: 'DECLINE';
      readonly frameworkId: string;
      readonly offerIds: readonly string[];
      readonly refuseSeconds: number | null;
    }
  | {
      readonly type: 'ACCEPT_INVERSE_OFFERS' | 'DECLINE_INVERSE_OFFERS';
      readonly frameworkId: string;
      readonly inverseOfferIds: readonly string[];
    }
  | { readonly type: 'REVIVE' | 'SUPPRESS'; readonly frameworkId: string; readonly roles: readonly string[] }
  | { readonly type: 'KILL'; readonly frameworkId: string; readonly task: TaskReference }
  | { readonly type: 'SHUTDOWN'; readonly frameworkId: string; readonly executorId: string; readonly agentId: string }
  | {
      readonly type: 'MESSAGE';
      readonly frameworkId: string;
      readonly executorId: string;
      readonly agentId: string;
      /** Base64 bytes for the executor. */
      readonly data: string;
    }
  | { readonly type: 'REQUEST'; readonly frameworkId: string }
  | {
      readonly type: 'ACKNOWLEDGE';
      readonly frameworkId: string;
      readonly agentId: string;
      readonly taskId: string;
      readonly uuid: string;
    }
  | { readonly type: 'RECONCILE'; readonly frameworkId: string; readonly tasks: readonly TaskReference[] }
  | {
      readonly type: 'UPDATE_FRAMEWORK';
      readonly frameworkId: string;
      readonly info: FrameworkInfo;
      readonly suppressedRoles: readonly string[];
    };

export type SubscribeCall = Extract<SchedulerCall, { type: 'SUBSCRIBE' }>;

/** Every call but SUBSCRIBE: the calls of a subscribed framework. */
export type FrameworkCall = Exclude<SchedulerCall, { type: 'SUBSCRIBE' }>;
