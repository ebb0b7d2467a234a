// The driver of one replica: real time, real disk, real sockets around the pure core.
// Two storage writers (RaftNodeOptions.storageWriter), the same ordering (write-pipeline.ts):
// - 'inline' (the default): for each Ready the loop sends a leader's messages (§10.2.1) →
//   writes the Ready in one SQLite transaction on this thread → sends the rest (votes,
//   acknowledgements, a new term) → applies → advances.
// - 'thread' (etcd-raft AsyncStorageWrites): a worker thread owns the append path's SQLite
//   connection (storage-writer.ts), so no fsync holds this event loop. The loop posts each
//   Ready's write → sends what the pipeline releases → applies (the core hands out only entries
//   durable here) → advances. When the writer reports a write durable, the messages that waited
//   leave and the core hears persisted(): a leader then counts itself.
// Every input (tick, message, proposal, a write reported durable) only schedules the loop, so
// proposals that arrive in the same turn of the event loop share one Ready, one transaction and
// one fsync (group commit); in thread mode writes posted meanwhile share the next transaction.
// Answers first (issue 19): a turn that answered proposals (their HTTP answers are written by
// promise reactions once the turn ends) hands the proposals queued meanwhile to the core in the
// next turn, so the next batch's fsync does not delay the answers. A commit broadcast waits for
// the next append or heartbeat, which carries the commit index, or the next tick (commit-hold.ts).
// WAL checkpoints (issue 19): once the log's WAL is past its threshold the storage's connection
// copies it back in a turn of its own that finds no write waiting (inline: a later process()
// tries again; past twice the threshold it runs anyway), never inside a commit.
import { assert } from '../util/assert.ts';
import { applySliceBudgetMs, maxIdempotencyFingerprintBytes, maxIdempotencyKeyBytes } from './limits.ts';
import { ApplyQueue } from './apply-queue.ts';
import { Beacon } from './beacon.ts';
import { CommitHold } from './commit-hold.ts';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type CoreConfig, defaultCoreConfig } from './config.ts';
import { RaftCore } from './core.ts';
import type { IdempotencyOutcome } from './idempotency.ts';
import { LeaderSilence, nearElection, type Silence } from './leader-silence.ts';
import { type RaftObserver, silentRaftObserver } from './observer.ts';
import { SeededRandom } from './random.ts';
import { type AppliedEntry, type ReplicatedStateMachine, StateMachineHost } from './state-machine-host.ts';
import { exitCodeInternalError, exitCodeStorageWriteFailed, StorageWriteError } from './disk-errors.ts';
import { SqliteRaftStorage, type StorageOptions } from './storage.ts';
import { StorageWriter, type StorageWriterMode } from './storage-writer.ts';
import { type AcceptedReady, type PipelineWrite, WritePipeline } from './write-pipeline.ts';
import { coreTiming, type TimingProfile, timingProfiles } from './timing.ts';
import { hostOf, PeerTransport, type PeerTransportTls, type TransportLogger } from './transport.ts';
import {
  type CoreStatus,
  type CoreSummary,
  type IdempotencyStamp,
  type LogIndex,
  type Membership,
  type MembershipChange,
  type Message,
  NO_NODE,
  type NodeId,
  type ProposeRejection,
  type Ready,
  type Term,
  nodeId,
} from './types.ts';

export interface RaftNodeLogger extends TransportLogger {
  error(fields: object, message: string): void;
}

export interface RaftNodeOptions {
  readonly id: NodeId;
  readonly dataDir: string;
  /** Every initial member (self included) by id → "host:port". Used only for a fresh cluster. */
  readonly peers: Readonly<Record<string, string>>;
  /** Join an existing cluster as a learner: start with no membership until the log brings one. */
  readonly join?: boolean;
  readonly secret: string;
  /** The master's TLS identity: peers are dialed over wss:// (null or absent: ws://). */
  readonly tls?: PeerTransportTls | null;
  readonly stateMachine: ReplicatedStateMachine;
  readonly logger: RaftNodeLogger;
  readonly timing?: TimingProfile;
  readonly core?: Partial<Omit<CoreConfig, 'id'>>;
  /** Seed of the election jitter; a random one by default. */
  readonly seed?: number;
  readonly proposalTimeoutMs?: number;
  /** Told of fsync and snapshot timings (the master's metrics); none by default. */
  readonly observer?: RaftObserver;
  /** Passed to the storage (a size cap for tests of a full disk); none by default. */
  readonly storage?: StorageOptions;
  /** Who writes the log: this thread, between a Ready and its messages (default), or a worker thread. */
  readonly storageWriter?: StorageWriterMode;
  /**
   * Called once the replica stopped on a fatal error (a broken invariant, a corrupt log, a failed
   * disk write), after the log line. By default the process exits with `exitCode`: 74 for a
   * failed write (disk-errors.ts says why it must not go on), 70 for the rest.
   */
  readonly onFatal?: (error: Error, exitCode: number) => void;
  /** The newest state machine command format this replica reads, told to peers at each handshake. */
  readonly applicationFormat?: number;
  /** The newest state snapshot format this replica reads, told to peers at each handshake. */
  readonly snapshotFormat?: number;
}

/** Why a proposal or read did not happen. `indeterminate` means it may still have been applied. */
export class RaftRequestError extends Error {
  constructor(
    readonly code: ProposeRejection | 'timeout' | 'leadership-lost' | 'no-leader' | 'stopped' | 'overwritten',
    readonly leader: NodeId,
    readonly indeterminate: boolean,
  ) {
    super(`raft request failed: ${code}${leader !== NO_NODE ? ` (leader ${leader})` : ''}`);
    this.name = 'RaftRequestError';
  }
}

/** A proposal's answer once applied here. */
export interface Proposed {
  readonly index: LogIndex;
  /** The state machine's result (a duplicate's is the first attempt's; a reused key has none). */
  readonly result: unknown;
  /** What the idempotency table made of a stamped proposal; null without a stamp. */
  readonly idempotency: IdempotencyOutcome | null;
}

/** A proposal not handed to the core yet (see process()). */
interface QueuedProposal {
  readonly command: Uint8Array;
  readonly idempotency: IdempotencyStamp | undefined;
  readonly queuedAtMs: number;
  readonly resolve: (value: Proposed) => void;
  readonly reject: (error: RaftRequestError) => void;
}

interface PendingProposal {
  readonly term: Term;
  readonly proposedAtMs: number;
  readonly resolve: (value: Proposed) => void;
  readonly reject: (error: RaftRequestError) => void;
  readonly timer: NodeJS.Timeout;
}

/** A request posted to the storage writer, answered in order. */
type PostedWrite =
  | { readonly kind: 'ready'; readonly id: number; readonly sequence: number; readonly entries: number }
  | {
      readonly kind: 'snapshot';
      readonly id: number;
      readonly index: LogIndex;
      readonly bytes: number;
      readonly compactedThrough: LogIndex;
      readonly startedMs: number;
    };

interface PendingRead {
  readonly resolve: () => void;
  readonly reject: (error: RaftRequestError) => void;
  readonly timer: NodeJS.Timeout;
  index: LogIndex | null;
  /**
   * The term this replica led when the read was asked, or null: a read a leader queues on itself
   * stays with its core (which fails it if it steps down); only a read forwarded to a leader can
   * be orphaned by a role change.
   */
  readonly askedAsLeaderOf: Term | null;
}

/** A snapshot being restored in slices (RaftNode.beginRestore). */
interface PendingRestore {
  readonly index: LogIndex;
  /** A newer snapshot replaced this one before it was swapped in. */
  superseded: boolean;
}

export class RaftNode {
  readonly id: NodeId;
  private readonly core: RaftCore;
  /** Exactly one of the two is set: inline mode writes on this thread, thread mode posts to a worker. */
  private readonly inlineStorage: SqliteRaftStorage | null;
  private readonly writer: StorageWriter | null;
  private readonly pipeline: WritePipeline;
  private readonly postedWrites: PostedWrite[] = [];
  /** Entries of the Readies answered so far from the writer's current transaction. */
  private entriesInGroup = 0;
  /** Messages released by the Readies answered so far from the writer's current transaction. */
  private readonly releasedInGroup: Message[] = [];
  private readonly transport: PeerTransport;
  private readonly host: StateMachineHost;
  private readonly logger: RaftNodeLogger;
  private readonly timing: TimingProfile;
  private readonly proposalTimeoutMs: number;
  private readonly observer: RaftObserver;
  private readonly onFatal: (error: Error, exitCode: number) => void;
  private readonly proposals = new Map<LogIndex, PendingProposal>();
  /** Proposals waiting for the core, in order: handed to it by process() or the turn it defers them to. */
  private readonly queuedProposals: QueuedProposal[] = [];
  private proposalsScheduled = false;
  /** The leader's commit-only appends, held while proposals are queued (commit-hold.ts). */
  private readonly commitHold = new CommitHold();
  /** Proposals answered since process() began: their HTTP answers are written once this turn ends. */
  private settledInTurn = 0;
  private readonly reads = new Map<string, PendingRead>();
  private readonly leaderListeners = new Set<(status: CoreStatus) => void>();
  /** The role, known leader (and a leader's term) the leader listeners last heard of. */
  private leadershipHeard = '';
  private readonly applyListeners = new Set<(index: LogIndex) => void>();
  private tickTimer: NodeJS.Timeout | null = null;
  private readonly leaderSilence = new LeaderSilence();
  /** The liveness beacon's thread (beacon.ts), with the profile's beacon on. */
  private readonly beacon: Beacon | null;
  private processScheduled = false;
  private walCheckpointScheduled = false;
  /** Committed entries not applied yet, applied in slices (applySlice); set up by the constructor. */
  private applyQueue!: ApplyQueue;
  /** The state machine's applied index: behind the core's while the queue holds entries. */
  private appliedIndex: LogIndex = 0;
  private applyScheduled = false;
  /** The core asked for a snapshot at this index: it is taken once the state machine is there. */
  private snapshotDueAt: LogIndex | null = null;
  /**
   * A snapshot being read in slices (restart, or the leader's InstallSnapshot): the state machine
   * keeps its old state, applies nothing and answers no read until it is swapped in, at `index`.
   */
  private restoring: PendingRestore | null = null;
  private stopped = false;
  /** Inline storage: the snapshot file being written in the background, if any (stop waits for it). */
  private snapshotSaving: Promise<void> = Promise.resolve();
  private readSequence = 0;
  private membership: Membership | null = null;
  /**
   * Members dropped by a config entry that is not committed yet, with that entry's index (at
   * most): still peers until it commits. Scenario: the leader m1 appends "remove m1"; m2 and m3
   * append it too. Were they to refuse m1 at once, m1 could never tell them the entry committed
   * (nor commit anything else): writes in flight would hang until an election (etcd likewise
   * drops a member's traffic only once its removal is applied).
   */
  private readonly retiringPeers = new Map<NodeId, { readonly address: string; readonly untilIndex: LogIndex }>();
  private fatal: Error | null = null;

  private constructor(options: RaftNodeOptions, storage: SqliteRaftStorage) {
    this.id = options.id;
    this.logger = options.logger;
    this.timing = options.timing ?? timingProfiles.lan;
    this.proposalTimeoutMs = options.proposalTimeoutMs ?? 10_000;
    this.observer = options.observer ?? silentRaftObserver;
    this.onFatal = options.onFatal ?? exitProcess;
    this.host = new StateMachineHost(options.stateMachine);
    const bootstrap: Membership = options.join
      ? { voters: [], learners: [], addresses: {} }
      : { voters: Object.keys(options.peers).sort() as NodeId[], learners: [], addresses: { ...options.peers } };
    const threaded = (options.storageWriter ?? 'inline') === 'thread';
    // Read on this thread; in thread mode then closed: the writer thread's connection is the only one.
    let persisted: ReturnType<SqliteRaftStorage['load']>;
    try {
      persisted = storage.load(bootstrap);
    } finally {
      if (threaded) storage.close();
    }
    this.pipeline = new WritePipeline(persisted.hardState);
    this.inlineStorage = threaded ? null : storage;
    this.writer = threaded
      ? StorageWriter.start(options.dataDir, options.storage ?? {}, {
          done: (id, durationMs, groupEnd) => this.writeDone(id, durationMs, groupEnd),
          failed: (error) => this.crash(error),
          checkpointed: (durationMs, frames) => this.observer.walCheckpointed?.(durationMs, frames),
        })
      : null;
    const config: CoreConfig = {
      ...defaultCoreConfig(options.id),
      ...coreTiming(this.timing),
      ...options.core,
      id: options.id,
      asyncStorageWrites: threaded,
    };
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    this.core = new RaftCore(config, persisted, new SeededRandom(seed));
    this.applyQueue = new ApplyQueue(this.core.status().applied);
    // The stored snapshot is read in slices (beginRestore): until it is swapped in, the state
    // machine is the empty state, at index 0, and entries after the snapshot wait in the queue.
    this.appliedIndex = persisted.snapshot === null ? this.core.status().applied : 0;
    if (persisted.snapshot !== null) this.beginRestore(persisted.snapshot, 'snapshot restored');
    this.leadershipHeard = leadershipOf(this.core.status());
    this.beacon = this.startBeacon(options);
    this.transport = new PeerTransport({
      self: options.id,
      secret: options.secret,
      tls: options.tls ?? null,
      logger: options.logger,
      onMessages: (messages) => this.receive(messages),
      onPeerDisconnected: (peer) => this.peerDisconnected(peer),
      ...(options.applicationFormat === undefined ? {} : { applicationFormat: options.applicationFormat }),
      ...(options.snapshotFormat === undefined ? {} : { snapshotFormat: options.snapshotFormat }),
      beaconPort: () => this.beacon?.port() ?? null,
      acceptsUnknownPeers: () => {
        const membership = this.core.status().membership;
        return membership.voters.length + membership.learners.length === 0;
      },
    });
    this.syncPeers();
    // A joiner knows no member until the leader's log reaches it; it still needs to reach them.
    // Restarted later with the same flags, it knows the membership from its own files: keep it.
    const known = this.core.status().membership;
    if (options.join && known.voters.length + known.learners.length === 0)
      this.transport.setPeers(withoutSelf(options.peers, options.id));
  }

  private startBeacon(options: RaftNodeOptions): Beacon | null {
    const timing = this.timing.beacon ?? null;
    if (timing === null) return null;
    const own = options.peers[options.id];
    let host = '0.0.0.0';
    let preferredPort = 0;
    if (own !== undefined) {
      host = hostOf(own);
      preferredPort = Number(new URL(`ws://${own}`).port);
    }
    return Beacon.start({
      self: options.id,
      secret: options.secret,
      host,
      preferredPort,
      intervalMs: this.timing.tickMs * this.timing.heartbeatTicks,
      boundMs: timing.boundMs,
      freshMs: timing.freshMs,
      onFailed: (message) =>
        this.logger.warn(
          { ...this.logFields(), error: message },
          'raft liveness beacon failed; the election timer alone decides',
        ),
    });
  }

  static start(options: RaftNodeOptions): RaftNode {
    const node = new RaftNode(options, SqliteRaftStorage.open(options.dataDir, options.storage));
    node.tickTimer = setInterval(() => node.tick(), node.timing.tickMs);
    node.logger.info({ ...node.logFields(), dataDir: options.dataDir, timing: node.timing }, 'raft node started');
    node.schedule();
    return node;
  }

  // ---------------------------------------------------------------- requests

  /**
   * Replicates `command` and resolves with the state machine's result once applied here. With an
   * idempotency stamp, a command whose key was applied before applies nothing (see idempotency.ts).
   */
  propose(command: Uint8Array, idempotency?: IdempotencyStamp): Promise<Proposed> {
    if (this.stopped) return Promise.reject(new RaftRequestError('stopped', NO_NODE, false));
    if (idempotency !== undefined) checkStamp(idempotency);
    return new Promise((resolve, reject) => {
      this.queuedProposals.push({ command, idempotency, queuedAtMs: performance.now(), resolve, reject });
      this.schedule();
    });
  }

  proposeMembership(change: MembershipChange): Promise<Proposed> {
    if (this.stopped) return Promise.reject(new RaftRequestError('stopped', NO_NODE, false));
    const accepted = this.core.proposeMembership(change);
    if (!accepted.ok) return Promise.reject(new RaftRequestError(accepted.reason, accepted.leader, false));
    this.schedule();
    return new Promise((resolve, reject) => {
      this.trackProposal(accepted.index, accepted.term, { queuedAtMs: performance.now(), resolve, reject });
    });
  }

  /** Resolves once this replica has applied everything committed before the call (§6.4). */
  linearizableBarrier(timeoutMs = this.proposalTimeoutMs): Promise<void> {
    if (this.stopped) return Promise.reject(new RaftRequestError('stopped', NO_NODE, false));
    const context = `${this.id}:${++this.readSequence}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(context);
        reject(new RaftRequestError('timeout', this.core.status().leader, false));
      }, timeoutMs);
      const askedAsLeaderOf = this.core.isLeader() ? this.core.status().term : null;
      this.reads.set(context, { resolve, reject, timer, index: null, askedAsLeaderOf });
      this.core.readIndex(context);
      this.schedule();
    });
  }

  transferLeadership(to?: NodeId): boolean {
    const status = this.core.status();
    const target = to ?? this.bestTransferTarget(status);
    if (target === null) return false;
    const started = this.core.transferLeadership(target);
    this.tellLeadership();
    this.schedule();
    return started;
  }

  /**
   * True while a restarted replica reads its stored snapshot (in slices, beginRestore): its state
   * is still the empty one of index 0, which even a stale read must not be answered from.
   */
  restoringAtStart(): boolean {
    return this.restoring !== null && this.appliedIndex === 0;
  }

  /** Whether this replica leads now, without copying the core's status (asked once per write). */
  isLeader(): boolean {
    return this.core.isLeader();
  }

  /** The core's status, with the applied index the state machine is at (the core's runs ahead: applySlice). */
  status(): CoreStatus {
    return { ...this.core.status(), applied: this.appliedIndex };
  }

  /**
   * The oldest command format the other members (voters and learners) read, as their handshakes
   * said: null while one of them has not connected yet or named none (assume the oldest build);
   * Infinity when there is no other member.
   */
  membersApplicationFormat(): number | null {
    return this.oldestMemberFormat((member) => this.transport.applicationFormatOf(member));
  }

  /** The oldest snapshot format the other members read, as membersApplicationFormat says for commands. */
  membersSnapshotFormat(): number | null {
    return this.oldestMemberFormat((member) => this.transport.snapshotFormatOf(member));
  }

  private oldestMemberFormat(formatOf: (member: NodeId) => number | null | undefined): number | null {
    const { voters, learners } = this.core.status().membership;
    let oldest = Number.POSITIVE_INFINITY;
    for (const member of [...voters, ...learners]) {
      if (member === this.id) continue;
      const format = formatOf(member);
      if (format === undefined || format === null) return null;
      oldest = Math.min(oldest, format);
    }
    return oldest;
  }

  transportStats(): ReturnType<PeerTransport['stats']> {
    return this.transport.stats();
  }

  onLeaderChange(listener: (status: CoreStatus) => void): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }

  onApplied(listener: (index: LogIndex) => void): () => void {
    this.applyListeners.add(listener);
    return () => this.applyListeners.delete(listener);
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    return this.transport.handleUpgrade(request, socket, head);
  }

  /**
   * Stops the replica. A leader first hands leadership to its most caught-up peer and waits
   * (up to an election timeout) for it to take over, so a rolling restart costs no election.
   */
  async stop(options: { transferLeadership: boolean } = { transferLeadership: true }): Promise<void> {
    if (this.stopped) return;
    if (options.transferLeadership && this.core.status().role === 'leader' && this.transferLeadership()) {
      const deadline = Date.now() + this.timing.tickMs * this.timing.electionTicks * 2;
      while (Date.now() < deadline && this.core.status().role === 'leader') await delay(this.timing.tickMs);
      this.logger.info({ ...this.logFields() }, 'leadership handed over before stopping');
    }
    this.stopped = true;
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.failAll('stopped');
    await Promise.all([this.transport.close(), this.beacon?.close()]);
    // Every write posted is made durable first; a commit-only hard state rides along unsynced.
    const hardState = this.pipeline.takeUnwrittenHardState();
    const batch = hardState === null ? null : { hardState, entries: [], snapshot: null };
    if (this.writer !== null) await this.writer.close(batch);
    await this.snapshotSaving;
    if (this.inlineStorage !== null) {
      if (batch !== null) this.inlineStorage.persist(batch, { durable: false });
      this.inlineStorage.close();
    }
  }

  // ---------------------------------------------------------------- the loop

  private tick(): void {
    if (this.stopped) return;
    if (this.beacon !== null) this.beaconBeforeTick(this.beacon);
    this.core.tick();
    if (this.core.summary().role === 'follower') this.leaderSilence.tick();
    else this.leaderSilence.forget();
    this.tellLeadership();
    this.process();
    // After the tick's heartbeats, which carry the commit index to the followers they reach.
    if (this.fatal === null) this.releaseCommitHold();
  }

  /**
   * The main loop turned; the beacon thread learns the role (the voters to beacon to, or the
   * leader to listen for), and a fresh beacon is news for the core before its timer counts.
   */
  private beaconBeforeTick(beacon: Beacon): void {
    beacon.bump();
    const { role, term, leader, membership } = this.core.summary();
    if (role === 'leader') {
      const targets = [];
      for (const voter of membership.voters) {
        const target = voter === this.id ? null : this.transport.beaconTargetOf(voter);
        if (target !== null) targets.push(target);
      }
      beacon.lead(term, targets);
      return;
    }
    const followed = role === 'follower' ? leader : NO_NODE;
    beacon.follow(followed, term);
    if (followed !== NO_NODE && beacon.fresh()) this.core.leaderAlive(followed, term);
  }

  private receive(messages: readonly import('./types.ts').Message[]): void {
    if (this.stopped) return;
    const silence = this.leaderSilence.heard(messages, performance.now());
    if (silence !== null) this.noteLeaderSilence(silence);
    for (const message of messages) this.core.step(message);
    this.tellLeadership();
    this.schedule();
  }

  /** Near an election, also a log line: dated per follower, bench/peers/leader-stalls.ts pairs them (issue 19). */
  private noteLeaderSilence(silence: Silence): void {
    this.observer.leaderSilence?.(silence.durationMs, silence.ticks);
    if (!nearElection(silence, this.timing.electionTicks)) return;
    this.logger.info(
      { ...this.logFields(), silenceMs: Math.round(silence.durationMs), silenceTicks: silence.ticks },
      'leader silence',
    );
  }

  /** A closed socket is news for the core: a follower that lost its leader campaigns at once. */
  private peerDisconnected(peer: NodeId): void {
    if (this.stopped) return;
    this.core.peerUnreachable(peer);
    this.tellLeadership();
    this.schedule();
  }

  private schedule(): void {
    if (this.processScheduled || this.stopped) return;
    this.processScheduled = true;
    setImmediate(() => {
      this.processScheduled = false;
      this.process();
    });
  }

  /**
   * The Readies, then the queued proposals. When this turn answered proposals, their HTTP answers
   * are written by promise reactions that run only once this turn ends: the queued proposals wait
   * for the next turn, or their write (an fsync, inline) would hold every answer of this one (at
   * 256 clients each answer waited for the next batch's fsync). Otherwise they go in now.
   */
  private process(): void {
    if (this.stopped || this.fatal !== null) return;
    try {
      this.settledInTurn = 0;
      this.handleReadies();
      if (this.queuedProposals.length > 0) {
        if (this.settledInTurn > 0) this.scheduleProposals();
        else {
          this.proposeQueued();
          this.handleReadies();
        }
      }
    } catch (error) {
      this.crash(error as Error);
      return;
    }
    if (this.inlineStorage !== null && this.inlineStorage.walCheckpointUrgency() !== 'none')
      this.scheduleWalCheckpoint(this.inlineStorage);
  }

  /**
   * Inline mode: the checkpoint runs in a turn of its own, after this one's answers are written,
   * and only if no write waits for the event loop then (a process() scheduled, proposals queued),
   * unless the WAL is past twice its threshold: a busy leader is never idle.
   */
  private scheduleWalCheckpoint(storage: SqliteRaftStorage): void {
    if (this.walCheckpointScheduled) return;
    this.walCheckpointScheduled = true;
    setImmediate(() => {
      this.walCheckpointScheduled = false;
      if (this.stopped || this.fatal !== null) return;
      const urgency = storage.walCheckpointUrgency();
      const writeWaiting = this.processScheduled || this.proposalsScheduled || this.queuedProposals.length > 0;
      if (urgency === 'none' || (urgency === 'when-idle' && writeWaiting)) return;
      const startedMs = performance.now();
      try {
        const result = storage.checkpoint();
        this.observer.walCheckpointed?.(performance.now() - startedMs, result.framesInWal);
      } catch (error) {
        this.crash(error as Error);
      }
    });
  }

  private handleReadies(): void {
    while (this.core.hasReady()) this.handleReady(this.core.ready());
    if (!this.applyScheduled) this.applySlice();
  }

  /** Hands the queued proposals to the core, in order: one Ready, one write and one round of appends for all. */
  private proposeQueued(): void {
    for (const proposal of this.queuedProposals.splice(0)) {
      const accepted = this.core.propose(proposal.command, proposal.idempotency);
      if (accepted.ok) this.trackProposal(accepted.index, accepted.term, proposal);
      else proposal.reject(new RaftRequestError(accepted.reason, accepted.leader, false));
    }
  }

  private scheduleProposals(): void {
    if (this.proposalsScheduled) return;
    this.proposalsScheduled = true;
    setImmediate(() => {
      this.proposalsScheduled = false;
      if (this.stopped || this.fatal !== null) return;
      try {
        this.proposeQueued();
      } catch (error) {
        this.crash(error as Error);
        return;
      }
      this.process();
    });
  }

  private send(messages: readonly Message[]): void {
    const outgoing = this.commitHold.route(messages, true);
    if (outgoing.length > 0) this.transport.send(outgoing);
  }

  /**
   * At a tick, once no proposal is queued, the commit-only appends no append or heartbeat replaced
   * leave (an idle leader, every proposal refused, a follower's window full); a replica that no
   * longer leads drops them.
   */
  private releaseCommitHold(): void {
    if (this.commitHold.size === 0 || this.queuedProposals.length > 0) return;
    const held = this.commitHold.takeAll();
    if (this.core.isLeader()) this.transport.send(held);
  }

  private handleReady(ready: Ready): void {
    // The pipeline says what waits for the write (write-pipeline.ts); the core says, through
    // sendBeforePersist, which messages are a leader's that need not (§10.2.1).
    const accepted = this.pipeline.accept(ready);
    if (this.inlineStorage !== null) {
      this.writeInline(this.inlineStorage, accepted);
    } else {
      if (accepted.write !== null) this.postWrite(accepted.write);
      this.send(accepted.sendNow);
    }
    if (ready.snapshot !== null) {
      if (this.restoring === null) {
        // Entries still queued are older than the snapshot: applied first, so their proposals are
        // answered with their results (a rare long turn: a follower catching up from far behind).
        while (this.applyQueue.size > 0) this.applyNext();
      } else {
        // They follow a snapshot never swapped in: this one replaces both.
        this.restoring.superseded = true;
        this.applyQueue.dropQueued();
      }
      this.applyQueue.restartAt(ready.snapshot.meta.index);
      this.beginRestore(ready.snapshot, 'installed snapshot from the leader');
    }
    this.applyQueue.push(ready.committedEntries);
    for (const readState of ready.readStates) this.readPointKnown(readState.context, readState.index);
    for (const failure of ready.readFailures)
      this.failRead(failure.context, failure.reason === 'no-leader' ? 'no-leader' : 'leadership-lost');
    this.core.advance(ready);
    const status = ready.roleChanged ? this.status() : null;
    if (ready.snapshotWantedAt !== null) this.snapshotDueAt = ready.snapshotWantedAt;
    this.snapshotIfDue();
    if (status !== null) this.roleChanged(status);
    this.syncPeers();
  }

  /**
   * Inline mode: a leader's messages leave first, the write (one transaction, one fsync) holds
   * this thread, then what waited for it leaves. The core (not in asyncStorageWrites mode) takes
   * advance() as durable, so the pipeline's durableThrough is not reported.
   */
  private writeInline(storage: SqliteRaftStorage, accepted: AcceptedReady): void {
    this.send(accepted.sendNow);
    const write = accepted.write;
    if (write === null) return;
    const startedMs = performance.now();
    storage.persist(
      { hardState: write.hardState, entries: write.entries, snapshot: write.snapshot },
      { durable: true },
    );
    this.observer.persisted(performance.now() - startedMs, write.entries.length, true);
    const completed = this.pipeline.completed(write.sequence);
    this.send(completed.sendNow);
  }

  /** Thread mode: one transaction and one fsync in the writer thread; entries, a snapshot, term or vote. */
  private postWrite(write: PipelineWrite): void {
    assert(this.writer !== null, 'postWrite: inline mode writes on this thread');
    const batch = { hardState: write.hardState, entries: write.entries, snapshot: write.snapshot };
    const id = this.writer.post({ type: 'persist', batch, durable: true });
    this.postedWrites.push({ kind: 'ready', id, sequence: write.sequence, entries: write.entries.length });
  }

  /** The writer finished request `id` (in order): what waited for it goes on. */
  private writeDone(id: number, durationMs: number, groupEnd: boolean): void {
    const posted = this.postedWrites.shift();
    assert(posted !== undefined && posted.id === id, `storage writer answered ${id}, expected ${posted?.id}`);
    if (this.fatal !== null) return;
    if (posted.kind === 'snapshot') {
      this.snapshotRecorded(posted, performance.now() - posted.startedMs);
      return;
    }
    // One observation per transaction (one fsync), with the entries of every Ready it carried.
    this.entriesInGroup += posted.entries;
    if (groupEnd) {
      this.observer.persisted(durationMs, this.entriesInGroup, true);
      this.entriesInGroup = 0;
    }
    const completed = this.pipeline.completed(posted.sequence);
    this.releasedInGroup.push(...completed.sendNow);
    if (this.stopped) return;
    try {
      const durable = completed.durableThrough;
      if (durable !== null) this.core.persisted(durable.index, durable.term);
      if (!groupEnd) return;
      // What the transaction released leaves as one frame per peer, not one per Ready it carried.
      const released = this.releasedInGroup.splice(0);
      this.send(released);
    } catch (error) {
      this.crash(error as Error);
      return;
    }
    this.tellLeadership();
    // Scheduled, not run here: the writes completed in one transaction (and proposals arriving in
    // the same turn) then make one Ready, one write and one round of messages, not one each.
    this.schedule();
  }

  /**
   * Applies queued committed entries for about `applySliceBudgetMs` (one at least), then yields to
   * the event loop and goes on in the next turn. The core already counts them applied; what waits
   * on the state machine waits on `appliedIndex`: proposals are answered as their entry applies,
   * reads (ReadIndex, hence a new leader's establish) once it reaches their index, snapshots are
   * taken at it. Leadership changes between slices reach the listeners at once (tellLeadership):
   * a deposed master stops its services while the rest of the queue applies.
   */
  private applySlice(): void {
    if (this.applyQueue.size === 0 || this.restoring !== null) return;
    const startedMs = performance.now();
    do this.applyNext();
    while (this.applyQueue.size > 0 && performance.now() - startedMs < applySliceBudgetMs);
    this.afterApply(this.appliedIndex);
    if (this.applyQueue.size === 0) return;
    this.applyScheduled = true;
    setImmediate(() => {
      this.applyScheduled = false;
      if (this.stopped || this.fatal !== null) return;
      try {
        this.applySlice();
      } catch (error) {
        this.crash(error as Error);
      }
    });
  }

  private applyNext(): void {
    const entry = this.applyQueue.shift();
    const applied = this.host.apply(entry);
    this.appliedIndex = entry.index;
    this.settleProposal(entry.term, applied);
    this.snapshotIfDue();
  }

  /** The snapshot the core asked for, once the state machine has reached its index (at that index). */
  private snapshotIfDue(): void {
    if (this.snapshotDueAt === null || this.appliedIndex < this.snapshotDueAt || this.restoring !== null) return;
    this.snapshotDueAt = null;
    this.takeSnapshot(this.appliedIndex);
  }

  private afterApply(applied: LogIndex): void {
    for (const [context, read] of this.reads) {
      if (read.index !== null && read.index <= applied) {
        clearTimeout(read.timer);
        this.reads.delete(context);
        read.resolve();
      }
    }
    for (const listener of this.applyListeners) listener(applied);
  }

  /**
   * The state is captured now, at `index`, and written in the background: a big state written in
   * one go held the event loop past a heartbeat (DESIGN.md, "One event loop, never blocked").
   * The core asks for no other snapshot until this one is taken, and ignores it if the leader's
   * snapshot replaced the log meanwhile.
   */
  private takeSnapshot(index: LogIndex): void {
    const finish = this.host.beginSnapshot();
    const startedMs = performance.now();
    finish().then(
      (data) => {
        if (this.stopped || this.fatal !== null) return;
        try {
          this.snapshotWritten(index, data, performance.now() - startedMs);
        } catch (error) {
          this.crash(error as Error);
          return;
        }
        this.schedule();
      },
      (error: unknown) => this.crash(error as Error),
    );
  }

  /**
   * Reads `snapshot` into a new state in slices (StateMachineHost.prepareRestore), the old state
   * left as it is, and swaps it in in one turn: one turn restoring 3.2 MB held the event loop for
   * 250 ms, several heartbeats. Meanwhile nothing applies (applySlice), no snapshot is taken and
   * reads wait, as the applied index stays where it was. Timed and logged at the swap
   * (bench/scale.ts reads the restart's line).
   */
  private beginRestore(
    snapshot: { readonly meta: { readonly index: LogIndex }; readonly data: Uint8Array },
    message: 'installed snapshot from the leader' | 'snapshot restored',
  ): void {
    const restore: PendingRestore = { index: snapshot.meta.index, superseded: false };
    this.restoring = restore;
    const startedMs = performance.now();
    const abandoned = () => restore.superseded || this.stopped || this.fatal !== null;
    this.host.prepareRestore(snapshot.data, abandoned).then(
      (install) => {
        if (install === null || abandoned()) return;
        try {
          install();
          this.restoring = null;
          this.appliedIndex = restore.index;
          const bytes = snapshot.data.byteLength;
          if (message === 'installed snapshot from the leader') this.observer.snapshotInstalled(restore.index, bytes);
          const durationMs = Math.round(performance.now() - startedMs);
          this.logger.info({ ...this.logFields(), index: restore.index, bytes, durationMs }, message);
          this.afterApply(this.appliedIndex);
          this.snapshotIfDue();
          this.applySlice();
        } catch (error) {
          this.crash(error as Error);
        }
      },
      (error: unknown) => {
        if (!abandoned()) this.crash(error as Error);
      },
    );
  }

  /**
   * The state machine's snapshot is serialised: the core compacts its log, and the writer records
   * the snapshot and deletes the entries behind it, after every write posted before (the entries
   * it covers are durable already: the core applies only durable entries).
   */
  private snapshotWritten(index: LogIndex, data: Uint8Array, serialiseMs: number): void {
    const through = this.core.snapshotTaken(index, data);
    const snapshot = this.core.lastSnapshot();
    if (snapshot === null || snapshot.meta.index !== index) return;
    const startedMs = performance.now() - serialiseMs;
    const recorded = { kind: 'snapshot', index, bytes: data.byteLength, compactedThrough: through, startedMs } as const;
    if (this.inlineStorage !== null) {
      // The file is written off the event loop (storage.ts saveSnapshotInBackground), one at a time.
      const storage = this.inlineStorage;
      this.snapshotSaving = this.snapshotSaving.then(async () => {
        if (this.fatal !== null) return;
        try {
          await storage.saveSnapshotInBackground(snapshot);
          storage.compact(through);
        } catch (error) {
          if (this.fatal === null) this.crash(error as Error);
          return;
        }
        this.snapshotRecorded({ ...recorded, id: 0 }, performance.now() - startedMs);
      });
      return;
    }
    assert(this.writer !== null, 'snapshotWritten: no storage writer');
    const id = this.writer.post({ type: 'save-snapshot', snapshot, compactThrough: through });
    this.postedWrites.push({ ...recorded, id });
  }

  private snapshotRecorded(posted: Extract<PostedWrite, { kind: 'snapshot' }>, durationMs: number): void {
    this.observer.snapshotTaken(posted.index, posted.bytes, durationMs);
    this.logger.info(
      {
        ...this.logFields(),
        index: posted.index,
        bytes: posted.bytes,
        compactedThrough: posted.compactedThrough,
        durationMs: Math.round(durationMs),
      },
      'snapshot taken',
    );
  }

  // ---------------------------------------------------------------- bookkeeping

  private trackProposal(
    index: LogIndex,
    term: Term,
    proposal: Pick<QueuedProposal, 'queuedAtMs' | 'resolve' | 'reject'>,
  ): void {
    const { resolve, reject } = proposal;
    const timer = setTimeout(() => {
      this.proposals.delete(index);
      reject(new RaftRequestError('timeout', this.core.status().leader, true));
    }, this.proposalTimeoutMs);
    this.proposals.set(index, { term, proposedAtMs: proposal.queuedAtMs, resolve, reject, timer });
  }

  /** The entry at `applied.index` was applied: ours if its term is the one we proposed in. */
  private settleProposal(term: Term, applied: AppliedEntry): void {
    const pending = this.proposals.get(applied.index);
    if (pending === undefined) return;
    this.proposals.delete(applied.index);
    clearTimeout(pending.timer);
    this.settledInTurn += 1;
    if (pending.term === term) {
      pending.resolve({ index: applied.index, result: applied.result, idempotency: applied.idempotency });
      this.observer.proposalApplied?.(applied.index, performance.now() - pending.proposedAtMs);
    } else {
      pending.reject(new RaftRequestError('overwritten', this.core.status().leader, false));
    }
  }

  private readPointKnown(context: string, index: LogIndex): void {
    const read = this.reads.get(context);
    if (read === undefined) return;
    read.index = index;
    if (index <= this.appliedIndex) {
      clearTimeout(read.timer);
      this.reads.delete(context);
      read.resolve();
    }
  }

  private failRead(context: string, code: 'no-leader' | 'leadership-lost'): void {
    const read = this.reads.get(context);
    if (read === undefined) return;
    clearTimeout(read.timer);
    this.reads.delete(context);
    read.reject(new RaftRequestError(code, this.core.status().leader, false));
  }

  private roleChanged(status: CoreStatus): void {
    // A read forwarded to the old leader will never be answered: fail it now (retryable) rather
    // than at its timeout, so clients move on as soon as a new leader is known.
    // A read this replica queued on itself as the leader it still is stays: the lifecycle's
    // establish barrier, asked when the listeners hear of the new term, arrives before the
    // Ready that reports the role change, and failing it cost a new leader a retry (~300 ms).
    for (const [context, read] of this.reads) {
      if (read.index !== null) continue;
      if (status.role === 'leader' && read.askedAsLeaderOf === status.term) continue;
      clearTimeout(read.timer);
      this.reads.delete(context);
      read.reject(new RaftRequestError('leadership-lost', status.leader, false));
    }
    // A leader that removed itself steps down once the removal commits, and from then on no
    // member talks to it: its writes still in flight may commit under the next leader or be
    // overwritten, and it would never learn which. Say so now rather than at their timeout.
    const membership = status.membership;
    const removed =
      membership.voters.length + membership.learners.length > 0 && membership.addresses[this.id] === undefined;
    if (removed && status.role !== 'leader') this.failUncommitted(status.commit);
    this.logger.info(
      { ...this.logFields(status), leader: status.leader || null },
      status.role === 'leader' ? 'became leader' : `now ${status.role}`,
    );
    this.tellLeadership();
  }

  /**
   * Tells the leader listeners of a new role or leader (or a leader's new term) in the same turn
   * as the core input that made it, before any request, timer or apply can run: the core's status
   * and what the listeners know never disagree where other code can look. Were they told at the
   * next Ready (a later turn, and after that Ready's entries apply), a master that a newer term
   * had deposed would still run its leader services meanwhile, answering GET_RAFT as a follower
   * while its services served the old term (seen by test/master/leadership-transfer.test.ts).
   */
  private tellLeadership(): void {
    const heard = leadershipOf(this.core.summary());
    if (heard === this.leadershipHeard) return;
    this.leadershipHeard = heard;
    const status = this.core.status();
    try {
      for (const listener of this.leaderListeners) listener(status);
    } catch (error) {
      this.crash(error as Error);
    }
  }

  private syncPeers(): void {
    const status = this.core.summary();
    const membership = status.membership;
    let retiringChanged = false;
    for (const [id, retiring] of this.retiringPeers) {
      if (retiring.untilIndex <= status.commit || membership.addresses[id] !== undefined) {
        this.retiringPeers.delete(id);
        retiringChanged = true;
      }
    }
    if (membership === this.membership && !retiringChanged) return;
    const previous = this.membership;
    this.membership = membership;
    if (previous !== null) {
      for (const [id, address] of Object.entries(previous.addresses)) {
        if (membership.addresses[id] === undefined && status.lastIndex > status.commit) {
          this.retiringPeers.set(nodeId(id), { address, untilIndex: status.lastIndex });
        }
      }
    }
    if (membership.voters.length + membership.learners.length === 0) return;
    const addresses: Record<string, string> = { ...membership.addresses };
    for (const [id, retiring] of this.retiringPeers) addresses[id] = retiring.address;
    this.transport.setPeers(withoutSelf(addresses, this.id));
  }

  private bestTransferTarget(status: CoreStatus): NodeId | null {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const voter of status.membership.voters) {
      const match = status.progress[voter]?.match ?? -1;
      if (voter !== this.id && match > bestMatch) {
        best = voter;
        bestMatch = match;
      }
    }
    return best;
  }

  /**
   * A removed leader's proposals past its commit index may commit under the next leader or be
   * overwritten: indeterminate. Those at or below it are in its log and committed; it applies
   * them as it goes and answers them then (their removal itself among them), not with a 504.
   */
  private failUncommitted(commit: LogIndex): void {
    for (const [index, proposal] of this.proposals) {
      if (index <= commit) continue;
      clearTimeout(proposal.timer);
      proposal.reject(new RaftRequestError('leadership-lost', NO_NODE, true));
      this.proposals.delete(index);
    }
    for (const [context, read] of this.reads) {
      clearTimeout(read.timer);
      read.reject(new RaftRequestError('leadership-lost', NO_NODE, false));
      this.reads.delete(context);
    }
  }

  private failAll(code: 'stopped' | 'leadership-lost'): void {
    // Never handed to the core: certainly not applied.
    for (const proposal of this.queuedProposals.splice(0)) proposal.reject(new RaftRequestError(code, NO_NODE, false));
    for (const [index, proposal] of this.proposals) {
      clearTimeout(proposal.timer);
      proposal.reject(new RaftRequestError(code, NO_NODE, true));
      this.proposals.delete(index);
    }
    for (const [context, read] of this.reads) {
      clearTimeout(read.timer);
      read.reject(new RaftRequestError(code, NO_NODE, false));
      this.reads.delete(context);
    }
  }

  /**
   * A broken invariant, a corrupt log or a failed disk write: stop this replica loudly; never
   * apply past it, never acknowledge again. A leader so stops leading (its followers elect
   * another once they miss its heartbeats); a follower stops acknowledging.
   */
  private crash(error: Error): void {
    if (this.fatal !== null) return;
    this.fatal = error;
    const diskFailed = error instanceof StorageWriteError;
    const exitCode = diskFailed ? exitCodeStorageWriteFailed : exitCodeInternalError;
    const fields = { ...this.logFields(), error: error.message, exitCode };
    if (diskFailed) {
      this.logger.error(
        { ...fields, code: error.code, operation: error.operation, cause: error.causeCode, dataDir: error.path },
        'raft storage write failed: this replica stops (nothing of the failed write was kept); restart it once the disk has room',
      );
    } else {
      this.logger.error({ ...fields, stack: error.stack }, 'raft replica stopped on a fatal error');
    }
    this.stopped = true;
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.failAll('stopped');
    void this.transport.close();
    void this.beacon?.close();
    this.writer?.terminate();
    this.inlineStorage?.close();
    this.onFatal(error, exitCode);
  }

  fatalError(): Error | null {
    return this.fatal;
  }

  logFields(status: CoreStatus = this.core.status()): { node: NodeId; term: Term; role: string } {
    return { node: this.id, term: status.term, role: status.role };
  }
}

/** A stamp the table would refuse to record is the caller's bug: refuse it before it is in the log. */
function checkStamp(stamp: IdempotencyStamp): void {
  const keyBytes = Buffer.byteLength(stamp.key, 'utf8');
  const fingerprintBytes = Buffer.byteLength(stamp.fingerprint, 'utf8');
  if (keyBytes === 0 || keyBytes > maxIdempotencyKeyBytes) {
    throw new RangeError(`idempotency key of ${keyBytes} bytes: expected 1–${maxIdempotencyKeyBytes}`);
  }
  if (fingerprintBytes === 0 || fingerprintBytes > maxIdempotencyFingerprintBytes) {
    throw new RangeError(
      `idempotency fingerprint of ${fingerprintBytes} bytes: expected 1–${maxIdempotencyFingerprintBytes}`,
    );
  }
  if (!Number.isSafeInteger(stamp.atMs) || stamp.atMs < 0) {
    throw new RangeError(`idempotency stamp time ${stamp.atMs} is not a non-negative safe integer`);
  }
}

function withoutSelf(addresses: Readonly<Record<string, string>>, self: NodeId): Record<string, string> {
  const peers: Record<string, string> = {};
  for (const [id, address] of Object.entries(addresses)) if (id !== self) peers[id] = address;
  return peers;
}

/** The default end of a fatal error: the log line is written (stderr, synchronously); exit now. */
function exitProcess(_error: Error, exitCode: number): void {
  process.exit(exitCode);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What the leader listeners are told of: a new role or known leader, or a leader's new term. */
function leadershipOf(status: CoreSummary): string {
  return status.role === 'leader' ? `leader/${status.term}` : `${status.role}/${status.leader}`;
}
