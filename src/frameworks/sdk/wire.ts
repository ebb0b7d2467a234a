// The Mesos v1 scheduler API as the SDK reads and writes it (include/mesos/v1/scheduler/
// scheduler.proto; the JSON of a message nests as the message does, enums are strings).
// Events and the shapes shared with the master (Offer, TaskStatus, Resource, CommandInfo…)
// come from src/protocol/; calls are written here, as only clients write them. Events are read leniently: unknown fields and unknown event types
// are passed through, as protobuf readers do, so a newer master does not break an older SDK.
import type {
  CommandInfo,
  ContainerInfo,
  FrameworkInfo,
  HealthCheck,
  IdValue,
  Labels,
  Resource,
} from '../../protocol/mesos.ts';
import type { SchedulerCallType, SchedulerEvent, SchedulerEventType } from '../../protocol/scheduler.ts';

export type { SchedulerEvent, SchedulerEventType };

/** FrameworkInfo as a scheduler sends it in SUBSCRIBE: `id` only when re-subscribing. */
export type FrameworkInfoInput = Partial<Omit<FrameworkInfo, 'user' | 'name' | 'id'>> &
  Pick<FrameworkInfo, 'user' | 'name'> & { readonly id?: IdValue };

/** mesos.proto TaskInfo, as a LAUNCH operation carries it. */
export interface TaskInfo {
  readonly name: string;
  readonly task_id: IdValue;
  readonly agent_id: IdValue;
  readonly resources: readonly Resource[];
  readonly command?: CommandInfo;
  readonly container?: ContainerInfo;
  readonly health_check?: HealthCheck;
  readonly kill_policy?: { readonly grace_period: { readonly nanoseconds: number } };
  readonly labels?: Labels;
  /** mesos.proto ExecutorInfo: the framework's executor that runs this task (none: the command executor). */
  readonly executor?: ExecutorInfo;
  /** Bytes for the executor, base64. */
  readonly data?: string;
}

/** mesos.proto ExecutorInfo, as a TaskInfo or a LAUNCH_GROUP names it. */
export interface ExecutorInfo {
  readonly executor_id: IdValue;
  readonly type?: 'CUSTOM' | 'DEFAULT';
  readonly name?: string;
  readonly command?: CommandInfo;
  readonly resources?: readonly Resource[];
  readonly shutdown_grace_period?: { readonly nanoseconds: number };
}

export interface Filters {
  readonly refuse_seconds?: number;
}

/** Offer.Operation; the SDK builds LAUNCH, the others pass through as given. */
export type OfferOperation =
  | { readonly type: 'LAUNCH'; readonly launch: { readonly task_infos: readonly TaskInfo[] } }
  | {
      readonly type: 'LAUNCH_GROUP';
      readonly launch_group: {
        readonly executor: ExecutorInfo;
        readonly task_group: { readonly tasks: readonly TaskInfo[] };
      };
    }
  | { readonly type: 'RESERVE'; readonly reserve: { readonly resources: readonly Resource[] } }
  | { readonly type: 'UNRESERVE'; readonly unreserve: { readonly resources: readonly Resource[] } }
  /** Persistent volumes: disk resources with `disk.persistence` and `disk.volume` (mesos.proto DiskInfo). */
  | { readonly type: 'CREATE'; readonly create: { readonly volumes: readonly Resource[] } }
  | { readonly type: 'DESTROY'; readonly destroy: { readonly volumes: readonly Resource[] } };

/** scheduler.proto Call, minus `framework_id` and `type` (the client adds them). */
export interface CallBodies {
  readonly TEARDOWN: undefined;
  readonly ACCEPT: {
    readonly offer_ids: readonly IdValue[];
    readonly operations: readonly OfferOperation[];
    readonly filters?: Filters;
  };
  readonly DECLINE: { readonly offer_ids: readonly IdValue[]; readonly filters?: Filters };
  readonly REVIVE: { readonly roles?: readonly string[] } | undefined;
  readonly SUPPRESS: { readonly roles?: readonly string[] } | undefined;
  readonly KILL: { readonly task_id: IdValue; readonly agent_id?: IdValue };
  readonly SHUTDOWN: { readonly executor_id: IdValue; readonly agent_id: IdValue };
  readonly ACKNOWLEDGE: { readonly agent_id: IdValue; readonly task_id: IdValue; readonly uuid: string };
  readonly RECONCILE: { readonly tasks: readonly { readonly task_id: IdValue; readonly agent_id?: IdValue }[] };
  readonly MESSAGE: { readonly agent_id: IdValue; readonly executor_id: IdValue; readonly data: string };
}

export type CallType = keyof CallBodies;

/** The field of a Call that holds each call's body (Call.accept, Call.decline, …). */
// `satisfies` checks the call names against the master's list in src/protocol/scheduler.ts.
export const callBodyField = {
  TEARDOWN: 'teardown',
  ACCEPT: 'accept',
  DECLINE: 'decline',
  REVIVE: 'revive',
  SUPPRESS: 'suppress',
  KILL: 'kill',
  SHUTDOWN: 'shutdown',
  ACKNOWLEDGE: 'acknowledge',
  RECONCILE: 'reconcile',
  MESSAGE: 'message',
} as const satisfies { readonly [Type in CallType]: string } & Partial<Record<SchedulerCallType, string>>;

export type EventOf<Type extends SchedulerEventType> = Extract<SchedulerEvent, { type: Type }>;

const payloadField: { readonly [Type in SchedulerEventType]: string | null } = {
  SUBSCRIBED: 'subscribed',
  OFFERS: 'offers',
  INVERSE_OFFERS: 'inverse_offers',
  RESCIND: 'rescind',
  RESCIND_INVERSE_OFFER: 'rescind_inverse_offer',
  UPDATE: 'update',
  MESSAGE: 'message',
  FAILURE: 'failure',
  ERROR: 'error',
  HEARTBEAT: null,
};

/**
 * An event from one RecordIO record, or null for an event type this SDK does not know
 * (skipped, as a protobuf reader skips unknown enum values). Throws on a record that is not
 * an event at all, which loses the stream.
 */
export function parseEvent(record: Uint8Array): SchedulerEvent | null {
  const parsed: unknown = JSON.parse(new TextDecoder().decode(record));
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { type?: unknown }).type !== 'string') {
    throw new Error('an event record is not an object with a string "type"');
  }
  const type = (parsed as { type: string }).type;
  if (!Object.hasOwn(payloadField, type)) return null;
  const field = payloadField[type as SchedulerEventType];
  const payload = field === null ? {} : (parsed as Record<string, unknown>)[field];
  if (typeof payload !== 'object' || payload === null) throw new Error(`a ${type} event has no "${field}" object`);
  if (
    type === 'SUBSCRIBED' &&
    typeof (payload as { framework_id?: { value?: unknown } }).framework_id?.value !== 'string'
  ) {
    throw new Error('a SUBSCRIBED event has no framework_id');
  }
  if (
    type === 'UPDATE' &&
    typeof (payload as { status?: { task_id?: { value?: unknown } } }).status?.task_id?.value !== 'string'
  ) {
    throw new Error('an UPDATE event has no status.task_id');
  }
  return parsed as SchedulerEvent;
}
