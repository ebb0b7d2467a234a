// The Mesos v1 executor HTTP API in JSON (include/mesos/v1/executor/executor.proto and
// docs/executor-http-api.md): the calls an executor POSTs to the agent's /api/v1/executor and the
// events the agent streams back on its SUBSCRIBE connection. The agent parses calls with
// `parseExecutorCall` (its HTTP route, and its own built-in executors, which call in-process);
// the executor SDK builds them and reads the events. Where executor.proto and a doc example
// disagree, the .proto wins.
//
// What is accepted beyond the .proto, because it costs nothing (README, "Executors"):
//   - SUBSCRIBE without `subscribe` (mesos-framework 0.5 sends none): no unacknowledged tasks or updates;
//   - MESSAGE with `data` at the top level, as the doc's example writes it, when `message` is absent;
//   - TaskStatus `source` left out: SOURCE_EXECUTOR (the only one an executor may send);
//   - enum values as their proto numbers (`"state": 1`), as proto3's JSON mapping allows;
//   - `null` for any unset field (protobuf.js writes them).
import { executorApiLimits } from './limits.ts';
import type { IdValue } from './mesos.ts';
import { taskReasons, taskStates, type TaskReason, type TaskState } from './task-states.ts';

export const executorApiPath = '/api/v1/executor';

export const executorCallTypes = ['SUBSCRIBE', 'UPDATE', 'MESSAGE', 'HEARTBEAT'] as const;
export type ExecutorCallType = (typeof executorCallTypes)[number];

/** The environment the agent gives an executor (executor-http-api.md, "Executor Environment Variables"). */
export const executorEnvironment = {
  agentEndpoint: 'MESOS_AGENT_ENDPOINT',
  frameworkId: 'MESOS_FRAMEWORK_ID',
  executorId: 'MESOS_EXECUTOR_ID',
  directory: 'MESOS_DIRECTORY',
  sandbox: 'MESOS_SANDBOX',
  checkpoint: 'MESOS_CHECKPOINT',
  recoveryTimeout: 'MESOS_RECOVERY_TIMEOUT',
  subscriptionBackoffMax: 'MESOS_SUBSCRIPTION_BACKOFF_MAX',
  shutdownGracePeriod: 'MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD',
  /** The executor's secret: sent as `Authorization: Bearer <token>` (Mesos' executor authentication). */
  authenticationToken: 'MESOS_EXECUTOR_AUTHENTICATION_TOKEN',
  /** The agent's API speaks HTTPS ("true"): Mesos hands its executors its LIBPROCESS_SSL_* settings. */
  sslEnabled: 'LIBPROCESS_SSL_ENABLED',
  /** The PEM CA the agent's certificate chains to (the agent's --tls-ca). */
  sslCaFile: 'LIBPROCESS_SSL_CA_FILE',
} as const;

/** A TaskStatus as an executor sends it in UPDATE (and lists it unacknowledged in SUBSCRIBE). */
export interface ExecutorStatus {
  readonly taskId: string;
  readonly state: TaskState;
  /** Base64 of 16 bytes: the agent acknowledges it by this uuid. */
  readonly uuid: string;
  readonly reason: TaskReason | null;
  readonly message: string | null;
  readonly healthy: boolean | null;
  /** Base64; null: none. */
  readonly data: string | null;
  /** When the executor made it; null: the agent stamps it. */
  readonly timestampMs: number | null;
}

interface CallIdentity {
  readonly frameworkId: string;
  readonly executorId: string;
}

export type ExecutorCall =
  | (CallIdentity & {
      readonly type: 'SUBSCRIBE';
      /** Task ids the executor was given but has no acknowledged update for. */
      readonly unacknowledgedTasks: readonly string[];
      readonly unacknowledgedUpdates: readonly ExecutorStatus[];
    })
  | (CallIdentity & { readonly type: 'UPDATE'; readonly status: ExecutorStatus })
  | (CallIdentity & { readonly type: 'MESSAGE'; readonly data: string })
  | (CallIdentity & { readonly type: 'HEARTBEAT' });

/** TaskInfo as the agent hands it to an executor (the fields Flotilla fills; readers ignore the rest). */
export type TaskInfoJson = Readonly<Record<string, unknown>> & {
  readonly name: string;
  readonly task_id: IdValue;
  readonly agent_id: IdValue;
};

export type ExecutorInfoJson = Readonly<Record<string, unknown>> & {
  readonly executor_id: IdValue;
  readonly framework_id: IdValue;
};

export type ExecutorEvent =
  | {
      readonly type: 'SUBSCRIBED';
      readonly subscribed: {
        readonly executor_info: ExecutorInfoJson;
        readonly framework_info: Readonly<Record<string, unknown>>;
        readonly agent_info: Readonly<Record<string, unknown>>;
        readonly container_id: IdValue;
      };
    }
  | { readonly type: 'LAUNCH'; readonly launch: { readonly task: TaskInfoJson } }
  | {
      readonly type: 'LAUNCH_GROUP';
      readonly launch_group: { readonly task_group: { readonly tasks: readonly TaskInfoJson[] } };
    }
  | {
      readonly type: 'KILL';
      readonly kill: {
        readonly task_id: IdValue;
        readonly kill_policy?: { readonly grace_period: { readonly nanoseconds: number } };
      };
    }
  | { readonly type: 'ACKNOWLEDGED'; readonly acknowledged: { readonly task_id: IdValue; readonly uuid: string } }
  | { readonly type: 'MESSAGE'; readonly message: { readonly data: string } }
  | { readonly type: 'SHUTDOWN' }
  | { readonly type: 'ERROR'; readonly error: { readonly message: string } }
  | { readonly type: 'HEARTBEAT' };

export type ExecutorEventType = ExecutorEvent['type'];

export class ExecutorCallError extends Error {
  override name = 'ExecutorCallError';
  constructor(
    readonly code: 'INVALID_BODY' | 'UNKNOWN_CALL',
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- reading JSON

type Fields = Readonly<Record<string, unknown>>;

const invalid = (message: string): ExecutorCallError => new ExecutorCallError('INVALID_BODY', message);

function member(container: Fields, name: string): unknown {
  const value = Object.hasOwn(container, name) ? container[name] : undefined;
  return value === null ? undefined : value;
}

function asFields(value: unknown, path: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${path} must be an object`);
  return value as Fields;
}

function optionalFields(container: Fields, name: string, path: string): Fields | null {
  const value = member(container, name);
  return value === undefined ? null : asFields(value, path);
}

/** Ids become sandbox path components on the agent: letters, digits and . _ : @ + -, never "/". */
const idPattern = /^[A-Za-z0-9_][A-Za-z0-9._:@+-]*$/;

function idField(container: Fields, name: string, path: string): string {
  const value = member(container, name);
  if (value === undefined) throw invalid(`Expecting '${path}' to be present`);
  const id = member(asFields(value, path), 'value');
  if (typeof id !== 'string' || id.length > executorApiLimits.maxIdLength || !idPattern.test(id))
    throw invalid(`${path}.value must be an id: letters, digits, ".", "_", ":", "@", "+" or "-"`);
  return id;
}

function optionalText(container: Fields, name: string, path: string, maxLength: number): string | null {
  const value = member(container, name);
  if (value === undefined) return null;
  if (typeof value !== 'string' || value.length > maxLength)
    throw invalid(`${path} must be a string of at most ${maxLength} characters`);
  return value;
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A protobuf `bytes` field: base64 of at most `maxBytes` bytes. */
function bytesField(container: Fields, name: string, path: string, maxBytes: number): string | null {
  const value = optionalText(container, name, path, Math.ceil(maxBytes / 3) * 4);
  if (value !== null && !base64Pattern.test(value)) throw invalid(`${path} must be base64 (protobuf JSON bytes)`);
  return value;
}

/** TaskState, TaskStatus.Source: the value names of mesos.proto with their numbers. */
const stateNumbers: Readonly<Record<number, TaskState>> = {
  0: 'TASK_STARTING',
  1: 'TASK_RUNNING',
  2: 'TASK_FINISHED',
  3: 'TASK_FAILED',
  4: 'TASK_KILLED',
  5: 'TASK_LOST',
  6: 'TASK_STAGING',
  7: 'TASK_ERROR',
  8: 'TASK_KILLING',
  9: 'TASK_DROPPED',
  10: 'TASK_UNREACHABLE',
  11: 'TASK_GONE',
  12: 'TASK_GONE_BY_OPERATOR',
  13: 'TASK_UNKNOWN',
};
const sourceNumbers: Readonly<Record<number, string>> = { 0: 'SOURCE_MASTER', 1: 'SOURCE_AGENT', 2: 'SOURCE_EXECUTOR' };

function enumValue<T extends string>(
  container: Fields,
  name: string,
  path: string,
  names: readonly T[],
  numbers: Readonly<Record<number, string>>,
): T | null {
  const value = member(container, name);
  if (value === undefined) return null;
  const named = typeof value === 'number' ? numbers[value] : value;
  if (typeof named !== 'string' || !(names as readonly string[]).includes(named))
    throw invalid(`${path} must be one of ${names.join(', ')}`);
  return named as T;
}

const uuidPattern = /^[A-Za-z0-9+/]{22}==$/;

/** executor/validation.cpp `validate(Call)` for UPDATE: a uuid of 16 bytes, SOURCE_EXECUTOR, never TASK_STAGING. */
export function parseExecutorStatus(value: unknown, path: string, executorId: string): ExecutorStatus {
  const status = asFields(value, path);
  const taskId = idField(status, 'task_id', `${path}.task_id`);
  const state = enumValue(status, 'state', `${path}.state`, taskStates, stateNumbers);
  if (state === null) throw invalid(`Expecting '${path}.state' to be present`);
  if (state === 'TASK_STAGING')
    throw invalid(`Received TASK_STAGING from executor ${executorId}, which is not allowed`);
  const uuid = member(status, 'uuid');
  if (uuid === undefined) throw invalid(`Expecting '${path}.uuid' to be present`);
  if (typeof uuid !== 'string' || !uuidPattern.test(uuid)) throw invalid(`${path}.uuid must be 16 bytes in base64`);
  const source = enumValue(
    status,
    'source',
    `${path}.source`,
    ['SOURCE_MASTER', 'SOURCE_AGENT', 'SOURCE_EXECUTOR'],
    sourceNumbers,
  );
  if (source !== null && source !== 'SOURCE_EXECUTOR')
    throw invalid(`Received Call from executor ${executorId} with invalid source, expecting 'SOURCE_EXECUTOR'`);
  const named = member(status, 'executor_id');
  if (named !== undefined && idField(status, 'executor_id', `${path}.executor_id`) !== executorId)
    throw invalid(`ExecutorID in Call: ${executorId} does not match ExecutorID in TaskStatus`);
  const healthy = member(status, 'healthy');
  if (healthy !== undefined && typeof healthy !== 'boolean') throw invalid(`${path}.healthy must be true or false`);
  const timestamp = member(status, 'timestamp');
  // Bounded as the replicated status is: a later one would be refused by the master's state
  // machine after the agent had checkpointed it and told the executor it was taken.
  if (
    timestamp !== undefined &&
    (typeof timestamp !== 'number' ||
      !Number.isFinite(timestamp) ||
      timestamp < 0 ||
      timestamp > executorApiLimits.maxTimestampSeconds)
  )
    throw invalid(
      `${path}.timestamp must be seconds since the epoch, at most ${executorApiLimits.maxTimestampSeconds}`,
    );
  return {
    taskId,
    state,
    uuid,
    reason: enumValue(status, 'reason', `${path}.reason`, taskReasons, {}),
    message: optionalText(status, 'message', `${path}.message`, executorApiLimits.maxTextLength),
    healthy: (healthy as boolean | undefined) ?? null,
    data: bytesField(status, 'data', `${path}.data`, executorApiLimits.maxStatusDataBytes),
    timestampMs: timestamp === undefined ? null : Math.round((timestamp as number) * 1000),
  };
}

function list(container: Fields, name: string, path: string): unknown[] {
  const value = member(container, name);
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > executorApiLimits.maxUnacknowledged)
    throw invalid(`${path} must be a list of at most ${executorApiLimits.maxUnacknowledged} items`);
  return value;
}

function parseSubscribe(call: Fields, identity: CallIdentity): ExecutorCall {
  const subscribe = optionalFields(call, 'subscribe', 'subscribe') ?? {};
  return {
    type: 'SUBSCRIBE',
    ...identity,
    unacknowledgedTasks: list(subscribe, 'unacknowledged_tasks', 'subscribe.unacknowledged_tasks').map(
      (task, position) =>
        idField(asFields(task, 'task'), 'task_id', `subscribe.unacknowledged_tasks[${position}].task_id`),
    ),
    unacknowledgedUpdates: list(subscribe, 'unacknowledged_updates', 'subscribe.unacknowledged_updates').map(
      (update, position) => {
        const at = `subscribe.unacknowledged_updates[${position}]`;
        return parseExecutorStatus(member(asFields(update, at), 'status'), `${at}.status`, identity.executorId);
      },
    ),
  };
}

function parseMessage(call: Fields, identity: CallIdentity): ExecutorCall {
  const message = optionalFields(call, 'message', 'message');
  const data =
    message === null
      ? bytesField(call, 'data', 'data', executorApiLimits.maxMessageBytes)
      : bytesField(message, 'data', 'message.data', executorApiLimits.maxMessageBytes);
  if (data === null) throw invalid("Expecting 'message' to be present");
  return { type: 'MESSAGE', ...identity, data };
}

/** An executor Call's JSON → a typed call, or ExecutorCallError naming the field (Mesos: 400 "Failed to validate"). */
export function parseExecutorCall(raw: unknown): ExecutorCall {
  const call = asFields(raw, 'the call');
  const type = member(call, 'type');
  if (type === undefined) throw new ExecutorCallError('UNKNOWN_CALL', "Expecting 'type' to be present");
  if (typeof type !== 'string' || !(executorCallTypes as readonly string[]).includes(type)) {
    throw new ExecutorCallError(
      'UNKNOWN_CALL',
      `unknown executor call type ${JSON.stringify(type)}; one of ${executorCallTypes.join(', ')}`,
    );
  }
  const identity = {
    executorId: idField(call, 'executor_id', 'executor_id'),
    frameworkId: idField(call, 'framework_id', 'framework_id'),
  };
  switch (type as ExecutorCallType) {
    case 'SUBSCRIBE':
      return parseSubscribe(call, identity);
    case 'UPDATE': {
      const update = optionalFields(call, 'update', 'update');
      if (update === null) throw invalid("Expecting 'update' to be present");
      return {
        type: 'UPDATE',
        ...identity,
        status: parseExecutorStatus(member(update, 'status'), 'update.status', identity.executorId),
      };
    }
    case 'MESSAGE':
      return parseMessage(call, identity);
    case 'HEARTBEAT':
      return { type: 'HEARTBEAT', ...identity };
  }
}

/** The JSON of an UPDATE call as an executor sends it (the SDK and the built-in executors). */
export function updateCallJson(identity: CallIdentity, status: ExecutorStatus): Record<string, unknown> {
  return {
    type: 'UPDATE',
    framework_id: { value: identity.frameworkId },
    executor_id: { value: identity.executorId },
    update: { status: statusJson(identity.executorId, status) },
  };
}

export function statusJson(executorId: string, status: ExecutorStatus): Record<string, unknown> {
  return {
    task_id: { value: status.taskId },
    executor_id: { value: executorId },
    state: status.state,
    source: 'SOURCE_EXECUTOR',
    uuid: status.uuid,
    ...(status.reason === null ? {} : { reason: status.reason }),
    ...(status.message === null ? {} : { message: status.message }),
    ...(status.healthy === null ? {} : { healthy: status.healthy }),
    ...(status.data === null ? {} : { data: status.data }),
    ...(status.timestampMs === null ? {} : { timestamp: status.timestampMs / 1000 }),
  };
}
