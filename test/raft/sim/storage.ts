// The "disk" of one simulated replica: it holds only what the driver persisted — the hard state,
// the latest snapshot and the log entries — so a crash loses everything else (the core, the
// state machine, unsent messages, an unpersisted Ready). Its write rules are those of
// src/raft/storage.ts (SqliteRaftStorage), so the simulator exercises the contract the real
// driver relies on; a Ready that breaks them (a gap, a rewrite under the snapshot) is a bug the
// simulator reports instead of papering over.
//
// Disk faults (a crash may bring them; see SimNode.crash):
// - an unsynced tail lost: a Ready that moved only the commit index is written without an fsync,
//   as the real driver does (the commit index is volatile in Raft); a crash may lose it, and
//   the disk then holds the hard state of the last synced write.
// - a torn write: the crash strikes while a Ready is being written. The hard state and snapshot
//   reached the disk (they come first), the entries only up to some point, and the last one may
//   be half written: its bytes do not match its checksum. load() finds it, by checksum, and
//   truncates it as a WAL recovery truncates a torn tail. Anything else that fails its checksum
//   is corruption, and an error.
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

/** How a crash in the middle of a write leaves the disk: entries kept whole, and whether the next one is torn. */
export interface TornWrite {
  readonly entriesKept: number;
  readonly tearNext: boolean;
}

export class MemoryDisk {
  hardState: HardState = { term: 0, vote: NO_NODE, commit: 0 };
  /** The hard state as of the last fsync: what a crash that loses the unsynced tail leaves. */
  private syncedHardState: HardState = this.hardState;
  /** Torn tails found and truncated by load(), over this disk's life. */
  tornEntriesTruncated = 0;
  unsyncedWritesLost = 0;
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
    const hardState = batch.hardState;
    // The driver's MustSync rule (src/raft/node.ts persistReady): only entries, a snapshot, a
    // new term or a new vote need an fsync; a commit-only write rides along unsynced.
    const synced = this.syncedHardState;
    const mustSync =
      batch.entries.length > 0 ||
      batch.snapshot !== null ||
      (hardState !== null && (hardState.term !== synced.term || hardState.vote !== synced.vote));
    if (hardState !== null) this.hardState = hardState;
    if (mustSync) this.syncedHardState = this.hardState;
  }

  /**
   * The crash struck in the middle of writing `batch`: the hard state (term and vote, the
   * commit index as it was: the new one may point past what survives) and the snapshot are on
   * disk, then `entriesKept` entries whole, then, if `tearNext`, the next one half written.
   */
  persistTorn(batch: PersistBatch, torn: TornWrite): void {
    require(torn.entriesKept >= 0 && torn.entriesKept <= batch.entries.length, `torn write keeps ${torn.entriesKept}`);
    if (batch.snapshot !== null) this.installSnapshot(batch.snapshot);
    if (batch.hardState !== null) {
      const commit = Math.min(this.hardState.commit, this.lastIndex());
      this.hardState = { term: batch.hardState.term, vote: batch.hardState.vote, commit };
      this.syncedHardState = this.hardState;
    }
    const first = batch.entries[0];
    if (first === undefined) return;
    const kept = batch.entries.slice(0, torn.entriesKept);
    if (kept.length > 0) this.appendEntries(kept);
    else if (first.index <= this.lastIndex()) this.truncateFrom(first.index);
    const next = batch.entries[torn.entriesKept];
    if (!torn.tearNext || next === undefined) return;
    // Half the bytes made it: the rest of the data reads back as zeros, the checksum as written.
    const data = new Uint8Array(next.data.byteLength + 1);
    data.set(next.data.subarray(0, Math.floor(next.data.byteLength / 2)));
    this.entries.push({ ...next, data });
  }

  /** The crash lost what was written since the last fsync: a commit-only hard state. */
  loseUnsyncedTail(): void {
    if (this.hardState === this.syncedHardState) return;
    this.hardState = this.syncedHardState;
    this.unsyncedWritesLost++;
  }

  /**
   * A broken disk, never a correct one: a crash loses the last `count` entries although they
   * were fsynced (an fsync that lied). Only to prove that the checkers catch such a disk.
   */
  loseSyncedEntries(count: number): void {
    const keep = Math.max(0, this.entries.length - count);
    const firstLost = this.entries[keep];
    if (firstLost === undefined || firstLost.index <= this.snapshotIndex()) return;
    this.entries.length = keep;
    this.hardState = { ...this.hardState, commit: Math.min(this.hardState.commit, this.lastIndex()) };
    this.syncedHardState = this.hardState;
  }

  private truncateFrom(index: LogIndex): void {
    require(index > this.snapshotIndex(), `truncating from ${index} would cut into snapshot ${this.snapshotIndex()}`);
    const storedFirst = this.entries[0];
    if (storedFirst !== undefined) this.entries.length = Math.max(0, index - storedFirst.index);
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
    this.truncateTornTail();
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

  /** A last entry whose checksum fails is a torn write: dropped, with nothing after it to lose. */
  private truncateTornTail(): void {
    const last = this.entries[this.entries.length - 1];
    if (last === undefined || last.index <= this.snapshotIndex()) return;
    if (entryChecksum(last.term, last.index, last.type, last.data, last.idempotency) === last.checksum) return;
    this.entries.pop();
    this.tornEntriesTruncated++;
  }
}
