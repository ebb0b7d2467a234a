// Bounds of the HTTP layer in one place (STYLE.md rule 7), units last. The master's own bounds
// (scheduler heartbeats, update retries, streams per leader) are in src/master/limits.ts.

/** Request bodies larger than this are refused with 413 (fastify's bodyLimit). */
export const maxBodyBytes = 1024 * 1024;

/**
 * An answer that took at least this long is logged even when it succeeded (request-log.ts); a
 * quick success is not, it is counted in the metrics only.
 */
export const slowRequestLogMs = 1000;

/** Seconds a client should wait before retrying a 503 or 429 (the Retry-After header). */
export const retryAfterSeconds = '1';

/**
 * Tasks in one GET_TASKS or GET_STATE answer, in (framework, task) id order; beyond this the
 * list is cut. Mesos bounds its answer the same way (--max_completed_tasks_per_framework).
 */
export const maxTasksPerResponse = 100_000;

/**
 * Event-loop time one slice of a large answer (GET_STATE, GET_TASKS, GET_FRAMEWORKS, the operator
 * stream's SUBSCRIBED) may take before the loop is given back (sliced-body.ts).
 */
export const responseSliceBudgetMs = 10;

/** Text one slice of a large answer hands to the socket at most (one HTTP chunk). */
export const maxResponseChunkBytes = 1024 * 1024;

/**
 * Bytes of a large answer made ahead of its socket: one turn of the loop writes chunks until its
 * slice budget is spent or this many wait (sliced-body.ts). Per reader; a slow reader holds no more.
 */
export const maxBufferedResponseBytes = 8 * 1024 * 1024;

/**
 * Bytes of events waiting for one subscriber's socket (its SUBSCRIBED snapshot aside). A
 * subscriber that falls this far behind is disconnected (it resubscribes and gets a fresh
 * snapshot) rather than buffered forever. 4 MiB holds a burst of ~10,000 task updates (one
 * apply can emit that many: a torn-down framework's tasks); times the subscribers, 256 MiB at
 * worst.
 */
export const maxQueuedBytesPerSubscriber = 4 * 1024 * 1024;

/** Mesos' default for the operator event stream (master.proto Event.HEARTBEAT). */
export const operatorHeartbeatIntervalSeconds = 15;

/**
 * Bytes of events waiting for one framework's socket. A scheduler that stops reading is
 * disconnected (it re-subscribes; its unacknowledged updates are sent again) rather than
 * buffered forever. 8 MiB holds a full agent's worth of offers and thousands of updates.
 */
export const maxQueuedBytesPerStream = 8 * 1024 * 1024;

/** Tasks listed in one explicit RECONCILE. */
export const maxReconcileTasks = 100_000;

/** Bytes one sandbox read through a master (GET /api/v1/sandbox/read) answers at most. */
export const maxSandboxReadBytes = 256 * 1024;
/** What a sandbox read answers when it names no length: enough for a screen of log, cheap to poll. */
export const defaultSandboxReadBytes = 64 * 1024;
/** Sandbox reads one master proxies to agents at once; one more is answered 429. */
export const maxConcurrentSandboxReads = 32;
/** A task's agent that has not answered a read in this long counts as unavailable. */
export const sandboxReadTimeoutMs = 5_000;

// The Idempotency-Key bounds are shared with the frameworks' APIs (src/protocol/idempotency-key.ts).
export { maxFingerprintDepth, maxIdempotencyKeyLength } from '../protocol/limits.ts';

export const maxSandboxPathChars = 1024;

/** Reservations in a refinement stack; Mesos bounds it loosely, a handful is plenty. */
export const maxReservationsPerResource = 16;

/** Keys in one page of `GET /api/v1/kv/<namespace>` when the request names no limit, and at most. */
export const defaultKvListLimit = 100;
export const maxKvListLimit = 1_000;
/**
 * Value bytes in one page of a KV list (at least one entry is always sent): a page of 1,000
 * values of 64 KiB would be 64 MiB on one master's event loop; this keeps a page near 1 MiB.
 */
export const maxKvListValueBytes = 1024 * 1024;

/**
 * A framework API request (Marathon /v2, Metronome /v1/jobs) a follower forwards to the leader:
 * the leader's answer headers must come within this, and a whole answer (not an event stream)
 * within the next; Marathon's --leader_proxy_connection_timeout / read_timeout are of this order.
 */
export const frameworkForwardHeadersTimeoutMs = 10_000;
export const frameworkForwardAnswerTimeoutMs = 30_000;
/** An audit line's `target` (the call's own part of the body, as JSON) is cut at this many characters. */
export const maxAuditTargetChars = 512;
/** An error answer longer than this is not read for its code by the audit hook. */
export const maxAuditedErrorBodyChars = 64 * 1024;

/** A master refusing scheduler calls over --rate-limits says so at most once per this interval. */
export const rateLimitRefusalLogIntervalMs = 1_000;
