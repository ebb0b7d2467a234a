// The invariants the simulator checks after every step (Raft paper figure 3, dissertation §3.6
// and §6), each named, each fed by the driver loop with what it saw. A checker holds the
// history of the whole run, so a violation is found at the step that commits it:
//
//   election safety       at most one leader per term, over the whole run (§3.6.3);
//   log matching          two logs with an entry of the same term at an index are identical up
//                         to it (§3.5). Checked incrementally: every entry written to any log is
//                         registered under (index, term) with its checksum and its predecessor's
//                         term; equal checksum and equal predecessor term at every (index, term),
//                         by induction down the log, is exactly log matching;
//   leader completeness   a new leader holds every committed entry (§3.6.3);
//   state-machine safety  no two replicas apply different entries at one index; a replica applies
//                         in contiguous increasing order, and a snapshot only jumps forward;
//   client exactly-once   a client-stamped request changes a state machine once (§6.3);
//   monotonic             commit never goes back on a live replica; the term never goes back,
//                         also across restarts; the durable vote never changes within a term;
//   durable before sent   a vote, a term, an acknowledged entry leave a replica only once on disk;
//   read linearizability  a ReadIndex answer is at or past every commit made before the read
//                         was asked for (§6.4).
import { entryChecksum } from '../../../src/raft/checksum.ts';
import type {
  CoreStatus,
  Entry,
  LogIndex,
  Message,
  NodeId,
  ReadState,
  Role,
  SnapshotMeta,
  Term,
} from '../../../src/raft/types.ts';
import type { ApplyOutcome } from './state-machine.ts';
import type { MemoryDisk } from './storage.ts';

export type InvariantName =
  | 'election safety'
  | 'log matching'
  | 'leader completeness'
  | 'state machine safety'
  | 'applied order'
  | 'client exactly-once'
  | 'commit monotonic'
  | 'term monotonic'
  | 'vote durability'
  | 'durable before sent'
  | 'read linearizability'
  | 'snapshot consistency'
  | 'status sanity';

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
  constructor(
    readonly invariant: InvariantName,
    readonly detail: string,
  ) {
    super(`${invariant}: ${detail}`);
  }
}

function check(condition: boolean, invariant: InvariantName, detail: () => string): asserts condition {
  if (!condition) throw new InvariantViolation(invariant, detail());
}

/** Reads [low, high) of a replica's in-memory log (RaftCore.entriesForInspection). */
export type LogReader = (low: LogIndex, high: LogIndex) => readonly Entry[];

interface ReplicaRecord {
  role: Role;
  term: Term;
  commit: LogIndex;
  durableTerm: Term;
  durableVote: NodeId;
  durableCommit: LogIndex;
}

interface Position {
  readonly checksum: number;
  previousTerm: Term | undefined;
  readonly firstSeenOn: NodeId;
}

interface AppliedRecord {
  readonly term: Term;
  readonly checksum: number;
  readonly digest: number;
  readonly node: NodeId;
}

/** A log to compare in a full check: a replica's memory or its disk. */
export interface InspectedLog {
  readonly owner: string;
  readonly entries: readonly Entry[];
}

export class Checkers {
  private readonly leaders = new Map<Term, NodeId>();
  private readonly positions = new Map<string, Position>();
  private readonly applied = new Map<LogIndex, AppliedRecord>();
  private readonly snapshots = new Map<LogIndex, { term: Term; digest: number; membership: string }>();
  /** Stamp → the index of the entry that applied it (the only index it may ever apply at). */
  private readonly stampIndexes = new Map<string, LogIndex>();
  private readonly pendingReads = new Map<string, LogIndex>();
  private readonly replicas = new Map<NodeId, ReplicaRecord>();
  /** The highest commit index any replica ever had: everything up to it is committed. */
  maxCommit: LogIndex = 0;
  /** The highest commit index a leader of each term was seen with: what that term committed. */
  private readonly committedByTerm = new Map<Term, LogIndex>();
  maxApplied: LogIndex = 0;

  /** How many terms had a leader. */
  leaderTerms(): number {
    return this.leaders.size;
  }

  stampApplied(key: string): boolean {
    return this.stampIndexes.has(key);
  }

  private replica(node: NodeId): ReplicaRecord {
    let record = this.replicas.get(node);
    if (record === undefined) {
      record = { role: 'follower', term: 0, commit: 0, durableTerm: 0, durableVote: '' as NodeId, durableCommit: 0 };
      this.replicas.set(node, record);
    }
    return record;
  }

  // ------------------------------------------------------------------ status after a step

  observeStatus(status: CoreStatus, readLog: LogReader): void {
    const record = this.replica(status.id);
    check(
      status.applied <= status.commit && status.commit <= status.lastIndex && status.firstIndex - 1 <= status.applied,
      'status sanity',
      () =>
        `${status.id}: applied ${status.applied}, commit ${status.commit}, first ${status.firstIndex}, last ${status.lastIndex}`,
    );
    check(
      status.term >= record.term,
      'term monotonic',
      () => `${status.id} went from term ${record.term} to ${status.term}`,
    );
    check(
      status.commit >= record.commit,
      'commit monotonic',
      () => `${status.id} went from commit ${record.commit} to ${status.commit}`,
    );
    this.maxCommit = Math.max(this.maxCommit, status.commit);
    const newlyLeader = status.role === 'leader' && (record.role !== 'leader' || record.term !== status.term);
    record.role = status.role;
    record.term = status.term;
    record.commit = status.commit;
    if (status.role === 'leader') this.observeLeader(status, newlyLeader, readLog);
  }

  private observeLeader(status: CoreStatus, newlyLeader: boolean, readLog: LogReader): void {
    const previous = this.leaders.get(status.term);
    check(
      previous === undefined || previous === status.id,
      'election safety',
      () => `two leaders in term ${status.term}: ${previous} and ${status.id}`,
    );
    this.leaders.set(status.term, status.id);
    this.committedByTerm.set(status.term, Math.max(this.committedByTerm.get(status.term) ?? 0, status.commit));
    if (newlyLeader) this.checkLeaderCompleteness(status, readLog);
  }

  /**
   * §3.6.3 speaks of entries committed in *earlier* terms: a leader of an old term may still be
   * elected late (a delayed vote reaches a candidate that never heard of the newer term) and
   * lack what newer terms committed; it can commit nothing, its followers being past its term.
   */
  private checkLeaderCompleteness(status: CoreStatus, readLog: LogReader): void {
    let committedBefore = 0;
    for (const [term, commit] of this.committedByTerm)
      if (term < status.term) committedBefore = Math.max(committedBefore, commit);
    check(
      status.lastIndex >= committedBefore,
      'leader completeness',
      () =>
        `${status.id} became leader of term ${status.term} with last index ${status.lastIndex}, but earlier terms committed ${committedBefore}`,
    );
    const high = Math.min(this.maxApplied, status.lastIndex, committedBefore);
    if (high < status.firstIndex) return;
    for (const entry of readLog(status.firstIndex, high + 1)) {
      const applied = this.applied.get(entry.index);
      if (applied === undefined) continue;
      check(
        applied.term === entry.term && applied.checksum === entry.checksum,
        'leader completeness',
        () =>
          `${status.id} became leader of term ${status.term} holding ${describeEntry(entry)} where ${applied.node} applied term ${applied.term}`,
      );
    }
  }

  // ------------------------------------------------------------------ the log

  /** Entries a Ready hands to the disk: registers them (incremental log matching). */
  observeEntriesWritten(node: NodeId, entries: readonly Entry[], previousTermOfFirst: Term | undefined): void {
    let previousTerm = previousTermOfFirst;
    for (const entry of entries) {
      check(
        entryChecksum(entry.term, entry.index, entry.type, entry.data, entry.idempotency) === entry.checksum,
        'log matching',
        () => `${node} writes ${describeEntry(entry)} whose checksum does not match its contents`,
      );
      check(
        previousTerm === undefined || entry.term >= previousTerm,
        'log matching',
        () => `${node} writes ${describeEntry(entry)} after an entry of the later term ${previousTerm}`,
      );
      this.registerPosition(node, entry, previousTerm);
      previousTerm = entry.term;
    }
  }

  private registerPosition(node: NodeId, entry: Entry, previousTerm: Term | undefined): void {
    const key = `${entry.index}/${entry.term}`;
    const known = this.positions.get(key);
    if (known === undefined) {
      this.positions.set(key, { checksum: entry.checksum, previousTerm, firstSeenOn: node });
      return;
    }
    check(
      known.checksum === entry.checksum,
      'log matching',
      () =>
        `${node} holds ${describeEntry(entry)} but ${known.firstSeenOn} holds a different entry at the same index and term`,
    );
    if (previousTerm === undefined) return;
    if (known.previousTerm === undefined) {
      known.previousTerm = previousTerm;
      return;
    }
    check(
      known.previousTerm === previousTerm,
      'log matching',
      () =>
        `${node} holds ${describeEntry(entry)} after an entry of term ${previousTerm}; ${known.firstSeenOn} holds it after term ${known.previousTerm}`,
    );
  }

  /** A full comparison of logs, from scratch (a cross-check of the incremental one). */
  checkLogs(logs: readonly InspectedLog[]): void {
    const seen = new Map<string, { checksum: number; previousTerm: Term | undefined; owner: string }>();
    for (const log of logs) {
      let previous: Entry | undefined;
      for (const entry of log.entries) {
        const previousTerm = previous !== undefined && previous.index === entry.index - 1 ? previous.term : undefined;
        check(
          previous === undefined || previousTerm !== undefined,
          'log matching',
          () => `${log.owner}: log is not contiguous at ${entry.index}`,
        );
        const key = `${entry.index}/${entry.term}`;
        const known = seen.get(key);
        if (known === undefined) {
          seen.set(key, { checksum: entry.checksum, previousTerm, owner: log.owner });
        } else {
          check(
            known.checksum === entry.checksum &&
              (previousTerm === undefined || known.previousTerm === undefined || previousTerm === known.previousTerm),
            'log matching',
            () => `${log.owner} and ${known.owner} differ at or before ${describeEntry(entry)}`,
          );
        }
        previous = entry;
      }
    }
  }

  // ------------------------------------------------------------------ persistence and sending

  observePersist(node: NodeId, disk: MemoryDisk): void {
    const record = this.replica(node);
    const hardState = disk.hardState;
    check(
      hardState.term >= record.durableTerm,
      'term monotonic',
      () => `${node} persisted term ${hardState.term} after term ${record.durableTerm}`,
    );
    check(
      hardState.term > record.durableTerm || record.durableVote === '' || hardState.vote === record.durableVote,
      'vote durability',
      () =>
        `${node} changed its vote in term ${hardState.term} from ${record.durableVote} to ${hardState.vote || '(none)'}`,
    );
    check(
      hardState.commit >= record.durableCommit,
      'commit monotonic',
      () => `${node} persisted commit ${hardState.commit} after commit ${record.durableCommit}`,
    );
    check(
      hardState.commit <= disk.lastIndex(),
      'durable before sent',
      () => `${node} persisted commit ${hardState.commit} beyond its stored log (last ${disk.lastIndex()})`,
    );
    record.durableTerm = hardState.term;
    record.durableVote = hardState.vote;
    record.durableCommit = hardState.commit;
  }

  /**
   * A crash lost the disk's unsynced tail (a commit-only hard state): the commit index on disk
   * went back, which Raft allows (it is volatile); what is durable from now on starts there.
   */
  observeUnsyncedTailLost(node: NodeId, disk: MemoryDisk): void {
    const record = this.replica(node);
    check(
      disk.hardState.term === record.durableTerm && disk.hardState.vote === record.durableVote,
      'vote durability',
      () => `${node} lost term ${record.durableTerm} or vote ${record.durableVote} with its unsynced tail`,
    );
    record.durableCommit = disk.hardState.commit;
  }

  /** A message leaves a replica: what it promises must already be on that replica's disk. */
  observeSend(node: NodeId, message: Message, disk: MemoryDisk): void {
    const hardState = disk.hardState;
    if (message.type === 'pre-vote' || message.type === 'pre-vote-response') return; // §9.6: asks about term + 1.
    check(
      message.term <= hardState.term,
      'durable before sent',
      () => `${node} sends ${message.type} in term ${message.term} with term ${hardState.term} on disk`,
    );
    // A message of an older term than the durable one is stale: when a driver batches inputs,
    // one Ready may carry an answer given in term t and a later move to term t' > t that undid
    // what the answer promised (a vote reset, entries truncated by the new leader). Nothing of
    // term t is ever redone by this replica, and a leader of term t can count such an answer
    // only with a majority that would also have had to vote in t' without the promised state:
    // harmless. The promise must be durable only when the terms are equal.
    if (message.term < hardState.term) return;
    if (message.type === 'vote-response' && !message.reject) {
      check(
        hardState.vote === message.to,
        'durable before sent',
        () =>
          `${node} grants its vote in term ${message.term} to ${message.to}; the disk says term ${hardState.term}, vote ${hardState.vote || '(none)'}`,
      );
    }
    if (message.type === 'append-response' && !message.reject) {
      check(
        message.index <= disk.lastIndex(),
        'durable before sent',
        () => `${node} acknowledges entries through ${message.index} with only ${disk.lastIndex()} on disk`,
      );
    }
    // A follower whose log already held the snapshot's last entry only moves its commit index and
    // says done: like an acknowledgement of entries, that promises entries through the index on
    // disk (with asynchronous writes the commit-only hard state is not written at once).
    if (message.type === 'snapshot-response' && message.done) {
      check(
        disk.snapshotIndex() >= message.snapshotIndex ||
          hardState.commit >= message.snapshotIndex ||
          disk.lastIndex() >= message.snapshotIndex,
        'durable before sent',
        () =>
          `${node} acknowledges snapshot ${message.snapshotIndex} with snapshot ${disk.snapshotIndex()}, commit ${hardState.commit} on disk`,
      );
    }
  }

  // ------------------------------------------------------------------ the state machine

  observeApplied(node: NodeId, entry: Entry, indexBefore: LogIndex, digestAfter: number): void {
    check(
      entry.index === indexBefore + 1,
      'applied order',
      () => `${node} applies ${describeEntry(entry)} right after index ${indexBefore}`,
    );
    const known = this.applied.get(entry.index);
    if (known === undefined) {
      this.applied.set(entry.index, { term: entry.term, checksum: entry.checksum, digest: digestAfter, node });
      this.maxApplied = Math.max(this.maxApplied, entry.index);
      return;
    }
    check(
      known.term === entry.term && known.checksum === entry.checksum,
      'state machine safety',
      () => `${node} applies ${describeEntry(entry)} but ${known.node} applied term ${known.term} at that index`,
    );
    check(
      known.digest === digestAfter,
      'state machine safety',
      () => `${node} has state digest ${digestAfter} after index ${entry.index}, ${known.node} had ${known.digest}`,
    );
  }

  /** A stamped entry was applied (or skipped as a retry) by `node`. */
  observeStampedApply(node: NodeId, entry: Entry, outcome: ApplyOutcome, alreadyInState: boolean): void {
    const key = entry.idempotency!.key;
    if (outcome === 'duplicate') {
      check(
        alreadyInState,
        'client exactly-once',
        () =>
          `${node} skips ${key} at ${entry.index} as a retry, but its state never applied ${key}: the request is lost`,
      );
      return;
    }
    check(!alreadyInState, 'client exactly-once', () => `${node} applies ${key} a second time, at ${entry.index}`);
    const index = this.stampIndexes.get(key);
    check(
      index === undefined || index === entry.index,
      'client exactly-once',
      () => `${node} applies ${key} at ${entry.index}; it was applied at ${index} before`,
    );
    this.stampIndexes.set(key, entry.index);
  }

  observeSnapshotInstall(node: NodeId, meta: SnapshotMeta, indexBefore: LogIndex, digest: number): void {
    check(
      meta.index > indexBefore,
      'applied order',
      () =>
        `${node} installs snapshot ${meta.index}/${meta.term} over applied index ${indexBefore}: snapshots only jump forward`,
    );
    this.observeSnapshotContents(node, meta, digest);
  }

  /** The same index must mean the same state, whoever made or installed the snapshot. */
  observeSnapshotContents(node: NodeId, meta: SnapshotMeta, digest: number): void {
    const applied = this.applied.get(meta.index);
    if (applied !== undefined) {
      check(
        applied.term === meta.term && applied.digest === digest,
        'snapshot consistency',
        () =>
          `${node}: snapshot ${meta.index}/${meta.term} (digest ${digest}) disagrees with what ${applied.node} applied ` +
          `(term ${applied.term}, digest ${applied.digest})`,
      );
    }
    const membership = JSON.stringify(meta.membership);
    const known = this.snapshots.get(meta.index);
    if (known === undefined) {
      this.snapshots.set(meta.index, { term: meta.term, digest, membership });
      return;
    }
    check(
      known.term === meta.term && known.digest === digest && known.membership === membership,
      'snapshot consistency',
      () =>
        `${node}: snapshot ${meta.index} is ${meta.term}/${digest}/${membership}; another was ${known.term}/${known.digest}/${known.membership}`,
    );
  }

  // ------------------------------------------------------------------ crashes

  observeRestart(status: CoreStatus, disk: MemoryDisk): void {
    const record = this.replica(status.id);
    check(
      status.term >= record.durableTerm && status.term >= disk.hardState.term,
      'term monotonic',
      () => `${status.id} restarted in term ${status.term}; term ${record.durableTerm} was durable`,
    );
    const durableCommit = Math.max(disk.hardState.commit, disk.snapshotIndex());
    check(
      status.commit >= durableCommit,
      'commit monotonic',
      () => `${status.id} restarted with commit ${status.commit}; ${durableCommit} was durable`,
    );
    // A new incarnation: the in-memory history starts again from what was durable.
    record.role = status.role;
    record.term = status.term;
    record.commit = status.commit;
  }

  // ------------------------------------------------------------------ reads

  /** A read is asked for now: its answer must cover every commit made so far. */
  observeReadRequested(context: string): void {
    this.pendingReads.set(context, this.maxCommit);
  }

  observeReadState(node: NodeId, read: ReadState): void {
    const required = this.pendingReads.get(read.context);
    check(
      required !== undefined,
      'read linearizability',
      () => `${node} got an answer to a read nobody asked for: ${read.context}`,
    );
    check(
      read.index >= required,
      'read linearizability',
      () =>
        `${node}: read ${read.context} may be served at index ${read.index}, but ${required} was committed before it was asked`,
    );
  }
}

export function describeEntry(entry: Entry): string {
  const client = entry.idempotency === undefined ? '' : ` ${entry.idempotency.key}`;
  return `entry ${entry.index}/${entry.term} (${entry.type}${client}, crc ${entry.checksum})`;
}
