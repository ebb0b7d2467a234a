// A real HTTP proxy in front of a real master that breaks chosen calls the way a network or a
// failover does: it answers 503 itself (no leader), forwards the call and then cuts the
// client's connection before the answer (the write happened, the answer was lost), or holds the
// call unanswered and unforwarded until the client gives up (a master too busy to answer), or holds
// it until the test releases it (a call queued while the client re-subscribed). A call is
// named by its JSON body's `type` (scheduler and operator calls) or else `METHOD /path` (the KV
// API). Everything else — SUBSCRIBE's stream included — passes through unchanged. It records
// each call's name and Idempotency-Key, so a test sees what the client sent on every attempt.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CallFault = 'answer-503' | 'forward-then-cut' | 'never-answer' | 'hold';

export interface SeenCall {
  /** The call's name (see the file comment). */
  readonly type: string;
  readonly key: string | null;
  readonly fault: CallFault | null;
  /** The request's body as sent (a scheduler call's JSON). */
  readonly body: string;
}

export class HttpFaultProxy {
  readonly seen: SeenCall[] = [];
  /** Per call name, the faults of its next attempts, in order; an empty list passes through. */
  readonly faults = new Map<string, CallFault[]>();
  readonly #server: http.Server;
  readonly #agent = new http.Agent({ keepAlive: true });
  /** Calls held by the `hold` fault, each forwarded unchanged when release() is called. */
  readonly #held: (() => void)[] = [];
  /** The SUBSCRIBE streams passing through, so cutStreams() can end them as a lost connection does. */
  readonly #streams = new Set<ServerResponse>();

  private constructor(readonly upstream: string) {
    this.#server = http.createServer((request, response) => {
      this.#handle(request, response).catch(() => response.destroy());
    });
  }

  static async start(upstream: string): Promise<HttpFaultProxy> {
    const proxy = new HttpFaultProxy(upstream);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Calls the `hold` fault holds now. */
  get heldCalls(): number {
    return this.#held.length;
  }

  /** Forwards every held call (as sent: headers, body and all) to the master. */
  release(): void {
    for (const forward of this.#held.splice(0)) forward();
  }

  /** Cuts every SUBSCRIBE stream open through the proxy: the client sees its connection to the master lost. */
  cutStreams(): void {
    for (const stream of this.#streams) stream.destroy();
    this.#streams.clear();
  }

  keysOf(type: string): (string | null)[] {
    return this.seen.filter((call) => call.type === type).map((call) => call.key);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#agent.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readAll(request);
    const type = callName(request, body);
    const fault = type === null ? null : (this.faults.get(type)?.shift() ?? null);
    if (type !== null) {
      const key = request.headers['idempotency-key'];
      this.seen.push({ type, key: typeof key === 'string' ? key : null, fault, body: body.toString('utf8') });
    }
    // Left open: the client's own time out ends it (or close() does).
    if (fault === 'never-answer') return;
    if (fault === 'answer-503') {
      response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      response.end(JSON.stringify({ error: { code: 'NO_LEADER', message: 'injected by the test proxy' } }));
      return;
    }
    if (fault === 'hold') await new Promise<void>((resolve) => this.#held.push(resolve));
    if (type === null) {
      this.#streams.add(response);
      response.on('close', () => this.#streams.delete(response));
    }
    const upstream = await this.#forward(request, body);
    if (fault === 'forward-then-cut') {
      upstream.resume();
      await new Promise((resolve) => upstream.on('end', resolve));
      response.destroy();
      return;
    }
    response.writeHead(upstream.statusCode ?? 502, upstream.headers);
    upstream.pipe(response);
  }

  #forward(request: IncomingMessage, body: Buffer): Promise<IncomingMessage> {
    const [host, port] = this.upstream.split(':') as [string, string];
    return new Promise((resolve, reject) => {
      const outgoing = http.request(
        {
          host,
          port: Number(port),
          method: request.method,
          path: request.url,
          headers: request.headers,
          agent: this.#agent,
        },
        resolve,
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
}

function readAll(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The call's name; null for SUBSCRIBE, which is never broken (its stream passes through). */
function callName(request: IncomingMessage, body: Buffer): string | null {
  let type: unknown;
  try {
    type = (JSON.parse(body.toString('utf8')) as { type?: unknown } | null)?.type;
  } catch {
    type = undefined;
  }
  if (type === 'SUBSCRIBE') return null;
  return typeof type === 'string' ? type : `${request.method} ${(request.url ?? '/').split('?')[0]}`;
}
