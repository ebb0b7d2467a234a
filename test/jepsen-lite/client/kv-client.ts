// A key-value client as a framework would write one: writes go to the leader it last heard of,
// follow 307 redirects, and move on to another master when one refuses the connection or has
// no leader; reads go to any master (they are linearizable everywhere, DESIGN.md). Retrying is
// only ever done after a definite failure: a write retried after an indeterminate answer could
// apply twice, and the history would hold one operation for two effects.
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
  /** Pause before trying again after a 503 or a refused connection. */
  readonly retryPauseMs: number;
}

export const defaultKvClientLimits: KvClientLimits = {
  requestTimeoutMs: 2_500,
  operationDeadlineMs: 5_000,
  maxAttempts: 8,
  retryPauseMs: 60,
};

export interface KvClientOptions {
  readonly limits: KvClientLimits;
  /** Read with ?stale=true: a master's own state, possibly behind. Not linearizable — a way
   *  to check that the checker catches what it should (see jepsen-lite-stale.test.ts). */
  readonly staleReads: boolean;
}

export const defaultKvClientOptions: KvClientOptions = { limits: defaultKvClientLimits, staleReads: false };

export type KvOutcome<Value> =
  | { readonly type: 'ok'; readonly value: Value; readonly node: string }
  | { readonly type: 'fail' | 'info'; readonly error: string; readonly node?: string };

export interface ReadValue {
  readonly value: string | null;
  readonly version: number;
}

export class KvClient {
  private leaderHint: string | null = null;

  constructor(
    private readonly book: AddressBook,
    private readonly nodes: () => readonly string[],
    private readonly random: SeededRandom,
    private readonly options: KvClientOptions = defaultKvClientOptions,
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
    const headers: Record<string, string> = ifMatch === null ? {} : { 'if-match': String(ifMatch) };
    for (let attempt = 0; attempt < this.limits.maxAttempts && performance.now() < deadline; attempt++) {
      const verdict = classifyWrite(
        await this.send(target, { method: 'PUT', path: kvPath(namespace, key), body: { value }, headers }),
      );
      switch (verdict.kind) {
        case 'ok':
          this.leaderHint = target;
          return { type: 'ok', value: { version: parseVersion(verdict.body) }, node: target };
        case 'fail':
          return { type: 'fail', error: verdict.code, node: target };
        case 'unknown':
          this.leaderHint = null;
          return { type: 'info', error: verdict.code, node: target };
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
