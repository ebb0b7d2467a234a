// Raft's State Machine Safety, checked on the masters' files after a run: every entry a master
// holds as committed is the same entry (term and CRC) on every other master that holds that
// index as committed. Where the logs agree, one full replay (log-replay.ts) speaks for all of
// them, which is what makes replaying a long run affordable.
import { SqliteRaftStorage } from '../../../src/raft/storage.ts';

export interface CommittedLog {
  readonly master: string;
  readonly commit: number;
  /** Entries at or below it were compacted into a snapshot: not comparable. */
  readonly snapshotIndex: number;
  /** index → `${term}:${checksum}` of each committed entry held. */
  readonly entries: ReadonlyMap<number, string>;
}

export interface Divergence {
  readonly index: number;
  readonly masters: Readonly<Record<string, string>>;
}

const emptyMembership = { voters: [], learners: [], addresses: {} };
const maxDivergencesReported = 20;

/**
 * `reportedCommit`: the commit index the master reported while it ran (/health). The persisted
 * one lags: hard_state is written only when term or vote changes and at a clean stop, and the
 * run ends with SIGKILL, so without it only the log up to the last election is compared.
 */
export function readCommittedLog(master: string, dataDir: string, reportedCommit = 0): CommittedLog {
  const storage = SqliteRaftStorage.open(dataDir);
  try {
    const persisted = storage.load(emptyMembership);
    const commit = committedThrough(persisted.hardState.commit, reportedCommit, persisted.entries.at(-1)?.index ?? 0);
    const entries = new Map<number, string>();
    for (const entry of persisted.entries) {
      if (entry.index > commit) break;
      entries.set(entry.index, `${entry.term}:${entry.checksum}`);
    }
    return { master, commit, snapshotIndex: persisted.snapshot?.meta.index ?? 0, entries };
  } finally {
    storage.close();
  }
}

/** Indexes where two masters hold different committed entries (none, in a correct Raft). */
export function committedDivergences(logs: readonly CommittedLog[]): Divergence[] {
  const divergences: Divergence[] = [];
  const highest = Math.max(0, ...logs.map((log) => log.commit));
  for (let index = 1; index <= highest && divergences.length < maxDivergencesReported; index++) {
    const seen: Record<string, string> = {};
    for (const log of logs) {
      const entry = log.entries.get(index);
      if (entry !== undefined) seen[log.master] = entry;
    }
    if (new Set(Object.values(seen)).size > 1) divergences.push({ index, masters: seen });
  }
  return divergences;
}

/** The master whose whole committed log can be replayed from index 1 and reaches furthest. */
export function mostCompleteLog(logs: readonly CommittedLog[]): CommittedLog | null {
  let best: CommittedLog | null = null;
  for (const log of logs) {
    if (log.snapshotIndex > 0) continue;
    if (best === null || log.commit > best.commit) best = log;
  }
  return best;
}

/** The highest index known committed that this master also holds (a commit it reported may
 *  cover entries a SIGKILL kept from reaching its disk). */
export function committedThrough(persistedCommit: number, reportedCommit: number, lastHeldIndex: number): number {
  return Math.max(persistedCommit, Math.min(reportedCommit, lastHeldIndex));
}
