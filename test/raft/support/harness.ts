// A tiny synchronous cluster of pure cores for scenario tests: messages are queued and delivered
// only when the test says so, so every scenario is an exact sequence of events.
//
// The driver loop per Ready follows types.ts: persist (the `disk`, with the same rules as
// storage.ts) → queue messages → install the snapshot, apply → advance → take a local snapshot
// when asked. A crash loses everything but the disk; a `held` node models a driver stuck between
// ready() and persist (a slow fsync): nothing of its Ready is persisted or sent until released.
import { RaftCore } from '../../../src/raft/core.ts';
import { defaultCoreConfig, type CoreConfig } from '../../../src/raft/config.ts';
import { decodeConfigEntry } from '../../../src/raft/membership.ts';
import { SeededRandom } from '../../../src/raft/random.ts';
import { type ReplicatedStateMachine, StateMachineHost } from '../../../src/raft/state-machine-host.ts';
import type {
  Entry,
  HardState,
  IdempotencyStamp,
  LogIndex,
  Membership,
  Message,
  NodeId,
  ReadFailure,
  ReadState,
  Ready,
  Snapshot,
} from '../../../src/raft/types.ts';
import { nodeId } from '../../../src/raft/types.ts';

export interface HarnessOptions {
  /**
   * When set, every node's state machine runs inside the product's StateMachineHost, which
   * decides idempotency-stamped entries through the replicated idempotency table (§6.3) and
   * keeps it in its snapshots (their envelope); a duplicate or a reused key is not applied and is
   * recorded in `duplicates` or `reusedKeys` instead.
   */
  readonly idempotency?: boolean;
}

/** The harness's state machine behind a StateMachineHost: the applied texts, as a JSON array. */
class TextMachine implements ReplicatedStateMachine {
  constructor(private readonly node: HarnessNode) {}
  apply(command: Uint8Array): unknown {
    return this.node.stateMachine.push(Buffer.from(command).toString());
  }
  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify(this.node.stateMachine));
  }
  restore(data: Uint8Array): void {
    this.node.stateMachine = JSON.parse(Buffer.from(data).toString()) as string[];
  }
}

export interface Disk {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

export interface HarnessNode {
  id: NodeId;
  core: RaftCore;
  disk: Disk;
  applied: Entry[];
  readStates: ReadState[];
  readFailures: ReadFailure[];
  stateMachine: string[];
  up: boolean;
  /** The membership the node was created with (PersistedState.bootstrap). */
  bootstrap?: Membership;
  /** Between ready() and persist: its Readies are neither persisted, sent nor applied. */
  held?: boolean;
  /** With HarnessOptions.idempotency: the host, and the entries it did not apply since the node (re)started. */
  host?: StateMachineHost;
  duplicates?: Entry[];
  reusedKeys?: Entry[];
}

export class Harness {
  readonly nodes = new Map<NodeId, HarnessNode>();
  queue: Message[] = [];
  /** Pairs that cannot talk, as "from>to". */
  readonly cut = new Set<string>();
  readonly delivered: Message[] = [];

  constructor(
    ids: string[],
    readonly tune: Partial<CoreConfig> = {},
    readonly seed = 1,
    members?: Membership,
    readonly options: HarnessOptions = {},
  ) {
    const membership: Membership = members ?? {
      voters: ids.map(nodeId),
      learners: [],
      addresses: Object.fromEntries(ids.map((id) => [id, `${id}:1`])),
    };
    for (const id of ids) this.add(id, membership);
  }

  add(id: string, bootstrap: Membership): HarnessNode {
    const disk: Disk = { hardState: { term: 0, vote: '' as NodeId, commit: 0 }, snapshot: null, entries: [] };
    const node: HarnessNode = {
      id: nodeId(id),
      core: undefined as unknown as RaftCore,
      disk,
      applied: [],
      readStates: [],
      readFailures: [],
      stateMachine: [],
      up: true,
      bootstrap,
    };
    this.nodes.set(node.id, node);
    this.boot(node);
    return node;
  }

  private boot(node: HarnessNode): void {
    const bootstrap = node.bootstrap!;
    const config: CoreConfig = { ...defaultCoreConfig(node.id), ...this.tune, id: node.id };
    // As storage.ts load(): the entries after the snapshot (a local snapshot keeps a trailing
    // window of entries at or below its index on disk; they are not part of PersistedState).
    const snapshotIndex = node.disk.snapshot?.meta.index ?? 0;
    const entries = node.disk.entries.filter((entry) => entry.index > snapshotIndex);
    node.core = new RaftCore(
      config,
      { hardState: node.disk.hardState, snapshot: node.disk.snapshot, entries, bootstrap },
      new SeededRandom(this.seed * 31 + node.id.charCodeAt(node.id.length - 1)),
    );
    node.duplicates = [];
    node.reusedKeys = [];
    this.restoreStateMachine(node, node.disk.snapshot);
    node.up = true;
    node.held = false;
  }

  /** The state machine as a snapshot: the bare array of applied texts, or the host's envelope around it. */
  private encodeStateMachine(node: HarnessNode): Uint8Array {
    if (node.host === undefined) return Buffer.from(JSON.stringify(node.stateMachine));
    return node.host.snapshot();
  }

  private restoreStateMachine(node: HarnessNode, snapshot: Snapshot | null): void {
    node.stateMachine = [];
    if (this.options.idempotency === true) {
      node.host = new StateMachineHost(new TextMachine(node));
      if (snapshot !== null) node.host.restore(snapshot.data);
      return;
    }
    if (snapshot !== null) node.stateMachine = JSON.parse(Buffer.from(snapshot.data).toString()) as string[];
  }

  node(id: string): HarnessNode {
    const node = this.nodes.get(nodeId(id));
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /**
   * The node stops; everything not on its disk is gone, and so are the messages it queued. By
   * default messages on their way to it are lost too; `keepInbound` leaves them in the network,
   * to arrive after a quick restart.
   */
  crash(id: string, options: { keepInbound?: boolean } = {}): void {
    const node = this.node(id);
    node.up = false;
    this.queue = this.queue.filter(
      (message) => message.from !== node.id && (options.keepInbound === true || message.to !== node.id),
    );
  }

  restart(id: string): void {
    this.boot(this.node(id));
  }

  /** The node's driver stops between ready() and persist: a crash now loses that batch. */
  hold(id: string): void {
    this.node(id).held = true;
  }

  release(id: string): void {
    this.node(id).held = false;
  }

  /** Runs every node's Ready loop once: persist, queue messages, apply, advance. */
  process(): void {
    for (const node of this.nodes.values()) {
      while (node.up && !node.held && node.core.hasReady()) this.processOne(node);
    }
  }

  private processOne(node: HarnessNode): void {
    const ready = node.core.ready();
    this.persist(node.disk, ready);
    this.queue.push(...ready.messages);
    if (ready.snapshot) this.restoreStateMachine(node, ready.snapshot);
    for (const entry of ready.committedEntries) this.apply(node, entry);
    node.readStates.push(...ready.readStates);
    node.readFailures.push(...ready.readFailures);
    node.core.advance(ready);
    // snapshotWantedAt is the applied index once this Ready's committed entries are applied.
    if (ready.snapshotWantedAt !== null) this.takeSnapshot(node, ready.snapshotWantedAt, this.encodeStateMachine(node));
  }

  /** One transaction of storage.ts: snapshot (keeping the log suffix only if it matches), entries, hard state. */
  private persist(disk: Disk, ready: Ready): void {
    if (ready.snapshot) {
      const meta = ready.snapshot.meta;
      const keepSuffix = disk.entries.find((entry) => entry.index === meta.index)?.term === meta.term;
      disk.snapshot = ready.snapshot;
      disk.entries = keepSuffix ? disk.entries.filter((entry) => entry.index > meta.index) : [];
    }
    if (ready.entries.length > 0) {
      const first = ready.entries[0]!.index;
      disk.entries = disk.entries.filter((entry) => entry.index < first).concat(ready.entries);
    }
    if (ready.hardState) disk.hardState = ready.hardState;
  }

  private apply(node: HarnessNode, entry: Entry): void {
    node.applied.push(entry);
    if (entry.type !== 'normal') return;
    if (node.host === undefined) {
      node.stateMachine.push(Buffer.from(entry.data).toString());
      return;
    }
    const outcome = node.host.apply(entry).idempotency;
    if (outcome?.type === 'duplicate') node.duplicates!.push(entry);
    if (outcome?.type === 'key-reused') node.reusedKeys!.push(entry);
  }

  private takeSnapshot(node: HarnessNode, index: LogIndex, data: Uint8Array): void {
    const disk = node.disk;
    const term = disk.entries.find((entry) => entry.index === index)?.term;
    const through = node.core.snapshotTaken(index, data);
    if (term !== undefined && index > (disk.snapshot?.meta.index ?? 0)) {
      disk.snapshot = { meta: { index, term, membership: this.membershipOnDisk(node, index) }, data };
    }
    disk.entries = disk.entries.filter((entry) => entry.index > through);
  }

  /** The membership in force at `index` by the persisted log: the latest config entry at or below it (§4.1). */
  private membershipOnDisk(node: HarnessNode, index: LogIndex): Membership {
    let membership = node.disk.snapshot?.meta.membership ?? node.bootstrap!;
    for (const entry of node.disk.entries) {
      if (entry.index > index) break;
      if (entry.type === 'config') membership = decodeConfigEntry(entry.data).membership;
    }
    return membership;
  }

  /** Delivers queued messages until none are left (bounded). */
  deliverAll(filter: (message: Message) => boolean = () => true, maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      this.process();
      const deliverable = this.queue.filter(filter);
      if (deliverable.length === 0) return;
      this.queue = this.queue.filter((message) => !filter(message));
      for (const message of deliverable) this.deliver(message);
    }
    throw new Error('deliverAll: messages still flowing after maxRounds');
  }

  deliver(message: Message): void {
    const target = this.nodes.get(message.to);
    if (!target?.up || this.cut.has(`${message.from}>${message.to}`)) return;
    this.delivered.push(message);
    target.core.step(message);
  }

  tick(id: string, times = 1): void {
    for (let count = 0; count < times; count++) this.node(id).core.tick();
  }

  tickAll(times = 1): void {
    for (let count = 0; count < times; count++) {
      for (const node of this.nodes.values()) if (node.up) node.core.tick();
      this.deliverAll();
    }
  }

  /** Forces an election on `id` by ticking it past the largest possible timeout. */
  elect(id: string): void {
    const node = this.node(id);
    for (let count = 0; count < 100 && node.core.status().role !== 'leader'; count++) {
      node.core.tick();
      this.deliverAll();
    }
    if (node.core.status().role !== 'leader') throw new Error(`${id} did not become leader`);
  }

  partition(...groups: string[][]): void {
    this.cut.clear();
    for (const group of groups) {
      for (const other of groups) {
        if (other === group) continue;
        for (const a of group) for (const b of other) this.cut.add(`${a}>${b}`);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  leaders(): HarnessNode[] {
    return [...this.nodes.values()].filter((node) => node.up && node.core.status().role === 'leader');
  }

  propose(id: string, text: string, idempotency?: IdempotencyStamp) {
    return this.node(id).core.propose(Buffer.from(text), idempotency);
  }
}
