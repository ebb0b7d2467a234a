// What the driver (node.ts) tells whoever watches it — the master's metrics — about the work it
// does around the pure core: each persisted Ready (the fsync that every commit waits for), each
// snapshot written or installed, and each local proposal's latency to applied. The core stays
// free of clocks: durations are measured by the driver, in milliseconds of `performance.now()`.
// Callbacks run synchronously inside the driver's loop, so they must be cheap and must not throw.
// A Ready that only moved the commit index writes nothing (node.ts persistReady) and is not
// reported.
import type { LogIndex } from './types.ts';

export interface RaftObserver {
  /** One Ready persisted in one SQLite transaction; `durable`: it was fsynced (entries, snapshot, term or vote). */
  persisted(durationMs: number, entries: number, durable: boolean): void;
  /**
   * The log's WAL was copied back into raft.db between turns (storage.ts checkpoint()): `frames`
   * it held, in `durationMs` (on the event loop with the inline writer, else the writer thread).
   */
  walCheckpointed?(durationMs: number, frames: number): void;
  /** The local state machine's snapshot at `index` was written to disk and the log compacted behind it. */
  snapshotTaken(index: LogIndex, bytes: number, durationMs: number): void;
  /** A snapshot from the leader replaced this replica's state. */
  snapshotInstalled(index: LogIndex, bytes: number): void;
  /** A proposal made here was applied here and answered: commit latency as a client sees it. */
  proposalApplied?(index: LogIndex, latencyMs: number): void;
  /**
   * A follower heard its leader again after at least one tick without a message from it:
   * `durationMs` of wall time and `ticks` of its election timer (leader-silence.ts).
   */
  leaderSilence?(durationMs: number, ticks: number): void;
}

export const silentRaftObserver: RaftObserver = {
  persisted: () => undefined,
  snapshotTaken: () => undefined,
  snapshotInstalled: () => undefined,
};
