// The pure Raft core of one replica, in the design of etcd-raft: no I/O, no clock, no timers.
// The driver feeds it ticks, messages and proposals, and drains `ready()` batches: persist,
// send, apply, then `advance()`. Section numbers cite Ongaro's dissertation (2014).
import { type CoreConfig, validateCoreConfig } from './config.ts';
import { assert, assertNever } from '../util/assert.ts';
import { RaftLog } from './log.ts';
import {
  applyMembershipChange,
  decodeConfigEntry,
  encodeConfigEntry,
  isMember,
  isVoter,
  members,
  quorumSize,
} from './membership.ts';
import { Progress } from './progress.ts';
import { ReadOnlyQueue } from './read-only.ts';
import {
  type CoreStatus,
  type CoreSummary,
  type Entry,
  type HardState,
  type IdempotencyStamp,
  type LogIndex,
  type Membership,
  type MembershipChange,
  type Message,
  NO_NODE,
  type NodeId,
  type PersistedState,
  type ProposeResult,
  type RandomSource,
  type ReadFailure,
  type ReadState,
  type Ready,
  type Role,
  type Snapshot,
  type Term,
} from './types.ts';

type MessageBody = Message extends infer M ? (M extends Message ? Omit<M, 'from' | 'to' | 'term'> : never) : never;
type MessageOf<T extends Message['type']> = Extract<Message, { type: T }>;

interface IncomingSnapshot {
  readonly meta: Snapshot['meta'];
  readonly totalBytes: number;
  readonly chunks: Uint8Array[];
  receivedBytes: number;
}

export class RaftCore {
  private readonly config: CoreConfig;
  private readonly random: RandomSource;
  private readonly log: RaftLog;

  private role: Role = 'follower';
  private term: Term;
  private vote: NodeId;
  private leader: NodeId = NO_NODE;

  /** Membership at the log's snapshot base; the current one is derived from the log (§4.1). */
  private baseMembership: Membership;
  private membership: Membership;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  /** Ticks since this replica started; heartbeat rounds and the read lease are dated with it. */
  private ticksSinceStart = 0;
  /** Started from persisted state (a term was seen): it may have backed a leader's lease. */
  private readonly restarted: boolean;
  private randomizedElectionTimeout = 0;
  /** The current leader's beacon was heard in its term (leaderAlive): its silence is timed by beaconElectionTicks. */
  private leaderBeacons = false;
  /** ticksSinceStart at the latest leaderAlive from the current leader. */
  private leaderAliveAt = -1;

  private readonly votes = new Map<NodeId, boolean>();
  /** Voters asked a second time in this pre-vote round (askAgainForPreVote). */
  private readonly preVoteAskedAgain = new Set<NodeId>();
  /**
   * The latest pre-vote request from each voter that came while we were in the leader's
   * stickiness lease, unanswered (acceptHigherTerm). Answered when the lease runs out without a
   * word from the leader (answerPreVotesHeldInLease); dropped when the leader speaks again.
   */
  private readonly preVotesHeldInLease = new Map<NodeId, MessageOf<'pre-vote'>>();
  private readonly progress = new Map<NodeId, Progress>();
  private transferee: NodeId = NO_NODE;
  /**
   * A TimeoutNow went out this term. Its receiver campaigns past every follower's stickiness,
   * whenever it arrives (even after we gave the transfer up), so no lease read is safe again
   * in this term.
   */
  private leaseForfeited = false;
  /** Index of the leader's first entry of its term: a commit past it unlocks reads and changes. */
  private termStartIndex: LogIndex = 0;
  private uncommittedBytes = 0;
  /** New entries wait for ready() so that one append per follower carries the whole batch. */
  private appendsToBroadcast = false;
  private membershipCache: { index: LogIndex; term: Term; membership: Membership } | null = null;
  private readonly readQueue: ReadOnlyQueue;
  /** ReadIndex requests that arrived before the leader committed an entry of its term (§6.4 step 1). */
  private readsAwaitingCommit: { context: string; requester: NodeId }[] = [];

  private latestSnapshot: Snapshot | null;
  private incomingSnapshot: IncomingSnapshot | null = null;
  private snapshotToInstall: Snapshot | null = null;
  private snapshotRequestedAt: LogIndex | null = null;
  private snapshotOffsetCache: { membership: Membership; offset: LogIndex } | null = null;

  private messages: Message[] = [];
  private readStates: ReadState[] = [];
  private readFailures: ReadFailure[] = [];
  private persistedHardState: HardState;
  private roleAtLastReady: Role = 'follower';
  private leaderAtLastReady: NodeId = NO_NODE;
  private pendingReady: Ready | null = null;

  constructor(config: CoreConfig, persisted: PersistedState, random: RandomSource) {
    validateCoreConfig(config);
    this.config = config;
    this.random = random;
    const snapshot = persisted.snapshot;
    this.log = new RaftLog(
      snapshot?.meta.index ?? 0,
      snapshot?.meta.term ?? 0,
      persisted.entries,
      persisted.hardState.commit,
    );
    this.latestSnapshot = snapshot;
    this.baseMembership = snapshot?.meta.membership ?? persisted.bootstrap;
    this.membership = this.membershipAt(this.log.lastIndex());
    this.term = persisted.hardState.term;
    this.restarted = persisted.hardState.term > 0;
    this.vote = persisted.hardState.vote;
    this.persistedHardState = { ...persisted.hardState, commit: this.log.committed };
    this.readQueue = new ReadOnlyQueue(config.maxPendingReads);
    this.becomeFollower(this.term, NO_NODE);
    this.roleAtLastReady = this.role;
  }

  // ---------------------------------------------------------------- inputs

  tick(): void {
    this.assertNoPendingReady();
    this.ticksSinceStart++;
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  step(message: Message): void {
    this.assertNoPendingReady();
    if (message.to !== this.config.id) return;
    if (message.term > this.term) {
      if (!this.acceptHigherTerm(message)) return;
    } else if (message.term < this.term) {
      this.handleLowerTerm(message);
      return;
    }
    this.stepCurrentTerm(message);
  }

  /** `idempotency` rides along in the entry, untouched: the state machine host decides with it. */
  propose(data: Uint8Array, idempotency?: IdempotencyStamp): ProposeResult {
    this.assertNoPendingReady();
    const refusal = this.proposalRefusal(data.byteLength);
    if (refusal !== null) return refusal;
    const entry = this.appendLeaderEntry('normal', data, idempotency);
    return { ok: true, index: entry.index, term: entry.term };
  }

  proposeMembership(change: MembershipChange): ProposeResult {
    this.assertNoPendingReady();
    const refusal = this.proposalRefusal(0);
    if (refusal !== null) return refusal;
    const refuse = (reason: Extract<ProposeResult, { ok: false }>['reason']): ProposeResult => ({
      ok: false,
      reason,
      leader: this.leader,
    });
    // The fix for the single-server change bug (raft-dev, 2015): no change before the leader has
    // committed an entry of its own term, and only one uncommitted change at a time.
    if (this.log.committed < this.termStartIndex) return refuse('no-commit-in-term');
    if (this.hasUncommittedConfig()) return refuse('membership-change-pending');
    if (change.type === 'promote') {
      const learner = this.progress.get(change.node);
      if (learner === undefined || !this.membership.learners.includes(change.node)) return refuse('unknown-node');
      if (learner.match + this.config.promoteLagEntries < this.log.lastIndex()) return refuse('not-caught-up');
    }
    const checked = applyMembershipChange(this.membership, change);
    if (!checked.ok) return refuse(change.type === 'add-learner' ? 'invalid-change' : 'unknown-node');
    const entry = this.appendLeaderEntry(
      'config',
      encodeConfigEntry({ change, membership: checked.membership }),
      undefined,
    );
    return { ok: true, index: entry.index, term: entry.term };
  }

  /** Asks for a linearizable read point; the answer comes in a later Ready (readStates/readFailures). */
  readIndex(context: string): void {
    this.assertNoPendingReady();
    if (this.role === 'leader') {
      this.leaderReadIndex(context, this.config.id);
    } else if (this.leader !== NO_NODE && this.role === 'follower') {
      this.send(this.leader, { type: 'read-index', context });
    } else {
      this.readFailures.push({ context, reason: 'no-leader' });
    }
  }

  /**
   * The driver's connection to `node` closed: its process exited or crashed (a lost machine or a
   * partition closes no socket; those wait out the election timeout). A follower whose leader
   * it was starts PreVote at once instead of waiting ~electionTicks. Safe with PreVote (§9.6):
   * the pre-vote changes no term, and a voter that still hears from the leader refuses it
   * (leader stickiness, §4.2.3), so a leader alive behind a dropped socket keeps its term.
   * Reads are ReadIndex reads, so a premature election breaks no promise either; in lease mode
   * a follower's silence is part of the lease, so there it waits as before.
   */
  peerUnreachable(node: NodeId): void {
    this.assertNoPendingReady();
    if (this.role !== 'follower' || node === NO_NODE || node !== this.leader) return;
    if (this.config.readMode === 'lease' || !this.promotable()) return;
    this.electionElapsed = 0;
    this.campaign('pre-vote');
  }

  /**
   * The driver's beacon receiver (beacon.ts) heard `from`'s beacon for `term` recently: its
   * process lives, whatever its event loop does. The driver says so before each tick and each
   * batch of messages while the beacon is fresh; fresh here means said since the previous tick.
   * Only the leader this follower knows, in its term, counts (a deposed leader's late beacon
   * keeps nobody waiting).
   */
  leaderAlive(from: NodeId, term: Term): void {
    this.assertNoPendingReady();
    if (this.config.beaconElectionTicks === 0) return;
    if (this.role !== 'follower' || from === NO_NODE || from !== this.leader || term !== this.term) return;
    this.leaderBeacons = true;
    this.leaderAliveAt = this.ticksSinceStart;
  }

  /** §3.10: hand leadership to `to`. Returns false when that is not possible now. */
  transferLeadership(to: NodeId): boolean {
    this.assertNoPendingReady();
    if (this.role !== 'leader' || to === this.config.id || !isVoter(this.membership, to)) return false;
    if (this.transferee === to) return true;
    this.transferee = to;
    // The transfer is abandoned if it has not finished within an election timeout.
    this.electionElapsed = 0;
    const target = this.progress.get(to)!;
    if (target.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppend(to);
    return true;
  }

  /**
   * The driver wrote a snapshot of the state machine at applied index `index`. The log behind it
   * is compacted, keeping a trailing window for followers that are only a little behind.
   * Returns the index through which the driver may delete stored entries (0: none, the
   * snapshot was stale and is ignored).
   */
  snapshotTaken(index: LogIndex, data: Uint8Array): LogIndex {
    this.assertNoPendingReady();
    assert(index <= this.log.applied, `snapshot at ${index} beyond applied ${this.log.applied}`);
    this.snapshotRequestedAt = null;
    // A snapshot made in the background may finish after the leader's snapshot replaced our log
    // (installed, or still waiting in a Ready): it is stale, and nothing may be compacted for it.
    if (index <= Math.max(this.latestSnapshot?.meta.index ?? 0, this.log.snapshotIndex)) return 0;
    const term = this.log.term(index);
    assert(term !== undefined, `snapshot at ${index}: entry already compacted`);
    this.latestSnapshot = { meta: { index, term, membership: this.membershipAt(index) }, data };
    const compactThrough = Math.max(this.log.snapshotIndex, index - this.config.compactionTrailingEntries);
    if (compactThrough > this.log.snapshotIndex) {
      this.baseMembership = this.membershipAt(compactThrough);
      this.log.compact(compactThrough);
    }
    return this.log.snapshotIndex;
  }

  /** The latest snapshot this replica holds (taken locally or installed from the leader). */
  lastSnapshot(): Snapshot | null {
    return this.latestSnapshot;
  }

  // ---------------------------------------------------------------- output

  hasReady(): boolean {
    return (
      this.appendsToBroadcast ||
      this.messages.length > 0 ||
      this.log.hasUnstableEntries() ||
      this.snapshotToInstall !== null ||
      this.applyLimit() > this.log.applied ||
      this.readStates.length > 0 ||
      this.readFailures.length > 0 ||
      this.role !== this.roleAtLastReady ||
      this.leader !== this.leaderAtLastReady ||
      !sameHardState(this.hardState(), this.persistedHardState) ||
      this.snapshotWanted() !== null
    );
  }

  ready(): Ready {
    this.assertNoPendingReady();
    if (this.appendsToBroadcast) this.flushAppends();
    const hardState = this.hardState();
    const snapshot = this.snapshotToInstall;
    const committedEntries =
      snapshot === null ? this.log.nextToApply(this.config.maxApplyBytes, this.applyLimit()) : [];
    const appliedAfter = committedEntries[committedEntries.length - 1]?.index ?? this.log.applied;
    const termOrVoteChanged =
      hardState.term !== this.persistedHardState.term || hardState.vote !== this.persistedHardState.vote;
    const ready: Ready = {
      hardState: sameHardState(hardState, this.persistedHardState) ? null : hardState,
      entries: this.log.unstableEntries(),
      snapshot,
      messages: this.messages,
      committedEntries,
      readStates: this.readStates,
      readFailures: this.readFailures,
      roleChanged: this.role !== this.roleAtLastReady || this.leader !== this.leaderAtLastReady,
      snapshotWantedAt: this.snapshotWanted(appliedAfter),
      // A leader now, in a term it did not enter in this Ready: every message since the last
      // Ready is a leader's (a role is entered in a new term, except leader, which a candidate
      // enters only after its term and vote were persisted by an earlier Ready).
      sendBeforePersist: this.role === 'leader' && !termOrVoteChanged && snapshot === null,
    };
    if (ready.snapshotWantedAt !== null) this.snapshotRequestedAt = ready.snapshotWantedAt;
    this.messages = [];
    this.readStates = [];
    this.readFailures = [];
    this.pendingReady = ready;
    return ready;
  }

  advance(ready: Ready): void {
    assert(this.pendingReady === ready, 'advance() must be given the Ready returned by the last ready()');
    this.pendingReady = null;
    if (ready.hardState !== null) this.persistedHardState = ready.hardState;
    this.roleAtLastReady = this.role;
    this.leaderAtLastReady = this.leader;
    if (ready.snapshot !== null) {
      this.snapshotToInstall = null;
      this.latestSnapshot = ready.snapshot;
    }
    const lastWritten = ready.entries.length > 0 ? ready.entries[ready.entries.length - 1]! : null;
    if (lastWritten !== null && this.log.matchTerm(lastWritten.index, lastWritten.term)) {
      this.log.handedOffTo(lastWritten.index);
      if (!this.config.asyncStorageWrites) this.log.stableTo(lastWritten.index, lastWritten.term);
    }
    const lastApplied = ready.committedEntries[ready.committedEntries.length - 1];
    if (lastApplied !== undefined) this.log.appliedTo(lastApplied.index);
    if (this.role === 'leader') this.leaderAfterPersist();
  }

  /**
   * With asynchronous storage writes: the driver's writes through the one whose last entry was
   * (`index`, `term`) are durable. Writes complete in the order they were handed off, so this
   * covers every earlier one. A report for entries the log has since replaced is ignored.
   */
  persisted(index: LogIndex, term: Term): void {
    this.assertNoPendingReady();
    assert(this.config.asyncStorageWrites, 'persisted() is for asynchronous storage writes');
    if (!this.log.stableTo(index, term)) return;
    if (this.role === 'leader') this.leaderAfterPersist();
  }

  /** Entries are applied only once durable here (etcd-raft: no unstable entries applied with async writes). */
  private applyLimit(): LogIndex {
    return this.config.asyncStorageWrites ? Math.min(this.log.committed, this.log.stableIndex) : this.log.committed;
  }

  /** Whether this replica leads now: what every write asks, without building status() (issue 19). */
  isLeader(): boolean {
    return this.role === 'leader';
  }

  /**
   * What the driver checks after every input and every Ready, without the copy of each
   * follower's progress that status() makes (issue 19: status() was about 2% of a busy leader).
   */
  summary(): CoreSummary {
    const { role, term, leader, membership } = this;
    return { role, term, leader, membership, commit: this.log.committed, lastIndex: this.log.lastIndex() };
  }

  status(): CoreStatus {
    const progress: Record<string, { match: LogIndex; next: LogIndex; state: string }> = {};
    for (const [node, entry] of this.progress)
      progress[node] = { match: entry.match, next: entry.next, state: entry.state };
    return {
      id: this.config.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      snapshotIndex: this.latestSnapshot?.meta.index ?? 0,
      membership: this.membership,
      transferee: this.transferee,
      progress,
    };
  }

  /** Entries in [low, high) still held in memory; for tests and the simulator's checkers. */
  entriesForInspection(low: LogIndex, high: LogIndex): readonly Entry[] {
    return (
      this.log.slice(Math.max(low, this.log.firstIndex()), Math.min(high, this.log.lastIndex() + 1), Infinity) ?? []
    );
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: Term, leader: NodeId): void {
    this.failPendingReads('leadership-lost');
    this.resetForTerm(term);
    this.role = 'follower';
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // §9.6: a pre-candidate keeps its term and vote; it only asks whether it could win.
    this.role = 'pre-candidate';
    this.leader = NO_NODE;
    this.forgetBeacon();
    this.votes.clear();
    this.preVoteAskedAgain.clear();
    this.electionElapsed = 0;
    this.resetRandomizedElectionTimeout();
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    this.resetForTerm(this.term + 1);
    this.vote = this.config.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', `only a candidate becomes leader, not a ${this.role}`);
    this.resetForTerm(this.term);
    this.role = 'leader';
    this.leader = this.config.id;
    for (const node of members(this.membership)) this.ensureProgress(node);
    this.progress.get(this.config.id)?.maybeUpdate(this.log.stableIndex);
    this.uncommittedBytes = 0;
    for (let index = this.log.committed + 1; index <= this.log.lastIndex(); index++) {
      this.uncommittedBytes += this.log.entry(index)!.data.byteLength;
    }
    // §8: a new leader commits a no-op of its term; that commit also tells it which entries of
    // earlier terms are committed, and unlocks reads and membership changes.
    const noop = this.appendLeaderEntry('noop', new Uint8Array(0), undefined);
    this.termStartIndex = noop.index;
  }

  private resetForTerm(term: Term): void {
    assert(term >= this.term, `term would go back from ${this.term} to ${term}`);
    if (term !== this.term) {
      this.term = term;
      this.vote = NO_NODE;
    }
    this.leader = NO_NODE;
    this.forgetBeacon();
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.votes.clear();
    this.preVotesHeldInLease.clear();
    this.progress.clear();
    this.transferee = NO_NODE;
    this.leaseForfeited = false;
    this.termStartIndex = 0;
  }

  private forgetBeacon(): void {
    this.leaderBeacons = false;
    this.leaderAliveAt = -1;
  }

  /** The leader is silent but its beacon is fresh: it stalls, it is not lost; wait, up to the bound. */
  private leaderStallsAlive(): boolean {
    return (
      this.leaderBeacons &&
      this.role === 'follower' &&
      this.leader !== NO_NODE &&
      this.ticksSinceStart - this.leaderAliveAt <= 1 &&
      this.electionElapsed < this.config.beaconBoundTicks
    );
  }

  /** Ticks of the leader's silence that end the stickiness lease (and, in the fixed timer, start PreVote). */
  private leaseTicks(): number {
    return this.leaderBeacons && this.leader !== NO_NODE ? this.config.beaconElectionTicks : this.config.electionTicks;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.config.electionTicks + this.random.nextInt(this.config.electionJitterTicks);
  }

  /**
   * In lease mode a replica that just started may have answered a leader's heartbeat just before
   * it crashed, backing that leader's read lease; it must not vote before that lease could have
   * run out, or a new leader could commit while the old one still serves lease reads.
   */
  private backedLeaseBeforeRestart(): boolean {
    return this.config.readMode === 'lease' && this.restarted && this.ticksSinceStart < this.config.electionTicks;
  }

  /**
   * May this replica start an election? A voter of its latest configuration may. So may a voter
   * of the committed configuration whose latest config entry, removing it, is not committed yet:
   * it may hold the only copy of that entry (its leadership ended before it replicated), and the
   * remaining voters, still on the old configuration, need its vote yet cannot win it with their
   * shorter logs. Campaigning (votes counted by the latest configuration, as always, §4.1) lets it
   * commit the removal and then step down (sim seed 266 and regression 902).
   */
  private promotable(): boolean {
    if (this.snapshotToInstall !== null) return false;
    if (isVoter(this.membership, this.config.id)) return true;
    return this.hasUncommittedConfig() && isVoter(this.membershipAt(this.log.committed), this.config.id);
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    // The lease ends at leaseTicks of silence, or later, when the leader's beacon goes stale.
    if (this.preVotesHeldInLease.size > 0) this.answerPreVotesHeldInLease();
    if (this.promotable() && this.electionElapsed >= this.electionTimeoutTicks() && !this.leaderStallsAlive()) {
      this.electionElapsed = 0;
      this.campaign('pre-vote');
    }
  }

  /**
   * With preVoteAtElectionTicks, a follower that hears from a leader asks for PreVotes once that
   * leader has been silent for electionTicks, not a randomized timeout more: that is when every
   * voter that heard the same heartbeat leaves its stickiness lease and can grant (issue 19: a
   * frozen leader was replaced after the earlier of two draws from 10-19 ticks, p99 534 ms). The
   * spread keeps candidates from splitting the vote; between the first pre-candidates the ranking
   * (ranksBelow, askAgainForPreVote) already picks one. A replica that knows no leader (after a
   * refused, lost or split campaign) still waits its randomized timeout, which keeps retries apart.
   */
  private electionTimeoutTicks(): number {
    const hearsLeader = this.role === 'follower' && this.leader !== NO_NODE;
    // A leader with a beacon is timed by it: a stale beacon with this much silence is a lost leader.
    if (hearsLeader && this.leaderBeacons) return this.config.beaconElectionTicks;
    if (this.config.preVoteAtElectionTicks && hearsLeader) return this.config.electionTicks;
    return this.randomizedElectionTimeout;
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.quorumRecentlyActive()) {
        this.becomeFollower(this.term, NO_NODE);
        return;
      }
      // An unfinished transfer is abandoned after an election timeout (§3.10).
      this.transferee = NO_NODE;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.readQueue.lastContext());
    }
  }

  /** CheckQuorum (§6.2): did a majority of voters talk to us during the last election timeout? */
  private quorumRecentlyActive(): boolean {
    let active = 0;
    for (const voter of this.membership.voters) {
      const progress = this.progress.get(voter);
      if (voter === this.config.id || progress?.recentActive) active++;
      if (progress !== undefined && voter !== this.config.id) progress.recentActive = false;
    }
    return active >= quorumSize(this.membership);
  }

  // ---------------------------------------------------------------- elections

  private campaign(kind: 'pre-vote' | 'election' | 'transfer'): void {
    if (kind === 'pre-vote') this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = kind === 'pre-vote' ? this.term + 1 : this.term;
    if (this.recordVote(this.config.id, true) === 'won') {
      this.winCampaign(kind);
      return;
    }
    for (const voter of this.membership.voters) {
      if (voter === this.config.id) continue;
      const request =
        kind === 'pre-vote'
          ? { type: 'pre-vote' as const, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm() }
          : {
              type: 'vote' as const,
              lastIndex: this.log.lastIndex(),
              lastTerm: this.log.lastTerm(),
              transfer: kind === 'transfer',
            };
      this.sendWithTerm(voter, voteTerm, request);
    }
  }

  private winCampaign(kind: 'pre-vote' | 'election' | 'transfer'): void {
    if (kind === 'pre-vote') this.campaign('election');
    else this.becomeLeader();
  }

  private recordVote(from: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(from) && isVoter(this.membership, from)) this.votes.set(from, granted);
    let grants = 0;
    let rejections = 0;
    for (const vote of this.votes.values()) vote ? grants++ : rejections++;
    const quorum = quorumSize(this.membership);
    if (grants >= quorum) return 'won';
    if (rejections >= quorum || rejections > this.membership.voters.length - quorum) return 'lost';
    return 'pending';
  }

  /**
   * Leader stickiness (§4.2.3): while we hear from a live leader, a vote request is most likely
   * from a server that was cut off or removed; ignoring it keeps it from deposing a healthy leader.
   */
  private inStickinessLease(): boolean {
    return (
      this.config.checkQuorum &&
      (this.electionElapsed < this.leaseTicks() || this.leaderStallsAlive()) &&
      (this.leader !== NO_NODE || this.backedLeaseBeforeRestart())
    );
  }

  /**
   * Our lease ran out with no word from the leader: the pre-votes we ignored during it get the
   * answer they would get now (issue 19). Scenario: the leader freezes (no socket closes); m2's
   * timer fires a tick before m3's lease ends, m3 ignores m2's request. Unanswered, m2 stayed a
   * pending pre-candidate until its own randomized timeout or m3's fired again, up to 9 ticks
   * later (7 of 20 freezes at load 37). A pre-vote changes no state (§9.6), so answering late is
   * answering as if it arrived now; a requester that moved on ignores the answer.
   */
  private answerPreVotesHeldInLease(): void {
    if (this.preVotesHeldInLease.size === 0 || this.inStickinessLease()) return;
    const held = [...this.preVotesHeldInLease.values()];
    this.preVotesHeldInLease.clear();
    for (const request of held) if (request.term > this.term) this.handleVoteRequest(request);
  }

  /** A message from a higher term. Returns false when it must be ignored. */
  private acceptHigherTerm(message: Message): boolean {
    if (message.type === 'pre-vote' || message.type === 'vote') {
      const transfer = message.type === 'vote' && message.transfer;
      // Leader stickiness (§4.2.3): while we hear from a live leader, a vote request is most
      // likely from a server that was cut off or removed; ignoring it keeps it from deposing
      // a healthy leader. A leadership transfer is the exception.
      if (this.inStickinessLease() && !transfer) {
        if (message.type === 'pre-vote') this.preVotesHeldInLease.set(message.from, message);
        return false;
      }
    }
    if (message.type === 'pre-vote') return true; // A pre-vote never changes our term (§9.6).
    if (message.type === 'pre-vote-response' && !message.reject) return true; // The term we would campaign in.
    const fromLeader = message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot-chunk';
    this.becomeFollower(message.term, fromLeader ? message.from : NO_NODE);
    return true;
  }

  private handleLowerTerm(message: Message): void {
    if (message.type === 'append' || message.type === 'heartbeat') {
      // A stale leader (from before a partition) may never see a vote request that would
      // depose it, because PreVote keeps the others from bumping their terms. Tell it our term.
      this.send(message.from, { type: 'append-response', reject: false, index: 0, hintIndex: 0, hintTerm: 0 });
    } else if (message.type === 'pre-vote') {
      this.send(message.from, { type: 'pre-vote-response', reject: true });
    }
  }

  private handleVoteRequest(message: MessageOf<'pre-vote'> | MessageOf<'vote'>): void {
    const preVote = message.type === 'pre-vote';
    const canVote =
      this.vote === message.from ||
      (this.vote === NO_NODE && this.leader === NO_NODE) ||
      (preVote && message.term > this.term);
    const rivals = preVote && this.role === 'pre-candidate';
    const yields = !rivals || this.ranksBelow(message);
    const granted = canVote && yields && this.log.isUpToDate(message.lastIndex, message.lastTerm);
    const responseType = preVote ? 'pre-vote-response' : 'vote-response';
    if (rivals && !yields) this.askAgainForPreVote(message.from);
    if (granted) {
      // A pre-vote is answered in the term it asks about, and changes nothing here: in
      // particular it does not reset our election timer.
      this.sendWithTerm(message.from, message.term, { type: responseType, reject: false });
      if (!preVote) {
        this.electionElapsed = 0;
        this.vote = message.from;
      }
    } else {
      this.send(message.from, { type: responseType, reject: true });
    }
  }

  /**
   * Two followers that lose the leader together (its process died: both sockets closed at once)
   * both start PreVote at once; were each to grant the other, both would pass and split the real
   * vote, costing a whole election timeout. Between pre-candidates the better log goes first,
   * and with equal logs the lower id: a pre-candidate grants only a requester that ranks above
   * it. Pre-votes change no state, so this only orders who campaigns, never what is safe.
   */
  private ranksBelow(request: MessageOf<'pre-vote'>): boolean {
    const ourLastTerm = this.log.lastTerm();
    if (request.lastTerm !== ourLastTerm) return request.lastTerm > ourLastTerm;
    const ourLastIndex = this.log.lastIndex();
    if (request.lastIndex !== ourLastIndex) return request.lastIndex > ourLastIndex;
    return request.from < this.config.id;
  }

  /**
   * A voter that asks for a pre-vote no longer hears the leader itself, so it may now grant ours
   * even if it refused it before (it still heard the leader then): ask it once more per pre-vote
   * round, if we rank above it (otherwise it will not grant ours, see ranksBelow). Scenario: m1
   * dies; m2 learns first and asks m3, which ignores it (m1 was its leader a moment ago); then m3
   * learns and asks m2. Without asking again m2 would wait out its timeout.
   */
  private askAgainForPreVote(voter: NodeId): void {
    if (this.votes.get(voter) === true || this.preVoteAskedAgain.has(voter)) return;
    if (!isVoter(this.membership, voter)) return;
    this.preVoteAskedAgain.add(voter);
    this.sendWithTerm(voter, this.term + 1, {
      type: 'pre-vote',
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
    });
  }

  // ---------------------------------------------------------------- dispatch

  private stepCurrentTerm(message: Message): void {
    switch (message.type) {
      case 'pre-vote':
      case 'vote':
        this.handleVoteRequest(message);
        return;
      case 'pre-vote-response':
      case 'vote-response':
        this.handleVoteResponse(message);
        return;
      case 'append':
      case 'heartbeat':
      case 'snapshot-chunk':
        this.handleFromLeader(message);
        return;
      case 'append-response':
      case 'heartbeat-response':
      case 'snapshot-response':
      case 'read-index':
        if (this.role === 'leader') this.stepLeader(message);
        else if (message.type === 'read-index')
          this.send(message.from, { type: 'read-index-response', context: message.context, index: 0, reject: true });
        return;
      case 'timeout-now':
        if (this.role === 'follower' && this.promotable()) this.campaign('transfer');
        return;
      case 'read-index-response':
        if (message.reject) this.readFailures.push({ context: message.context, reason: 'not-leader' });
        else this.readStates.push({ context: message.context, index: message.index });
        return;
      default:
        assertNever(message);
    }
  }

  private handleVoteResponse(message: MessageOf<'pre-vote-response'> | MessageOf<'vote-response'>): void {
    const expected =
      this.role === 'pre-candidate' ? 'pre-vote-response' : this.role === 'candidate' ? 'vote-response' : null;
    if (message.type !== expected) return;
    // A granted pre-vote comes in our term + 1; a refusal in the voter's term, which may be ours.
    // A voter asked again may grant what it refused (askAgainForPreVote): a pre-vote grant
    // replaces a refusal. Real votes are recorded once, as before.
    if (message.type === 'pre-vote-response' && !message.reject && this.votes.get(message.from) === false)
      this.votes.delete(message.from);
    const result = this.recordVote(message.from, !message.reject);
    if (result === 'won') this.winCampaign(this.role === 'pre-candidate' ? 'pre-vote' : 'election');
    else if (result === 'lost') this.becomeFollower(this.term, NO_NODE);
  }

  private handleFromLeader(message: MessageOf<'append'> | MessageOf<'heartbeat'> | MessageOf<'snapshot-chunk'>): void {
    assert(this.role !== 'leader', `two leaders in term ${this.term}: ${this.config.id} and ${message.from}`);
    if (this.role !== 'follower') this.becomeFollower(this.term, message.from);
    this.leader = message.from;
    this.electionElapsed = 0;
    this.preVotesHeldInLease.clear();
    if (message.type === 'append') this.handleAppend(message);
    else if (message.type === 'heartbeat') this.handleHeartbeat(message);
    else this.handleSnapshotChunk(message);
  }

  // ---------------------------------------------------------------- follower

  private handleAppend(message: MessageOf<'append'>): void {
    if (message.prevIndex < this.log.committed) {
      this.send(message.from, {
        type: 'append-response',
        reject: false,
        index: this.log.committed,
        hintIndex: 0,
        hintTerm: 0,
      });
      return;
    }
    if (this.log.matchTerm(message.prevIndex, message.prevTerm)) {
      const firstChanged = this.log.appendFromLeader(message.entries);
      if (firstChanged !== null) this.membershipMayHaveChanged();
      const lastNew = message.prevIndex + message.entries.length;
      this.log.commitTo(Math.min(message.commit, lastNew));
      // A commit-only append (sendAppend says why its answer would be no news to the leader).
      if (message.entries.length === 0 && !message.answerWanted) return;
      this.send(message.from, { type: 'append-response', reject: false, index: lastNew, hintIndex: 0, hintTerm: 0 });
      return;
    }
    // Fast back-off (§5.3 optimisation, as etcd-raft): point the leader at the last index whose
    // term is at most the term it expected, skipping a whole conflicting term per round trip.
    const hintIndex = this.log.findConflictByTerm(Math.min(message.prevIndex, this.log.lastIndex()), message.prevTerm);
    const hintTerm = this.log.term(hintIndex) ?? 0;
    this.send(message.from, { type: 'append-response', reject: true, index: message.prevIndex, hintIndex, hintTerm });
  }

  private handleHeartbeat(message: MessageOf<'heartbeat'>): void {
    // The leader sends min(match, commit), so every index up to it is in our log and matches.
    this.log.commitTo(Math.min(message.commit, this.log.lastIndex()));
    this.send(message.from, { type: 'heartbeat-response', context: message.context, round: message.round });
  }

  private handleSnapshotChunk(message: MessageOf<'snapshot-chunk'>): void {
    const meta = message.meta;
    const respond = (receivedBytes: number, done: boolean): void =>
      this.send(message.from, { type: 'snapshot-response', snapshotIndex: meta.index, receivedBytes, done });
    if (meta.index <= this.log.committed) {
      this.incomingSnapshot = null;
      respond(message.totalBytes, true);
      return;
    }
    let incoming = this.incomingSnapshot;
    if (incoming === null || incoming.meta.index !== meta.index || incoming.meta.term !== meta.term) {
      if (message.offset !== 0) {
        respond(0, false);
        return;
      }
      incoming = { meta, totalBytes: message.totalBytes, chunks: [], receivedBytes: 0 };
      this.incomingSnapshot = incoming;
    }
    if (message.offset !== incoming.receivedBytes) {
      respond(incoming.receivedBytes, false);
      return;
    }
    incoming.chunks.push(message.data);
    incoming.receivedBytes += message.data.byteLength;
    assert(incoming.receivedBytes <= incoming.totalBytes, 'snapshot chunks exceed the announced size');
    if (incoming.receivedBytes < incoming.totalBytes) {
      respond(incoming.receivedBytes, false);
      return;
    }
    this.incomingSnapshot = null;
    this.installSnapshot({ meta, data: Buffer.concat(incoming.chunks) });
    respond(incoming.totalBytes, true);
  }

  private installSnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    if (this.log.matchTerm(index, term)) {
      // We already hold the snapshot's last entry: everything up to it is committed, and the
      // rest of our log after it is still valid. Fast-forward instead of throwing it away.
      this.log.commitTo(index);
      return;
    }
    this.log.restore(index, term);
    this.baseMembership = snapshot.meta.membership;
    this.membership = snapshot.meta.membership;
    this.snapshotToInstall = snapshot;
  }

  // ---------------------------------------------------------------- leader

  private stepLeader(
    message:
      | MessageOf<'append-response'>
      | MessageOf<'heartbeat-response'>
      | MessageOf<'snapshot-response'>
      | MessageOf<'read-index'>,
  ): void {
    if (message.type === 'read-index') {
      this.leaderReadIndex(message.context, message.from);
      return;
    }
    const progress = this.progress.get(message.from);
    if (progress === undefined) return;
    progress.recentActive = true;
    if (message.type === 'append-response') this.handleAppendResponse(progress, message);
    else if (message.type === 'heartbeat-response') this.handleHeartbeatResponse(progress, message);
    else this.handleSnapshotResponse(progress, message);
  }

  private handleAppendResponse(progress: Progress, message: MessageOf<'append-response'>): void {
    if (message.reject) {
      // Leader side of the fast back-off (etcd-raft stepLeader): every entry of ours above the
      // last one whose term is at most the follower's term at its hint cannot match either.
      const hint =
        message.hintTerm > 0 ? this.log.findConflictByTerm(message.hintIndex, message.hintTerm) : message.hintIndex;
      if (progress.maybeDecrease(message.index, hint)) {
        if (progress.state === 'replicate') progress.becomeProbe();
        this.sendAppend(message.from);
      }
      return;
    }
    // The answer to a probe sent exactly at match (after a snapshot, say) is no news for match
    // but is what the probe waited for: it confirms where the logs meet.
    const probeAnswered = progress.state === 'probe' && progress.match === message.index;
    // A follower that was paused may have missed the commit index broadcast meanwhile (etcd-raft).
    const wasPaused = progress.isPaused();
    if (!progress.maybeUpdate(message.index) && !probeAnswered) return;
    if (progress.state === 'probe') progress.becomeReplicate();
    else if (progress.state === 'replicate') progress.freeThrough(message.index);
    // An older append reached it after all: once it holds the snapshot's index, stop streaming.
    else if (progress.match >= progress.snapshotIndex) progress.becomeProbe();
    if (this.maybeCommit()) this.broadcastCommit();
    else if (wasPaused || progress.next <= this.log.lastIndex()) this.sendAppend(message.from);
    if (message.from === this.transferee && progress.match === this.log.lastIndex()) {
      this.sendTimeoutNow(message.from);
    }
  }

  private handleHeartbeatResponse(progress: Progress, message: MessageOf<'heartbeat-response'>): void {
    progress.probeSent = false;
    progress.lastAnsweredRound = Math.max(progress.lastAnsweredRound, message.round);
    // Appends may have been lost: free one slot so a full window cannot stall replication.
    if (progress.state === 'replicate' && progress.isFull()) progress.freeFirst();
    if (progress.state === 'snapshot') {
      // The peer connection is FIFO: a heartbeat sent a tick after the last chunk came back, the chunk's
      // answer did not, so the chunk was lost. Resend it; never start a second stream.
      const sentAt = progress.snapshotUnansweredSince;
      if (sentAt === null || message.round > sentAt) this.sendSnapshotChunk(message.from, progress);
    } else if (progress.match < this.log.lastIndex()) {
      this.sendAppend(message.from);
    }
    // Only voters confirm leadership (§6.4): a learner's answer says nothing about a quorum.
    if (message.context === '' || !isVoter(this.membership, message.from)) return;
    const acknowledgements = this.readQueue.acknowledge(message.context, message.from);
    if (acknowledgements >= quorumSize(this.membership)) {
      for (const read of this.readQueue.releaseThrough(message.context))
        this.releaseRead(read.context, read.requester, read.index);
    }
  }

  private handleSnapshotResponse(progress: Progress, message: MessageOf<'snapshot-response'>): void {
    if (progress.state !== 'snapshot' || message.snapshotIndex !== progress.snapshotIndex) return;
    if (message.done) {
      progress.maybeUpdate(message.snapshotIndex);
      progress.becomeProbe();
      this.sendAppend(message.from);
      return;
    }
    const offset = Math.max(0, message.receivedBytes);
    // A second answer for the point already in flight (a resent chunk was answered twice) must
    // not start a second stream.
    if (offset === progress.snapshotSentOffset) return;
    progress.snapshotUnansweredSince = null;
    progress.snapshotOffset = offset;
    this.sendSnapshotChunk(message.from, progress);
  }

  private proposalRefusal(bytes: number): ProposeResult | null {
    const refuse = (reason: Extract<ProposeResult, { ok: false }>['reason']): ProposeResult => ({
      ok: false,
      reason,
      leader: this.leader,
    });
    if (this.role !== 'leader') return refuse('not-leader');
    if (this.transferee !== NO_NODE) return refuse('transfer-in-progress');
    if (bytes > this.config.maxProposalBytes) return refuse('too-large');
    if (this.uncommittedBytes + bytes > this.config.maxUncommittedBytes) return refuse('overloaded');
    return null;
  }

  private appendLeaderEntry(type: Entry['type'], data: Uint8Array, idempotency: IdempotencyStamp | undefined): Entry {
    const entry = this.log.appendNew(this.term, type, data, idempotency);
    this.uncommittedBytes += data.byteLength;
    if (type === 'config') this.membershipMayHaveChanged();
    this.appendsToBroadcast = true;
    return entry;
  }

  /** After the driver persisted our own entries: they count toward the quorum now. */
  private leaderAfterPersist(): void {
    const self = this.progress.get(this.config.id);
    if (self?.maybeUpdate(this.log.stableIndex) && this.maybeCommit()) this.broadcastCommit();
  }

  /** §3.6.2 and figure 8: commit the quorum's match index, but only counting entries of our term. */
  private maybeCommit(): boolean {
    const matches = this.membership.voters.map((voter) => this.progress.get(voter)?.match ?? 0).sort((a, b) => b - a);
    const quorumIndex = matches[quorumSize(this.membership) - 1] ?? 0;
    if (quorumIndex <= this.log.committed || this.log.term(quorumIndex) !== this.term) return false;
    for (let index = this.log.committed + 1; index <= quorumIndex; index++)
      this.uncommittedBytes -= this.log.entry(index)!.data.byteLength;
    this.log.commitTo(quorumIndex);
    this.afterCommit();
    return true;
  }

  private afterCommit(): void {
    if (this.log.committed >= this.termStartIndex && this.readsAwaitingCommit.length > 0) {
      const waiting = this.readsAwaitingCommit;
      this.readsAwaitingCommit = [];
      for (const read of waiting) this.leaderReadIndex(read.context, read.requester);
    }
    // §4.2.2: a leader removed from the membership steps down once the removal is committed.
    if (!isVoter(this.membership, this.config.id) && !this.hasUncommittedConfig()) {
      this.broadcastCommit(); // Tell the others the removal committed before going quiet.
      this.becomeFollower(this.term, NO_NODE);
    }
  }

  private hasUncommittedConfig(): boolean {
    const last = this.log.lastConfigEntryAtOrBelow(this.log.lastIndex());
    return last !== undefined && last.index > this.log.committed;
  }

  /** After a commit: every follower hears the new commit index, with whatever entries it still lacks. */
  private broadcastCommit(): void {
    for (const node of this.progress.keys()) if (node !== this.config.id) this.sendAppend(node, 'commit');
  }

  private sendTimeoutNow(to: NodeId): void {
    this.leaseForfeited = true;
    this.send(to, { type: 'timeout-now' });
  }

  private flushAppends(): void {
    this.appendsToBroadcast = false;
    if (this.role !== 'leader') return;
    for (const [node, progress] of this.progress) {
      if (node !== this.config.id && progress.next <= this.log.lastIndex()) this.sendAppend(node);
    }
  }

  private broadcastHeartbeat(context: string): void {
    for (const [node, progress] of this.progress) {
      if (node === this.config.id) continue;
      this.send(node, {
        type: 'heartbeat',
        commit: Math.min(progress.match, this.log.committed),
        context,
        round: this.ticksSinceStart,
      });
    }
  }

  /**
   * `purpose` 'commit' (broadcastCommit): an append that ends up carrying no entry to a follower in
   * the replicate state only moves its commit index, and asks for no answer (answerWanted false).
   * Such an answer could say only "I hold everything through prevIndex": either the leader knows
   * it already (match), or the answer to the append that carried those entries, in flight on the
   * same FIFO connection, says it first. Were that answer lost, the heartbeat answer's sendAppend
   * (purpose 'replicate') wants one again. Nothing else rides on it: CheckQuorum and the read
   * lease count heartbeat answers, and a follower still answers every refusal and every append
   * from a stale term. At one client this saves each follower a frame and the leader two wake-ups
   * per write (issue 19).
   */
  private sendAppend(to: NodeId, purpose: 'replicate' | 'commit' = 'replicate'): void {
    const progress = this.progress.get(to);
    if (progress === undefined || progress.isPaused()) return;
    const prevIndex = progress.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries =
      prevTerm === undefined
        ? undefined
        : this.log.slice(progress.next, this.log.lastIndex() + 1, this.config.maxAppendBytes);
    if (prevTerm === undefined || entries === undefined) {
      this.startSnapshot(to, progress);
      return;
    }
    const answerWanted = !(purpose === 'commit' && entries.length === 0 && progress.state === 'replicate');
    this.send(to, { type: 'append', prevIndex, prevTerm, entries, commit: this.log.committed, answerWanted });
    const last = entries[entries.length - 1];
    if (last !== undefined)
      progress.sentEntries(
        last.index,
        entries.reduce((sum, entry) => sum + entry.data.byteLength, 0),
      );
    else if (progress.state === 'probe') progress.probeSent = true;
  }

  private startSnapshot(to: NodeId, progress: Progress): void {
    const snapshot = this.latestSnapshot;
    assert(snapshot !== null, `follower ${to} needs compacted entries but no snapshot exists`);
    progress.becomeSnapshot(snapshot.meta.index);
    this.sendSnapshotChunk(to, progress);
  }

  private sendSnapshotChunk(to: NodeId, progress: Progress): void {
    const snapshot = this.latestSnapshot;
    if (snapshot === null || snapshot.meta.index !== progress.snapshotIndex) {
      // A newer local snapshot replaced the one being streamed: start over with the new one.
      progress.becomeProbe();
      this.sendAppend(to);
      return;
    }
    const offset = Math.min(progress.snapshotOffset, snapshot.data.byteLength);
    const data = snapshot.data.subarray(offset, offset + this.config.snapshotChunkBytes);
    progress.snapshotSentOffset = offset;
    progress.snapshotUnansweredSince = this.ticksSinceStart;
    this.send(to, { type: 'snapshot-chunk', meta: snapshot.meta, offset, totalBytes: snapshot.data.byteLength, data });
  }

  // ---------------------------------------------------------------- reads

  private leaderReadIndex(context: string, requester: NodeId): void {
    if (this.log.committed < this.termStartIndex) {
      if (this.readsAwaitingCommit.length >= this.config.maxPendingReads) this.refuseRead(context, requester);
      else this.readsAwaitingCommit.push({ context, requester });
      return;
    }
    const soleVoter = this.membership.voters.length === 1 && this.membership.voters[0] === this.config.id;
    if (soleVoter || (this.config.readMode === 'lease' && this.leaseHolds())) {
      this.releaseRead(context, requester, this.log.committed);
      return;
    }
    if (this.readQueue.isFull() || this.readQueue.has(context)) {
      this.refuseRead(context, requester);
      return;
    }
    // A leader that removed itself still serves reads, but only the voters' answers count (§4.2.2).
    const acknowledgedBy = new Set<NodeId>(isVoter(this.membership, this.config.id) ? [this.config.id] : []);
    this.readQueue.add({ context, index: this.log.committed, requester, acknowledgedBy });
    this.broadcastHeartbeat(context);
  }

  /**
   * §6.4.1: a quorum answered a heartbeat round sent at tick T, so none of them will grant a vote
   * (leader stickiness) before T + electionTicks of their own ticks. One tick is kept as a
   * margin for clock drift between replicas. No lease once a transfer started in this term:
   * TimeoutNow overrides stickiness (see leaseForfeited; sim seeds 28103, 36185).
   */
  private leaseHolds(): boolean {
    if (this.transferee !== NO_NODE || this.leaseForfeited) return false;
    const rounds = this.membership.voters
      .map((voter) =>
        voter === this.config.id ? this.ticksSinceStart : (this.progress.get(voter)?.lastAnsweredRound ?? -1),
      )
      .sort((a, b) => b - a);
    const quorumRound = rounds[quorumSize(this.membership) - 1] ?? -1;
    return quorumRound >= 0 && this.ticksSinceStart < quorumRound + this.config.electionTicks - 1;
  }

  private releaseRead(context: string, requester: NodeId, index: LogIndex): void {
    if (requester === this.config.id) this.readStates.push({ context, index });
    else this.send(requester, { type: 'read-index-response', context, index, reject: false });
  }

  private refuseRead(context: string, requester: NodeId): void {
    if (requester === this.config.id) this.readFailures.push({ context, reason: 'leadership-lost' });
    else this.send(requester, { type: 'read-index-response', context, index: 0, reject: true });
  }

  private failPendingReads(reason: ReadFailure['reason']): void {
    const pending = [...this.readQueue.drain(), ...this.readsAwaitingCommit];
    this.readsAwaitingCommit = [];
    for (const read of pending) {
      if (read.requester === this.config.id) this.readFailures.push({ context: read.context, reason });
      else this.send(read.requester, { type: 'read-index-response', context: read.context, index: 0, reject: true });
    }
  }

  // ---------------------------------------------------------------- membership

  /** The membership in force at `index`: the latest config entry at or below it (§4.1). */
  private membershipAt(index: LogIndex): Membership {
    const entry = this.log.lastConfigEntryAtOrBelow(index);
    if (entry === undefined) return this.baseMembership;
    if (this.membershipCache?.index !== entry.index || this.membershipCache.term !== entry.term) {
      this.membershipCache = {
        index: entry.index,
        term: entry.term,
        membership: decodeConfigEntry(entry.data).membership,
      };
    }
    return this.membershipCache.membership;
  }

  private membershipMayHaveChanged(): void {
    this.membership = this.membershipAt(this.log.lastIndex());
    if (this.role !== 'leader') return;
    for (const node of members(this.membership)) this.ensureProgress(node);
    for (const node of [...this.progress.keys()]) {
      if (!isMember(this.membership, node) && node !== this.config.id) this.progress.delete(node);
    }
    if (this.transferee !== NO_NODE && !isVoter(this.membership, this.transferee)) this.transferee = NO_NODE;
  }

  private ensureProgress(node: NodeId): void {
    if (this.progress.has(node)) return;
    const progress = new Progress(
      this.log.lastIndex() + 1,
      this.config.maxInflightMessages,
      this.config.maxInflightBytes,
    );
    progress.recentActive = true;
    if (node === this.config.id) progress.maybeUpdate(this.log.stableIndex);
    this.progress.set(node, progress);
  }

  // ---------------------------------------------------------------- plumbing

  private send(to: NodeId, body: MessageBody): void {
    this.sendWithTerm(to, this.term, body);
  }

  private sendWithTerm(to: NodeId, term: Term, body: MessageBody): void {
    this.messages.push({ ...body, from: this.config.id, to, term } as Message);
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  /** A snapshot is due once `applied` reaches this member's next point past the last one; asked for once. */
  private snapshotWanted(applied: LogIndex = this.log.applied): LogIndex | null {
    if (this.snapshotRequestedAt !== null || this.snapshotToInstall !== null) return null;
    return applied >= this.snapshotDueAt(this.latestSnapshot?.meta.index ?? 0) ? applied : null;
  }

  /** The applied index at which the next snapshot is due, the last one having been taken at `since`. */
  snapshotDueAt(since: LogIndex): LogIndex {
    const interval = this.config.snapshotThresholdEntries;
    if (!this.config.staggerSnapshots) return since + interval;
    const offset = this.snapshotOffset();
    return offset + (Math.floor((since - offset) / interval) + 1) * interval;
  }

  /** This member's point in the snapshot interval: its position among the sorted members' share of it. */
  private snapshotOffset(): LogIndex {
    const membership = this.membership;
    if (this.snapshotOffsetCache?.membership !== membership) {
      const sorted = members(membership).sort();
      const position = Math.max(0, sorted.indexOf(this.config.id));
      const offset = Math.floor((position * this.config.snapshotThresholdEntries) / Math.max(1, sorted.length));
      this.snapshotOffsetCache = { membership, offset };
    }
    return this.snapshotOffsetCache.offset;
  }

  private assertNoPendingReady(): void {
    assert(this.pendingReady === null, 'the driver must advance() the last Ready before feeding the core again');
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
