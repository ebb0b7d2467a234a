// The masters' key-value API over HTTP (DESIGN.md "Key-value API"), as any framework may use
// it: GET/PUT/DELETE /api/v1/kv/<namespace>/<key>, If-Match for compare-and-set. Writes on a
// follower answer 307 with the leader in Location (followed); no leader (503), a refused
// connection or a timeout move on to the next master after a jittered back-off, until the
// request's deadline. The framework's only path to replicated state.
// (A shared piece: the services framework may want the same client; see the phase-1 report.)
import { maxRedirects } from './limits.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs } from '../../util/backoff.ts';
import { type MasterAddress, parseRedirectLocation } from '../sdk/masters.ts';

export interface KvEntry {
  readonly value: string;
  readonly version: number;
}

export type KvWriteResult =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly current: 'mismatch' };

export class KvUnavailableError extends Error {
  override name = 'KvUnavailableError';
}

export class KvRejectedError extends Error {
  override name = 'KvRejectedError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface KvClientOptions {
  readonly masters: readonly MasterAddress[];
  readonly namespace: string;
  /** One HTTP attempt. */
  readonly attemptTimeoutMs?: number;
  /** All attempts of one request, across masters and redirects. */
  readonly requestDeadlineMs?: number;
  readonly random?: () => number;
  /** The framework's Authorization (sdk/transport.ts credentialHeaders) for masters with --credentials. */
  readonly credentials?: Readonly<Record<string, string>>;
}

const defaultAttemptTimeoutMs = 5_000;
const defaultRequestDeadlineMs = 30_000;
const retryPolicy = { baseMs: 100, maxMs: 2_000 };

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly location: string | null;
}

export class KvClient {
  /** The master that answered last: the leader, most of the time. */
  #preferred: MasterAddress;

  constructor(readonly options: KvClientOptions) {
    if (options.masters.length === 0) throw new Error('KvClient: no masters');
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(options.namespace))
      throw new Error(`KvClient: namespace "${options.namespace}" must be 1–128 of A-Z a-z 0-9 . _ -`);
    this.#preferred = options.masters[0]!;
  }

  async get(key: string): Promise<KvEntry | null> {
    const answer = await this.#request('GET', key, null, null);
    if (answer.status === 404) return null;
    if (answer.status !== 200) throw this.#rejected('GET', key, answer);
    const parsed = JSON.parse(answer.body) as { value: string; version: number };
    return { value: parsed.value, version: parsed.version };
  }

  /** PUT; with `ifMatch` a compare-and-set (0: only if absent). */
  async put(key: string, value: string, ifMatch: number | null): Promise<KvWriteResult> {
    const answer = await this.#request('PUT', key, JSON.stringify({ value }), ifMatch);
    if (answer.status === 412) return { ok: false, current: 'mismatch' };
    if (answer.status !== 200) throw this.#rejected('PUT', key, answer);
    return { ok: true, version: (JSON.parse(answer.body) as { version: number }).version };
  }

  async delete(key: string, ifMatch: number | null): Promise<KvWriteResult> {
    const answer = await this.#request('DELETE', key, null, ifMatch);
    if (answer.status === 412) return { ok: false, current: 'mismatch' };
    if (answer.status !== 200) throw this.#rejected('DELETE', key, answer);
    return { ok: true, version: 0 };
  }

  #rejected(method: string, key: string, answer: Answer): KvRejectedError {
    return new KvRejectedError(answer.status, `KV ${method} ${key}: ${answer.status} ${answer.body.slice(0, 300)}`);
  }

  async #request(method: string, key: string, body: string | null, ifMatch: number | null): Promise<Answer> {
    const deadline = performance.now() + (this.options.requestDeadlineMs ?? defaultRequestDeadlineMs);
    const path = `/api/v1/kv/${this.options.namespace}/${key}`;
    let target = this.#preferred;
    let failures = 0;
    let redirects = 0;
    let lastProblem = 'no attempt made';
    while (performance.now() < deadline) {
      const answer = await this.#attempt(target, method, path, body, ifMatch).catch((error: Error) => error);
      if (answer instanceof Error || answer.status === 503 || answer.status === 504) {
        lastProblem = answer instanceof Error ? `${target}: ${answer.message}` : `${target}: ${answer.status}`;
        failures += 1;
        target = this.#nextMaster(target);
        await sleep(backoffDelayMs(Math.min(failures - 1, 10), retryPolicy, this.options.random ?? Math.random));
        continue;
      }
      const leader = answer.status === 307 ? parseRedirectLocation(answer.location ?? undefined) : null;
      if (leader !== null && redirects < maxRedirects) {
        redirects += 1;
        target = leader;
        continue;
      }
      this.#preferred = target;
      return answer;
    }
    throw new KvUnavailableError(`KV ${method} ${key}: no master answered in time (last: ${lastProblem})`);
  }

  #nextMaster(current: MasterAddress): MasterAddress {
    const masters = this.options.masters;
    const index = masters.indexOf(current);
    return masters[(index + 1) % masters.length]!;
  }

  async #attempt(
    master: MasterAddress,
    method: string,
    path: string,
    body: string | null,
    ifMatch: number | null,
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...this.options.credentials, accept: 'application/json' };
    if (body !== null) headers['content-type'] = 'application/json';
    if (ifMatch !== null) headers['if-match'] = String(ifMatch);
    const response = await fetch(`http://${master}${path}`, {
      method,
      headers,
      ...(body === null ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.attemptTimeoutMs ?? defaultAttemptTimeoutMs),
    });
    return { status: response.status, body: await response.text(), location: response.headers.get('location') };
  }
}
