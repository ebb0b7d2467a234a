// One HTTP request to one address (node:http), bounded in time and in answer bytes. Failures
// before an answer are TransportErrors that say whether the request may have reached the
// server: a refused connection never did (safe to send elsewhere), a timeout or a reset may
// have (a write is retried only with its Idempotency-Key).
import { maxAnswerBytes } from '../limits.ts';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { ClientTls } from '../../protocol/tls-client.ts';
import { type MasterAddress, splitMasterAddress } from '../../frameworks/sdk/masters.ts';

export const defaultRequestTimeoutMs = 10_000;

export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly body?: object;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** HTTPS (masters with --tls-*), trusting this CA; absent or null: plain HTTP. */
  readonly tls?: ClientTls | null;
}

export type TransportFailure = 'refused' | 'timeout' | 'reset' | 'other';

export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    readonly address: MasterAddress,
    readonly failure: TransportFailure,
    message: string,
  ) {
    super(`${address}: ${message}`);
  }

  /** Whether the server cannot have seen the request (the connection was never made). */
  get neverSent(): boolean {
    return this.failure === 'refused';
  }
}

function classify(error: NodeJS.ErrnoException): TransportFailure {
  switch (error.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'other';
  }
}

/** Sends the request and resolves with the response, its body not read yet (for streams). */
export function openRequest(address: MasterAddress, request: HttpRequest): Promise<IncomingMessage> {
  const { host, port } = splitMasterAddress(address);
  const payload = request.body === undefined ? null : Buffer.from(JSON.stringify(request.body), 'utf8');
  const timeoutMs = request.timeoutMs ?? defaultRequestTimeoutMs;
  const tls = request.tls ?? null;
  return new Promise((resolve, reject) => {
    const outgoing = (tls === null ? http : https).request({
      ...(tls === null ? {} : { ca: tls.ca, cert: tls.cert, key: tls.key }),
      host,
      port,
      method: request.method,
      path: request.path,
      agent: false,
      headers: {
        accept: 'application/json',
        ...(payload === null
          ? {}
          : { 'content-type': 'application/json', 'content-length': String(payload.byteLength) }),
        ...request.headers,
      },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    outgoing.on('response', (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new TransportError(address, timedOut ? 'timeout' : classify(error), error.message));
    });
    outgoing.end(payload ?? undefined);
  });
}

/** Reads a whole (bounded) body as UTF-8 within `timeoutMs`. */
export function readAnswerBody(address: MasterAddress, response: IncomingMessage, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(
      () => response.destroy(new Error(`answer not complete within ${timeoutMs} ms`)),
      timeoutMs,
    );
    response.on('data', (chunk: Buffer) => {
      length += chunk.byteLength;
      if (length > maxAnswerBytes) response.destroy(new Error(`answer longer than ${maxAnswerBytes} bytes`));
      else chunks.push(chunk);
    });
    response.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    response.on('error', (error) => {
      clearTimeout(timer);
      reject(new TransportError(address, 'reset', error.message));
    });
    response.on('close', () => {
      clearTimeout(timer);
      if (!response.complete) reject(new TransportError(address, 'reset', 'the connection closed mid-answer'));
    });
  });
}

/** One request and its whole answer. */
export async function sendRequest(address: MasterAddress, request: HttpRequest): Promise<HttpAnswer> {
  const response = await openRequest(address, request);
  const body = await readAnswerBody(address, response, request.timeoutMs ?? defaultRequestTimeoutMs);
  return { status: response.statusCode ?? 0, headers: response.headers, body };
}
