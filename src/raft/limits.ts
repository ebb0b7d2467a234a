// The Raft layer's limits in one place (STYLE.md rule 7: a limit on everything, named, units last).

/** Upper bound of one frame in bytes, for encoder and decoder alike. */
export const maxFrameBytes = 64 * 1024 * 1024;

/** Voters plus learners plus addresses in one membership; real clusters have a handful. */
export const maxMembershipNodes = 1024;

/** How long a key is remembered, in leader-stamped time. The issue asks for at least 10 minutes. */
export const idempotencyWindowMs = 60 * 60 * 1000;

/** How many keys are remembered at most; the oldest is forgotten first. */
export const maxIdempotencyKeys = 50_000;

/** Bounds of a stamp, for the driver's checks (the HTTP edge's bounds are tighter). */
export const maxIdempotencyKeyBytes = 1024;

export const maxIdempotencyFingerprintBytes = 256;

/**
 * Expired records dropped per stamped apply at most, so one apply never stalls the event loop
 * (dropping all 50,000 at once took 16 ms on the 2-core CI machine). A record still present past
 * its window is treated as absent all the same; the rest go with the next applies.
 */
export const maxEvictionsPerApply = 1_024;

/**
 * The driver applies committed entries for at most about this long in one event-loop turn, then
 * yields (setImmediate) and goes on in the next: a Ready of thousands of entries applied in one
 * go held the leader's loop for 789 ms (`bench scale --quick`), past a heartbeat.
 */
export const applySliceBudgetMs = 10;

/**
 * WAL pages (as storage.ts estimates them from the rows written) past which a replica copies the
 * WAL back into raft.db, between turns, once no write waits (issue 19); SQLite's own default
 * did it inside the commit that crossed 1,000 pages. Not more: a checkpoint writes and syncs
 * every distinct page, so its cost follows the data, not the count (at 65 entries per
 * transaction, load 25: 1,000 pages 10-17 ms, 4,000 pages 35-77 ms; at 200, 4,000 pages
 * 100-430 ms, past a heartbeat), and a busy leader, never idle, runs it only at twice this.
 */
export const walCheckpointPages = 1_000;

/** Times walCheckpointPages past which the checkpoint runs in the next turn even with writes waiting. */
export const walCheckpointForceFactor = 2;

/**
 * Times walCheckpointPages at which SQLite's automatic checkpoint (wal_autocheckpoint, in real
 * WAL frames) runs inside the commit that crosses it: the hard bound on the WAL (32 MiB of 4 KiB
 * pages by default) should the estimate fall short or the scheduled checkpoints not run. Far
 * above the forced threshold: the estimate leaves out interior and freed pages, and a leader at
 * 256 clients checkpointed 2,013 and 2,963 real frames at 2,000 estimated.
 */
export const walBackstopFactor = 8;
