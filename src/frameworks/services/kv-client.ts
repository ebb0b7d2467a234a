// The masters' key-value API (DESIGN.md "Key-value API") from a framework: linearizable GET,
// PUT and DELETE with If-Match compare-and-set, on whichever master leads. A follower answers
// writes with 307 and the leader's address, which is followed; a master that is down, has no
// leader (503) or timed out (504) is retried on the next one with back-off, within a deadline.
// A write whose outcome is unknown (the connection died after sending) is resolved by reading
// the key back, so a compare-and-set is never applied twice and never reported lost when won.
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs } from '../../util/backoff.ts';
import { type MasterAddress, parseRedirectLocation } from '../sdk/masters.ts';

export interface KvEntry {
  readonly value: string;
  readonly version: number;
}

export class KvError extends Error {
  override name = 'KvError';
  constructor(
    readonly code: 'VERSION_MISMATCH' | 'UNAVAILABLE' | 'REJECTED',
    message: string,
  ) {
    super(message);
  }
}

export interface KvClientOptions {
  readonly masters: readonly MasterAddress[];
  readonly namespace: string;
  /** A call gives up (UNAVAILABLE) after this long without an answer it can use. */
  readonly deadlineMs?: number;
  readonly requestTimeoutMs?: number;
  readonly random?: () => number;
}

const defaultDeadlineMs = 30_000;
const defaultRequestTimeoutMs = 10_000;
const maxRedirects = 5;
const retryPolicy = { baseMs: 50, maxMs: 1_000 };
/** Writes in doubt are read back and resent at most this many times. */
const maxUnknownRounds = 5;

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly location: string | null;
}

export class KvClient {
  #preferred = 0;
  #leader: MasterAddress | null = null;

  constructor(readonly options: KvClientOptions) {
    if (options.masters.length === 0) throw new Error('KvClient: no masters');
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(options.namespace))
      throw new Error(`KvClient: bad namespace ${options.namespace}`);
  }

  async get(key: string): Promise<KvEntry | null> {
    const answer = await this.#call('GET', key, undefined, null);
    if (answer.status === 404) return null;
    const parsed = JSON.parse(answer.body) as { value?: unknown; version?: unknown };
    if (typeof parsed.value !== 'string' || typeof parsed.version !== 'number') {
      throw new KvError('REJECTED', `GET ${key}: an answer without value and version`);
    }
    return { value: parsed.value, version: parsed.version };
  }

  /** PUT with If-Match `expectedVersion` (0: only if absent; null: unconditional). Resolves with the new version. */
  async put(key: string, value: string, expectedVersion: number | null): Promise<number> {
    for (let round = 0; ; round++) {
      try {
        const answer = await this.#call('PUT', key, JSON.stringify({ value }), expectedVersion);
        return (JSON.parse(answer.body) as { version: number }).version;
      } catch (error) {
        if (!(error instanceof OutcomeUnknown) || round >= maxUnknownRounds) throw asKvError(error);
        // The PUT may have applied: if the key holds our value now, it did; if the key is
        // unchanged, it did not (yet), and the compare-and-set can be sent again safely.
        const now = await this.get(key);
        if (now !== null && now.value === value) return now.version;
        const unchanged = expectedVersion === null || (now?.version ?? 0) === expectedVersion;
        if (!unchanged) throw new KvError('VERSION_MISMATCH', `PUT ${key}: another write won while ours was in doubt`);
      }
    }
  }

  async delete(key: string, expectedVersion: number | null): Promise<void> {
    for (let round = 0; ; round++) {
      try {
        await this.#call('DELETE', key, undefined, expectedVersion);
        return;
      } catch (error) {
        if (!(error instanceof OutcomeUnknown) || round >= maxUnknownRounds) throw asKvError(error);
        const now = await this.get(key);
        if (now === null) return;
        if (expectedVersion !== null && now.version !== expectedVersion) {
          throw new KvError('VERSION_MISMATCH', `DELETE ${key}: another write won while ours was in doubt`);
        }
      }
    }
  }

  async #call(method: string, key: string, body: string | undefined, ifMatch: number | null): Promise<Answer> {
    const deadline = performance.now() + (this.options.deadlineMs ?? defaultDeadlineMs);
    let attempt = 0;
    let lastProblem = 'no master tried';
    for (;;) {
      const master = this.#leader ?? this.options.masters[this.#preferred % this.options.masters.length]!;
      const outcome = await this.#attempt(master, method, key, body, ifMatch);
      if (outcome.kind === 'answer') return outcome.answer;
      if (outcome.kind === 'unknown') throw new OutcomeUnknown(outcome.problem);
      lastProblem = outcome.problem;
      this.#leader = null;
      this.#preferred += 1;
      if (performance.now() > deadline) {
        throw new KvError('UNAVAILABLE', `${method} ${key}: no master could answer (${lastProblem})`);
      }
      await sleep(backoffDelayMs(Math.min(attempt, 10), retryPolicy, this.options.random ?? Math.random));
      attempt += 1;
    }
  }

  async #attempt(
    first: MasterAddress,
    method: string,
    key: string,
    body: string | undefined,
    ifMatch: number | null,
  ): Promise<{ kind: 'answer'; answer: Answer } | { kind: 'retry' | 'unknown'; problem: string }> {
    let master = first;
    for (let hop = 0; hop <= maxRedirects; hop++) {
      let answer: Answer;
      try {
        answer = await this.#request(master, method, key, body, ifMatch);
      } catch (error) {
        const problem = `${master}: ${(error as Error).message}`;
        // A GET can always be retried; a write that may have reached the master cannot be
        // blindly repeated (only a refused connection proves it never left).
        const refused = ((error as Error).cause as { code?: string } | undefined)?.code === 'ECONNREFUSED';
        return { kind: method === 'GET' || refused ? 'retry' : 'unknown', problem };
      }
      if (answer.status === 307) {
        const leader = parseRedirectLocation(answer.location ?? undefined);
        if (leader === null) return { kind: 'retry', problem: `${master}: 307 without a usable Location` };
        master = leader;
        continue;
      }
      if (answer.status === 503) return { kind: 'retry', problem: `${master}: 503 ${answer.body.slice(0, 200)}` };
      if (answer.status === 504) return { kind: method === 'GET' ? 'retry' : 'unknown', problem: `${master}: 504` };
      this.#leader = master;
      if (answer.status === 412)
        throw new KvError('VERSION_MISMATCH', `${method} ${key}: ${answer.body.slice(0, 300)}`);
      if (answer.status >= 400 && !(answer.status === 404 && method === 'GET')) {
        throw new KvError('REJECTED', `${method} ${key}: ${answer.status} ${answer.body.slice(0, 300)}`);
      }
      return { kind: 'answer', answer };
    }
    return { kind: 'retry', problem: `more than ${maxRedirects} redirects` };
  }

  async #request(
    master: MasterAddress,
    method: string,
    key: string,
    body: string | undefined,
    ifMatch: number | null,
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (ifMatch !== null) headers['if-match'] = String(ifMatch);
    const response = await fetch(`http://${master}/api/v1/kv/${this.options.namespace}/${key}`, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? defaultRequestTimeoutMs),
    });
    return { status: response.status, body: await response.text(), location: response.headers.get('location') };
  }
}

class OutcomeUnknown extends Error {
  override name = 'OutcomeUnknown';
}

function asKvError(error: unknown): Error {
  return error instanceof OutcomeUnknown ? new KvError('UNAVAILABLE', error.message) : (error as Error);
}
