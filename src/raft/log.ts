// The replica's log as the core sees it: a snapshot base, then entries in memory. What is on disk
// trails what is here: `stableIndex` is the last index the driver has confirmed durable, and
// `handedOffIndex` the last one handed to the driver to write (etcd-raft's unstable log and its
// offsetInProgress). With synchronous writes both move together at advance(); with asynchronous
// ones the entries between them are being written, and reads of the log see them like any other.
// Entries at or below `committed` never change (asserted).
import { assert } from '../util/assert.ts';
import { entryChecksum } from './checksum.ts';
import type { Entry, LogIndex, Term } from './types.ts';

export class RaftLog {
  snapshotIndex: LogIndex;
  snapshotTerm: Term;
  /** entries[k].index === snapshotIndex + 1 + k */
  private entries: Entry[];
  /** Indexes of config entries in `entries`, ascending: membership lookups must not scan the log. */
  private configIndexes: LogIndex[] = [];
  committed: LogIndex;
  applied: LogIndex;
  stableIndex: LogIndex;
  /** The last index handed to the driver in a Ready; at or above stableIndex. */
  handedOffIndex: LogIndex;

  constructor(snapshotIndex: LogIndex, snapshotTerm: Term, entries: readonly Entry[], committed: LogIndex) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    this.entries = [...entries];
    entries.forEach((entry, offset) => {
      assert(entry.index === snapshotIndex + 1 + offset, `log not contiguous at ${entry.index}`);
    });
    this.configIndexes = entries.filter((entry) => entry.type === 'config').map((entry) => entry.index);
    this.stableIndex = this.lastIndex();
    this.handedOffIndex = this.stableIndex;
    this.committed = Math.max(snapshotIndex, Math.min(committed, this.lastIndex()));
    this.applied = snapshotIndex;
  }

  firstIndex(): LogIndex {
    return this.snapshotIndex + 1;
  }

  lastIndex(): LogIndex {
    return this.snapshotIndex + this.entries.length;
  }

  lastTerm(): Term {
    return this.term(this.lastIndex())!;
  }

  /** The term at `index`, or undefined when compacted away or beyond the end. */
  term(index: LogIndex): Term | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndex - 1]!.term;
  }

  entry(index: LogIndex): Entry | undefined {
    if (index <= this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndex - 1];
  }

  matchTerm(index: LogIndex, term: Term): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: LogIndex, lastTerm: Term): boolean {
    const ourLastTerm = this.lastTerm();
    return lastTerm > ourLastTerm || (lastTerm === ourLastTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [low, high), at most `maxBytes` of data (always at least one); undefined if compacted. */
  slice(low: LogIndex, high: LogIndex, maxBytes: number): Entry[] | undefined {
    if (low <= this.snapshotIndex) return undefined;
    assert(high <= this.lastIndex() + 1, `slice beyond the end: ${high} > ${this.lastIndex() + 1}`);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = low; index < high; index++) {
      const entry = this.entries[index - this.snapshotIndex - 1]!;
      bytes += entry.data.byteLength;
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  /** Appends at the end (leader path). */
  appendNew(term: Term, type: Entry['type'], data: Uint8Array, idempotency: Entry['idempotency']): Entry {
    const index = this.lastIndex() + 1;
    const checksum = entryChecksum(term, index, type, data, idempotency);
    const entry: Entry =
      idempotency === undefined
        ? { term, index, type, data, checksum }
        : { term, index, type, data, idempotency, checksum };
    this.push(entry);
    return entry;
  }

  private push(entry: Entry): void {
    this.entries.push(entry);
    if (entry.type === 'config') this.configIndexes.push(entry.index);
  }

  /**
   * Follower path (paper figure 2, AppendEntries step 3–4): skip entries we already have, cut
   * our log at the first conflict and append the rest. Returns the index of the first entry
   * that replaced or extended ours, or null when nothing changed.
   */
  appendFromLeader(entries: readonly Entry[]): LogIndex | null {
    let firstNew: LogIndex | null = null;
    for (const entry of entries) {
      if (firstNew === null) {
        const ourTerm = this.term(entry.index);
        if (ourTerm === entry.term || entry.index <= this.snapshotIndex) continue;
        assert(
          entry.index > this.committed,
          `leader would overwrite committed entry ${entry.index} (committed ${this.committed})`,
        );
        assert(entry.index <= this.lastIndex() + 1, `gap before entry ${entry.index}`);
        this.truncateFrom(entry.index);
        firstNew = entry.index;
      }
      this.push(entry);
    }
    return firstNew;
  }

  private truncateFrom(index: LogIndex): void {
    this.entries.length = index - this.snapshotIndex - 1;
    while (this.configIndexes.length > 0 && this.configIndexes[this.configIndexes.length - 1]! >= index)
      this.configIndexes.pop();
    this.stableIndex = Math.min(this.stableIndex, index - 1);
    this.handedOffIndex = Math.min(this.handedOffIndex, index - 1);
  }

  /**
   * Fast back-off (etcd-raft findConflictByTerm): the largest index ≤ `index` whose term is
   * ≤ `term`. Entries above it cannot match a log whose entry at `index` has term `term`.
   */
  findConflictByTerm(index: LogIndex, term: Term): LogIndex {
    let probe = Math.min(index, this.lastIndex());
    while (probe > this.snapshotIndex) {
      const probeTerm = this.term(probe)!;
      if (probeTerm <= term) return probe;
      probe--;
    }
    return probe;
  }

  commitTo(index: LogIndex): boolean {
    if (index <= this.committed) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  appliedTo(index: LogIndex): void {
    assert(
      index >= this.applied && index <= this.committed,
      `applied ${index} outside [${this.applied}, ${this.committed}]`,
    );
    this.applied = index;
  }

  /** Entries not yet handed to the driver. */
  unstableEntries(): Entry[] {
    return this.entries.slice(this.handedOffIndex - this.snapshotIndex);
  }

  hasUnstableEntries(): boolean {
    return this.handedOffIndex < this.lastIndex();
  }

  /** The driver took the entries through `index` to write them. */
  handedOffTo(index: LogIndex): void {
    assert(index <= this.lastIndex(), `handed off ${index} beyond last index ${this.lastIndex()}`);
    this.handedOffIndex = Math.max(this.handedOffIndex, index);
  }

  /**
   * The driver says the entries through `index` are durable, as written when that entry had term
   * `term`. If the log since cut that entry off (a new leader's entries replace it, to be written
   * by a later write), the report is stale and ignored: the later write will report its own end.
   * Same index and term means the same entry (Log Matching, §3.5), so a match is the entry written.
   */
  stableTo(index: LogIndex, term: Term): boolean {
    if (index <= this.stableIndex || index > this.handedOffIndex || this.term(index) !== term) return false;
    this.stableIndex = index;
    return true;
  }

  /** Committed entries not yet applied, through at most `limit`, bounded by bytes so one Ready stays small. */
  nextToApply(maxBytes: number, limit: LogIndex = this.committed): Entry[] {
    const last = Math.min(limit, this.committed);
    if (this.applied >= last) return [];
    return this.slice(this.applied + 1, last + 1, maxBytes) ?? [];
  }

  /** Replaces the whole log with a snapshot's base (InstallSnapshot on a follower). */
  restore(index: LogIndex, term: Term): void {
    assert(index > this.committed, `restore to ${index} at or below commit ${this.committed}`);
    this.entries = [];
    this.configIndexes = [];
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.committed = index;
    this.applied = index;
    // The snapshot is written by the same Ready as any entries that follow it, and before them.
    this.stableIndex = index;
    this.handedOffIndex = index;
  }

  /** Drops entries at or below `index` (a local snapshot covers them). */
  compact(index: LogIndex): void {
    if (index <= this.snapshotIndex) return;
    assert(index <= this.applied, `compact ${index} beyond applied ${this.applied}`);
    const term = this.term(index)!;
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.configIndexes = this.configIndexes.filter((configIndex) => configIndex > index);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
  }

  /** The latest config entry at or below `index` that is still in memory, if any. */
  lastConfigEntryAtOrBelow(index: LogIndex): Entry | undefined {
    for (let position = this.configIndexes.length - 1; position >= 0; position--) {
      const configIndex = this.configIndexes[position]!;
      if (configIndex <= index) return this.entry(configIndex);
    }
    return undefined;
  }
}
