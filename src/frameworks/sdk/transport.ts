// HTTP to one master (node:http): calls on a keep-alive agent (scheduler-http-api.md: calls
// go on connections other than the subscription's), the SUBSCRIBE stream on its own socket.
// Answers are bounded in bytes and time; network failures become SchedulerError NETWORK.
import { maxCallResponseBytes } from './limits.ts';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { ClientTls } from '../../protocol/tls-client.ts';
import { SchedulerError } from './errors.ts';
import { type MasterAddress, splitMasterAddress } from './masters.ts';

import { authorizationHeader, basicAuthorization } from '../../protocol/http-authorization.ts';
import { schedulerApiPath } from '../../protocol/scheduler.ts';
export const defaultCallTimeoutMs = 10_000;
/** A master that does not even answer SUBSCRIBE's headers within this is treated as down. */
export const subscribeHeadersTimeoutMs = 10_000;

export interface CallResponse {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface RequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** An https.Agent (made with the CA) speaks HTTPS; an http.Agent plain HTTP. */
  readonly agent?: http.Agent;
  readonly path?: string;
  /** HTTPS, trusting this CA (masters and agents with --tls-*); absent: plain HTTP unless `agent` is HTTPS. */
  readonly tls?: ClientTls | null;
}

/** Keep-alive (or not) agents for one scheme: HTTPS with `tls`, plain HTTP without. */
export function connectionAgent(tls: ClientTls | null, options: http.AgentOptions): http.Agent {
  return tls === null ? new http.Agent(options) : new https.Agent({ ...options, ...tls });
}

/** A framework's principal and its secret in the masters' --credentials (docs/security.md). */
export interface FrameworkCredentials {
  readonly principal: string;
  readonly secret: string;
}

/**
 * The Authorization header a client sends as `principal` with `secret` (Basic, as Mesos'
 * frameworks authenticate over HTTP), or no header without a secret. A secret without a
 * principal is a mistake the caller must hear about, not an anonymous request.
 */
export function credentialHeaders(
  principal: string | undefined,
  secret: string | undefined,
): Readonly<Record<string, string>> {
  if (secret === undefined) return {};
  if (principal === undefined || principal === '')
    throw new Error('a secret needs the principal it belongs to (FrameworkInfo.principal)');
  return { [authorizationHeader]: basicAuthorization(principal, secret) };
}

function networkError(master: MasterAddress, error: Error): SchedulerError {
  return new SchedulerError('NETWORK', `${master}: ${error.message}`, null, null, { cause: error });
}

/** POSTs JSON and resolves with the response headers, the body left unread. */
export function postForResponse(
  master: MasterAddress,
  body: object,
  options: RequestOptions = {},
): Promise<IncomingMessage> {
  const { host, port } = splitMasterAddress(master);
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  const tls = options.tls ?? null;
  const secure = tls !== null || options.agent instanceof https.Agent;
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request({
      ...(tls === null ? {} : { ca: tls.ca, cert: tls.cert, key: tls.key }),
      host,
      port,
      method: 'POST',
      path: options.path ?? schedulerApiPath,
      agent: options.agent,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'content-length': String(payload.byteLength),
        ...options.headers,
      },
    });
    const timeoutMs = options.timeoutMs ?? defaultCallTimeoutMs;
    // Timed from when the request has a socket: one queued behind the agent's busy sockets (a
    // burst of acknowledgements) is not sent yet, and timing it out there only sends it to the
    // back of the queue again, until none gets through.
    let timer: NodeJS.Timeout | undefined;
    request.once('socket', () => {
      timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    request.on('response', (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(networkError(master, error));
    });
    request.end(payload);
  });
}

/** Reads a whole (bounded) body as UTF-8. */
export function readBody(
  master: MasterAddress,
  response: IncomingMessage,
  maxBytes: number,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(() => response.destroy(new Error(`body not complete within ${timeoutMs} ms`)), timeoutMs);
    response.on('data', (chunk: Buffer) => {
      length += chunk.byteLength;
      if (length > maxBytes) {
        response.destroy(new Error(`answer longer than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    response.on('error', (error) => {
      clearTimeout(timer);
      reject(networkError(master, error));
    });
    response.on('close', () => {
      clearTimeout(timer);
      if (!response.complete) reject(networkError(master, new Error('the connection closed mid-answer')));
    });
  });
}

/** One POST and its whole answer. */
export async function postJson(
  master: MasterAddress,
  body: object,
  options: RequestOptions = {},
): Promise<CallResponse> {
  const timeoutMs = options.timeoutMs ?? defaultCallTimeoutMs;
  const response = await postForResponse(master, body, options);
  const text = await readBody(master, response, maxCallResponseBytes, timeoutMs);
  return { status: response.statusCode ?? 0, headers: response.headers, body: text };
}
