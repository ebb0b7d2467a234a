// The CLI's client of the masters' public HTTP APIs (operator API, KV API). Any master works:
// it follows a 307 to the leader, moves on to the next master when one does not answer, and
// remembers where it was last answered. Every mutating request carries an Idempotency-Key,
// fresh per logical call and the same on each retry, so a retry after a 503, a 504 or a
// timeout applies nothing twice (DESIGN.md "exactly-once writes"). Retries are bounded and
// spaced by the equal-jitter back-off (src/util/backoff.ts).
import { maxAttempts, maxRedirects, maxUnreachableRounds } from '../limits.ts';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type MasterAddress, parseRedirectLocation } from '../../frameworks/sdk/masters.ts';
import { type BackoffPolicy, backoffDelayMs } from '../../util/backoff.ts';
import { CliError } from './errors.ts';
import type { ClientTls } from '../../protocol/tls-client.ts';
import { type HttpAnswer, type HttpRequest, sendRequest, TransportError } from './http.ts';

export const idempotencyKeyHeader = 'idempotency-key';
export const retryBackoff: BackoffPolicy = { baseMs: 100, maxMs: 2_000 };

export interface ClusterClientOptions {
  readonly masters: readonly MasterAddress[];
  readonly timeoutMs?: number;
  readonly random?: () => number;
  /** The Authorization header every request carries (credentials.ts), or none. */
  readonly credentials?: Readonly<Record<string, string>>;
  /** Masters with --tls-*: HTTPS trusting this CA (--tls-ca, FLOTILLA_TLS_CA); absent: plain HTTP. */
  readonly tls?: ClientTls | null;
}

export interface ClusterRequest extends HttpRequest {
  /** Writes carry an Idempotency-Key; reads do not. */
  readonly mutating: boolean;
}

/** A final answer (2xx, 3xx other than a followed 307, or 4xx) and the master that gave it. */
export interface ClusterAnswer extends HttpAnswer {
  readonly address: MasterAddress;
}

interface RoundOutcome {
  readonly answer: ClusterAnswer | null;
  /** The 503/504 answer or transport error that ended the round without an answer. */
  readonly retryable: ClusterAnswer | TransportError | null;
  readonly allRefused: boolean;
}

export class ClusterClient {
  #preferred: MasterAddress | null = null;
  readonly #unreachable = new Map<MasterAddress, string>();

  constructor(readonly options: ClusterClientOptions) {
    if (options.masters.length === 0) throw new Error('ClusterClient: no masters');
  }

  get masters(): readonly MasterAddress[] {
    return this.options.masters;
  }

  /** The Authorization header of every request (also for streams opened outside `request`). */
  get credentialHeaders(): Readonly<Record<string, string>> {
    return this.options.credentials ?? {};
  }

  /** The TLS of every request to the masters (also for streams opened outside `request`); null: plain HTTP. */
  get tls(): ClientTls | null {
    return this.options.tls ?? null;
  }

  /** The master that answered last (after a write: the leader). */
  get lastAnswered(): MasterAddress | null {
    return this.#preferred;
  }

  /** Sends `request` to the cluster: follows the leader, retries 503/504 and silent masters. */
  async request(request: ClusterRequest): Promise<ClusterAnswer> {
    const key = request.mutating ? randomUUID() : null;
    const headers = {
      ...this.credentialHeaders,
      ...request.headers,
      ...(key === null ? {} : { [idempotencyKeyHeader]: key }),
    };
    const keyed: HttpRequest = {
      ...request,
      headers,
      timeoutMs: request.timeoutMs ?? this.options.timeoutMs,
      tls: this.tls,
    };
    let refusedRounds = 0;
    let last: ClusterAnswer | TransportError | null = null;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt > 0) await sleep(backoffDelayMs(attempt - 1, retryBackoff, this.options.random ?? Math.random));
      const round = await this.#round(keyed);
      if (round.answer !== null) return round.answer;
      last = round.retryable ?? last;
      refusedRounds = round.allRefused ? refusedRounds + 1 : 0;
      if (refusedRounds >= maxUnreachableRounds) break;
    }
    throw this.#failure(request, last);
  }

  /** One request to one master, no leader following and no retry (GET_RAFT of each master, /health). */
  async requestAt(address: MasterAddress, request: HttpRequest): Promise<HttpAnswer> {
    return sendRequest(address, {
      ...request,
      headers: { ...this.credentialHeaders, ...request.headers },
      timeoutMs: request.timeoutMs ?? this.options.timeoutMs,
      tls: this.tls,
    });
  }

  /** Tries the masters in turn, the preferred one first, until one answers something final. */
  async #round(request: HttpRequest): Promise<RoundOutcome> {
    const targets = [...new Set([...(this.#preferred === null ? [] : [this.#preferred]), ...this.options.masters])];
    let retryable: ClusterAnswer | TransportError | null = null;
    let allRefused = true;
    for (const target of targets) {
      let answer: ClusterAnswer;
      try {
        answer = await this.#follow(target, request);
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        this.#unreachable.set(error.address, error.message);
        if (!error.neverSent) {
          allRefused = false;
          retryable = error;
        }
        if (this.#preferred === error.address) this.#preferred = null;
        continue;
      }
      allRefused = false;
      this.#unreachable.delete(answer.address);
      // 503: no leader known yet (an election); 504: the leader could not commit in time.
      // Both are worth another round after a pause; every master would answer the same now.
      if (answer.status === 503 || answer.status === 504) return { answer: null, retryable: answer, allRefused };
      this.#preferred = answer.address;
      return { answer, retryable: null, allRefused };
    }
    return { answer: null, retryable, allRefused };
  }

  /** Sends to `first` and follows 307s to the leader. */
  async #follow(first: MasterAddress, request: HttpRequest): Promise<ClusterAnswer> {
    let address = first;
    for (let hop = 0; hop <= maxRedirects; hop++) {
      const answer = await sendRequest(address, request);
      if (answer.status !== 307) return { ...answer, address };
      const leader = parseRedirectLocation(answer.headers.location);
      if (leader === null) {
        throw new CliError(
          'BAD_ANSWER',
          `${address} redirected to an unusable Location "${answer.headers.location ?? ''}"`,
          'check that --masters names Flotilla masters',
        );
      }
      address = leader;
    }
    throw new CliError(
      'NO_LEADER',
      `the masters redirected more than ${maxRedirects} times (last to ${address})`,
      'leadership is moving: try again in a moment, or see `flotilla status`',
    );
  }

  #failure(request: ClusterRequest, last: ClusterAnswer | TransportError | null): CliError {
    const what = `${request.method} ${request.path}`;
    if (last === null || (last instanceof TransportError && this.#unreachable.size >= this.options.masters.length)) {
      const tried = this.options.masters
        .map((address) => `${address} (${(this.#unreachable.get(address) ?? 'no answer').replace(`${address}: `, '')})`)
        .join(', ');
      return new CliError(
        'NO_MASTER',
        `no master answers at ${tried}`,
        'is the cluster running? Start one with `npm start`, or point --masters / FLOTILLA_MASTERS at it',
      );
    }
    if (last instanceof TransportError) {
      return request.mutating
        ? new CliError(
            'OUTCOME_UNKNOWN',
            `${what}: no answer after ${maxAttempts} tries (${last.message}); it may or may not have been applied`,
            'check the result (e.g. with a read), then repeat the command if it did not apply',
          )
        : new CliError('NO_MASTER', `${what}: no answer (${last.message})`, 'see `flotilla status`');
    }
    const error = parseErrorBody(last.body);
    if (last.status === 504 && request.mutating) {
      return new CliError(
        'OUTCOME_UNKNOWN',
        `${what}: ${last.address} answered 504 ${error.code ?? ''} on every try: ${error.message}`,
        'the write may or may not have been applied: check, then repeat if it did not',
        504,
        error.code,
      );
    }
    return new CliError(
      'NO_LEADER',
      `${what}: ${last.address} answered ${last.status} ${error.code ?? ''}: ${error.message}`,
      'the masters have no leader: a majority may be down or cut off. See `flotilla status`',
      last.status,
      error.code,
    );
  }
}

/** Flotilla's `{"error": {"code", "message"}}`, or the body as text when it is not that. */
export function parseErrorBody(body: string): { code: string | null; message: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.message === 'string') {
      return { code: typeof parsed.error.code === 'string' ? parsed.error.code : null, message: parsed.error.message };
    }
  } catch {
    // Not JSON: quoted as text below.
  }
  return { code: null, message: body.trim().slice(0, 500) || 'no message' };
}
