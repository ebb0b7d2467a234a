// One simulated replica: a RaftCore, its memory disk and its state machine, driven by the Ready
// loop in the fixed order of DESIGN.md and etcd-raft's doc.go — persist, send, install the
// snapshot, apply, advance — with a checker looking at each stage.
//
// A crash drops the core and the state machine; only the disk survives. It may strike between
// two Readies, or in the middle of one (after ready(), before/after persisting, after sending),
// and nothing of that Ready survives beyond what reached the disk. A restart builds a new core
// from the disk and the state machine from the stored snapshot, as a real master would.
//
// The driver may also take its time: it can leave a Ready pending across several inputs
// (batching, as a busy event loop does), and hand a snapshot to the core some inputs after it
// was serialised (as a worker thread writing a SQLite file would).
//
// With asynchronous writes (the real driver's mode: src/raft/write-pipeline.ts), advance()
// follows the Ready at once and its write completes some inputs later, in the order posted, as
// a worker thread's would; only then is it on the disk, are the messages that waited for it sent
// and does the core hear persisted(). A crash keeps a drawn prefix of the writes in flight (the
// next one maybe torn) and loses the rest with the messages that waited for them.
import type { CoreConfig } from '../../../src/raft/config.ts';
import { RaftCore } from '../../../src/raft/core.ts';
import { SeededRandom } from '../../../src/raft/random.ts';
import type {
  CoreStatus,
  Entry,
  IdempotencyStamp,
  LogIndex,
  Membership,
  MembershipChange,
  Message,
  NodeId,
  ProposeResult,
  ReadFailure,
  ReadState,
  Ready,
  SnapshotMeta,
  Term,
} from '../../../src/raft/types.ts';
import { type Checkers, InvariantViolation } from './checkers.ts';
import { type ApplyOutcome, SimStateMachine } from './state-machine.ts';
import { MemoryDisk, type TornWrite } from './storage.ts';
import { type PipelineWrite, WritePipeline } from '../../../src/raft/write-pipeline.ts';

export type CrashPoint = 'between-readies' | 'before-persist' | 'after-persist' | 'after-send';
export const crashPoints: readonly CrashPoint[] = ['between-readies', 'before-persist', 'after-persist', 'after-send'];

/**
 * What the crash does to the disk (storage.ts): nothing beyond losing the process; lose the
 * writes not yet fsynced; or, at 'after-persist', tear the Ready being written (it did not
 * finish: the driver never sent what depended on it, nor advanced).
 */
export interface DiskCrash {
  readonly loseUnsyncedTail: boolean;
  readonly tornWrite: TornWrite | null;
  /** A broken disk (an fsync that lied): this many synced entries lost. Only to prove the checkers catch it. */
  readonly lyingFsyncEntries?: number;
  /** Asynchronous writes: how many of those in flight reached the disk before the crash (the rest are lost). */
  readonly writesCompleted?: number;
}
export const intactDisk: DiskCrash = { loseUnsyncedTail: false, tornWrite: null };

/** A Ready loop that does not settle within this many batches is a livelock in the core. */
export const maxReadiesPerProcess = 1_000;

/** What a replica needs from the simulated world around it. */
export interface NodeEnvironment {
  readonly checkers: Checkers;
  send(message: Message): void;
  applied(node: NodeId, entry: Entry, outcome: ApplyOutcome): void;
  readAnswered(node: NodeId, read: ReadState): void;
  readFailed(node: NodeId, failure: ReadFailure): void;
  snapshotInstalled(node: NodeId, meta: SnapshotMeta): void;
  snapshotTaken(node: NodeId, index: LogIndex): void;
}

export interface SimNodeOptions {
  readonly id: NodeId;
  readonly config: CoreConfig;
  /** The cluster's initial membership: every replica, a later joiner too, starts from it. */
  readonly bootstrap: Membership;
  /** Seeds each incarnation's election jitter. */
  readonly seed: number;
}

interface PendingWrite {
  readonly write: PipelineWrite;
  inputsLeft: number;
}

interface PendingSnapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
  inputsLeft: number;
}

export class SimNode {
  readonly id: NodeId;
  readonly disk = new MemoryDisk();
  stateMachine: SimStateMachine;
  incarnation = 0;
  /** Removed from the cluster and stopped for good. */
  retired = false;
  private core: RaftCore | null = null;
  private pendingSnapshot: PendingSnapshot | null = null;
  /** Set when the core runs with asyncStorageWrites. */
  private pipeline: WritePipeline | null = null;
  private pendingWrites: PendingWrite[] = [];
  /** Delays (in inputs) drawn for the writes to come, refilled by the cluster (seeded). */
  writeDelay: () => number = () => 0;

  constructor(
    private readonly options: SimNodeOptions,
    private readonly environment: NodeEnvironment,
  ) {
    this.id = options.id;
    this.stateMachine = new SimStateMachine(options.bootstrap);
  }

  get up(): boolean {
    return this.core !== null;
  }

  private live(): RaftCore {
    if (this.core === null) throw new Error(`simulator: ${this.id} is down`);
    return this.core;
  }

  // ------------------------------------------------------------------ life cycle

  start(): void {
    if (this.core !== null) throw new Error(`simulator: ${this.id} is already up`);
    this.incarnation++;
    const persisted = this.disk.load(this.options.bootstrap);
    const random = new SeededRandom((Math.imul(this.options.seed, 0x9e3779b1) + this.incarnation * 7919) >>> 0);
    this.core = new RaftCore(this.options.config, persisted, random);
    this.pipeline = this.options.config.asyncStorageWrites ? new WritePipeline(persisted.hardState) : null;
    this.pendingWrites = [];
    this.stateMachine =
      persisted.snapshot === null
        ? new SimStateMachine(this.options.bootstrap)
        : SimStateMachine.fromSnapshot(persisted.snapshot);
    const status = this.core.status();
    this.environment.checkers.observeRestart(status, this.disk);
    if (status.applied !== this.stateMachine.appliedIndex) {
      throw new InvariantViolation(
        'status sanity',
        `${this.id} restarted with applied ${status.applied}, its state machine is at ${this.stateMachine.appliedIndex}`,
      );
    }
  }

  /** Drops the core; `point` says where in the Ready loop (if a Ready is pending at all). */
  crash(point: CrashPoint, disk: DiskCrash = intactDisk): void {
    const core = this.live();
    if (point !== 'between-readies' && core.hasReady()) this.processOneReady(core, point, disk.tornWrite);
    if (this.pipeline !== null) this.crashWithWritesInFlight(disk);
    if (disk.lyingFsyncEntries !== undefined) this.disk.loseSyncedEntries(disk.lyingFsyncEntries);
    if (disk.loseUnsyncedTail) {
      this.disk.loseUnsyncedTail();
      this.environment.checkers.observeUnsyncedTailLost(this.id, this.disk);
    }
    this.drop();
  }

  /** The writer got through `writesCompleted` of the writes in flight; the next one may be torn. */
  private crashWithWritesInFlight(disk: DiskCrash): void {
    const completed = Math.min(disk.writesCompleted ?? 0, this.pendingWrites.length);
    for (const pending of this.pendingWrites.slice(0, completed)) this.writeToDisk(pending.write);
    const next = this.pendingWrites[completed];
    if (next !== undefined && disk.tornWrite !== null) this.persistTorn(next.write, disk.tornWrite);
    this.pendingWrites = [];
  }

  hasWritesInFlight(): boolean {
    return this.pendingWrites.length > 0;
  }

  writesInFlight(): number {
    return this.pendingWrites.length;
  }

  /** The writer finishes `count` more writes now (between two inputs), in order. */
  completeWrites(count: number = this.pendingWrites.length): number {
    const core = this.live();
    let completed = 0;
    while (completed < count && this.pendingWrites.length > 0) {
      this.completeOneWrite(core);
      completed++;
    }
    return completed;
  }

  private completeOneWrite(core: RaftCore): void {
    const pending = this.pendingWrites.shift()!;
    this.writeToDisk(pending.write);
    const done = this.pipeline!.completed(pending.write.sequence);
    this.sendMessages(done.sendNow);
    if (done.durableThrough !== null) core.persisted(done.durableThrough.index, done.durableThrough.term);
  }

  private writeToDisk(write: PipelineWrite): void {
    this.disk.persist({ hardState: write.hardState, entries: write.entries, snapshot: write.snapshot });
    this.environment.checkers.observePersist(this.id, this.disk);
  }

  private drop(): void {
    this.core = null;
    this.pipeline = null;
    this.pendingWrites = [];
    this.pendingSnapshot = null;
    this.stateMachine = new SimStateMachine(this.options.bootstrap);
  }

  // ------------------------------------------------------------------ inputs

  tick(): void {
    this.beforeInput().tick();
  }

  step(message: Message): void {
    this.beforeInput().step(message);
  }

  propose(data: Uint8Array, idempotency?: IdempotencyStamp): ProposeResult {
    return this.beforeInput().propose(data, idempotency);
  }

  proposeMembership(change: MembershipChange): ProposeResult {
    return this.beforeInput().proposeMembership(change);
  }

  readIndex(context: string): void {
    this.beforeInput().readIndex(context);
  }

  peerUnreachable(peer: NodeId): void {
    this.beforeInput().peerUnreachable(peer);
  }

  leaderAlive(leader: NodeId, term: number): void {
    this.beforeInput().leaderAlive(leader, term);
  }

  transferLeadership(to: NodeId): boolean {
    return this.beforeInput().transferLeadership(to);
  }

  /** A delayed snapshot is handed over between inputs, never between ready() and advance(). */
  private beforeInput(): RaftCore {
    const core = this.live();
    for (const write of this.pendingWrites) write.inputsLeft--;
    while (this.pendingWrites.length > 0 && this.pendingWrites[0]!.inputsLeft <= 0) this.completeOneWrite(core);
    const pending = this.pendingSnapshot;
    if (pending !== null && --pending.inputsLeft <= 0) this.finishSnapshot(core, pending);
    return core;
  }

  // ------------------------------------------------------------------ inspection

  status(): CoreStatus {
    return this.live().status();
  }

  hasReady(): boolean {
    return this.core?.hasReady() ?? false;
  }

  readLog(low: LogIndex, high: LogIndex): readonly Entry[] {
    return this.live().entriesForInspection(low, high);
  }

  // ------------------------------------------------------------------ the Ready loop

  /** Drains every Ready, in order; returns how many there were. */
  processReadies(): number {
    const core = this.live();
    let count = 0;
    while (core.hasReady()) {
      if (++count > maxReadiesPerProcess)
        throw new Error(`liveness: ${this.id} produced more than ${maxReadiesPerProcess} Readies without settling`);
      this.processOneReady(core, null);
    }
    return count;
  }

  private processOneReady(core: RaftCore, crashAt: CrashPoint | null, torn: TornWrite | null = null): void {
    if (this.pipeline !== null) {
      this.processOneReadyAsync(core, this.pipeline, crashAt);
      return;
    }
    const ready = core.ready();
    // A torn write is a crash in the middle of the persist: nothing after it happens.
    const tearing = crashAt === 'after-persist' && torn !== null;
    // §10.2.1: a leader's messages go before its persist, as the real driver sends them; a
    // crash 'after-send' then leaves them sent and the Ready's entries not on disk.
    if (ready.sendBeforePersist) {
      if (crashAt === 'before-persist') return;
      this.send(ready);
      if (crashAt === 'after-send') return;
      if (tearing) {
        this.persistTorn(ready, torn);
        return;
      }
      this.persist(core, ready);
      if (crashAt === 'after-persist') return;
    } else {
      if (crashAt === 'before-persist') return;
      if (tearing) {
        this.persistTorn(ready, torn);
        return;
      }
      this.persist(core, ready);
      if (crashAt === 'after-persist') return;
      this.send(ready);
      if (crashAt === 'after-send') return;
    }
    this.finishReady(core, ready);
  }

  /**
   * The real driver's order (node.ts): the write is posted, the messages the pipeline releases
   * leave, the rest of the Ready runs and advance() follows at once; the write completes later.
   * A crash at any point of it leaves the writes in flight to crash() (some may complete).
   */
  private processOneReadyAsync(core: RaftCore, pipeline: WritePipeline, crashAt: CrashPoint | null): void {
    const ready = core.ready();
    if (crashAt === 'before-persist') return;
    const accepted = pipeline.accept(ready);
    const write = accepted.write;
    if (write !== null) {
      const first = write.entries[0];
      if (first !== undefined)
        this.environment.checkers.observeEntriesWritten(
          this.id,
          write.entries,
          this.termBefore(core, ready, first.index),
        );
      this.pendingWrites.push({ write, inputsLeft: this.writeDelay() });
    }
    if (crashAt === 'after-persist') return;
    this.sendMessages(accepted.sendNow);
    if (crashAt === 'after-send') return;
    this.finishReady(core, ready);
    // A write drawn with no delay completes as soon as the driver is back in its loop.
    while (this.pendingWrites.length > 0 && this.pendingWrites[0]!.inputsLeft <= 0) this.completeOneWrite(core);
  }

  private finishReady(core: RaftCore, ready: Ready): void {
    if (ready.snapshot !== null) this.installSnapshot(ready);
    for (const entry of ready.committedEntries) this.apply(entry);
    // snapshotWantedAt is the applied index once this Ready's committed entries are applied.
    const capture = ready.snapshotWantedAt === null ? null : this.captureSnapshot(ready.snapshotWantedAt);
    for (const read of ready.readStates) this.environment.readAnswered(this.id, read);
    for (const failure of ready.readFailures) this.environment.readFailed(this.id, failure);
    core.advance(ready);
    if (capture === null) return;
    if (capture.inputsLeft <= 0) this.finishSnapshot(core, capture);
    else this.pendingSnapshot = capture;
  }

  private send(ready: Ready): void {
    this.sendMessages(ready.messages);
  }

  private sendMessages(messages: readonly Message[]): void {
    for (const message of messages) {
      this.environment.checkers.observeSend(this.id, message, this.disk);
      this.environment.send(message);
    }
  }

  private persist(core: RaftCore, ready: Ready): void {
    const checkers = this.environment.checkers;
    const first = ready.entries[0];
    if (first !== undefined)
      checkers.observeEntriesWritten(this.id, ready.entries, this.termBefore(core, ready, first.index));
    this.disk.persist({ hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot });
    checkers.observePersist(this.id, this.disk);
  }

  /** Entries of the last torn write that did not reach the disk whole (for the counters). */
  entriesLostToTear = 0;

  private persistTorn(ready: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>, torn: TornWrite): void {
    // The tear falls inside the batch: at most its last entry is the half-written one.
    const entriesKept = Math.min(torn.entriesKept, Math.max(0, ready.entries.length - 1));
    this.entriesLostToTear = ready.entries.length - entriesKept;
    this.disk.persistTorn(
      { hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot },
      { entriesKept, tearNext: torn.tearNext },
    );
    this.environment.checkers.observePersist(this.id, this.disk);
  }

  /** The term of the entry just below `index` in this replica's log, when still known. */
  private termBefore(core: RaftCore, ready: Ready, index: LogIndex): Term | undefined {
    if (index === 1) return 0;
    const inMemory = core.entriesForInspection(index - 1, index)[0];
    if (inMemory !== undefined) return inMemory.term;
    if (ready.snapshot?.meta.index === index - 1) return ready.snapshot.meta.term;
    return this.disk.termAt(index - 1);
  }

  private installSnapshot(ready: Ready): void {
    const snapshot = ready.snapshot!;
    const indexBefore = this.stateMachine.appliedIndex;
    this.stateMachine = SimStateMachine.fromSnapshot(snapshot);
    this.environment.checkers.observeSnapshotInstall(this.id, snapshot.meta, indexBefore, this.stateMachine.digest);
    this.environment.snapshotInstalled(this.id, snapshot.meta);
  }

  private apply(entry: Entry): void {
    const machine = this.stateMachine;
    const indexBefore = machine.appliedIndex;
    const alreadyInState = entry.idempotency !== undefined && machine.hasApplied(entry.idempotency.key);
    const outcome = machine.apply(entry);
    const checkers = this.environment.checkers;
    checkers.observeApplied(this.id, entry, indexBefore, machine.digest);
    if (entry.idempotency !== undefined) checkers.observeStampedApply(this.id, entry, outcome, alreadyInState);
    this.environment.applied(this.id, entry, outcome);
  }

  // ------------------------------------------------------------------ snapshots

  private snapshotDelayInputs = 0;

  /** 0: hand snapshots to the core right after advance(); n: n inputs later. */
  setSnapshotDelay(inputs: number): void {
    this.snapshotDelayInputs = inputs;
  }

  private captureSnapshot(index: LogIndex): PendingSnapshot {
    const machine = this.stateMachine;
    if (machine.appliedIndex !== index) {
      throw new InvariantViolation(
        'snapshot consistency',
        `${this.id}: the core wants a snapshot at ${index}, the state machine has applied ${machine.appliedIndex}`,
      );
    }
    const meta: SnapshotMeta = { index, term: machine.appliedTerm, membership: machine.membership };
    this.environment.checkers.observeSnapshotContents(this.id, meta, machine.digest);
    return { meta, data: machine.serialize(), inputsLeft: this.snapshotDelayInputs };
  }

  hasPendingSnapshot(): boolean {
    return this.pendingSnapshot !== null;
  }

  /** The driver's snapshot writer finishes now (between two inputs), if one is pending. */
  finishPendingSnapshot(): boolean {
    const pending = this.pendingSnapshot;
    if (pending === null) return false;
    this.finishSnapshot(this.live(), pending);
    return true;
  }

  /** The core's record of the snapshot (lastSnapshot()) and the driver's must describe the same state. */
  private checkCoreAgrees(core: RaftCore, ours: SnapshotMeta): void {
    const theirs = core.lastSnapshot()?.meta;
    if (theirs?.index !== ours.index) return; // The core ignored it as stale.
    const describe = (meta: SnapshotMeta): string => `${meta.term}/${JSON.stringify(meta.membership)}`;
    if (describe(theirs) !== describe(ours)) {
      throw new InvariantViolation(
        'snapshot consistency',
        `${this.id}: the core records snapshot ${ours.index} as ${describe(theirs)}, the state machine as ${describe(ours)}`,
      );
    }
  }

  private finishSnapshot(core: RaftCore, pending: PendingSnapshot): void {
    this.pendingSnapshot = null;
    const compactThrough = core.snapshotTaken(pending.meta.index, pending.data);
    this.checkCoreAgrees(core, pending.meta);
    this.disk.saveSnapshot({ meta: pending.meta, data: pending.data });
    this.disk.compact(compactThrough);
    this.environment.snapshotTaken(this.id, pending.meta.index);
  }
}
