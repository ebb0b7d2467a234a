// One HTTP request to one master, on a fresh connection. No keep-alive on purpose: a request
// written on a pooled connection that the server had already lost fails with ECONNRESET, and a
// write that fails that way is indeterminate; on a fresh connection, a refused connect is a
// clean "never sent". The answer says which of the two a failure is.
import http from 'node:http';
import type { Endpoint } from './endpoint.ts';

export interface HttpAnswer {
  readonly kind: 'answer';
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The body parsed as JSON, or null when empty or not JSON. */
  readonly body: unknown;
}

export interface TransportFailure {
  readonly kind: 'transport';
  /** False only when the request certainly never reached the master (connect refused). */
  readonly sent: boolean;
  /** A stable code: ECONNREFUSED, ECONNRESET, TIMEOUT, … */
  readonly code: string;
}

export type HttpResult = HttpAnswer | TransportFailure;

export interface HttpRequest {
  readonly method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/** The header the namespace forwarder sets when it could not connect to the master at all. */
export const forwarderRefusedHeader = 'x-jepsen-forwarder-refused';
const maxResponseBytes = 4 * 1024 * 1024;
/** Errors that happen before a single byte of the request could have been delivered. */
const unsentCodes = new Set(['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

export function sendRequest(endpoint: Endpoint, request: HttpRequest): Promise<HttpResult> {
  const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body), 'utf8');
  const target =
    endpoint.kind === 'tcp' ? { host: endpoint.host, port: endpoint.port } : { socketPath: endpoint.socketPath };
  return new Promise((resolve) => {
    let settled = false;
    let connected = false;
    const settle = (result: HttpResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const outgoing = http.request(
      {
        ...target,
        method: request.method,
        path: request.path,
        agent: false,
        headers: {
          connection: 'close',
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': String(payload.length) }),
          ...request.headers,
        },
      },
      (response) => collect(response, settle),
    );
    outgoing.on('socket', (socket) =>
      socket.once('connect', () => {
        connected = true;
      }),
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'ERROR';
      settle({ kind: 'transport', sent: connected || !unsentCodes.has(code), code });
    });
    const timer = setTimeout(() => {
      settle({ kind: 'transport', sent: connected, code: connected ? 'TIMEOUT' : 'CONNECT_TIMEOUT' });
      outgoing.destroy();
    }, request.timeoutMs);
    outgoing.end(payload);
  });
}

function collect(response: http.IncomingMessage, settle: (result: HttpResult) => void): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  response.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > maxResponseBytes) response.destroy(new Error('response too large'));
    else chunks.push(chunk);
  });
  response.on('error', () => settle({ kind: 'transport', sent: true, code: 'ECONNRESET' }));
  response.on('end', () => {
    if (response.headers[forwarderRefusedHeader] !== undefined) {
      settle({ kind: 'transport', sent: false, code: String(response.headers[forwarderRefusedHeader]) });
      return;
    }
    settle({
      kind: 'answer',
      status: response.statusCode ?? 0,
      headers: response.headers,
      body: parseBody(Buffer.concat(chunks).toString('utf8')),
    });
  });
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
