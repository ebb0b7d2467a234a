// Bounds and intervals of the scheduler API in one place (STYLE.md rule 7).

/** Mesos' DEFAULT_HEARTBEAT_INTERVAL for scheduler streams (master/constants.hpp): 15 s. */
export const schedulerHeartbeatIntervalSeconds = 15;

/** Scheduler streams open at once on the leader (one per framework); one more answers 429. */
export const maxSchedulerStreams = 1024;

/**
 * Bytes of events waiting for one framework's socket. A scheduler that stops reading is
 * disconnected (it re-subscribes; its unacknowledged updates are sent again) rather than
 * buffered forever. 8 MiB holds a full agent's worth of offers and thousands of updates.
 */
export const maxQueuedBytesPerStream = 8 * 1024 * 1024;

/** Unacknowledged status updates are sent again this often (Mesos' agent retries from 10 s). */
export const statusUpdateRetryIntervalMs = 10_000;

/** Mesos Filters.refuse_seconds default (mesos.proto Filters). */
export const defaultRefuseSeconds = 5;

/** How often the leader checks failover timeouts and frameworks left without a stream. */
export const failoverCheckIntervalMs = 1000;

/**
 * A framework CONNECTED in the replicated state but with no stream on this leader (it was
 * connected to the previous leader) gets this long to re-subscribe before it is marked
 * disconnected and its failover timeout starts: two heartbeats, the time a Mesos client takes
 * to notice a dead master and find the new one.
 */
export const resubscribeGraceMs = 2 * schedulerHeartbeatIntervalSeconds * 1000;

/** How often a leader's open streams check that it still leads (and end if not). */
export const leadershipCheckIntervalMs = 250;

/** Status updates sent again per stream in one retry round: the rest wait for the next round. */
export const maxResentUpdatesPerRound = 10_000;
