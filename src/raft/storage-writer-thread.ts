// The body of the storage writer's worker thread (storage-writer.ts starts it): it owns the
// SQLite connection of the append path and runs the writes the main thread posts, one at a time,
// in the order posted, answering each with "done" once it is durable (the transaction committed
// with synchronous=FULL) or with "failed". After a failure it runs nothing more: the main thread
// stops the replica (disk-errors.ts says why it must not go on), and a later write must not land
// on disk after one that did not.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { StorageWriteError } from './disk-errors.ts';
import { SqliteRaftStorage, type StorageOptions } from './storage.ts';
import type { WriterFailure, WriterReply, WriterRequest } from './storage-writer.ts';

interface WriterData {
  readonly dataDirectory: string;
  readonly options: StorageOptions;
}

const port = parentPort;
if (port === null) throw new Error('storage-writer-thread.ts runs only as a worker thread');
const { dataDirectory, options } = workerData as WriterData;
let storage: SqliteRaftStorage | null = null;
let failed = false;

try {
  storage = SqliteRaftStorage.open(dataDirectory, options);
} catch (error) {
  failed = true;
  port.postMessage({ type: 'failed', id: 0, failure: describeFailure(error) } satisfies WriterReply);
}

// Requests that arrived while the last transaction was being written are taken together, and
// consecutive persists among them share one transaction and one fsync (group commit): without
// it every Ready of a busy leader or follower would cost its own fsync. Once they are done and
// none more is waiting, a WAL past its threshold is copied back (past twice that, at once).
port.on('message', (first: WriterRequest) => {
  let requests = [first, ...waitingRequests(port)];
  for (let target = writable(); requests.length > 0 && target !== null; target = writable()) {
    runRequests(target, requests);
    requests = [];
    const after = writable();
    const urgency = after?.walCheckpointUrgency() ?? 'none';
    if (after === null || urgency === 'none') break;
    if (urgency === 'when-idle') requests = waitingRequests(port);
    if (requests.length === 0) checkpoint(after);
  }
});

/** The storage, unless a write failed or it was closed: then nothing more is run. */
function writable(): SqliteRaftStorage | null {
  return failed ? null : storage;
}

function waitingRequests(from: NonNullable<typeof parentPort>): WriterRequest[] {
  const requests: WriterRequest[] = [];
  for (let next = receiveMessageOnPort(from); next !== undefined; next = receiveMessageOnPort(from))
    requests.push(next.message as WriterRequest);
  return requests;
}

function runRequests(target: SqliteRaftStorage, requests: readonly WriterRequest[]): void {
  let position = 0;
  while (position < requests.length && writable() !== null) {
    let end = position + 1;
    if (requests[position]!.type === 'persist') {
      while (end < requests.length && requests[end]!.type === 'persist') end++;
    }
    runGroup(target, requests.slice(position, end));
    position = end;
  }
}

function checkpoint(target: SqliteRaftStorage): void {
  const startedMs = performance.now();
  try {
    const result = target.checkpoint();
    const durationMs = performance.now() - startedMs;
    port!.postMessage({ type: 'checkpointed', durationMs, frames: result.framesInWal } satisfies WriterReply);
  } catch (error) {
    failed = true;
    port!.postMessage({ type: 'failed', id: 0, failure: describeFailure(error) } satisfies WriterReply);
  }
}

function runGroup(target: SqliteRaftStorage, group: readonly WriterRequest[]): void {
  const startedMs = performance.now();
  try {
    if (group.length === 1) run(target, group[0]!);
    else target.persistAll(group.map((request) => (request as Extract<WriterRequest, { type: 'persist' }>).batch));
  } catch (error) {
    failed = true;
    port!.postMessage({ type: 'failed', id: group[0]!.id, failure: describeFailure(error) } satisfies WriterReply);
    return;
  }
  // One answer per transaction, not per request: fewer messages across threads and one wake-up.
  const durationMs = performance.now() - startedMs;
  const last = group[group.length - 1]!;
  port!.postMessage({ type: 'done', firstId: group[0]!.id, lastId: last.id, durationMs } satisfies WriterReply);
  if (last.type === 'close') port!.close();
}

function run(target: SqliteRaftStorage, request: WriterRequest): void {
  switch (request.type) {
    case 'persist':
      target.persist(request.batch, { durable: request.durable });
      return;
    case 'save-snapshot':
      target.saveSnapshot(request.snapshot);
      target.compact(request.compactThrough);
      return;
    case 'close':
      if (request.batch !== null) target.persist(request.batch, { durable: false });
      target.close();
      storage = null;
      return;
  }
}

/** Errors cross the thread boundary as plain data; the main thread rebuilds a StorageWriteError. */
function describeFailure(error: unknown): WriterFailure {
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? error.stack : undefined;
  if (error instanceof StorageWriteError) {
    const cause = error.cause instanceof Error ? error.cause.message : message;
    return {
      storageWrite: { path: error.path, operation: error.operation, causeCode: error.causeCode, causeMessage: cause },
      message,
      stack,
    };
  }
  return { storageWrite: null, message, stack };
}
