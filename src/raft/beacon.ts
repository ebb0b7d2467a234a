// The liveness beacon (issue 19): a frozen or lost leader is replaced after a short silence
// while one that only stalls (GC, a long turn, a loaded machine) is not. The followers cannot
// tell the two apart by Raft's messages, which come from the stalled event loop; a worker thread
// (its own isolate and loop, beacon-thread.ts) can: on the leader it sends every follower a small
// authenticated datagram each heartbeat interval as long as the process lives and its main loop
// turned within the bound; on a follower it stamps their arrival. The follower's driver tells
// the core (RaftCore.leaderAlive) while the stamp is fresh; the core then neither campaigns nor
// grants a pre-vote. A separate UDP channel, so no frame format changes: the port is named in
// the Raft handshake (transport.ts BEACON_HEADER), and a member that names none (an older build)
// is sent nothing, and a follower that hears no beacon keeps the election timer of the profile.
import { Worker } from 'node:worker_threads';
import { beaconKey } from './beacon-datagram.ts';
import {
  arrivalSlot,
  type BeaconReply,
  type BeaconRequest,
  type BeaconThreadData,
  epochMicros,
  sharedBytes,
  slot,
} from './beacon-shared.ts';
import type { NodeId, Term } from './types.ts';

export interface BeaconOptions {
  readonly self: NodeId;
  readonly secret: string;
  /** The host of this master's Raft address: the datagrams' socket is bound there. */
  readonly host: string;
  /** Tried first (the Raft port's number, so peers dialed early already know it); any port if taken. */
  readonly preferredPort: number;
  /** The leader's heartbeat interval. */
  readonly intervalMs: number;
  /** A leader's main loop standing still this long stops its beacon. */
  readonly boundMs: number;
  /** A follower's stamp younger than this is fresh. */
  readonly freshMs: number;
  readonly onFailed: (message: string) => void;
}

export interface BeaconTarget {
  readonly host: string;
  readonly port: number;
}

export interface BeaconCounts {
  readonly sent: number;
  readonly withheld: number;
  readonly received: number;
  readonly refused: number;
}

const threadModule = new URL('./beacon-thread.ts', import.meta.url).href;

export class Beacon {
  private readonly worker: Worker;
  private readonly counters: Int32Array;
  private readonly arrival: BigInt64Array;
  private readonly freshMicros: bigint;
  private boundPort: number | null;
  /** What the thread was last told, to post only changes. */
  private role = '';
  private generation = 0;
  private closed = false;
  private readonly exited: Promise<void>;

  private constructor(options: BeaconOptions) {
    const shared = new SharedArrayBuffer(sharedBytes);
    this.counters = new Int32Array(shared, 0, slot.count);
    this.arrival = new BigInt64Array(shared, arrivalSlot.byteOffset, 1);
    this.freshMicros = BigInt(Math.round(options.freshMs * 1000));
    // Named before the thread has bound it: the first dials go out at once, and a peer learns
    // the port only at a handshake. If it is taken, later handshakes name the one bound.
    this.boundPort = options.preferredPort === 0 ? null : options.preferredPort;
    const data: BeaconThreadData = {
      self: options.self,
      shared,
      key: new Uint8Array(beaconKey(options.secret)),
      host: options.host,
      preferredPort: options.preferredPort,
      intervalMs: options.intervalMs,
      boundMs: options.boundMs,
    };
    const loader = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(threadModule)}); })`;
    this.worker = new Worker(bootstrap, { eval: true, workerData: data });
    // The beacon only ever shortens waits it can prove are safe: it must not keep the process up.
    this.worker.unref();
    this.worker.on('message', (reply: BeaconReply) => {
      if (reply.type === 'bound') this.boundPort = reply.port;
      else options.onFailed(reply.message);
    });
    this.worker.on('error', (error) => options.onFailed(error.message));
    this.exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
  }

  static start(options: BeaconOptions): Beacon {
    return new Beacon(options);
  }

  /** The UDP port beacons reach this master on; null while unknown (the handshake then names none). */
  port(): number | null {
    return this.boundPort;
  }

  /** The main loop turned (each tick). */
  bump(): void {
    Atomics.add(this.counters, slot.turns, 1);
  }

  /** Leading in `term`: beacon to `targets` (the followers that named a beacon port). */
  lead(term: Term, targets: readonly BeaconTarget[]): void {
    const role = `lead ${term} ${targets.map((target) => `${target.host}:${target.port}`).join(',')}`;
    if (role === this.role) return;
    this.role = role;
    this.post({ type: 'lead', term, targets });
  }

  /** Following `leader` (NO_NODE: none) in `term`. */
  follow(leader: NodeId, term: Term): void {
    const role = `follow ${leader} ${term}`;
    if (role === this.role) return;
    this.role = role;
    this.generation++;
    this.post({ type: 'follow', leader: leader === '' ? null : leader, term, generation: this.generation });
  }

  /** The followed leader's beacon arrived within freshMs. */
  fresh(): boolean {
    if (Atomics.load(this.counters, slot.generation) !== this.generation) return false;
    const arrived = Atomics.load(this.arrival, 0);
    return arrived !== 0n && epochMicros() - arrived <= this.freshMicros;
  }

  counts(): BeaconCounts {
    return {
      sent: Atomics.load(this.counters, slot.sent),
      withheld: Atomics.load(this.counters, slot.withheld),
      received: Atomics.load(this.counters, slot.received),
      refused: Atomics.load(this.counters, slot.refused),
    };
  }

  /** Stops the thread; resolves once it exited. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Held until it exits, so whoever awaits this is not left by an emptied event loop.
    this.worker.ref();
    this.worker.postMessage({ type: 'close' } satisfies BeaconRequest);
    this.closed = true;
    await this.exited;
  }

  private post(request: BeaconRequest): void {
    if (!this.closed) this.worker.postMessage(request);
  }
}
