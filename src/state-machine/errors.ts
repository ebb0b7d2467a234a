// Every rejection code the state machine can answer, with the HTTP status the API layer should
// use (fastify's lib/errors.js model). A code is forever: never renamed, never reused for
// another meaning once retired. Tests match codes, never message text; a test checks that every
// code here is produced by some rejection test.
import type { OfferId } from './ids.ts';

export const rejectionCodes = {
  // decoding (machine.ts / codec.ts)
  MALFORMED_COMMAND: { status: 400, meaning: 'the entry is not a well-formed command' },
  UNSUPPORTED_COMMAND_VERSION: { status: 400, meaning: 'the command format version is not one this replica reads' },
  COMMAND_TOO_LARGE: { status: 413, meaning: 'the encoded command exceeds maxCommandBytes' },
  DUPLICATE_ID: { status: 400, meaning: 'the same id appears twice in one command' },
  // agents
  AGENT_NOT_FOUND: { status: 404, meaning: 'no agent has this id' },
  AGENT_ALREADY_REGISTERED: { status: 409, meaning: 'an agent with this id is already registered' },
  AGENT_GONE: { status: 410, meaning: 'the agent was marked gone and can never come back' },
  AGENT_NOT_ACTIVE: { status: 409, meaning: 'the agent is deactivated (or draining) or unreachable' },
  AGENT_IN_MAINTENANCE: { status: 409, meaning: 'the agent is on a machine that is down for maintenance' },
  INVALID_AGENT_TRANSITION: { status: 409, meaning: 'the agent cannot go from its state to the one asked' },
  // frameworks
  FRAMEWORK_NOT_FOUND: { status: 404, meaning: 'no framework has this id' },
  FRAMEWORK_COMPLETED: { status: 409, meaning: 'the framework was torn down' },
  FRAMEWORK_NOT_CONNECTED: { status: 409, meaning: 'the framework is disconnected' },
  FRAMEWORK_PRINCIPAL_MISMATCH: { status: 403, meaning: 'a framework cannot change its principal' },
  ROLE_NOT_SUBSCRIBED: { status: 409, meaning: 'the framework is not subscribed to this role' },
  // offers
  OFFER_NOT_FOUND: { status: 404, meaning: 'the offer is not outstanding (used, declined, rescinded or never made)' },
  OFFER_ID_ALREADY_USED: { status: 409, meaning: 'an outstanding offer already has this id' },
  OFFER_FRAMEWORK_MISMATCH: { status: 403, meaning: 'the offer was made to another framework' },
  OFFER_AGENT_MISMATCH: { status: 400, meaning: 'offers accepted together must be on one agent' },
  OFFER_ROLE_MISMATCH: { status: 400, meaning: 'offers accepted together must be for one role' },
  // resources and reservations
  INVALID_RESOURCES: { status: 400, meaning: 'the resources are empty, or reserved for the wrong role' },
  RESOURCES_INSUFFICIENT: { status: 409, meaning: 'the resources do not fit in what is available' },
  RESERVATION_NOT_FOUND: { status: 404, meaning: 'the agent has no such reserved resources' },
  RESOURCES_IN_USE: { status: 409, meaning: 'the reserved resources are offered or used by a task' },
  // tasks
  INVALID_TASK: { status: 400, meaning: 'a task needs a command or a container, and resources' },
  TASK_NOT_FOUND: { status: 404, meaning: 'the framework has no task with this id' },
  TASK_ID_ALREADY_USED: { status: 409, meaning: 'the framework already has a task with this id' },
  TASK_AGENT_MISMATCH: { status: 409, meaning: 'the task runs on another agent' },
  TASK_TERMINAL: { status: 409, meaning: 'the task is in a terminal state, which never changes' },
  INVALID_TASK_STATE: { status: 400, meaning: 'a status update cannot move a task to this state' },
  DUPLICATE_STATUS_UUID: { status: 409, meaning: 'a status update with this uuid was already recorded' },
  STATUS_UUID_NOT_FOUND: { status: 404, meaning: 'the task has no status update with this uuid' },
  STATUS_ALREADY_ACKNOWLEDGED: { status: 409, meaning: 'the status update was already acknowledged' },
  // executors and task groups
  INVALID_EXECUTOR: {
    status: 400,
    meaning: 'a CUSTOM executor needs a command, a DEFAULT one has none and runs task groups only',
  },
  INVALID_TASK_GROUP: { status: 400, meaning: 'a task group needs tasks, each naming no executor of its own' },
  EXECUTOR_INFO_MISMATCH: {
    status: 409,
    meaning: 'the executor already runs on the agent with another ExecutorInfo (Mesos: not compatible)',
  },
  EXECUTOR_NOT_FOUND: { status: 404, meaning: 'the framework has no such executor on the agent' },
  // quota, weights, maintenance
  INVALID_QUOTA: { status: 400, meaning: 'a guarantee exceeds its limit, or the role cannot have quota' },
  INVALID_WEIGHTS: { status: 400, meaning: 'a role appears twice, or is "*"' },
  INVALID_MAINTENANCE_SCHEDULE: {
    status: 400,
    meaning: 'a machine appears in two windows, or has neither hostname nor ip',
  },
  MACHINE_IS_DOWN: { status: 409, meaning: 'a machine that is down must stay in the schedule' },
  MACHINE_NOT_SCHEDULED: { status: 409, meaning: 'the machine is in no maintenance window' },
  MACHINE_NOT_DRAINING: { status: 409, meaning: 'maintenance can start only on a draining machine' },
  MACHINE_NOT_DOWN: { status: 409, meaning: 'maintenance can stop only on a machine that is down' },
  // key-value store
  VERSION_MISMATCH: { status: 412, meaning: 'the key is not at the expected version' },
  KV_LIMIT_EXCEEDED: { status: 409, meaning: 'the key-value store holds maxKvEntries keys' },
  // draining (added last: codes are appended)
  AGENT_NOT_DRAINING: { status: 409, meaning: 'the agent has no drain in progress' },
  AGENT_HAS_LIVE_TASKS: { status: 409, meaning: 'a task of the draining agent is not terminal yet' },
  // persistent volumes
  INVALID_VOLUME: {
    status: 400,
    meaning: 'a volume is disk reserved to the role, with a persistence id and a relative container path',
  },
  VOLUME_ALREADY_EXISTS: { status: 409, meaning: 'the agent already has a volume with this id for this role' },
  VOLUME_NOT_FOUND: { status: 404, meaning: 'the agent has no volume with this id for this role' },
  VOLUME_IN_USE: { status: 409, meaning: 'the volume is used by a live task, or offered' },
} as const satisfies Record<string, { readonly status: number; readonly meaning: string }>;

export type RejectionCode = keyof typeof rejectionCodes;

export interface Rejection {
  readonly ok: false;
  readonly code: RejectionCode;
  readonly message: string;
}

/** What callers need from a success; JSON-serialisable (the idempotency table keeps it in snapshots). */
export interface Success {
  readonly ok: true;
  /** kv_put: the key's new version; kv_delete: the deleted version, or null if it was absent. */
  readonly version?: number | null;
  /** decline_offers: offers already gone when the decline applied. */
  readonly unknownOfferIds?: readonly OfferId[];
  /** task_status_batch, agent_registration_batch: each item's own result, in the items' order. */
  readonly items?: readonly ApplyResult[];
}

export type ApplyResult = Success | Rejection;

export function reject(code: RejectionCode, message: string): Rejection {
  return { ok: false, code, message };
}

export const success: Success = Object.freeze({ ok: true });
