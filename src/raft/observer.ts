// Timings of the replicated write path, for whoever measures them (the master's metrics). The
// driver calls these synchronously on its hot path, so an observer only records: no I/O, no
// throwing. Raft imports nothing of the metrics layer; the metrics layer subscribes here.
import type { LogIndex } from './types.ts';

export interface PersistObservation {
  /** Entries written by this transaction (0: a term or vote change, or a snapshot). */
  readonly entries: number;
  /** The SQLite transaction, its fsync included, in milliseconds. */
  readonly durationMs: number;
}

export interface ProposalObservation {
  readonly index: LogIndex;
  /** From propose() to the entry applied on this replica (commit latency as a client sees it), ms. */
  readonly latencyMs: number;
}

export interface RaftObserver {
  /** One Ready made durable (one fsync). */
  persisted?(observation: PersistObservation): void;
  /** A proposal made on this replica was applied here and answered. */
  proposalApplied?(observation: ProposalObservation): void;
}
