// Forwarding a framework API request to the instance that serves it — one pattern for both
// built-in frameworks and both hosts: a standby `flotilla services` forwards to the lease holder
// (services/api/routes.ts), and a master that does not lead forwards `/v2/*` and `/v1/jobs*` to
// the leader (src/http/framework-gate.ts), as Marathon's non-leaders proxy to their leader.
//
// It runs in an onRequest hook, before fastify reads the body: method, path, query, the
// end-to-end headers and the body bytes go through as they came (nothing parsed or written
// again), and the answer — status, headers, body, or a server-sent event stream — comes back as
// it is. Bounded: the answer's headers must come within `headersTimeoutMs` and a whole answer
// that is not an event stream within `answerTimeoutMs`; an event stream lasts until either end
// closes it. A target that cannot be reached is answered with `unreachable`, in the framework's
// own error shape.
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { ClientTls } from '../../protocol/tls-client.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { splitMasterAddress, type MasterAddress } from '../sdk/masters.ts';

export interface ForwardOptions {
  /** host:port of the instance that serves the request. */
  readonly target: MasterAddress;
  /** Who forwards, for the Via header and `forwardedByHeader` (a second hop is refused there). */
  readonly forwarder: string;
  readonly headersTimeoutMs: number;
  readonly answerTimeoutMs: number;
  /** The answer when the target does not answer in time, or refuses the connection. */
  readonly unreachable: (problem: string) => { readonly status: number; readonly body: unknown };
  /** A target with TLS (masters with --tls-*): HTTPS trusting this CA; absent or null: plain HTTP. */
  readonly tls?: ClientTls | null;
}

/** Set on a forwarded request: a host that does not serve it answers 503 instead of forwarding again. */
export const forwardedByHeader = 'x-flotilla-forwarded-by';

/** Hop-by-hop headers (RFC 9110 §7.6.1), and Host, which names the forwarder. */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(name)) kept[name] = value;
  }
  return kept;
}

/** Sends `request` on to the target and its answer back through `reply`; resolves once the answer has begun. */
export function forwardRequest(request: FastifyRequest, reply: FastifyReply, options: ForwardOptions): Promise<void> {
  const { host, port } = splitMasterAddress(options.target);
  const via = [request.headers.via, `1.1 ${options.forwarder}`].filter(Boolean).join(', ');
  const headers = { ...endToEnd(request.headers), via, [forwardedByHeader]: options.forwarder };
  const tls = options.tls ?? null;
  const target = { host, port, method: request.method, path: request.url, headers, agent: false };
  const outgoing = tls === null ? http.request(target) : https.request({ ...target, ...tls });
  return new Promise((resolve) => {
    const headersTimer = setTimeout(
      () => outgoing.destroy(new Error(`no answer within ${options.headersTimeoutMs} ms`)),
      options.headersTimeoutMs,
    );
    outgoing.on('response', (response) => {
      clearTimeout(headersTimer);
      relayAnswer(reply, response, options.answerTimeoutMs);
      resolve();
    });
    outgoing.on('error', (error) => {
      clearTimeout(headersTimer);
      if (!reply.sent) {
        const answer = options.unreachable(`${options.target}: ${error.message}`);
        void reply.code(answer.status).header('retry-after', '1').send(answer.body);
      }
      resolve();
    });
    // The client went away before the answer: the forwarded request goes too.
    request.raw.on('close', () => {
      if (!request.raw.complete) outgoing.destroy();
    });
    request.raw.pipe(outgoing);
  });
}

function relayAnswer(reply: FastifyReply, response: IncomingMessage, timeoutMs: number): void {
  const streaming = (response.headers['content-type'] ?? '').startsWith('text/event-stream');
  const timer = streaming
    ? null
    : setTimeout(() => response.destroy(new Error(`answer not complete within ${timeoutMs} ms`)), timeoutMs);
  const done = (): void => {
    if (timer !== null) clearTimeout(timer);
  };
  response.on('end', done);
  response.on('close', done);
  // An event stream ends when its reader leaves; so does the upstream one.
  reply.raw.on('close', () => response.destroy());
  void reply
    .code(response.statusCode ?? 502)
    .headers(endToEnd(response.headers))
    .send(response);
}
