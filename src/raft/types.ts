// The vocabulary of the Raft core: ids, entries, messages, the Ready batch.
// Section numbers cite Ongaro's dissertation ("Consensus: Bridging Theory and Practice", 2014)
// unless they say "paper" (Ongaro & Ousterhout, 2014).

declare const nodeIdBrand: unique symbol;
/** A replica's stable name, e.g. "m1". Never an address: addresses may change. */
export type NodeId = string & { readonly [nodeIdBrand]: true };
export const nodeId = (raw: string): NodeId => raw as NodeId;

/** A Raft term. Never decreases on a replica (asserted). */
export type Term = number;
/** A 1-based log index; 0 means "before the first entry". */
export type LogIndex = number;

export const NO_NODE = '' as NodeId;

export type EntryType = 'normal' | 'config' | 'noop';

/**
 * An idempotency stamp: a retried proposal with the same key applies once (idempotency.ts). The
 * core only carries it; the state machine host decides, at apply.
 */
export interface IdempotencyStamp {
  /** The client's key, scoped by the client (the master composes it). */
  readonly key: string;
  /** What the request meant: the same key with another fingerprint is a reuse, not a retry. */
  readonly fingerprint: string;
  /** The proposing leader's clock, ms since the epoch: the table's only notion of time. */
  readonly atMs: number;
}

export interface Entry {
  readonly term: Term;
  readonly index: LogIndex;
  readonly type: EntryType;
  /** Opaque to the core. For `config` entries: an encoded `MembershipChange`. */
  readonly data: Uint8Array;
  readonly idempotency?: IdempotencyStamp;
  /** CRC-32 over term, index, type, idempotency stamp and data (see checksum.ts). */
  readonly checksum: number;
}

/** Who is in the cluster. Addresses ride along so every replica can dial every member. */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly addresses: Readonly<Record<string, string>>;
}

export type MembershipChange =
  | { readonly type: 'add-learner'; readonly node: NodeId; readonly address: string }
  | { readonly type: 'promote'; readonly node: NodeId }
  | { readonly type: 'remove'; readonly node: NodeId };

/** What must survive a crash besides the log (paper, figure 2: currentTerm, votedFor; commit
 * is kept too so a restarted replica need not re-learn it before applying). */
export interface HardState {
  readonly term: Term;
  readonly vote: NodeId;
  readonly commit: LogIndex;
}

export interface SnapshotMeta {
  readonly index: LogIndex;
  readonly term: Term;
  readonly membership: Membership;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** Everything a replica persisted, handed back to the core on restart. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Entries after the snapshot, contiguous, ascending. */
  readonly entries: readonly Entry[];
  /** Membership to use when there is neither snapshot nor config entry (a fresh cluster). */
  readonly bootstrap: Membership;
}

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

export type Message =
  | (MessageBase & { readonly type: 'pre-vote'; readonly lastIndex: LogIndex; readonly lastTerm: Term })
  | (MessageBase & { readonly type: 'pre-vote-response'; readonly reject: boolean })
  | (MessageBase & {
      readonly type: 'vote';
      readonly lastIndex: LogIndex;
      readonly lastTerm: Term;
      /** Set when the campaign follows a TimeoutNow: it overrides leader stickiness (§3.10). */
      readonly transfer: boolean;
    })
  | (MessageBase & { readonly type: 'vote-response'; readonly reject: boolean })
  | (MessageBase & {
      readonly type: 'append';
      readonly prevIndex: LogIndex;
      readonly prevTerm: Term;
      readonly entries: readonly Entry[];
      readonly commit: LogIndex;
      /**
       * False on a commit-only append (no entries, sent to move a replicating follower's commit
       * index): a follower that accepts it sends no answer (core.ts sendAppend says why that is safe).
       */
      readonly answerWanted: boolean;
    })
  | (MessageBase & {
      readonly type: 'append-response';
      readonly reject: boolean;
      /** On success: the highest index now known to match. On reject: the rejected prevIndex. */
      readonly index: LogIndex;
      /** On reject: where the leader should look next, and the term there (fast back-off). */
      readonly hintIndex: LogIndex;
      readonly hintTerm: Term;
    })
  | (MessageBase & {
      readonly type: 'heartbeat';
      readonly commit: LogIndex;
      readonly context: string;
      /** The leader's tick count when it sent this heartbeat; echoed back, it dates the lease (§6.4.1). */
      readonly round: number;
    })
  | (MessageBase & { readonly type: 'heartbeat-response'; readonly context: string; readonly round: number })
  | (MessageBase & {
      readonly type: 'snapshot-chunk';
      readonly meta: SnapshotMeta;
      readonly offset: number;
      readonly totalBytes: number;
      readonly data: Uint8Array;
    })
  | (MessageBase & {
      readonly type: 'snapshot-response';
      readonly snapshotIndex: LogIndex;
      /** Bytes received so far; equal to totalBytes once installed. -1 means "start over". */
      readonly receivedBytes: number;
      readonly done: boolean;
    })
  | (MessageBase & { readonly type: 'timeout-now' })
  | (MessageBase & { readonly type: 'read-index'; readonly context: string })
  | (MessageBase & {
      readonly type: 'read-index-response';
      readonly context: string;
      readonly index: LogIndex;
      readonly reject: boolean;
    });

export type MessageType = Message['type'];

/** A linearizable read may be served once the applied index reaches `index` (§6.4). */
export interface ReadState {
  readonly context: string;
  readonly index: LogIndex;
}

/** A read that cannot be served here (no leader, leadership lost, dropped by the leader). */
export interface ReadFailure {
  readonly context: string;
  readonly reason: 'no-leader' | 'not-leader' | 'leadership-lost';
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/**
 * One batch of work for the driver. The order is fixed (etcd-raft doc.go):
 * 1. persist `hardState`, `snapshot` and `entries` in one transaction (entries whose index is at
 *    or below the stored last index replace the stored suffix from that index on);
 * 2. send `messages`;
 * 3. install `snapshot` into the state machine, then apply `committedEntries` in order;
 * 4. call `advance(ready)`.
 */
export interface Ready {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  readonly messages: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly readFailures: readonly ReadFailure[];
  /** The role changed since the last Ready (for logs and metrics). */
  readonly roleChanged: boolean;
  /**
   * The core asks for a snapshot (compaction threshold hit): after applying this Ready's
   * committed entries and calling advance(), snapshot the state machine — whose applied index is
   * then exactly this — and hand it to snapshotTaken().
   */
  readonly snapshotWantedAt: LogIndex | null;
  /**
   * The messages may be sent before this Ready is persisted (dissertation §10.2.1): they are a
   * leader's, and the Ready changes neither term nor vote. A leader's appends promise nothing
   * about its own disk — it counts itself toward a commit only after advance() says its entries
   * are durable — so its followers can write in parallel with it. Otherwise (votes, a follower's
   * acknowledgements, a new term) the driver persists first.
   */
  readonly sendBeforePersist: boolean;
}

export type ProposeResult =
  | { readonly ok: true; readonly index: LogIndex; readonly term: Term }
  | { readonly ok: false; readonly reason: ProposeRejection; readonly leader: NodeId };

export type ProposeRejection =
  | 'not-leader'
  | 'transfer-in-progress'
  | 'membership-change-pending'
  | 'no-commit-in-term'
  | 'not-caught-up'
  | 'unknown-node'
  | 'invalid-change'
  | 'too-large'
  | 'overloaded';

export interface CoreStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: Term;
  readonly vote: NodeId;
  readonly leader: NodeId;
  readonly commit: LogIndex;
  readonly applied: LogIndex;
  readonly firstIndex: LogIndex;
  readonly lastIndex: LogIndex;
  readonly snapshotIndex: LogIndex;
  readonly membership: Membership;
  readonly transferee: NodeId;
  /** Per member on the leader: how far its log is known to match ours. */
  readonly progress: Readonly<Record<string, { match: LogIndex; next: LogIndex; state: string }>>;
}

/** The part of CoreStatus the driver reads after every input (RaftCore.summary). */
export type CoreSummary = Pick<CoreStatus, 'role' | 'term' | 'leader' | 'commit' | 'lastIndex' | 'membership'>;

/** A seeded source of randomness; the core draws its election jitter from it and from nothing else. */
export interface RandomSource {
  /** An integer in [0, bound). */
  nextInt(bound: number): number;
}
