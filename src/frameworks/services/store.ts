// The framework's view of its KV keys: the last value and version of each, and a writer per key
// that sends the key's current value with If-Match on the version it last saw. Changes to the
// same key coalesce: while a write is in flight, later changes wait and go out together as one
// write. A version mismatch means another writer touched the key — the single-writer rule is
// broken — and is reported to the framework, which stops acting (see README, "Services").
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../util/logger.ts';
import { type KvClient, type KvEntry, KvError, type KvWriteResult } from '../kv/client.ts';
import { maxConcurrentKvWrites } from './limits.ts';

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: 'NOT_LEADING' | 'CONFLICT' | 'UNAVAILABLE' | 'CLOSED',
    message: string,
  ) {
    super(message);
  }
}

/** The key's value now, or null to delete it. Called when the write is sent, not when asked. */
export type Serializer = () => string | null;

interface Waiter {
  readonly generation: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Pending {
  serialize: Serializer;
  generation: number;
  written: number;
  running: boolean;
  waiters: Waiter[];
}

export interface StoreOptions {
  readonly client: KvClient;
  /** False once this instance may no longer write (its lease is not valid). */
  readonly canWrite: () => boolean;
  readonly onConflict: (key: string, error: Error) => void;
  readonly logger: Logger;
}

const unavailableRetryMs = 1_000;

export class KvStore {
  readonly #known = new Map<string, KvEntry>();
  readonly #pending = new Map<string, Pending>();
  #running = 0;
  /** Keys waiting for a writer, in order (a Set: a key waits once). */
  readonly #queue = new Set<string>();
  #closed = false;

  constructor(readonly options: StoreOptions) {}

  /** Reads a key (linearizable) and remembers its version. */
  async read(key: string): Promise<string | null> {
    const entry = await this.options.client.get(key);
    if (entry === null) this.#known.delete(key);
    else this.#known.set(key, entry);
    return entry?.value ?? null;
  }

  /** Reads every key starting with `prefix`, page by page, and remembers each version. */
  async readPrefix(prefix: string, visit: (key: string, value: string) => void): Promise<void> {
    await this.options.client.listAll(prefix, (entries) => {
      for (const entry of entries) {
        this.#known.set(entry.key, { value: entry.value, version: entry.version });
        visit(entry.key, entry.value);
      }
    });
  }

  /** Schedules a write of `serialize()`; resolves once a write that includes this change is durable. */
  write(key: string, serialize: Serializer): Promise<void> {
    if (this.#closed) return Promise.reject(new StoreError('CLOSED', 'the store is closed'));
    const pending = this.#pending.get(key) ?? { serialize, generation: 0, written: 0, running: false, waiters: [] };
    pending.serialize = serialize;
    pending.generation += 1;
    this.#pending.set(key, pending);
    const done = new Promise<void>((resolve, reject) => {
      pending.waiters.push({ generation: pending.generation, resolve, reject });
    });
    if (!pending.running && !this.#queue.has(key)) {
      this.#queue.add(key);
      this.#pump();
    }
    return done;
  }

  /** Fails every waiting write and takes no more: the instance stopped leading. */
  close(reason: string): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      for (const waiter of pending.waiters.splice(0)) waiter.reject(new StoreError('CLOSED', reason));
    }
    this.#pending.clear();
    this.#queue.clear();
  }

  get idle(): boolean {
    return this.#pending.size === 0;
  }

  #pump(): void {
    while (this.#running < maxConcurrentKvWrites && this.#queue.size > 0) {
      const key: string = this.#queue.values().next().value!;
      this.#queue.delete(key);
      const pending = this.#pending.get(key);
      if (pending === undefined || pending.running) continue;
      pending.running = true;
      this.#running += 1;
      void this.#drain(key, pending).finally(() => {
        this.#running -= 1;
        pending.running = false;
        if (this.#pending.get(key) === pending && pending.written < pending.generation && !this.#closed) {
          this.#queue.add(key);
        } else if (this.#pending.get(key) === pending && pending.waiters.length === 0) {
          this.#pending.delete(key);
        }
        this.#pump();
      });
    }
  }

  async #drain(key: string, pending: Pending): Promise<void> {
    while (pending.written < pending.generation && !this.#closed) {
      const generation = pending.generation;
      try {
        await this.#writeOnce(key, pending.serialize());
      } catch (error) {
        if (error instanceof StoreError && error.code === 'UNAVAILABLE') {
          this.options.logger.warn({ key, error: error.message }, 'KV write failed; retrying');
          await sleep(unavailableRetryMs);
          continue;
        }
        this.#fail(pending, error as Error);
        if (error instanceof StoreError && error.code === 'CONFLICT') this.options.onConflict(key, error);
        return;
      }
      pending.written = generation;
      const [ready, waiting] = partition(pending.waiters, (waiter) => waiter.generation <= generation);
      pending.waiters = waiting;
      for (const waiter of ready) waiter.resolve();
    }
  }

  #fail(pending: Pending, error: Error): void {
    pending.written = pending.generation;
    for (const waiter of pending.waiters.splice(0)) waiter.reject(error);
  }

  async #writeOnce(key: string, value: string | null): Promise<void> {
    if (!this.options.canWrite()) throw new StoreError('NOT_LEADING', `not leading: ${key} not written`);
    const known = this.#known.get(key);
    if (value === (known?.value ?? null)) return;
    let written: KvWriteResult;
    try {
      written =
        value === null
          ? await this.options.client.delete(key, known?.version ?? 0)
          : await this.options.client.put(key, value, known?.version ?? 0);
    } catch (error) {
      if (error instanceof KvError && error.code === 'UNAVAILABLE') throw new StoreError('UNAVAILABLE', error.message);
      if (error instanceof KvError && error.code === 'CLOSED') throw new StoreError('CLOSED', error.message);
      throw error;
    }
    if (!written.ok) {
      throw new StoreError('CONFLICT', `${key}: not at version ${known?.version ?? 0} (another writer changed it)`);
    }
    if (value === null) this.#known.delete(key);
    else this.#known.set(key, { value, version: written.version });
  }
}

function partition<Item>(items: readonly Item[], test: (item: Item) => boolean): [Item[], Item[]] {
  const yes: Item[] = [];
  const no: Item[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}
