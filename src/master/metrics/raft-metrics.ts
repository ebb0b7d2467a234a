// Raft as a monitor sees it on one master: where the log is (gauges read at scrape time), what
// happened (elections, pre-votes, term changes, leader changes, proposals by outcome, snapshots)
// and how long it took (fsync of each durable Ready, propose-to-applied latency of this master's
// own writes, snapshot writes). Fed by the driver's observer (src/raft/observer.ts), its leader
// callback, and the master's submit (core.ts).
import type { RaftObserver } from '../../raft/observer.ts';
import type { CoreStatus } from '../../raft/types.ts';
import type { Counter } from 'prom-client';
import type { MetricRegistry } from '../../util/metric-registry.ts';

const millisecondsPerSecond = 1000;

/** fsync on SSDs takes 0.1–10 ms, on busy disks or networked volumes up to seconds. */
const fsyncBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** A commit is a round trip to a majority plus an fsync: 1 ms on loopback, 100s of ms across data centres. */
const commitBucketsSeconds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Heartbeats every tick (30 ms on LAN); the election timeout is 10-20 ticks (0.3-0.6 s). */
const silenceBucketsSeconds = [0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
/** Silences of more ticks than this are counted together: a lost leader, not a slow one. */
const silenceTicksCounted = 20;
const snapshotBucketsSeconds = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class RaftMetrics {
  readonly #elections;
  readonly #preVotes;
  readonly #termChanges;
  readonly #leaderChanges;
  readonly #proposals;
  readonly #commitLatency;
  readonly #fsync;
  readonly #persists;
  readonly #walCheckpoint;
  readonly #walCheckpointFrames;
  readonly #snapshotDuration;
  readonly #snapshots;
  readonly #leaderSilence;
  readonly #leaderSilenceTicks;
  #snapshotBytes = 0;
  /** Proposals applied since the counter was last read (proposed). */
  #appliedNotCounted = 0;
  #lastTerm: number | null = null;
  #lastRole: string | null = null;
  #lastLeader: string | null = null;

  constructor(
    private readonly metrics: MetricRegistry,
    status: () => CoreStatus,
  ) {
    this.#registerGauges(status);
    this.#elections = metrics.counter('flotilla_raft_elections_total', 'elections this master started as candidate');
    this.#preVotes = metrics.counter('flotilla_raft_pre_votes_total', 'PreVote rounds this master started');
    this.#termChanges = metrics.counter('flotilla_raft_term_changes_total', 'terms this master has moved through');
    this.#leaderChanges = metrics.counter(
      'flotilla_raft_leader_changes_total',
      'changes of the leader this master knows of (to another leader, or to none)',
    );
    this.#proposals = metrics.counter(
      'flotilla_raft_proposals_total',
      'commands this master proposed, by outcome',
      ['outcome'],
      (counter) => this.#addApplied(counter),
    );
    this.#commitLatency = metrics.histogram(
      'flotilla_raft_commit_latency_seconds',
      "from proposing one of this master's commands to applying it here (replication, fsync, apply)",
      commitBucketsSeconds,
    );
    this.#fsync = metrics.histogram(
      'flotilla_raft_fsync_seconds',
      'persisting one durable Raft batch (one SQLite transaction and its fsync)',
      fsyncBucketsSeconds,
    );
    this.#persists = metrics.counter('flotilla_raft_persisted_entries_total', 'log entries made durable here');
    this.#walCheckpoint = metrics.histogram(
      'flotilla_raft_wal_checkpoint_seconds',
      "copying the Raft log's WAL back into raft.db between transactions (two fsyncs and a page write per page)",
      snapshotBucketsSeconds,
    );
    this.#walCheckpointFrames = metrics.counter(
      'flotilla_raft_wal_checkpoint_frames_total',
      'WAL frames (4 KiB pages) those checkpoints copied back: ÷ their count, the WAL size they let it reach',
    );
    this.#snapshotDuration = metrics.histogram(
      'flotilla_raft_snapshot_duration_seconds',
      'writing a snapshot of the state machine',
      snapshotBucketsSeconds,
    );
    this.#snapshots = metrics.counter(
      'flotilla_raft_snapshots_total',
      'snapshots taken here or installed from the leader',
      ['kind'],
    );
    this.#leaderSilence = metrics.histogram(
      'flotilla_raft_leader_silence_seconds',
      'on a follower: each gap of at least one tick between messages from its leader (heartbeats, appends)',
      silenceBucketsSeconds,
    );
    this.#leaderSilenceTicks = metrics.counter(
      'flotilla_raft_leader_silences_total',
      `on a follower: the same gaps by the ticks its election timer counted in them (${silenceTicksCounted}+: more)`,
      ['ticks'],
    );
  }

  /** For the Raft driver (RaftNodeOptions.observer). */
  readonly observer: RaftObserver = {
    persisted: (durationMs, entries, durable) => {
      if (!durable) return;
      this.#fsync.observe(durationMs / millisecondsPerSecond);
      this.#persists.inc(entries);
    },
    walCheckpointed: (durationMs, frames) => {
      this.#walCheckpoint.observe(durationMs / millisecondsPerSecond);
      this.#walCheckpointFrames.inc(frames);
    },
    snapshotTaken: (_index, bytes, durationMs) => {
      this.#snapshotBytes = bytes;
      this.#snapshots.inc({ kind: 'taken' });
      this.#snapshotDuration.observe(durationMs / millisecondsPerSecond);
    },
    snapshotInstalled: (_index, bytes) => {
      this.#snapshotBytes = bytes;
      this.#snapshots.inc({ kind: 'installed' });
    },
    leaderSilence: (durationMs, ticks) => {
      this.#leaderSilence.observe(durationMs / millisecondsPerSecond);
      this.#leaderSilenceTicks.inc({
        ticks: ticks >= silenceTicksCounted ? `${silenceTicksCounted}+` : String(ticks),
      });
    },
  };

  /** RaftNode.onLeaderChange: called whenever the role or the known leader changes. */
  roleChanged(status: CoreStatus): void {
    if (status.role !== this.#lastRole && status.role === 'pre-candidate') this.#preVotes.inc();
    if (this.#lastTerm !== null && status.term > this.#lastTerm) {
      this.#termChanges.inc(status.term - this.#lastTerm);
      // A term this master moved to by voting for itself is an election it started, even when
      // it was candidate and leader within one Ready (a single voter) and no callback saw it.
      if (status.vote === status.id) this.#elections.inc();
    }
    if (this.#lastLeader !== null && status.leader !== this.#lastLeader) this.#leaderChanges.inc();
    this.#lastRole = status.role;
    this.#lastTerm = status.term;
    this.#lastLeader = status.leader;
  }

  /** The start point: what this master knew before its first callback. */
  begin(status: CoreStatus): void {
    this.#lastRole = status.role;
    this.#lastTerm = status.term;
    this.#lastLeader = status.leader;
  }

  /** `outcome`: "applied", or the MasterError code it failed with (a bounded set: errors.ts). */
  proposed(outcome: string, durationMs: number): void {
    if (outcome === 'applied') {
      // Every write lands here: a plain number, added to the counter when it is read. prom-client's
      // labelled inc hashes and validates its labels each time, 1.4% of the leader's busy time at
      // 256 clients (issue 19).
      this.#appliedNotCounted += 1;
      this.#commitLatency.observe(durationMs / millisecondsPerSecond);
      return;
    }
    this.#proposals.inc({ outcome });
  }

  #addApplied(counter: Counter<'outcome'>): void {
    if (this.#appliedNotCounted === 0) return;
    counter.inc({ outcome: 'applied' }, this.#appliedNotCounted);
    this.#appliedNotCounted = 0;
  }

  #registerGauges(status: () => CoreStatus): void {
    const gauges: [string, string, (current: CoreStatus) => number][] = [
      ['flotilla_raft_term', 'current Raft term', (current) => current.term],
      ['flotilla_raft_commit_index', 'highest committed log index', (current) => current.commit],
      ['flotilla_raft_applied_index', 'highest applied log index', (current) => current.applied],
      ['flotilla_raft_last_index', 'last log index', (current) => current.lastIndex],
      ['flotilla_raft_snapshot_index', 'index of the latest snapshot', (current) => current.snapshotIndex],
      ['flotilla_raft_is_leader', '1 on the leader, else 0', (current) => (current.role === 'leader' ? 1 : 0)],
      [
        'flotilla_raft_members',
        'voters and learners',
        (current) => current.membership.voters.length + current.membership.learners.length,
      ],
      [
        'flotilla_raft_learners',
        'members still catching up, not yet voting',
        (current) => current.membership.learners.length,
      ],
    ];
    for (const [name, help, read] of gauges) this.metrics.gauge(name, { help, read: () => read(status()) });
    this.metrics.gauge('flotilla_raft_snapshot_bytes', {
      help: 'size of the latest snapshot taken or installed here (0 before the first)',
      read: () => this.#snapshotBytes,
    });
    this.metrics.labelledGauge(
      'flotilla_raft_replication_lag_entries',
      "on the leader: entries of its log each other member does not yet hold (last index − the member's match)",
      ['member'],
      (set) => {
        const current = status();
        if (current.role !== 'leader') return;
        for (const [member, progress] of Object.entries(current.progress)) {
          if (member !== current.id) set({ member }, Math.max(0, current.lastIndex - progress.match));
        }
      },
    );
    this.metrics.mesosGauge('master/elected', {
      help: '1 on the leading master, else 0',
      read: () => (status().role === 'leader' ? 1 : 0),
    });
  }
}
