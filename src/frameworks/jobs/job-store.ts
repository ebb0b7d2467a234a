// The jobs' replicated state in the masters' KV store, under one namespace:
//   catalog        {"formatVersion":1,"jobs":["a","b.c",…]}  every job id (for listing)
//   jobs/<job id>  the job's record (job-record.ts): definition, cursors, runs, history
//   framework      {"formatVersion":1,"frameworkId":"…"}      the Mesos framework id
// Every write of a record is a compare-and-set on the version this instance last read, so a
// decision made from stale state fails instead of overwriting a newer one; the store then
// re-reads and the caller decides again. A job exists when its record exists; the catalog is
// written first on create and last on delete, so a crash leaves at worst a catalog entry
// without a record, which readers skip and the next write of the catalog drops.
import { type Logger, silentLogger } from '../../util/logger.ts';
import { decodeRecord, encodeRecord } from './job-record.ts';
import type { KvClient } from './kv-client.ts';
import { maxCasAttempts, maxJobs } from './limits.ts';
import type { JobId, JobRecord } from './model.ts';

export const catalogKey = 'catalog';
export const frameworkKey = 'framework';
export const jobKey = (id: string): string => `jobs/${id}`;

interface Cached {
  readonly record: JobRecord;
  readonly version: number;
}

export class JobConflictError extends Error {
  override name = 'JobConflictError';
}

export class CasExhaustedError extends Error {
  override name = 'CasExhaustedError';
}

/** A change to one record: the new record and what the caller wants back, or null for "no change". */
export type Mutation<Result> = (record: JobRecord) => { record: JobRecord; result: Result } | null;

export class JobStore {
  readonly #cache = new Map<string, Cached>();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #logger: Logger;

  constructor(
    readonly kv: KvClient,
    logger: Logger = silentLogger,
  ) {
    this.#logger = logger;
  }

  /** Reads the catalog and every record into the cache (on start, and after losing track). */
  async load(): Promise<void> {
    const ids = await this.#readCatalog();
    this.#cache.clear();
    for (const id of ids) {
      const entry = await this.kv.get(jobKey(id));
      if (entry === null) continue;
      try {
        this.#cache.set(id, { record: decodeRecord(jobKey(id), entry.value), version: entry.version });
      } catch (error) {
        this.#logger.error({ jobId: id, error: (error as Error).message }, 'job record unreadable; job ignored');
      }
    }
  }

  ids(): string[] {
    return [...this.#cache.keys()].sort();
  }

  get(id: string): JobRecord | undefined {
    return this.#cache.get(id)?.record;
  }

  records(): JobRecord[] {
    return this.ids().map((id) => this.#cache.get(id)!.record);
  }

  /** Creates a job; JobConflictError if it exists. */
  async create(record: JobRecord): Promise<void> {
    const id = record.spec.id;
    await this.#serialized(id, async () => {
      const existing = await this.kv.get(jobKey(id));
      if (existing !== null) throw new JobConflictError('Job with this id already exists');
      await this.#updateCatalog((ids) => (ids.includes(id) ? ids : [...ids, id]));
      const written = await this.kv.put(jobKey(id), encodeRecord(record), 0);
      if (!written.ok) throw new JobConflictError('Job with this id already exists');
      this.#cache.set(id, { record, version: written.version });
    });
  }

  /**
   * Applies `mutate` to the job's current record and writes it with a compare-and-set,
   * re-reading and re-applying when another write came first. Undefined if the job is gone.
   */
  update<Result>(
    id: string,
    mutate: Mutation<Result>,
  ): Promise<{ result: Result; record: JobRecord } | null | undefined> {
    return this.#serialized(id, async () => {
      for (let attempt = 0; attempt < maxCasAttempts; attempt++) {
        const current = this.#cache.get(id);
        if (current === undefined) return undefined;
        const change = mutate(current.record);
        if (change === null) return null;
        const text = encodeRecord(change.record);
        const written = await this.kv.put(jobKey(id), text, current.version);
        if (written.ok) {
          this.#cache.set(id, { record: change.record, version: written.version });
          return { result: change.result, record: change.record };
        }
        if (await this.#refresh(id, text)) return { result: change.result, record: change.record };
      }
      throw new CasExhaustedError(`job ${id}: ${maxCasAttempts} compare-and-set attempts lost to other writers`);
    });
  }

  /** Deletes the job if `check` (run on the current record) does not throw. */
  async remove(id: string, check: (record: JobRecord) => void): Promise<boolean> {
    return this.#serialized(id, async () => {
      for (let attempt = 0; attempt < maxCasAttempts; attempt++) {
        const current = this.#cache.get(id);
        if (current === undefined) return false;
        check(current.record);
        const deleted = await this.kv.delete(jobKey(id), current.version);
        if (deleted.ok) {
          this.#cache.delete(id);
          await this.#updateCatalog((ids) => ids.filter((candidate) => candidate !== id));
          return true;
        }
        await this.#refresh(id, null);
      }
      throw new CasExhaustedError(`job ${id}: ${maxCasAttempts} delete attempts lost to other writers`);
    });
  }

  /**
   * Re-reads one record after a lost compare-and-set. True when the stored value is exactly
   * `written`: our own write landed although its answer was lost (a retried PUT then sees 412).
   */
  async #refresh(id: string, written: string | null): Promise<boolean> {
    const entry = await this.kv.get(jobKey(id));
    if (entry === null) {
      this.#cache.delete(id);
      return false;
    }
    const record = decodeRecord(jobKey(id), entry.value);
    this.#cache.set(id, { record, version: entry.version });
    return written !== null && entry.value === written;
  }

  async #readCatalog(): Promise<string[]> {
    return parseCatalog(await this.kv.get(catalogKey));
  }

  async #updateCatalog(change: (ids: string[]) => string[]): Promise<void> {
    for (let attempt = 0; attempt < maxCasAttempts; attempt++) {
      const entry = await this.kv.get(catalogKey);
      const next = change(parseCatalog(entry)).sort();
      if (next.length > maxJobs) throw new JobConflictError(`at most ${maxJobs} jobs`);
      const value = JSON.stringify({ formatVersion: 1, jobs: next });
      if (entry?.value === value) return;
      const written = await this.kv.put(catalogKey, value, entry?.version ?? 0);
      if (written.ok) return;
    }
    throw new CasExhaustedError(`${catalogKey}: ${maxCasAttempts} compare-and-set attempts lost`);
  }

  #serialized<Value>(id: JobId | string, work: () => Promise<Value>): Promise<Value> {
    const previous = this.#queues.get(id) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.#queues.set(id, settled);
    void settled.then(() => {
      if (this.#queues.get(id) === settled) this.#queues.delete(id);
    });
    return next;
  }
}

function parseCatalog(entry: { readonly value: string } | null): string[] {
  if (entry === null) return [];
  const parsed = JSON.parse(entry.value) as { formatVersion?: number; jobs?: unknown };
  if (parsed.formatVersion !== 1 || !Array.isArray(parsed.jobs)) throw new Error(`${catalogKey}: not a job catalog`);
  return parsed.jobs.filter((id): id is string => typeof id === 'string');
}
