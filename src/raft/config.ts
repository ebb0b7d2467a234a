// Tuning of the Raft core, in ticks and bytes. Every field is validated at construction with a
// plain-English error; the defaults suit masters on one LAN (see timing.ts for the wall-clock side).
import type { NodeId } from './types.ts';

export interface CoreConfig {
  readonly id: NodeId;
  /** Minimum election timeout; the real one is drawn from [electionTicks, electionTicks + electionJitterTicks). */
  readonly electionTicks: number;
  readonly electionJitterTicks: number;
  /**
   * true: a follower that hears a leader starts PreVote once that leader has been silent for
   * electionTicks, without the randomized part; a replica that knows no leader (after a refused,
   * lost or split campaign) still waits its randomized timeout (see core.ts electionTimeoutTicks).
   */
  readonly preVoteAtElectionTicks: boolean;
  /**
   * 0: no liveness beacon. Else a follower whose leader's beacon it heard this term (leaderAlive,
   * beacon.ts) campaigns after exactly this many ticks of the leader's silence when the beacon is
   * stale too (a frozen or lost leader), and its stickiness lease ends then; while the beacon is
   * fresh (the leader's process lives, its event loop stalls) it neither campaigns nor grants a
   * pre-vote, up to beaconBoundTicks of silence. Below electionTicks only in 'safe' read mode: a
   * leader's read lease counts on electionTicks of stickiness.
   */
  readonly beaconElectionTicks: number;
  /** With a beacon: silence after which a follower campaigns however fresh the beacon (a spoofed or stuck beacon). */
  readonly beaconBoundTicks: number;
  readonly heartbeatTicks: number;
  /** A leader that has not heard from a quorum for electionTicks steps down (§6.2). */
  readonly checkQuorum: boolean;
  /** 'lease' answers ReadIndex from the leader's lease without a heartbeat round; needs checkQuorum. */
  readonly readMode: 'safe' | 'lease';
  /** Flow control per follower in the replicate state. */
  readonly maxInflightMessages: number;
  readonly maxInflightBytes: number;
  /** Upper bound of entry bytes in one append message (batching). */
  readonly maxAppendBytes: number;
  readonly maxProposalBytes: number;
  readonly snapshotChunkBytes: number;
  /** Ask for a snapshot once this many entries were applied since the last one. */
  readonly snapshotThresholdEntries: number;
  /**
   * Each member asks at its own points of the interval (its position among the sorted members
   * times interval ÷ members), not all at the same index: snapshots of the members of one
   * machine then do not compete for its cores (issue 12). Asked at the first such point past the
   * last snapshot, so one installed from the leader is followed by the member's own sooner.
   */
  readonly staggerSnapshots: boolean;
  /** A learner is promoted only when it is within this many entries of the leader's log. */
  readonly promoteLagEntries: number;
  /** Bound of pending ReadIndex requests on a leader. */
  readonly maxPendingReads: number;
  /** A leader refuses proposals while this many bytes of its log are not yet committed. */
  readonly maxUncommittedBytes: number;
  /** Entries kept in memory behind a local snapshot, so a slightly slow follower needs no snapshot. */
  readonly compactionTrailingEntries: number;
  /** Bound of committed entry bytes handed to the driver in one Ready (keeps the event loop free). */
  readonly maxApplyBytes: number;
  /**
   * false: the driver persists a Ready before advance() and entries are durable once advanced.
   * true (etcd-raft AsyncStorageWrites): advance() only hands the Ready's writes off; the driver
   * reports durability later with persisted(). Committed entries are then handed out for apply
   * only once durable here, and a leader counts itself in a quorum only for durable entries.
   */
  readonly asyncStorageWrites: boolean;
}

export const defaultCoreConfig = (id: NodeId): CoreConfig => ({
  id,
  electionTicks: 10,
  electionJitterTicks: 10,
  heartbeatTicks: 1,
  checkQuorum: true,
  readMode: 'safe',
  maxInflightMessages: 256,
  maxInflightBytes: 16 * 1024 * 1024,
  maxAppendBytes: 1024 * 1024,
  maxProposalBytes: 1024 * 1024,
  snapshotChunkBytes: 256 * 1024,
  snapshotThresholdEntries: 10_000,
  staggerSnapshots: false,
  promoteLagEntries: 64,
  maxPendingReads: 10_000,
  maxUncommittedBytes: 64 * 1024 * 1024,
  compactionTrailingEntries: 1_000,
  maxApplyBytes: 8 * 1024 * 1024,
  asyncStorageWrites: false,
  preVoteAtElectionTicks: false,
  beaconElectionTicks: 0,
  beaconBoundTicks: 0,
});

export function validateCoreConfig(config: CoreConfig): void {
  const positive: (keyof CoreConfig)[] = [
    'electionTicks',
    'electionJitterTicks',
    'heartbeatTicks',
    'maxInflightMessages',
    'maxInflightBytes',
    'maxAppendBytes',
    'maxProposalBytes',
    'snapshotChunkBytes',
    'snapshotThresholdEntries',
    'promoteLagEntries',
    'maxPendingReads',
    'maxUncommittedBytes',
    'maxApplyBytes',
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new Error(`raft config: ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (!Number.isInteger(config.compactionTrailingEntries) || config.compactionTrailingEntries < 0) {
    throw new Error(
      `raft config: compactionTrailingEntries must be a non-negative integer, got ${config.compactionTrailingEntries}`,
    );
  }
  if (config.id === '') throw new Error('raft config: id must not be empty');
  if (config.heartbeatTicks >= config.electionTicks) {
    throw new Error(
      `raft config: heartbeatTicks (${config.heartbeatTicks}) must be below electionTicks (${config.electionTicks})`,
    );
  }
  for (const key of ['beaconElectionTicks', 'beaconBoundTicks'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 0)
      throw new Error(`raft config: ${key} must be a non-negative integer, got ${String(config[key])}`);
  }
  if (config.beaconElectionTicks > 0) {
    if (config.beaconElectionTicks <= config.heartbeatTicks)
      throw new Error(
        `raft config: beaconElectionTicks (${config.beaconElectionTicks}) must be above heartbeatTicks (${config.heartbeatTicks})`,
      );
    if (config.beaconBoundTicks <= config.beaconElectionTicks)
      throw new Error(
        `raft config: beaconBoundTicks (${config.beaconBoundTicks}) must be above beaconElectionTicks (${config.beaconElectionTicks})`,
      );
    if (config.readMode === 'lease' && config.beaconElectionTicks < config.electionTicks)
      throw new Error('raft config: readMode "lease" needs beaconElectionTicks of at least electionTicks (§6.4.1)');
  }
  if (config.readMode === 'lease' && !config.checkQuorum) {
    throw new Error('raft config: readMode "lease" is only safe with checkQuorum on (§6.4.1)');
  }
}
