// A lean JSON-over-HTTP/1.1 client for the load generator: one keep-alive socket, one request at a
// time (each bench client is a closed loop), the request head written as one string and the answer
// parsed from the bytes (status line, Content-Length or chunked body). Node's http client costs the
// load generator 0.12-0.19 ms of CPU per write against 0.06-0.11 ms for the ZooKeeper client library
// (same run, load 55-62): on 2 cores the generator's CPU is taken from the system it drives, so the
// HTTP systems (Flotilla and etcd alike) paid for their client. Selected by
// FLOTILLA_PEERS_HTTP_CLIENT=raw (http-client.ts openJsonClient); Node's client stays the default.
import net from 'node:net';
import type { HttpAnswer } from './http-client.ts';

interface Pending {
  readonly resolve: (answer: HttpAnswer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** What parseAnswer found in the buffered bytes: an answer and the bytes it used, or not yet. */
export interface ParsedAnswer {
  readonly answer: HttpAnswer;
  readonly bytes: number;
}

const headEnd = Buffer.from('\r\n\r\n');

/**
 * One complete HTTP/1.1 answer at the start of `buffer`, or null while it is incomplete. A body is
 * delimited by Content-Length or chunked transfer coding; an answer with neither has no body here
 * (a closed-loop keep-alive client cannot read to the end of the connection).
 */
export function parseAnswer(buffer: Buffer): ParsedAnswer | null {
  const headLength = buffer.indexOf(headEnd);
  if (headLength < 0) return null;
  const head = buffer.toString('latin1', 0, headLength);
  const lines = head.split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  if (!Number.isInteger(status)) throw new Error(`not an HTTP status line: ${JSON.stringify(lines[0])}`);
  let contentLength: number | null = null;
  let chunked = false;
  let location: string | undefined;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') contentLength = Number(value);
    else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
    else if (name === 'location') location = value;
  }
  const bodyStart = headLength + headEnd.length;
  if (chunked) return parseChunked(buffer, bodyStart, status, location);
  const length = contentLength ?? 0;
  if (buffer.length < bodyStart + length) return null;
  const body = buffer.toString('utf8', bodyStart, bodyStart + length);
  return { answer: { status, body, location }, bytes: bodyStart + length };
}

function parseChunked(
  buffer: Buffer,
  start: number,
  status: number,
  location: string | undefined,
): ParsedAnswer | null {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) return null;
    const size = Number.parseInt(buffer.toString('latin1', offset, lineEnd).split(';')[0]!, 16);
    if (!Number.isInteger(size) || size < 0) throw new Error('malformed chunk size');
    const dataStart = lineEnd + 2;
    if (size === 0) {
      // No trailers expected: the last chunk is followed by an empty line.
      if (buffer.length < dataStart + 2) return null;
      const body = Buffer.concat(parts).toString('utf8');
      return { answer: { status, body, location }, bytes: dataStart + 2 };
    }
    if (buffer.length < dataStart + size + 2) return null;
    parts.push(buffer.subarray(dataStart, dataStart + size));
    offset = dataStart + size + 2;
  }
}

export class RawJsonClient {
  /** The current connection (connecting or open); null before the first request or after a failure. */
  private socket: net.Socket | null = null;
  private connecting: Promise<net.Socket> | null = null;
  private received: Buffer = Buffer.alloc(0);
  private pending: Pending | null = null;
  private closed = false;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  request(method: string, path: string, body: unknown, timeoutMs = 10_000): Promise<HttpAnswer> {
    const payload = JSON.stringify(body);
    const head =
      `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n`;
    return this.connected().then(
      (socket) =>
        new Promise<HttpAnswer>((resolve, reject) => {
          if (this.pending !== null) {
            reject(new Error('raw http client: one request at a time'));
            return;
          }
          const timer = setTimeout(() => {
            this.fail(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`));
          }, timeoutMs);
          this.pending = { resolve, reject, timer };
          socket.write(head + payload);
        }),
    );
  }

  close(): void {
    this.closed = true;
    this.dropSocket();
  }

  private dropSocket(): void {
    this.socket?.destroy();
    this.socket = null;
    this.connecting = null;
  }

  private connected(): Promise<net.Socket> {
    if (this.closed) return Promise.reject(new Error('raw http client: closed'));
    if (this.connecting !== null) return this.connecting;
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    // A destroyed socket's events arrive after the next one is open: only the current one's count.
    const current = () => this.socket === socket;
    this.connecting = new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.on('data', (chunk: Buffer) => {
        if (current()) this.receive(chunk);
      });
      socket.on('error', (error) => {
        reject(error);
        if (current()) this.fail(error);
      });
      socket.on('close', () => {
        reject(new Error('raw http client: connection closed'));
        if (current()) this.fail(new Error('raw http client: connection closed'));
      });
    });
    return this.connecting;
  }

  private receive(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    let parsed: ParsedAnswer | null;
    try {
      parsed = parseAnswer(this.received);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (parsed === null) return;
    this.received = this.received.subarray(parsed.bytes);
    const pending = this.pending;
    this.pending = null;
    if (pending === null) return;
    clearTimeout(pending.timer);
    pending.resolve(parsed.answer);
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    this.received = Buffer.alloc(0);
    // The socket's state after a failed exchange is unknown: the next request opens a new one.
    this.dropSocket();
    if (pending === null) return;
    clearTimeout(pending.timer);
    pending.reject(error);
  }
}
