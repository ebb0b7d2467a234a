// The "disk" of one simulated replica: it holds only what the driver persisted — the hard state,
// the latest snapshot and the log entries — so a crash loses everything else (the core, the
// state machine, unsent messages, an unpersisted Ready). Its write rules are those of
// src/raft/storage.ts (SqliteRaftStorage), so the simulator exercises the contract the real
// driver relies on; a Ready that breaks them (a gap, a rewrite under the snapshot) is a bug the
// simulator reports instead of papering over.
import { entryChecksum } from '../../../src/raft/checksum.ts';
import { NO_NODE } from '../../../src/raft/types.ts';
import type {
  Entry,
  HardState,
  LogIndex,
  Membership,
  PersistedState,
  Snapshot,
  Term,
} from '../../../src/raft/types.ts';

export interface PersistBatch {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
}

/** The Ready asked the disk for something no correct driver could do (see the message). */
export class DiskContractError extends Error {
  override name = 'DiskContractError';
}

function require(condition: boolean, message: string): asserts condition {
  if (!condition) throw new DiskContractError(`disk: ${message}`);
}

export class MemoryDisk {
  hardState: HardState = { term: 0, vote: NO_NODE, commit: 0 };
  snapshot: Snapshot | null = null;
  /**
   * Contiguous and ascending. It may start at or below the snapshot's index: compaction keeps a
   * trailing window, exactly as the SQLite storage does; load() hands back only what follows.
   */
  private entries: Entry[] = [];

  snapshotIndex(): LogIndex {
    return this.snapshot?.meta.index ?? 0;
  }

  /** The last index the disk can vouch for: its last entry, or the snapshot's index. */
  lastIndex(): LogIndex {
    const lastEntry = this.entries[this.entries.length - 1];
    return Math.max(lastEntry?.index ?? 0, this.snapshotIndex());
  }

  termAt(index: LogIndex): Term | undefined {
    const entry = this.entryAt(index);
    if (entry !== undefined) return entry.term;
    return index === this.snapshotIndex() ? this.snapshot?.meta.term : undefined;
  }

  entryAt(index: LogIndex): Entry | undefined {
    const first = this.entries[0];
    if (first === undefined || index < first.index) return undefined;
    return this.entries[index - first.index];
  }

  /** Every stored entry, the trailing window below the snapshot included. */
  storedEntries(): readonly Entry[] {
    return this.entries;
  }

  /** Stored entries after the snapshot (what a restart would load). */
  entriesAfterSnapshot(): readonly Entry[] {
    const first = this.entries[0];
    if (first === undefined) return [];
    return this.entries.slice(Math.max(0, this.snapshotIndex() + 1 - first.index));
  }

  /** One Ready, as one transaction: snapshot (and log trim), then entries, then hard state. */
  persist(batch: PersistBatch): void {
    if (batch.snapshot !== null) this.installSnapshot(batch.snapshot);
    if (batch.entries.length > 0) this.appendEntries(batch.entries);
    if (batch.hardState !== null) this.hardState = batch.hardState;
  }

  private installSnapshot(snapshot: Snapshot): void {
    const meta = snapshot.meta;
    require(meta.index >=
      this.snapshotIndex(), `snapshot ${meta.index} is older than the stored snapshot ${this.snapshotIndex()}`);
    // §5.4.3 / paper §7: keep the suffix only if the log holds the snapshot's last entry with its term.
    const keepSuffix = this.entryAt(meta.index)?.term === meta.term;
    this.snapshot = snapshot;
    this.entries = keepSuffix ? this.entries.filter((entry) => entry.index > meta.index) : [];
  }

  private appendEntries(entries: readonly Entry[]): void {
    const first = entries[0]!;
    const snapshotIndex = this.snapshotIndex();
    const lastIndex = this.lastIndex();
    require(first.index >
      snapshotIndex, `entry ${first.index} would rewrite the log covered by snapshot ${snapshotIndex}`);
    require(first.index <=
      lastIndex + 1, `entry ${first.index} would leave a gap after the last stored index ${lastIndex}`);
    const storedFirst = this.entries[0];
    if (storedFirst !== undefined && first.index <= lastIndex)
      this.entries.length = Math.max(0, first.index - storedFirst.index);
    let expectedIndex = first.index;
    for (const entry of entries) {
      require(entry.index ===
        expectedIndex, `batch entries are not contiguous: ${entry.index} where ${expectedIndex} belongs`);
      require(entryChecksum(entry.term, entry.index, entry.type, entry.data, entry.idempotency) ===
        entry.checksum, `entry ${entry.index} in the batch has a bad checksum`);
      this.entries.push(entry);
      expectedIndex++;
    }
  }

  /** A snapshot the local state machine made; false when one at or past its index is stored. */
  saveSnapshot(snapshot: Snapshot): boolean {
    const meta = snapshot.meta;
    if (this.snapshot !== null && this.snapshot.meta.index >= meta.index) return false;
    const termInLog = this.entryAt(meta.index)?.term;
    require(termInLog === undefined ||
      termInLog === meta.term, `snapshot ${meta.index} has term ${meta.term}, the log says ${termInLog}`);
    this.snapshot = snapshot;
    return true;
  }

  /** Deletes entries at or below `throughIndex`, which the stored snapshot must cover. */
  compact(throughIndex: LogIndex): void {
    require(throughIndex <=
      this.snapshotIndex(), `compact through ${throughIndex} would drop entries the snapshot (${this.snapshotIndex()}) does not cover`);
    const first = this.entries[0];
    if (first === undefined || throughIndex < first.index) return;
    this.entries = this.entries.slice(throughIndex - first.index + 1);
  }

  /** What a restarted replica gets back: verified as SqliteRaftStorage.load() verifies it. */
  load(bootstrap: Membership): PersistedState {
    const entries = this.entriesAfterSnapshot();
    let previousTerm = this.snapshot?.meta.term ?? 0;
    entries.forEach((entry, offset) => {
      require(entry.index === this.snapshotIndex() + 1 + offset, `log gap at ${entry.index}`);
      require(entry.term >= previousTerm, `entry ${entry.index} has term ${entry.term} after term ${previousTerm}`);
      require(entryChecksum(entry.term, entry.index, entry.type, entry.data, entry.idempotency) ===
        entry.checksum, `entry ${entry.index} is corrupt`);
      previousTerm = entry.term;
    });
    return { hardState: this.hardState, snapshot: this.snapshot, entries: [...entries], bootstrap };
  }
}
