// The client side of TLS, shared by every client of a master or an agent (master → master,
// master → agent, hosted frameworks, SDK, CLI, executors): which CA to trust and, for mutual
// TLS, which certificate to present. Node's global fetch takes no CA option, so fetchWithTls
// makes the same request through node:https and answers a standard Response.
import https from 'node:https';
import { Readable } from 'node:stream';

export interface ClientTls {
  /** PEM CA certificate(s) the server's certificate must chain to; absent: the system's trusted CAs. */
  readonly ca?: string | Buffer;
  /** PEM certificate and key presented to a server that asks for one (mutual TLS). */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface TlsFetchInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
}

/** HTTP statuses whose Response may carry no body (the Fetch standard's "null body status"). */
const nullBodyStatuses = new Set([101, 204, 205, 304]);

/**
 * `url` with `init`: over fetch for http:, over node:https with `tls` for https:. Redirects are
 * never followed (every caller here handles 307 itself or treats it as an error).
 */
export function fetchWithTls(tls: ClientTls | null, url: string, init: TlsFetchInit): Promise<Response> {
  const target = new URL(url);
  if (target.protocol !== 'https:' || tls === null) return fetch(url, { ...init, redirect: 'manual' });
  return new Promise((resolve, reject) => {
    const request = https.request(target, {
      method: init.method ?? 'GET',
      headers: init.headers,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      signal: init.signal,
      agent: false,
    });
    request.on('error', reject);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const headers = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        if (typeof value === 'string') headers.set(name, value);
        else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      }
      const body = nullBodyStatuses.has(status) ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>);
      if (body === null) response.resume();
      resolve(new Response(body, { status, headers }));
    });
    request.end(init.body);
  });
}

/** "http" or "https": the scheme of every URL to a master or agent of a cluster with (or without) TLS. */
export function httpScheme(tls: ClientTls | null): 'http' | 'https' {
  return tls === null ? 'http' : 'https';
}
