// The page's calls to one master, by origin: the one that served the page (same origin) or
// another Raft member (cross-origin: the CSP's connect-src lists the members, and they answer
// the page through CORS, src/http/routes/cors.ts). Every request is bounded in time, except the
// event stream once it has started (connection.js watches its heartbeats instead). Redirects
// are never followed: a follower's 307 would be a cross-origin POST; the page finds the leader
// itself (connection.js) and asks it directly.
import { authorizationHeaders, loginRequired, tokenInUse } from './auth.js';
import { RecordIoDecoder } from './recordio.js';

/** A master that has not answered in this long counts as not answering. */
export const requestTimeoutMs = 5000;

/** The master did not answer at all (refused, reset, timed out, or blocked by CORS/CSP). */
export class MasterUnavailable extends Error {
  constructor(message) {
    super(message);
    this.name = 'MasterUnavailable';
  }
}

/** The master answered with an error: `status`, and the envelope's `code` and `message`. */
export class CallFailed extends Error {
  constructor(failure) {
    super(`${failure.code}: ${failure.message}`);
    this.name = 'CallFailed';
    this.status = failure.status;
    this.code = failure.code;
  }
}

/** The error envelope's code and message, or the status line when the body is not ours. */
async function describeFailure(what, response) {
  if (response.type === 'opaqueredirect' || response.status === 307) {
    return { status: 307, code: 'NOT_LEADER', message: `${what}: answered by the leader only` };
  }
  let code = `HTTP_${response.status}`;
  let message = response.statusText;
  try {
    const body = await response.json();
    if (typeof body?.error?.code === 'string') code = body.error.code;
    if (typeof body?.error?.message === 'string') message = body.error.message;
  } catch {
    // Not JSON: a proxy's page, say; the status line is all there is to tell.
  }
  return { status: response.status, code, message };
}

function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

export class MasterClient {
  /** `origin`: "http://host:port" (this page's own, or a member's from masterOrigin()). */
  constructor(origin) {
    this.origin = origin;
  }

  async #fetch(path, init, signal = AbortSignal.timeout(requestTimeoutMs)) {
    let response;
    const sentToken = tokenInUse();
    try {
      const headers = { ...init.headers, ...authorizationHeaders() };
      response = await fetch(`${this.origin}${path}`, {
        ...init,
        headers,
        redirect: 'manual',
        cache: 'no-store',
        signal,
      });
    } catch (error) {
      const why = error?.name === 'TimeoutError' ? `no answer in ${requestTimeoutMs / 1000} s` : 'no connection';
      throw new MasterUnavailable(`${this.origin}${path}: ${why}`);
    }
    // No or a wrong token: the login form comes back (app.js); the caller still sees the failure.
    if (response.status === 401) loginRequired(sentToken);
    return response;
  }

  /** GET a JSON document (/health; /v2/apps and /v1/jobs for the services and jobs pages). */
  async getJson(path) {
    const response = await this.#fetch(path, { method: 'GET', headers: { accept: 'application/json' } });
    if (!response.ok) throw new CallFailed(await describeFailure(path, response));
    return response.json();
  }

  health() {
    return this.getJson('/health');
  }

  /** One operator call's response message (`get_raft` of GET_RAFT …); null for an empty 200. */
  async call(type, fields = {}, { stale = false } = {}) {
    const response = await this.#fetch(stale ? '/api/v1?stale=true' : '/api/v1', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ ...fields, type }),
    });
    if (!response.ok) throw new CallFailed(await describeFailure(type, response));
    const text = await response.text();
    return text === '' ? null : (JSON.parse(text)?.[type.toLowerCase()] ?? null);
  }

  /**
   * The operator event stream: yields each event (SUBSCRIBED first) until the stream ends,
   * `signal` aborts it, or the connection breaks (MasterUnavailable).
   */
  async *subscribe({ signal, stale = false }) {
    // The time bound covers the answer's headers only; after them the stream may stay open for
    // hours, and the caller's signal alone ends it.
    const stream = new AbortController();
    const endStream = () => stream.abort(signal.reason);
    signal.addEventListener('abort', endStream, { once: true });
    const headersTimer = setTimeout(
      () => stream.abort(new DOMException('no answer', 'TimeoutError')),
      requestTimeoutMs,
    );
    let response;
    try {
      response = await this.#fetch(
        stale ? '/api/v1?stale=true' : '/api/v1',
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/recordio',
            'message-accept': 'application/json',
          },
          body: JSON.stringify({ type: 'SUBSCRIBE' }),
        },
        stream.signal,
      );
    } finally {
      clearTimeout(headersTimer);
    }
    if (!response.ok) throw new CallFailed(await describeFailure('SUBSCRIBE', response));
    const reader = response.body.getReader();
    const decoder = new RecordIoDecoder();
    try {
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch {
          if (signal.aborted) return;
          throw new MasterUnavailable(`${this.origin}: the event stream broke`);
        }
        if (chunk.done) return;
        for (const record of decoder.push(chunk.value)) yield JSON.parse(record);
      }
    } finally {
      signal.removeEventListener('abort', endStream);
      reader.cancel().catch(() => undefined);
    }
  }

  /** A slice of a task's sandbox file: {size, offset, bytes}. */
  async readSandbox({ frameworkId, taskId, path, offset, length }) {
    const query = new URLSearchParams({
      framework_id: frameworkId,
      task_id: taskId,
      path,
      offset: String(offset),
      length: String(length),
    });
    const body = await this.getJson(`/api/v1/sandbox/read?${query}`);
    return { size: Number(body.size), offset: Number(body.offset), bytes: base64Bytes(String(body.data ?? '')) };
  }
}
