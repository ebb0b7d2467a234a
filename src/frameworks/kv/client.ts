// The masters' key-value API from a framework (DESIGN.md "Key-value API"; README "HTTP API"),
// the one client both built-in frameworks use: linearizable GET, a paginated list by prefix,
// PUT and DELETE with If-Match compare-and-set. A follower answers writes with 307 and the
// leader's address, which is followed; a master that is down, has no leader (503) or timed out
// (504) is retried — on the next master, after a jittered back-off — until the call's deadline.
//
// Every write carries an Idempotency-Key, the same on each of its attempts: a write whose
// answer was lost (a timeout, a reset, a 504, a failover) is sent again and the masters apply
// it at most once, answering the first attempt's result. So a compare-and-set is never applied
// twice, and never reported lost when it won.
//
// A client given a `signal` acts no more once it is aborted: calls in flight are cut off and
// every call fails with CLOSED. A framework hosted by the leading master is stopped this way the
// moment its master stops leading (src/master/hosted-frameworks.ts).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs } from '../../util/backoff.ts';
import { type MasterAddress, parseRedirectLocation } from '../sdk/masters.ts';
import { type ClientTls, fetchWithTls, httpScheme } from '../../protocol/tls-client.ts';
import {
  defaultKvAttemptTimeoutMs,
  defaultKvRequestDeadlineMs,
  kvListPageKeys,
  kvRetryBackoff,
  maxKvListPages,
  maxKvRedirects,
} from './limits.ts';

export interface KvEntry {
  readonly value: string;
  readonly version: number;
}

export interface KvListedEntry extends KvEntry {
  readonly key: string;
}

export interface KvPage {
  readonly entries: readonly KvListedEntry[];
  /** The `after` of the next page; null when this was the last. */
  readonly next: string | null;
}

/** A write's outcome: applied at `version`, or refused because the key is not at the version expected. */
export type KvWriteResult = { readonly ok: true; readonly version: number } | { readonly ok: false };

/** UNAVAILABLE: no master answered in time. REJECTED: a 4xx/5xx that is no answer. CLOSED: the client was stopped. */
export type KvErrorCode = 'UNAVAILABLE' | 'REJECTED' | 'CLOSED';

export class KvError extends Error {
  override name = 'KvError';
  constructor(
    readonly code: KvErrorCode,
    message: string,
    /** The HTTP status of a REJECTED answer. */
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

export interface KvClientOptions {
  readonly masters: readonly MasterAddress[];
  readonly namespace: string;
  readonly attemptTimeoutMs?: number;
  readonly requestDeadlineMs?: number;
  readonly random?: () => number;
  /** Once aborted, the client is closed for good (see the header). */
  readonly signal?: AbortSignal;
  /** The framework's Authorization (sdk/transport.ts credentialHeaders) for masters with --credentials. */
  readonly credentials?: Readonly<Record<string, string>>;
  /** Masters with --tls-*: HTTPS trusting this CA; absent: plain HTTP. */
  readonly tls?: ClientTls | null;
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly location: string | null;
}

interface Request {
  readonly method: 'GET' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly what: string;
  readonly body: string | null;
  readonly ifMatch: number | null;
  /** Writes only: one key for all the attempts of this call. */
  readonly idempotencyKey: string | null;
}

const namespacePattern = /^[A-Za-z0-9._-]{1,128}$/;

export class KvClient {
  /** The master that answered last: the leader, most of the time. */
  #preferred: MasterAddress;

  constructor(readonly options: KvClientOptions) {
    if (options.masters.length === 0) throw new Error('KvClient: no masters');
    if (!namespacePattern.test(options.namespace))
      throw new Error(`KvClient: namespace "${options.namespace}" must be 1–128 of A-Z a-z 0-9 . _ -`);
    this.#preferred = options.masters[0]!;
  }

  get closed(): boolean {
    return this.options.signal?.aborted ?? false;
  }

  async get(key: string): Promise<KvEntry | null> {
    const answer = await this.#send(this.#request('GET', key, null, null));
    if (answer.status === 404) return null;
    if (answer.status !== 200) throw rejected(`GET ${key}`, answer);
    const parsed = JSON.parse(answer.body) as { value?: unknown; version?: unknown };
    if (typeof parsed.value !== 'string' || typeof parsed.version !== 'number')
      throw new KvError('REJECTED', `GET ${key}: an answer without value and version`, answer.status);
    return { value: parsed.value, version: parsed.version };
  }

  /** PUT; with `ifMatch` a compare-and-set (0: only if absent). */
  async put(key: string, value: string, ifMatch: number | null): Promise<KvWriteResult> {
    const answer = await this.#send(this.#request('PUT', key, JSON.stringify({ value }), ifMatch));
    if (answer.status === 412) return { ok: false };
    if (answer.status !== 200) throw rejected(`PUT ${key}`, answer);
    return { ok: true, version: (JSON.parse(answer.body) as { version: number }).version };
  }

  /** DELETE; an absent key is deleted already (unless `ifMatch` expected a version). */
  async delete(key: string, ifMatch: number | null): Promise<KvWriteResult> {
    const answer = await this.#send(this.#request('DELETE', key, null, ifMatch));
    if (answer.status === 412) return { ok: false };
    if (answer.status !== 200) throw rejected(`DELETE ${key}`, answer);
    return { ok: true, version: 0 };
  }

  /** One page of the keys starting with `prefix`, in key order, strictly after `after`. */
  async list(prefix: string, after: string | null, limit = kvListPageKeys): Promise<KvPage> {
    const query = new URLSearchParams({ prefix, limit: String(limit), ...(after === null ? {} : { after }) });
    const path = `/api/v1/kv/${this.options.namespace}?${query}`;
    const answer = await this.#send({
      method: 'GET',
      path,
      what: `LIST ${prefix}`,
      body: null,
      ifMatch: null,
      idempotencyKey: null,
    });
    if (answer.status !== 200) throw rejected(`LIST ${prefix}`, answer);
    const page = JSON.parse(answer.body) as { entries?: unknown; next?: unknown };
    if (!Array.isArray(page.entries) || !(page.next === null || typeof page.next === 'string'))
      throw new KvError('REJECTED', `LIST ${prefix}: an answer without entries and next`, answer.status);
    return { entries: page.entries as KvListedEntry[], next: page.next };
  }

  /**
   * Every key starting with `prefix`, page by page, each page handed to `visit` before the next
   * is read. Each page is linearizable, the whole is not one snapshot: a key written meanwhile
   * may be seen at its old or new value (callers read under their own single-writer rule).
   */
  async listAll(prefix: string, visit: (entries: readonly KvListedEntry[]) => void | Promise<void>): Promise<void> {
    let after: string | null = null;
    for (let page = 0; page < maxKvListPages; page++) {
      const answer: KvPage = await this.list(prefix, after);
      await visit(answer.entries);
      if (answer.next === null) return;
      after = answer.next;
    }
    throw new KvError('REJECTED', `LIST ${prefix}: more than ${maxKvListPages} pages`);
  }

  #request(method: 'GET' | 'PUT' | 'DELETE', key: string, body: string | null, ifMatch: number | null): Request {
    return {
      method,
      path: `/api/v1/kv/${this.options.namespace}/${key}`,
      what: `${method} ${key}`,
      body,
      ifMatch,
      idempotencyKey: method === 'GET' ? null : randomUUID(),
    };
  }

  async #send(request: Request): Promise<Answer> {
    const deadline = performance.now() + (this.options.requestDeadlineMs ?? defaultKvRequestDeadlineMs);
    let target = this.#preferred;
    let failures = 0;
    let redirects = 0;
    let lastProblem = 'no attempt made';
    while (performance.now() < deadline) {
      this.#checkOpen(request);
      const answer = await this.#attempt(target, request).catch((error: Error) => error);
      this.#checkOpen(request);
      if (answer instanceof Error || answer.status === 503 || answer.status === 504) {
        lastProblem = answer instanceof Error ? `${target}: ${answer.message}` : `${target}: ${answer.status}`;
        failures += 1;
        target = this.#nextMaster(target);
        await this.#pause(failures, request);
        continue;
      }
      const leader = answer.status === 307 ? parseRedirectLocation(answer.location ?? undefined) : null;
      if (leader !== null && redirects < maxKvRedirects) {
        redirects += 1;
        target = leader;
        continue;
      }
      this.#preferred = target;
      return answer;
    }
    throw new KvError('UNAVAILABLE', `KV ${request.what}: no master answered in time (last: ${lastProblem})`);
  }

  async #pause(failures: number, request: Request): Promise<void> {
    const delayMs = backoffDelayMs(Math.min(failures - 1, 10), kvRetryBackoff, this.options.random ?? Math.random);
    const signal = this.options.signal;
    await sleep(delayMs, undefined, signal === undefined ? undefined : { signal }).catch(() => undefined);
    this.#checkOpen(request);
  }

  #checkOpen(request: Request): void {
    if (this.closed) throw new KvError('CLOSED', `KV ${request.what}: the client is closed`);
  }

  #nextMaster(current: MasterAddress): MasterAddress {
    const masters = this.options.masters;
    return masters[(masters.indexOf(current) + 1) % masters.length]!;
  }

  async #attempt(master: MasterAddress, request: Request): Promise<Answer> {
    const headers: Record<string, string> = { ...this.options.credentials, accept: 'application/json' };
    if (request.body !== null) headers['content-type'] = 'application/json';
    if (request.ifMatch !== null) headers['if-match'] = String(request.ifMatch);
    if (request.idempotencyKey !== null) headers['idempotency-key'] = request.idempotencyKey;
    const timeout = AbortSignal.timeout(this.options.attemptTimeoutMs ?? defaultKvAttemptTimeoutMs);
    const tls = this.options.tls ?? null;
    const response = await fetchWithTls(tls, `${httpScheme(tls)}://${master}${request.path}`, {
      method: request.method,
      headers,
      ...(request.body === null ? {} : { body: request.body }),
      signal: this.options.signal === undefined ? timeout : AbortSignal.any([timeout, this.options.signal]),
    });
    return { status: response.status, body: await response.text(), location: response.headers.get('location') };
  }
}

function rejected(what: string, answer: Answer): KvError {
  return new KvError('REJECTED', `KV ${what}: ${answer.status} ${answer.body.slice(0, 300)}`, answer.status);
}
