// The event loop's side of the snapshot worker thread (snapshot-thread.ts). The background
// snapshot writer (snapshot.ts writeSnapshotInSlices) still turns entities into rows here, in
// slices, since the state lives on this thread; the rows go to the worker in batches, and the
// rows hash (formats 9 and 10), the SQLite inserts, `serialize()` and the copy behind the
// envelope's prefix run there. One worker per process, started at the first snapshot, shared by every state machine in
// it (tests run several replicas in one process); it keeps the process alive only while a
// snapshot is being written.
//
// The sources are TypeScript run by tsx, whose loader is registered per thread: the worker is
// started from a bootstrap that registers it and then imports the thread's module (as the Raft
// storage writer does).
import { Worker } from 'node:worker_threads';
import { assert } from '../util/assert.ts';
import type { MetaRows } from './snapshot-database.ts';

export type SnapshotThreadRequest =
  | { readonly type: 'open'; readonly id: number; readonly tableNames: readonly string[]; readonly hashRows: boolean }
  | { readonly type: 'begin-table'; readonly id: number; readonly name: string }
  | { readonly type: 'rows'; readonly id: number; readonly keys: readonly string[]; readonly rows: readonly string[] }
  | { readonly type: 'end-table'; readonly id: number }
  | { readonly type: 'finish'; readonly id: number; readonly meta: MetaRows; readonly prefix: Uint8Array }
  | { readonly type: 'abort'; readonly id: number };

export type SnapshotThreadReply =
  | { readonly type: 'finished'; readonly id: number; readonly bytes: Uint8Array }
  | { readonly type: 'failed'; readonly id: number; readonly message: string; readonly stack: string | undefined };

/** Rows sent to the worker in one message: fewer messages, each a cheap structured clone of strings. */
export const snapshotRowsPerMessage = 512;

const threadModule = new URL('./snapshot-thread.ts', import.meta.url).href;

interface JobState {
  failure: Error | null;
  settle: { resolve(bytes: Uint8Array): void; reject(error: Error): void } | null;
}

export class SnapshotWorker {
  private static current: SnapshotWorker | null = null;
  private readonly worker: Worker;
  private readonly jobs = new Map<number, JobState>();
  private lastJobId = 0;
  private dead = false;
  /** Snapshots the worker has serialised (tests check that the bytes came from it). */
  finishedJobs = 0;

  private constructor() {
    const loader = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(threadModule)}); })`;
    this.worker = new Worker(bootstrap, { eval: true });
    this.worker.unref();
    this.worker.on('message', (reply: SnapshotThreadReply) => this.answered(reply));
    this.worker.on('error', (error) => this.died(error));
    this.worker.on('exit', (code) => this.died(new Error(`snapshot worker thread exited with code ${code}`)));
  }

  /** The process's worker, started if there is none (or the last one died). */
  static shared(): SnapshotWorker {
    if (SnapshotWorker.current === null || SnapshotWorker.current.dead) SnapshotWorker.current = new SnapshotWorker();
    return SnapshotWorker.current;
  }

  /** A new snapshot database in the worker with these tables, hashing its rows as written if `hashRows` (SnapshotDatabase). */
  open(tableNames: readonly string[], hashRows = false): SnapshotJob {
    const id = ++this.lastJobId;
    this.jobs.set(id, { failure: null, settle: null });
    if (this.jobs.size === 1) this.worker.ref();
    this.post({ type: 'open', id, tableNames, hashRows });
    return new SnapshotJob(this, id);
  }

  /** @internal SnapshotJob's channel. */
  post(request: SnapshotThreadRequest): void {
    if (this.dead) return;
    this.worker.postMessage(request);
  }

  /** @internal Resolves with the job's bytes, or rejects with the worker's error. */
  result(id: number): Promise<Uint8Array> {
    const job = this.jobs.get(id);
    assert(job !== undefined && job.settle === null, `snapshot job ${id}: result asked twice`);
    if (job.failure !== null) {
      this.forget(id);
      return Promise.reject(job.failure);
    }
    return new Promise((resolve, reject) => {
      job.settle = { resolve, reject };
    });
  }

  /** @internal */
  forget(id: number): void {
    this.jobs.delete(id);
    if (this.jobs.size === 0 && !this.dead) this.worker.unref();
  }

  private answered(reply: SnapshotThreadReply): void {
    const job = this.jobs.get(reply.id);
    if (job === undefined) return;
    if (reply.type === 'finished') {
      this.finishedJobs += 1;
      this.forget(reply.id);
      job.settle?.resolve(reply.bytes);
      return;
    }
    const error = new Error(`snapshot worker: ${reply.message}`);
    if (reply.stack !== undefined) error.stack = reply.stack;
    this.fail(reply.id, job, error);
  }

  private fail(id: number, job: JobState, error: Error): void {
    if (job.settle === null) {
      job.failure = error;
      return;
    }
    this.forget(id);
    job.settle.reject(error);
  }

  private died(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    for (const [id, job] of [...this.jobs]) this.fail(id, job, error);
  }
}

/** One snapshot being built in the worker; rows are buffered and sent `snapshotRowsPerMessage` at a time. */
export class SnapshotJob {
  private keys: string[] = [];
  private rows: string[] = [];
  private done = false;

  constructor(
    private readonly worker: SnapshotWorker,
    private readonly id: number,
  ) {}

  beginTable(name: string): void {
    this.worker.post({ type: 'begin-table', id: this.id, name });
  }

  insert(key: string, row: string): void {
    this.keys.push(key);
    this.rows.push(row);
    if (this.keys.length >= snapshotRowsPerMessage) this.flush();
  }

  endTable(): void {
    this.flush();
    this.worker.post({ type: 'end-table', id: this.id });
  }

  /** The worker's bytes: `prefix` followed by the serialised database. */
  finish(meta: MetaRows, prefix: Uint8Array): Promise<Uint8Array> {
    assert(!this.done, 'snapshot job finished twice');
    this.done = true;
    this.worker.post({ type: 'finish', id: this.id, meta, prefix });
    return this.worker.result(this.id);
  }

  /** The writer gave up (its generator threw): the worker drops the database. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.worker.post({ type: 'abort', id: this.id });
    this.worker.forget(this.id);
  }

  private flush(): void {
    if (this.keys.length === 0) return;
    this.worker.post({ type: 'rows', id: this.id, keys: this.keys, rows: this.rows });
    this.keys = [];
    this.rows = [];
  }
}
