// A userspace TCP fault proxy for one (source master → destination master) pair: the source
// dials this port believing it is the destination. Faults come from the shared FaultTable:
// bytes towards the destination obey link(source → destination), bytes coming back obey
// link(destination → source).
//
// Which master is dialling is normally the pair this port was made for. After a membership
// change every master uses the leader's address table (a config entry carries all addresses,
// src/raft/membership.ts), so a port may carry another master's connection; the proxy then
// learns the source from the Raft handshake's x-flotilla-node header.
//
// Races, and what prevents each:
// 1. A fault changes while bytes are queued for a delay: queued chunks keep their release
//    time, new ones are scheduled after the last queued one, so a stream is never reordered.
// 2. A link drops while the upstream connect is in flight: the pipe checks the link again when
//    the connect completes, and holds (or cuts) then.
// 3. Either side closes while data is held: both sockets are destroyed and the queue dropped;
//    a held stream is not delivered to a closed socket.
import net from 'node:net';
import type { FaultTable, LinkState } from './faults.ts';

const maxHeaderBytes = 16 * 1024;
/** A delay queue longer than this pauses its source (TCP's window does the same). */
const maxQueuedChunks = 1_024;
const headerWaitMs = 1_000;
const nodeHeaderPattern = /\r\nx-flotilla-node:\s*([A-Za-z0-9._-]+)\s*\r\n/i;

export interface ProxyRoute {
  /** The source this port was made for; the handshake header may name another. */
  readonly from: string;
  readonly to: string;
  readonly targetHost: string;
  readonly targetPort: number;
}

export class LinkProxy {
  private readonly server: net.Server;
  private readonly pipes = new Set<Pipe>();
  private readonly onChange = (): void => {
    for (const pipe of this.pipes) pipe.applyFaults();
  };
  port = 0;

  constructor(
    readonly route: ProxyRoute,
    private readonly faults: FaultTable,
    private readonly random: () => number = Math.random,
  ) {
    this.server = net.createServer((socket) => this.accept(socket));
    this.faults.on('change', this.onChange);
  }

  listen(host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve(this.port);
      });
    });
  }

  async close(): Promise<void> {
    this.faults.off('change', this.onChange);
    for (const pipe of this.pipes) pipe.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  connectionCount(): number {
    return this.pipes.size;
  }

  private accept(client: net.Socket): void {
    // Without TCP_NODELAY, Nagle and delayed ACKs add 40 ms to small exchanges: a fault of
    // our own making.
    client.setNoDelay(true);
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    const decide = (): void => {
      clearTimeout(timer);
      client.off('data', onData);
      client.pause();
      const match = nodeHeaderPattern.exec(buffered.toString('latin1'));
      const from = match?.[1] ?? this.route.from;
      const pipe = new Pipe(from, this.route, client, buffered, this.faults, this.random, () =>
        this.pipes.delete(pipe),
      );
      this.pipes.add(pipe);
      pipe.start();
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.includes('\r\n\r\n') || buffered.length >= maxHeaderBytes) decide();
    };
    const timer = setTimeout(decide, headerWaitMs);
    client.on('data', onData);
    client.once('close', () => clearTimeout(timer));
  }
}

/** One proxied connection: the client side, the upstream side, and a direction each way. */
class Pipe {
  private upstream: net.Socket | null = null;
  private up: Direction | null = null;
  private down: Direction | null = null;
  private destroyed = false;

  constructor(
    readonly from: string,
    private readonly route: ProxyRoute,
    private readonly client: net.Socket,
    private readonly firstBytes: Buffer,
    private readonly faults: FaultTable,
    private readonly random: () => number,
    private readonly onClosed: () => void,
  ) {
    client.once('close', () => this.destroy());
  }

  start(): void {
    this.applyFaults();
  }

  /** Called on every fault change: cut, hold, or (re)start the flow. */
  applyFaults(): void {
    if (this.destroyed) return;
    const there = this.faults.link(this.from, this.route.to);
    const back = this.faults.link(this.route.to, this.from);
    if (there.mode === 'cut' || back.mode === 'cut') {
      this.destroy();
      return;
    }
    // A connection is only set up when both directions pass (a SYN and its SYN-ACK).
    if (this.upstream === null) {
      if (there.mode === 'pass' && back.mode === 'pass') this.connect();
      return;
    }
    this.up?.setLink(there);
    this.down?.setLink(back);
  }

  private connect(): void {
    const upstream = net.connect({ host: this.route.targetHost, port: this.route.targetPort, noDelay: true });
    this.upstream = upstream;
    upstream.on('error', () => this.destroy());
    upstream.once('close', () => this.destroy());
    upstream.once('connect', () => {
      if (this.destroyed) return;
      this.up = new Direction(this.client, upstream, this.random);
      this.down = new Direction(upstream, this.client, this.random);
      // Directions resume or hold their source according to the links.
      this.applyFaults();
      if (this.firstBytes.length > 0) this.up.push(this.firstBytes);
    });
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.up?.stop();
    this.down?.stop();
    this.client.destroy();
    this.upstream?.destroy();
    this.onClosed();
  }
}

/** Bytes one way: passed at once, delayed in order, or held while the link drops. */
class Direction {
  private link: LinkState = { mode: 'pass', delayMs: 0, jitterMs: 0 };
  private readonly queue: { chunk: Buffer; releaseAtMs: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastReleaseAtMs = 0;
  private waitingForDrain = false;
  private stopped = false;

  constructor(
    private readonly source: net.Socket,
    private readonly sink: net.Socket,
    private readonly random: () => number,
  ) {
    source.on('data', (chunk: Buffer) => this.push(chunk));
    sink.on('drain', () => {
      this.waitingForDrain = false;
      this.release();
    });
  }

  setLink(link: LinkState): void {
    const wasDropping = this.link.mode === 'drop';
    this.link = link;
    // Held bytes are sent once the link passes again, after the link's delay.
    if (wasDropping && link.mode !== 'drop') {
      const now = performance.now();
      for (const item of this.queue)
        item.releaseAtMs = Math.max(item.releaseAtMs === Infinity ? now + this.delayMs() : item.releaseAtMs, now);
    }
    this.updateFlow();
    this.schedule();
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.link.mode === 'pass' && this.link.delayMs === 0 && this.queue.length === 0 && !this.waitingForDrain) {
      this.write(chunk);
      return;
    }
    // Behind a full sink, bytes wait in order (and the source is paused by updateFlow).
    const releaseAtMs =
      this.link.mode === 'drop' ? Infinity : Math.max(performance.now() + this.delayMs(), this.lastReleaseAtMs);
    if (releaseAtMs !== Infinity) this.lastReleaseAtMs = releaseAtMs;
    this.queue.push({ chunk, releaseAtMs });
    this.updateFlow();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.queue.length = 0;
  }

  private delayMs(): number {
    return this.link.delayMs + this.random() * this.link.jitterMs;
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const head = this.queue[0];
    // A full sink calls release() itself on 'drain'.
    if (this.stopped || head === undefined || head.releaseAtMs === Infinity || this.waitingForDrain) return;
    this.timer = setTimeout(() => this.release(), Math.max(0, head.releaseAtMs - performance.now()));
  }

  private release(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.releaseAtMs <= now && !this.waitingForDrain)
      this.write(this.queue.shift()!.chunk);
    this.updateFlow();
    this.schedule();
  }

  private write(chunk: Buffer): void {
    if (!this.sink.write(chunk)) this.waitingForDrain = true;
    this.updateFlow();
  }

  /** Stop reading while dropping (the kernel buffers, as a stalled TCP peer would) or while the
   *  other side cannot take more; a delay queue bounds itself the same way. */
  private updateFlow(): void {
    if (this.stopped) return;
    const hold = this.link.mode === 'drop' || this.waitingForDrain || this.queue.length > maxQueuedChunks;
    if (hold) this.source.pause();
    else this.source.resume();
  }
}
