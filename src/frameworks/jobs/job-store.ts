// The jobs' replicated state in the masters' KV store, under one namespace:
//   jobs/<job id>  the job's record (job-record.ts): definition, cursors, runs, history
//   framework      {"formatVersion":1,"frameworkId":"…"}      the Mesos framework id
// The jobs are found by listing the `jobs/` keys (the KV list API), so no catalog key bounds
// their number by the size of one value. Every write of a record is a compare-and-set on the
// version this instance last read, so a decision made from stale state fails instead of
// overwriting a newer one; the store then re-reads and the caller decides again. A job exists
// when its record exists: creating it is one "only if absent" write, deleting it one delete.
import { type Logger, silentLogger } from '../../util/logger.ts';
import type { KvClient } from '../kv/client.ts';
import { decodeRecord, encodeRecord } from './job-record.ts';
import { maxCasAttempts, maxJobs } from './limits.ts';
import type { JobId, JobRecord } from './model.ts';

/** COMPAT: the job list of phase 1 (a value of at most 400 ids); removed when found. */
export const catalogKey = 'catalog';
export const frameworkKey = 'framework';
const jobKeyPrefix = 'jobs/';
export const jobKey = (id: string): string => `${jobKeyPrefix}${id}`;

interface Cached {
  readonly record: JobRecord;
  readonly version: number;
}

export class JobConflictError extends Error {
  override name = 'JobConflictError';
}

export class JobLimitError extends Error {
  override name = 'JobLimitError';
}

export class CasExhaustedError extends Error {
  override name = 'CasExhaustedError';
}

/** A change to one record: the new record and what the caller wants back, or null for "no change". */
export type Mutation<Result> = (record: JobRecord) => { record: JobRecord; result: Result } | null;
/**
 * A keyed API write's mark on the record it writes (the answer it will give, remembered in the
 * same compare-and-set; src/frameworks/hosting/remembered-requests.ts). `result` is the mutation's.
 */
export type RecordStamp = (record: JobRecord, result: unknown) => JobRecord;

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

  /** Reads every record into the cache, page by page (on start, and after losing track). */
  async load(): Promise<void> {
    this.#cache.clear();
    await this.kv.listAll(jobKeyPrefix, (entries) => {
      for (const entry of entries) {
        const id = entry.key.slice(jobKeyPrefix.length);
        try {
          this.#cache.set(id, { record: decodeRecord(entry.key, entry.value), version: entry.version });
        } catch (error) {
          this.#logger.error({ jobId: id, error: (error as Error).message }, 'job record unreadable; job ignored');
        }
      }
    });
    if ((await this.kv.get(catalogKey)) !== null) await this.kv.delete(catalogKey, null);
  }

  get size(): number {
    return this.#cache.size;
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

  /** Creates a job; JobConflictError if it exists, JobLimitError past maxJobs. */
  async create(unstamped: JobRecord, stamp?: RecordStamp): Promise<JobRecord> {
    const record = stamp === undefined ? unstamped : stamp(unstamped, undefined);
    const id = record.spec.id;
    await this.#serialized(id, async () => {
      // One writer (the active instance) creates jobs, so its cache counts them all.
      if (this.#cache.size >= maxJobs) throw new JobLimitError(`at most ${maxJobs} jobs`);
      const written = await this.kv.put(jobKey(id), encodeRecord(record), 0);
      if (!written.ok) throw new JobConflictError('Job with this id already exists');
      this.#cache.set(id, { record, version: written.version });
    });
    return record;
  }

  /**
   * Applies `mutate` to the job's current record and writes it with a compare-and-set,
   * re-reading and re-applying when another write came first. Undefined if the job is gone.
   */
  update<Result>(
    id: string,
    mutate: Mutation<Result>,
    stamp?: RecordStamp,
  ): Promise<{ result: Result; record: JobRecord } | null | undefined> {
    return this.#serialized(id, async () => {
      for (let attempt = 0; attempt < maxCasAttempts; attempt++) {
        const current = this.#cache.get(id);
        if (current === undefined) return undefined;
        const mutated = mutate(current.record);
        if (mutated === null) return null;
        const change = stamp === undefined ? mutated : { ...mutated, record: stamp(mutated.record, mutated.result) };
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
