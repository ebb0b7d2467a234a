// The simulated world: the replicas, the network between them, the checkers watching them, the
// clients proposing to them and the trace of what happened. Every operation a scenario performs
// goes through here, so each one is traced and followed by the checks of the node it touched.
import { type CoreConfig, defaultCoreConfig } from '../../../src/raft/config.ts';
import { members } from '../../../src/raft/membership.ts';
import type { SeededRandom } from '../../../src/raft/random.ts';
import { nodeId } from '../../../src/raft/types.ts';
import type {
  Entry,
  LogIndex,
  Membership,
  Message,
  NodeId,
  ReadFailure,
  ReadState,
  SnapshotMeta,
} from '../../../src/raft/types.ts';
import { Checkers, type InspectedLog } from './checkers.ts';
import { type NetworkFaults, SimNetwork } from './network.ts';
import { type CrashPoint, type DiskCrash, intactDisk, type NodeEnvironment, SimNode } from './node.ts';
import { type ApplyOutcome, type SimRequest, simStamp } from './state-machine.ts';
import { type TraceEvent, TraceRing } from './trace.ts';

export interface ClusterSettings {
  readonly seed: number;
  readonly nodeCount: number;
  readonly tuning: Partial<CoreConfig>;
  readonly faults: NetworkFaults;
  readonly traceEvents: number;
  /** A node's driver hands a snapshot to its core up to this many inputs after serialising it. */
  readonly maxSnapshotDelayInputs: number;
  /** Asynchronous writes complete up to this many inputs after they are posted (with tuning.asyncStorageWrites). */
  readonly maxWriteDelayInputs?: number | null;
}

export interface SimClient {
  readonly id: string;
  sequence: number;
  /** The current sequence is proposed but not yet seen applied: it is retried, never skipped. */
  outstanding: boolean;
}

export interface ClusterCounters {
  ticks: number;
  deliveries: number;
  proposalsAccepted: number;
  proposalsRefused: number;
  retries: number;
  readsAsked: number;
  readsAnswered: number;
  readsFailed: number;
  crashes: number;
  /** Crashes that tore a Ready being written with entries, some of which did not reach the disk whole. */
  tornWrites: number;
  /** Crashes that lost the disk's unsynced tail. */
  unsyncedTailsLost: number;
  /** Closed sockets seen by a driver (after a crash, or spurious while the peer lives). */
  disconnects: number;
  restarts: number;
  partitions: number;
  beacons: number;
  transfers: number;
  membershipChanges: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  applied: number;
}

export const nodeAddress = (id: NodeId): string => `${id}.sim:5050`;

export class SimCluster {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network: SimNetwork;
  readonly checkers = new Checkers();
  readonly trace: TraceRing;
  readonly bootstrap: Membership;
  readonly clients: SimClient[] = [];
  readonly counters: ClusterCounters = {
    ticks: 0,
    deliveries: 0,
    proposalsAccepted: 0,
    proposalsRefused: 0,
    retries: 0,
    readsAsked: 0,
    readsAnswered: 0,
    readsFailed: 0,
    crashes: 0,
    tornWrites: 0,
    unsyncedTailsLost: 0,
    disconnects: 0,
    restarts: 0,
    partitions: 0,
    beacons: 0,
    transfers: 0,
    membershipChanges: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    applied: 0,
  };
  step = 0;
  /** The lockstep clock's nodes still to tick in this round (see SimPlan.clock). */
  lockstepRound: NodeId[] = [];
  private nextNodeNumber = 1;
  private nextReadNumber = 1;
  private nextPayloadNumber = 1;
  private readonly environment: NodeEnvironment;
  private current: TraceEvent | null = null;

  constructor(
    readonly settings: ClusterSettings,
    readonly random: SeededRandom,
    networkRandom: SeededRandom,
  ) {
    this.network = new SimNetwork(networkRandom, settings.faults);
    this.trace = new TraceRing(settings.traceEvents);
    const ids = Array.from({ length: settings.nodeCount }, (_, offset) => nodeId(`n${offset + 1}`));
    this.nextNodeNumber = settings.nodeCount + 1;
    this.bootstrap = {
      voters: ids,
      learners: [],
      addresses: Object.fromEntries(ids.map((id) => [id, nodeAddress(id)])),
    };
    this.environment = this.makeEnvironment();
    for (const id of ids) this.createNode(id).start();
    for (let number = 1; number <= 3; number++)
      this.clients.push({ id: `c${number}`, sequence: 0, outstanding: false });
  }

  private makeEnvironment(): NodeEnvironment {
    return {
      checkers: this.checkers,
      send: (message: Message) => this.network.send(message),
      applied: (node: NodeId, entry: Entry, outcome: ApplyOutcome) => this.onApplied(node, entry, outcome),
      readAnswered: (node: NodeId, read: ReadState) => {
        this.counters.readsAnswered++;
        this.checkers.observeReadState(node, read);
      },
      readFailed: (_node: NodeId, _failure: ReadFailure) => {
        this.counters.readsFailed++;
      },
      snapshotInstalled: (_node: NodeId, _meta: SnapshotMeta) => {
        this.counters.snapshotsInstalled++;
      },
      snapshotTaken: (_node: NodeId, _index: LogIndex) => {
        this.counters.snapshotsTaken++;
      },
    };
  }

  private onApplied(_node: NodeId, entry: Entry, outcome: ApplyOutcome): void {
    this.counters.applied++;
    if (outcome !== 'applied' || entry.idempotency === undefined) return;
    const key = entry.idempotency.key;
    const client = this.clients.find((candidate) => key === `${candidate.id}/${candidate.sequence}`);
    if (client !== undefined) client.outstanding = false;
  }

  createNode(id: NodeId): SimNode {
    const config: CoreConfig = { ...defaultCoreConfig(id), ...this.settings.tuning, id };
    const node = new SimNode(
      { id, config, bootstrap: this.bootstrap, seed: this.settings.seed * 1_000 + Number(id.slice(1)) },
      this.environment,
    );
    node.setSnapshotDelay(this.snapshotDelay());
    const maxWriteDelay = this.settings.maxWriteDelayInputs ?? 0;
    node.writeDelay = () => (maxWriteDelay === 0 ? 0 : this.random.nextInt(maxWriteDelay + 1));
    this.nodes.set(id, node);
    return node;
  }

  /** How many inputs a node's driver takes to hand a serialised snapshot to its core. */
  snapshotDelay(): number {
    const max = this.settings.maxSnapshotDelayInputs;
    if (max === Number.POSITIVE_INFINITY) return max;
    return max === 0 ? 0 : this.random.nextInt(max + 1);
  }

  freshNodeId(): NodeId {
    return nodeId(`n${this.nextNodeNumber++}`);
  }

  freshReadContext(): string {
    return `r${this.nextReadNumber++}`;
  }

  freshPayload(): string {
    return `u${this.nextPayloadNumber++}`;
  }

  // ------------------------------------------------------------------ views

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.up);
  }

  downNodes(): SimNode[] {
    return [...this.nodes.values()].filter((node) => !node.up && !node.retired);
  }

  /** Live replicas that believe they lead (there may be several, in different terms). */
  believedLeaders(): SimNode[] {
    return this.upNodes().filter((node) => node.status().role === 'leader');
  }

  /** The membership as the most advanced live replica sees it, or the bootstrap one. */
  latestMembership(): Membership {
    let best: { commit: LogIndex; membership: Membership } | null = null;
    for (const node of this.upNodes()) {
      const status = node.status();
      if (best === null || status.commit > best.commit) best = { commit: status.commit, membership: status.membership };
    }
    return best?.membership ?? this.bootstrap;
  }

  node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`simulator: no node ${id}`);
    return node;
  }

  // ------------------------------------------------------------------ tracing and checking

  /** Starts a traced step; `finish` records the touched node's state after it. */
  begin(what: string, message?: Message): void {
    this.step++;
    this.current = this.trace.record(
      message === undefined ? { step: this.step, what } : { step: this.step, what, message },
    );
  }

  note(text: string): void {
    if (this.current !== null) this.current.what += ` ${text}`;
  }

  /** The checks after a step that touched `node` (and its Ready loop, when `process`). */
  settle(node: SimNode, process: boolean): void {
    if (!node.up) return;
    if (process) node.processReadies();
    if (!node.up) return;
    const status = node.status();
    this.checkers.observeStatus(status, (low, high) => node.readLog(low, high));
    if (this.current !== null) {
      this.current.after = `${node.id} ${status.role} t${status.term} last ${status.lastIndex} commit ${status.commit} applied ${status.applied}`;
    }
  }

  /** Every live replica's status, and every log (memory and disk) compared from scratch. */
  fullCheck(): void {
    const logs: InspectedLog[] = [];
    for (const node of this.nodes.values()) {
      logs.push({ owner: `${node.id}/disk`, entries: node.disk.storedEntries() });
      if (!node.up) continue;
      const status = node.status();
      this.checkers.observeStatus(status, (low, high) => node.readLog(low, high));
      logs.push({ owner: `${node.id}/memory`, entries: node.readLog(status.firstIndex, status.lastIndex + 1) });
    }
    this.checkers.checkLogs(logs);
  }

  // ------------------------------------------------------------------ operations

  tick(node: SimNode, process: boolean): void {
    this.begin(`tick ${node.id}`);
    this.counters.ticks++;
    this.network.tick();
    node.tick();
    this.settle(node, process);
  }

  /** Delivers the next deliverable message; false when there is none. */
  deliver(process: (node: SimNode, message: Message) => boolean): boolean {
    const delivery = this.network.takeNext();
    if (delivery === null) return false;
    const target = this.nodes.get(delivery.message.to);
    if (delivery.blocked || target === undefined || !target.up) {
      this.begin(delivery.blocked ? 'lost (partition)' : 'lost (down)', delivery.message);
      return true;
    }
    this.begin('deliver', delivery.message);
    this.counters.deliveries++;
    target.step(delivery.message);
    this.settle(target, process(target, delivery.message));
    return true;
  }

  flush(node: SimNode): void {
    this.begin(`flush ${node.id}`);
    this.settle(node, true);
  }

  proposePayload(node: SimNode, payload: string, request?: SimRequest, process = true): ReturnType<SimNode['propose']> {
    this.begin(`propose ${node.id} ${payload}`);
    const stamp = request === undefined ? undefined : simStamp(request, this.counters.ticks);
    const result = node.propose(new Uint8Array(Buffer.from(payload, 'utf8')), stamp);
    this.note(result.ok ? `-> ${result.index}/${result.term}` : `-> ${result.reason}`);
    if (result.ok) this.counters.proposalsAccepted++;
    else this.counters.proposalsRefused++;
    this.settle(node, process);
    return result;
  }

  readIndex(node: SimNode, process: boolean): void {
    const context = this.freshReadContext();
    this.begin(`read ${node.id} ${context}`);
    this.counters.readsAsked++;
    this.checkers.observeReadRequested(context);
    node.readIndex(context);
    this.settle(node, process);
  }

  crash(node: SimNode, point: CrashPoint, disk: DiskCrash = intactDisk): void {
    const torn = disk.tornWrite;
    const faults = [
      torn === null ? '' : ` torn(keep ${torn.entriesKept}${torn.tearNext ? ', tear the next' : ''})`,
      disk.loseUnsyncedTail ? ' lose-unsynced' : '',
    ].join('');
    this.begin(`crash ${node.id} ${point}${faults}`);
    this.counters.crashes++;
    if (disk.loseUnsyncedTail) this.counters.unsyncedTailsLost++;
    node.entriesLostToTear = 0;
    const inFlight = node.writesInFlight();
    // Asynchronous writes: the writer got through some of those in flight (the crash's Ready may add one).
    const writesCompleted = inFlight > 0 ? this.random.nextInt(inFlight + 2) : 0;
    if (inFlight > 0) this.note(`(${writesCompleted} of ${inFlight}+ writes in flight done)`);
    node.crash(point, { ...disk, writesCompleted });
    if (node.entriesLostToTear > 0) this.counters.tornWrites++;
  }

  /** `node`'s driver sees its socket to `peer` close: `peer` died, or the connection merely dropped. */
  disconnect(node: SimNode, peer: NodeId, process: boolean): void {
    this.begin(`disconnect ${node.id} from ${peer}`);
    this.counters.disconnects++;
    node.peerUnreachable(peer);
    this.settle(node, process);
  }

  /** `leader`'s beacon of `term` reached `node` (src/raft/beacon.ts). */
  beacon(node: SimNode, leader: NodeId, term: number): void {
    this.begin(`beacon ${leader}@${term} to ${node.id}`);
    this.counters.beacons++;
    node.leaderAlive(leader, term);
    this.settle(node, true);
  }

  restart(node: SimNode): void {
    this.begin(`restart ${node.id}`);
    this.counters.restarts++;
    node.start();
    this.settle(node, true);
  }

  memberNodes(membership: Membership): SimNode[] {
    return members(membership).map((id) => this.node(id));
  }
}
