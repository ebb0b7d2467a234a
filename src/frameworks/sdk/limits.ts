// The scheduler SDK's limits in one place (STYLE.md rule 7: a limit on everything, named, units last).

/** One READ_FILE asks for at most this much; a chatty task is read in several calls. */
export const maxReadBytes = 256 * 1024;

/**
 * Connections of one client for its calls; calls beyond wait for one (and their time out starts
 * once they have it, transport.ts).
 */
export const maxCallSockets = 8;

/**
 * Connections of one client for its ACKNOWLEDGEs, apart from its calls'. A master of before
 * session 15 answers an acknowledgement once it is committed, so a client acknowledges at most
 * this many updates per commit: at 8, a framework whose tasks start and finish at once (two
 * updates each) finished at most 4 tasks per commit, whatever the cluster could do, and the churn
 * bench's framework always had ~4,000 acknowledgements waiting for a socket. A newer master
 * answers once the acknowledgement is handed to Raft (202, as Mesos), so a socket is free again
 * within a turn. The master takes those arriving in one turn
 * as one Raft entry (src/master/status-batcher.ts), so more at once also means fewer entries.
 * Mesos' own scheduler library pipelines every call on one connection, without a bound.
 */
export const maxAcknowledgeSockets = 64;

/** More would only hide a cluster that is down. */
export const maxCallAttempts = 100;

export const defaultQueuedEvents = 10_000;

/** Offers whose master is remembered (to fail an ACCEPT their leader's loss has doomed); beyond, one is sent as it is. */
export const maxTrackedOffers = 100_000;

/** Tasks reconciled explicitly; beyond this a framework should page its reconciliation itself. */
export const maxKnownTasks = 100_000;

/**
 * Tasks in one RECONCILE call. A master refuses a body over 1 MiB (413, src/http/limits.ts); a
 * task with its agent id takes ~130 bytes of JSON with 36-character UUIDs. A framework that knew
 * 100,000 tasks sent them all in one call after each re-subscription, and every one of those
 * calls was refused.
 */
export const maxTasksPerReconcile = 2_000;

/**
 * The tasks' JSON in one RECONCILE call: with ids near their 255-character limit 2,000 tasks take
 * ~1.1 MB, over the master's 1 MiB; half of it leaves room for the call's envelope.
 */
export const maxReconcileTaskBytes = 512 * 1024;

/** An OFFERS event with many offers is the largest record; Mesos' own clients allow far less. */
export const maxEventBytes = 16 * 1024 * 1024;

/** A list longer than this is a typo or an attack, not a Raft group (3 or 5 masters). */
export const maxMasters = 16;

/** A requirement above this many ports is a mistake; the loop that picks them stays bounded. */
export const maxPortsPerTask = 1_000;

/** A follower points at the leader in one hop; a few more cover an election in between. */
export const maxRedirects = 5;

export const maxErrorBodyBytes = 64 * 1024;

/** A call's answer is an empty 202 or a short error; anything longer is cut off here. */
export const maxCallResponseBytes = 1024 * 1024;
