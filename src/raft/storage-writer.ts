// The main thread's side of the storage writer: a worker thread (storage-writer-thread.ts) that
// owns the append path's SQLite connection, so no fsync (2 ms at the median, 12-16 ms at p99 on
// the bench machine) holds the event loop that reads acknowledgements and requests. Requests are
// posted and run in order; each is answered in order with its duration, or the writer fails
// once and runs nothing after (the node then stops the replica: exit 74 for a disk failure).
//
// The sources are TypeScript run by tsx, whose loader is registered per thread: the worker is
// started from a two-line bootstrap that registers it and then imports the thread's module.
import { Worker } from 'node:worker_threads';
import { assert } from '../util/assert.ts';
import { StorageWriteError } from './disk-errors.ts';
import type { PersistBatch, StorageOptions } from './storage.ts';
import type { LogIndex, Snapshot } from './types.ts';

/** Who writes the Raft log: the event loop's own thread (inline) or a worker thread (thread). */
export type StorageWriterMode = 'inline' | 'thread';
export const storageWriterModes: readonly StorageWriterMode[] = ['inline', 'thread'];

export type WriterRequest =
  | { readonly type: 'persist'; readonly id: number; readonly batch: PersistBatch; readonly durable: boolean }
  | {
      readonly type: 'save-snapshot';
      readonly id: number;
      readonly snapshot: Snapshot;
      readonly compactThrough: LogIndex;
    }
  /** Writes `batch` (a commit-only hard state, without fsync) if any, then closes the database. */
  | { readonly type: 'close'; readonly id: number; readonly batch: PersistBatch | null };

export interface WriterFailure {
  readonly storageWrite: {
    readonly path: string;
    readonly operation: string;
    readonly causeCode: string;
    readonly causeMessage: string;
  } | null;
  readonly message: string;
  readonly stack: string | undefined;
}

export type WriterReply =
  /** Requests firstId..lastId (consecutive) are durable: they shared one transaction (one fsync). */
  | { readonly type: 'done'; readonly firstId: number; readonly lastId: number; readonly durationMs: number }
  | { readonly type: 'failed'; readonly id: number; readonly failure: WriterFailure }
  /** The writer copied the WAL back into raft.db between transactions (storage.ts checkpoint()). */
  | { readonly type: 'checkpointed'; readonly durationMs: number; readonly frames: number };

type RequestBody =
  | Omit<Extract<WriterRequest, { type: 'persist' }>, 'id'>
  | Omit<Extract<WriterRequest, { type: 'save-snapshot' }>, 'id'>;

export interface StorageWriterHandlers {
  /**
   * Request `id` is done (durable); answers come in the order the requests were posted.
   * `groupEnd`: it was the last of the requests that shared one transaction and one fsync.
   */
  done(id: number, durationMs: number, groupEnd: boolean): void;
  /** The writer failed (request `id`, 0 while opening or checkpointing) and will run nothing more. */
  failed(error: Error): void;
  /** The writer checkpointed the WAL: `frames` it held, in `durationMs`. */
  checkpointed?(durationMs: number, frames: number): void;
}

const threadModule = new URL('./storage-writer-thread.ts', import.meta.url).href;

export class StorageWriter {
  private readonly worker: Worker;
  private lastPostedId = 0;
  private lastAnsweredId = 0;
  private closing: Promise<void> | null = null;
  private closeId = 0;
  private failure: Error | null = null;

  private constructor(dataDirectory: string, options: StorageOptions, handlers: StorageWriterHandlers) {
    const loader = import.meta.resolve('tsx/esm/api');
    const bootstrap = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(threadModule)}); })`;
    this.worker = new Worker(bootstrap, { eval: true, workerData: { dataDirectory, options } });
    this.worker.on('message', (reply: WriterReply) => this.answered(reply, handlers));
    this.worker.on('error', (error) => this.fail(error, handlers));
    this.worker.on('exit', (code) => {
      if (this.closing === null && this.failure === null)
        this.fail(new Error(`raft storage writer thread exited with code ${code}`), handlers);
    });
  }

  static start(dataDirectory: string, options: StorageOptions, handlers: StorageWriterHandlers): StorageWriter {
    return new StorageWriter(dataDirectory, options, handlers);
  }

  /** Posts a request; returns its id. */
  post(body: RequestBody): number {
    assert(this.closing === null, 'storage writer: post after close');
    const id = ++this.lastPostedId;
    this.worker.postMessage({ ...body, id } satisfies WriterRequest);
    return id;
  }

  inFlight(): number {
    return this.lastPostedId - this.lastAnsweredId;
  }

  /** Waits for every posted request, writes `batch` without fsync if given, closes the database. */
  close(batch: PersistBatch | null): Promise<void> {
    if (this.closing !== null) return this.closing;
    if (this.failure !== null) {
      this.closing = this.worker.terminate().then(() => undefined);
      return this.closing;
    }
    const id = ++this.lastPostedId;
    this.closeId = id;
    this.worker.postMessage({ type: 'close', id, batch } satisfies WriterRequest);
    this.closing = new Promise((resolve) => {
      this.worker.once('exit', () => resolve());
    });
    return this.closing;
  }

  /** A replica stopping on a fatal error: nothing more is written. */
  terminate(): void {
    if (this.closing === null) this.closing = this.worker.terminate().then(() => undefined);
  }

  private answered(reply: WriterReply, handlers: StorageWriterHandlers): void {
    if (reply.type === 'failed') {
      this.fail(rebuildFailure(reply.failure), handlers);
      return;
    }
    if (reply.type === 'checkpointed') {
      handlers.checkpointed?.(reply.durationMs, reply.frames);
      return;
    }
    assert(
      reply.firstId === this.lastAnsweredId + 1 && reply.lastId >= reply.firstId,
      `storage writer answered ${reply.firstId}..${reply.lastId} after ${this.lastAnsweredId}`,
    );
    for (let id = reply.firstId; id <= reply.lastId; id++) {
      this.lastAnsweredId = id;
      if (id !== this.closeId) handlers.done(id, reply.durationMs, id === reply.lastId);
    }
  }

  private fail(error: Error, handlers: StorageWriterHandlers): void {
    if (this.failure !== null) return;
    this.failure = error;
    handlers.failed(error);
  }
}

function rebuildFailure(failure: WriterFailure): Error {
  const storageWrite = failure.storageWrite;
  const error =
    storageWrite === null
      ? new Error(failure.message)
      : new StorageWriteError(
          storageWrite.path,
          storageWrite.operation,
          storageWrite.causeCode,
          new Error(storageWrite.causeMessage),
        );
  if (failure.stack !== undefined) error.stack = failure.stack;
  return error;
}
