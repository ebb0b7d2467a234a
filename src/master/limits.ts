// Bounds and intervals of the master in one place (STYLE.md rule 7), units last. The defaults
// an operator can change are options in config.ts; these are the ones the code fixes.

// ---------------------------------------------------------------- leadership (leadership/)

/**
 * A leader whose services failed to start tries again after an equal-jitter back-off from this
 * window, growing to `establishRetryMaxMs`; after `establishAttemptsBeforeStepDown` failures in
 * one term it asks Raft to hand leadership to another master (which may not share the fault).
 */
export const establishRetryBaseMs = 500;
export const establishRetryMaxMs = 10_000;
export const establishAttemptsBeforeStepDown = 3;

/**
 * A request that needs the leader services (a scheduler SUBSCRIBE, an agent registering) and
 * reaches a leader still establishing them waits this long at most (a ReadIndex round and the
 * services' start take milliseconds), then is answered "retry".
 */
export const leaderServicesWaitMaxMs = 5_000;

// ---------------------------------------------------------------- scheduler sessions (scheduler/)

/** Mesos' DEFAULT_HEARTBEAT_INTERVAL for scheduler streams (master/constants.hpp): 15 s. */
export const schedulerHeartbeatIntervalSeconds = 15;

/** Scheduler streams open at once on the leader (one per framework); one more answers 429. */
export const maxSchedulerStreams = 1024;

/**
 * Scheduler streams of frameworks of one principal open at once (--max-scheduler-streams-per-principal):
 * one principal cannot take every stream from the others. Frameworks without a principal are
 * bounded by the total only.
 */
export const maxSchedulerStreamsPerPrincipal = 256;

/** Unacknowledged status updates are sent again this often (Mesos' agent retries from 10 s). */
export const statusUpdateRetryIntervalMs = 10_000;

/**
 * An update sent again and still unacknowledged waits twice as long before the next time, up to
 * this (Mesos' status update manager: STATUS_UPDATE_RETRY_INTERVAL_MIN 10 s, MAX 10 min).
 */
export const maxStatusUpdateRetryIntervalMs = 600_000;

/**
 * ACKNOWLEDGEs answered 202 before their entry commits, at once on the leader
 * (scheduler/acknowledgements-on-their-way.ts): ~20 turns' worth of 512-item batches. Beyond it
 * an ACKNOWLEDGE is answered once committed, as before, so a flood waits on Raft, not in memory.
 */
export const maxAcknowledgementsOnTheirWay = 10_000;

/** Status updates sent again per stream in one retry round: the rest wait for the next round. */
export const maxResentUpdatesPerRound = 10_000;

/**
 * Tasks whose pending updates the leader's retries look up and schedule per event-loop turn
 * (scheduler/update-retries.ts): a new stream's walk over its framework's unacknowledged tasks,
 * and the tasks given a status since the last round. About 3 µs each: the walk over 50,000 in one
 * turn held the loop 158 ms (issue 12); 2,000 are ~6 ms, and the rest follow in the next turns.
 */
export const maxTasksTrackedPerTurn = 2_000;

/**
 * Events of a bulk send (a RECONCILE's answers, the SUBSCRIBE backlog, a retry round) one stream
 * encodes and writes per event-loop turn (scheduler/session.ts sendInSlices): 256 updates are
 * about 5 ms; sent in one turn, 10,000 held the leader's loop for 25-64 ms.
 */
export const schedulerEventsPerSlice = 256;

/**
 * How often the leader brings inverse offers up to date after the maintenance schedule or a
 * framework's use of agents changed (Mesos makes inverse offers in its next allocation cycle).
 */
export const inverseOfferRefreshIntervalMs = 250;

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

// ---------------------------------------------------------------- agents (agent-*.ts)

/** A misconfigured agent retries in a loop: one warning per this interval is enough to act on. */
export const agentRefusalLogIntervalMs = 10_000;

/**
 * Agent sockets (registered or not) one master holds at once (--max-agent-connections): twice the
 * 10,000 agents Flotilla is built for, so re-registrations after a failover fit; one more is
 * refused 503 at the handshake and the agent dials again after its back-off.
 */
export const maxAgentConnections = 20_000;

/**
 * The master's listening socket's accept queue (listen(2) backlog; the kernel caps it at
 * net.core.somaxconn, 4096 on current Linux). After a leader's SIGKILL every agent dials the new
 * leader within moments: with Node's default of 511, a turn of its event loop longer than it
 * takes 511 agents to dial filled the queue, and the kernel dropped the rest's SYNs, which their
 * TCP retried 1, 3, 7, 15 s later (issue 12, scale bench: every agent re-registered after 22.3 s,
 * p50 6.3 s, while the leader had idle time). Twice the agents Flotilla is built for.
 */
export const masterListenBacklog = 20_000;

/** A register decided on a stale view (a new leader still applying) is retried once the other way. */
export const maxAgentRegistrationAttempts = 2;

/**
 * Bytes of one agent_registration_batch (registration-batcher.ts), well under maxCommandBytes: its
 * apply costs by the agent and by the task each reports, and one entry is applied in one go, past
 * the apply slice's 10 ms if need be. 256 re-registrations reporting 15 tasks each (362 KB) took
 * 15–43 ms of CPU to decode and apply (load 26), one turn of 200–860 ms on a loaded leader after a
 * failover; 64 KiB keeps an entry near 5 ms (about 45 such agents, or 150 without tasks).
 */
export const maxRegistrationBatchBytes = 64 * 1024;

// ---------------------------------------------------------------- allocation (allocation-*.ts)

/** The upper bound of `--allocation-batch-ms`. */
export const maxAllocationBatchMs = 60_000;

/** Changes that emit no event (quota, weights, maintenance ending) are picked up at least this often. */
export const fallbackCycleIntervalMs = 5_000;

/** Cycle steps between clock checks: about 3 ms at 10k agents (bench/allocator.ts). */
export const stepsPerClockCheck = 32;

/** Event-loop time one slice of an allocation cycle may hold (allocation-slices.ts). */
export const sliceBudgetMs = 10;

/** Rescinds proposed per pass, so a huge backlog cannot flood the Raft log at once. */
export const maxRescindsPerPass = 1000;
/**
 * Offers per create_offers the allocation loop proposes (the command allows maxOffersPerCommand):
 * one entry is applied, and its OFFERS event built, in one go. 1,000 offers took 26–36 ms of CPU to
 * decode and apply (31 µs an offer, load 26), a run of 0.6–0.9 s in a loaded leader's profile;
 * 256 keep an entry near 8 ms, at four commits per 1,000 offers instead of one.
 */
export const offersPerCreateCommand = 256;

// ---------------------------------------------------------------- history (history-limits.ts)

/** A failed proposal of this master's history limits is retried after a back-off in this window. */
export const historyLimitsRetryBaseMs = 500;
export const historyLimitsRetryMaxMs = 10_000;
/** The history-limits service's start waits this long at most for its first proposal to commit. */
export const historyLimitsStartWaitMs = 5_000;

// ---------------------------------------------------------------- membership (learner-promoter.ts)

/** How often the leader looks whether a learner has caught up enough to be promoted. */
export const learnerCheckIntervalMs = 250;

// ---------------------------------------------------------------- zones (zones/)

/** How often the leader asks every other master for its zone and health (GET /health). */
export const memberProbeIntervalMs = 1_000;

/** A master that has not answered within this long counts as not answering (WAN round trips included). */
export const memberProbeTimeoutMs = 2_000;

/** How often a leader outside `--preferred-leader-zones` looks for a voter inside them. */
export const zonePreferenceCheckIntervalMs = 1_000;

/**
 * Hysteresis of the zone preference, so leadership never flaps: a voter in a preferred zone is a
 * target only after it has answered this many probes in a row following this leader in this
 * term; a leader hands over only after leading this long; after a hand-over that did not take,
 * it waits `zonePreferenceRetryMs` before trying again. A leader in a preferred zone never moves.
 */
export const zonePreferenceStableRounds = 3;
export const zonePreferenceMinLeadershipMs = 5_000;
export const zonePreferenceRetryMs = 30_000;

/** A target at most this many entries behind the leader's log: Raft sends it the rest before TimeoutNow. */
export const zonePreferenceMaxLagEntries = 100;

/**
 * How often the leader looks for draining agents with no live task left (agent-drains.ts), on
 * top of reacting to task updates: the retry of a proposal lost to a leadership change.
 */
export const drainCheckIntervalMs = 1_000;

// ---------------------------------------------------------------- operator streams (the defaults of config.ts)

/**
 * Operator SUBSCRIBE streams open at once on one master; one more is answered 429. The defaults of
 * --max-operator-subscribers(-per-principal): here, not in src/http, because the master's config
 * schema names them and src/master imports nothing of src/http but in daemon.ts.
 */
export const maxOperatorSubscribers = 64;

/**
 * Operator SUBSCRIBE streams of one authenticated principal on one master: one principal cannot
 * take every stream from the others (anonymous callers are bounded by the total only).
 */
export const maxOperatorSubscribersPerPrincipal = 16;

/**
 * Rescinds of an earlier leader's offers proposed at once when a term begins (inherited-offers.ts):
 * they share Raft appends (group commit) without flooding the log in one turn.
 */
export const maxInheritedRescindsInFlight = 256;
