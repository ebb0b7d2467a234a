// What the driver (node.ts) tells whoever watches it — the master's metrics — about the work it
// does around the pure core: each persisted Ready (the fsync that every commit waits for) and
// each snapshot written or installed. The core stays free of clocks: durations are measured by
// the driver, in milliseconds of `performance.now()`. Callbacks run synchronously inside the
// driver's loop, so they must be cheap and must not throw.
import type { LogIndex } from './types.ts';

export interface RaftObserver {
  /** One Ready persisted in one SQLite transaction; `durable`: it was fsynced (entries, snapshot, term or vote). */
  persisted(durationMs: number, entries: number, durable: boolean): void;
  /** The local state machine's snapshot at `index` was written to disk and the log compacted behind it. */
  snapshotTaken(index: LogIndex, bytes: number, durationMs: number): void;
  /** A snapshot from the leader replaced this replica's state. */
  snapshotInstalled(index: LogIndex, bytes: number): void;
}

export const silentRaftObserver: RaftObserver = {
  persisted: () => undefined,
  snapshotTaken: () => undefined,
  snapshotInstalled: () => undefined,
};
