// A key-value client as a framework would write one: writes go to the leader it last heard of,
// follow 307 redirects, and move on to another master when one refuses the connection or has
// no leader; reads go to any master (they are linearizable everywhere, DESIGN.md).
//
// Every write carries an Idempotency-Key of its own (src/http/idempotency.ts), so it is also
// retried after an indeterminate answer (504, a reset or timed-out connection after sending):
// with the same key, it applies at most once whichever attempt gets through, and the history
// holds one operation for one effect. A write ends
//   ok    when an attempt answers 200 (a retry answers the first application's version);
//   fail  when an attempt answers a definite failure and no earlier attempt was indeterminate,
//         or answers 412: VERSION_MISMATCH is decided when the command applies, and recorded
//         under the key, so once one attempt applied as a 412 no other attempt ever applies;
//   info  otherwise: still unknown at the operation's deadline, or a definite "not applied"
//         about a later attempt (307, 503, refused) that says nothing of an earlier one.
import type { SeededRandom } from '../../../src/raft/random.ts';
import type { AddressBook } from './endpoint.ts';
import { type HttpResult, sendRequest } from './http.ts';
import { classifyRead, classifyWrite, locationAddress } from './outcome.ts';

export interface KvClientLimits {
  /** One HTTP exchange; an unanswered write is indeterminate after this. */
  readonly requestTimeoutMs: number;
  /** Redirects and retries of one operation stop after this long… */
  readonly operationDeadlineMs: number;
  /** …or after this many requests. */
  readonly maxAttempts: number;
  /**
   * A write that may have been applied is settled only by a definite answer: it goes on until the
   * deadline, bounded by this many requests rather than maxAttempts (a leader kill burns 8
   * attempts — reset, redirect to the dead leader, refused — in about 400 ms).
   */
  readonly maxAttemptsAfterUnknown: number;
  /** Pause before trying again after a 503 or a refused connection. */
  readonly retryPauseMs: number;
}

export const defaultKvClientLimits: KvClientLimits = {
  requestTimeoutMs: 2_500,
  operationDeadlineMs: 5_000,
  maxAttempts: 8,
  maxAttemptsAfterUnknown: 64,
  retryPauseMs: 60,
};

export interface KvClientOptions {
  readonly limits: KvClientLimits;
  /**
   * Send no Idempotency-Key and never retry after an indeterminate answer (how this client
   * worked before keys existed; kept to compare runs with and without).
   */
  readonly withoutIdempotencyKeys?: boolean;
  /** Read with ?stale=true: a master's own state, possibly behind. Not linearizable — a way
   *  to check that the checker catches what it should (see jepsen-lite-stale.test.ts). */
  readonly staleReads: boolean;
}

export const defaultKvClientOptions: KvClientOptions = { limits: defaultKvClientLimits, staleReads: false };

export type KvOutcome<Value> =
  | { readonly type: 'ok'; readonly value: Value; readonly node: string; readonly unknownAttempts?: number }
  | {
      readonly type: 'fail' | 'info';
      readonly error: string;
      readonly node?: string;
      readonly unknownAttempts?: number;
    };

export interface ReadValue {
  readonly value: string | null;
  readonly version: number;
}

/** Answers that mean this client sent a bad key: a bug in the client, never a verdict on the write. */
const clientBugCodes = new Set(['IDEMPOTENCY_KEY_REUSED', 'INVALID_IDEMPOTENCY_KEY']);

export class KvClient {
  private leaderHint: string | null = null;
  private writes = 0;

  constructor(
    private readonly book: AddressBook,
    private readonly nodes: () => readonly string[],
    private readonly random: SeededRandom,
    private readonly options: KvClientOptions = defaultKvClientOptions,
    /** Unique among the run's clients: it prefixes the Idempotency-Keys. */
    private readonly name = 'kv',
  ) {}

  private get limits(): KvClientLimits {
    return this.options.limits;
  }

  /** A linearizable read from any master; `only` pins it to one master (the final reads). */
  async read(namespace: string, key: string, only?: string): Promise<KvOutcome<ReadValue>> {
    const deadline = performance.now() + this.limits.operationDeadlineMs;
    let target = only ?? this.pickNode(null);
    let lastCode = 'NO_ATTEMPT';
    for (let attempt = 0; attempt < this.limits.maxAttempts && performance.now() < deadline; attempt++) {
      const path = `${kvPath(namespace, key)}${this.options.staleReads ? '?stale=true' : ''}`;
      const verdict = classifyRead(await this.send(target, { method: 'GET', path }));
      if (verdict.kind === 'ok') return { type: 'ok', value: parseReadBody(verdict.body), node: target };
      if (verdict.kind === 'absent') return { type: 'ok', value: { value: null, version: 0 }, node: target };
      lastCode = verdict.code;
      if (verdict.kind === 'redirect' && only === undefined) {
        target = this.redirectTarget(verdict.location, target);
        continue;
      }
      target = only ?? this.pickNode(target);
      await pause(this.limits.retryPauseMs);
    }
    return { type: 'fail', error: lastCode };
  }

  /** PUT, as a compare-and-set when `ifMatch` is a version (0: only if absent). */
  async write(
    namespace: string,
    key: string,
    value: string,
    ifMatch: number | null,
  ): Promise<KvOutcome<{ version: number }>> {
    const deadline = performance.now() + this.limits.operationDeadlineMs;
    let target = this.leaderHint ?? this.pickNode(null);
    let lastCode = 'NO_ATTEMPT';
    const keyed = this.options.withoutIdempotencyKeys !== true;
    const headers: Record<string, string> = {
      ...(ifMatch === null ? {} : { 'if-match': String(ifMatch) }),
      ...(keyed ? { 'idempotency-key': `${this.name}.${++this.writes}` } : {}),
    };
    /** Attempts that may have been applied: once there is one, no "not applied" ends the write. */
    let unknownAttempts = 0;
    const attemptsAllowed = (): number =>
      unknownAttempts > 0 ? this.limits.maxAttemptsAfterUnknown : this.limits.maxAttempts;
    for (let attempt = 0; attempt < attemptsAllowed() && performance.now() < deadline; attempt++) {
      const verdict = classifyWrite(
        await this.send(target, { method: 'PUT', path: kvPath(namespace, key), body: { value }, headers }),
      );
      const attempts = unknownAttempts > 0 ? { unknownAttempts } : {};
      switch (verdict.kind) {
        case 'ok':
          this.leaderHint = target;
          return { type: 'ok', value: { version: parseVersion(verdict.body) }, node: target, ...attempts };
        case 'fail':
          if (clientBugCodes.has(verdict.code)) throw new Error(`kv client: the master answered ${verdict.code}`);
          if (unknownAttempts > 0 && verdict.code !== 'VERSION_MISMATCH')
            return { type: 'info', error: verdict.code, node: target, ...attempts };
          return { type: 'fail', error: verdict.code, node: target, ...attempts };
        case 'unknown':
          this.leaderHint = null;
          if (!keyed) return { type: 'info', error: verdict.code, node: target };
          unknownAttempts += 1;
          lastCode = verdict.code;
          target = this.pickNode(target);
          await pause(this.limits.retryPauseMs);
          continue;
        case 'redirect':
          lastCode = verdict.code;
          target = this.redirectTarget(verdict.location, target);
          this.leaderHint = target;
          continue;
        case 'retry':
          lastCode = verdict.code;
          this.leaderHint = null;
          target = this.pickNode(target);
          await pause(this.limits.retryPauseMs);
      }
    }
    if (unknownAttempts > 0) return { type: 'info', error: lastCode, unknownAttempts };
    return { type: 'fail', error: lastCode };
  }

  /** A master that left the cluster (membership nemesis) is not asked: as good as refused. */
  private send(
    node: string,
    request: { method: 'GET' | 'PUT'; path: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<HttpResult> {
    if (!this.nodes().includes(node)) return Promise.resolve({ kind: 'transport', sent: false, code: 'NOT_A_MEMBER' });
    return sendRequest(this.book.endpoint(node), { ...request, timeoutMs: this.limits.requestTimeoutMs });
  }

  private redirectTarget(location: string, current: string): string {
    const address = locationAddress(location);
    const node = address === undefined ? undefined : this.book.nodeAt(address);
    return node !== undefined && this.nodes().includes(node) ? node : this.pickNode(current);
  }

  /** A random master, other than `avoid` when there is a choice. */
  private pickNode(avoid: string | null): string {
    const nodes = this.nodes();
    if (nodes.length === 0) throw new Error('kv client: the cluster has no masters');
    const others = nodes.filter((node) => node !== avoid);
    return this.random.pick(others.length > 0 ? others : nodes);
  }
}

export function kvPath(namespace: string, key: string): string {
  return `/api/v1/kv/${namespace}/${key}`;
}

function parseReadBody(body: unknown): ReadValue {
  const record = body as { value?: unknown; version?: unknown } | null;
  if (typeof record?.value !== 'string' || typeof record.version !== 'number')
    throw new Error(`kv read: unexpected body ${JSON.stringify(body)}`);
  return { value: record.value, version: record.version };
}

function parseVersion(body: unknown): number {
  const version = (body as { version?: unknown } | null)?.version;
  if (typeof version !== 'number') throw new Error(`kv write: unexpected body ${JSON.stringify(body)}`);
  return version;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
