// A framework as a user would write one against the Mesos v1 scheduler API, reaching masters
// the way every jepsen-lite client does (client/endpoint.ts): one SUBSCRIBE stream to the
// leader (following 307s, re-subscribing with its framework id after any loss), calls on
// fresh connections to the master that holds the stream, each classified as the KV client's
// writes are: an answer, a definite failure (never sent), or indeterminate.
import os from 'node:os';
import http from 'node:http';
import { RecordIoDecoder } from '../../../src/protocol/recordio.ts';
import type { Offer } from '../../../src/protocol/mesos.ts';
import { schedulerApiPath, streamIdHeader, type SchedulerEvent } from '../../../src/protocol/scheduler.ts';
import type { SeededRandom } from '../../../src/raft/random.ts';
import type { AddressBook } from './endpoint.ts';
import { type HttpResult, sendRequest } from './http.ts';

const maxEventBytes = 4 * 1024 * 1024;
const subscribeTimeoutMs = 3_000;
const callTimeoutMs = 3_000;
/** No event (heartbeats included) for this long: the stream is dead, subscribe again. */
const silentStreamMs = 5_000;
const resubscribePauseMs = 100;

export interface StatusUpdate {
  readonly taskId: string;
  readonly state: string;
  readonly source: string | null;
  readonly reason: string | null;
  readonly message: string | null;
}

interface Stream {
  readonly node: string;
  readonly streamId: string;
  readonly request: http.ClientRequest;
}

export class SchedulerClient {
  frameworkId: string | null = null;
  /** Offers received and neither used, declined nor rescinded, by id. */
  readonly offers = new Map<string, Offer>();
  private stream: Stream | null = null;
  private closed = false;
  private lastEventMs = 0;
  private readonly updateListeners = new Set<(update: StatusUpdate) => void>();
  private readonly offerWaiters: (() => void)[] = [];
  private watchdog: NodeJS.Timeout | null = null;
  subscriptions = 0;

  constructor(
    private readonly book: AddressBook,
    private readonly nodes: () => readonly string[],
    private readonly random: SeededRandom,
    private readonly name: string,
  ) {}

  /** Keeps a stream open until close(): subscribes now and again after every loss. */
  start(): void {
    this.watchdog = setInterval(() => {
      if (this.stream !== null && Date.now() - this.lastEventMs > silentStreamMs) this.stream.request.destroy();
    }, 1_000);
    void this.keepSubscribed();
  }

  close(): void {
    this.closed = true;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.stream?.request.destroy();
    for (const wake of this.offerWaiters.splice(0)) wake();
  }

  /** Ends the stream now; the client subscribes again (and hears every update still pending). */
  resubscribe(): void {
    this.stream?.request.destroy();
  }

  onUpdate(listener: (update: StatusUpdate) => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  /**
   * An offer that `fits` taken out of the pool (the caller uses or declines it), or null after
   * `timeoutMs`. An offer too small is declined on the way, as a framework does, so its resources
   * go back to the allocator to be offered again with whatever is freed beside them.
   */
  async takeOffer(timeoutMs: number, fits: (offer: Offer) => boolean = () => true): Promise<Offer | null> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      for (const offer of this.offers.values()) {
        this.offers.delete(offer.id.value);
        if (fits(offer)) return offer;
        void this.call({ type: 'DECLINE', decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0 } } });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.offerWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return null;
  }

  /** A call on the stream's master; null when there is no stream (a definite "not sent"). */
  async call(body: Record<string, unknown>): Promise<HttpResult | null> {
    const stream = this.stream;
    if (stream === null || this.frameworkId === null) return null;
    return sendRequest(this.book.endpoint(stream.node), {
      method: 'POST',
      path: schedulerApiPath,
      timeoutMs: callTimeoutMs,
      headers: { [streamIdHeader]: stream.streamId, accept: 'application/json' },
      body: { ...body, framework_id: { value: this.frameworkId } },
    });
  }

  private async keepSubscribed(): Promise<void> {
    let target: string | null = null;
    while (!this.closed) {
      const node: string | undefined = target ?? this.pickNode();
      target = null;
      if (node === undefined) {
        await pause(resubscribePauseMs);
        continue;
      }
      const redirect: string | null = await this.subscribeTo(node).catch(() => null);
      target = redirect;
      this.stream = null;
      if (!this.closed && redirect === null) await pause(resubscribePauseMs + this.random.nextInt(200));
    }
  }

  private pickNode(): string | undefined {
    const nodes = this.nodes();
    return nodes[this.random.nextInt(Math.max(1, nodes.length))];
  }

  /** Runs one subscription until it ends; the master a 307 named, if that is how it ended. */
  private subscribeTo(node: string): Promise<string | null> {
    const endpoint = this.book.endpoint(node);
    const target =
      endpoint.kind === 'tcp' ? { host: endpoint.host, port: endpoint.port } : { socketPath: endpoint.socketPath };
    const info = {
      // Tasks run as the framework's user, which must exist on the agents: whoever runs jepsen.
      user: os.userInfo().username,
      name: this.name,
      roles: ['*'],
      failover_timeout: 3600,
      capabilities: [{ type: 'MULTI_ROLE' }],
      ...(this.frameworkId === null ? {} : { id: { value: this.frameworkId } }),
    };
    const body = JSON.stringify({
      type: 'SUBSCRIBE',
      subscribe: { framework_info: info },
      ...(this.frameworkId === null ? {} : { framework_id: { value: this.frameworkId } }),
    });
    return new Promise((resolve) => {
      const request = http.request({
        ...target,
        method: 'POST',
        path: schedulerApiPath,
        agent: false,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
      });
      const timer = setTimeout(() => request.destroy(), subscribeTimeoutMs);
      request.on('error', () => resolve(null));
      request.on('response', (response) => {
        clearTimeout(timer);
        if (response.statusCode === 307) {
          response.resume();
          resolve(
            this.book.nodeAt(
              String(response.headers.location ?? '')
                .replace(/^\/\//, '')
                .split('/')[0] ?? '',
            ) ?? null,
          );
          return;
        }
        const streamId = response.headers[streamIdHeader];
        if (response.statusCode !== 200 || typeof streamId !== 'string') {
          response.resume();
          resolve(null);
          return;
        }
        this.stream = { node, streamId, request };
        this.lastEventMs = Date.now();
        this.subscriptions += 1;
        this.readEvents(response);
        response.on('close', () => resolve(null));
        response.on('error', () => resolve(null));
      });
      request.end(body);
    });
  }

  private readEvents(response: http.IncomingMessage): void {
    const decoder = new RecordIoDecoder({ maxRecordBytes: maxEventBytes });
    response.on('data', (chunk: Buffer) => {
      let records: Uint8Array[];
      try {
        records = decoder.decode(chunk);
      } catch {
        response.destroy();
        return;
      }
      this.lastEventMs = Date.now();
      for (const record of records) this.handle(JSON.parse(Buffer.from(record).toString('utf8')) as SchedulerEvent);
    });
  }

  private handle(event: SchedulerEvent): void {
    switch (event.type) {
      case 'SUBSCRIBED':
        this.frameworkId = event.subscribed.framework_id.value;
        // The new master re-sends what is still outstanding; anything older is stale.
        this.offers.clear();
        return;
      case 'OFFERS':
        for (const offer of event.offers.offers) this.offers.set(offer.id.value, offer);
        for (const wake of this.offerWaiters.splice(0)) wake();
        return;
      case 'RESCIND':
        this.offers.delete(event.rescind.offer_id.value);
        return;
      case 'UPDATE':
        this.handleUpdate(event.update.status);
        return;
      default:
        return;
    }
  }

  private handleUpdate(status: Extract<SchedulerEvent, { type: 'UPDATE' }>['update']['status']): void {
    const update: StatusUpdate = {
      taskId: status.task_id.value,
      state: status.state,
      source: status.source ?? null,
      reason: status.reason ?? null,
      message: status.message ?? null,
    };
    for (const listener of this.updateListeners) listener(update);
    if (status.uuid !== undefined && status.agent_id !== undefined) {
      void this.call({
        type: 'ACKNOWLEDGE',
        acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid },
      });
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
