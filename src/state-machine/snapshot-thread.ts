// The body of the snapshot worker thread (snapshot-worker.ts starts it): it builds each
// snapshot's SQLite database from the rows the event loop sends, then serialises it and sends the
// bytes back, transferred rather than copied. At 100,000 tasks (110 MB) `serialize()` alone held
// the event loop for about 190 ms; here it holds only this thread.
import { parentPort } from 'node:worker_threads';
import { SnapshotDatabase } from './snapshot-database.ts';
import type { SnapshotThreadReply, SnapshotThreadRequest } from './snapshot-worker.ts';

const port = parentPort;
if (port === null) throw new Error('snapshot-thread.ts runs only as a worker thread');

const databases = new Map<number, SnapshotDatabase>();
/** Jobs that failed: their later messages are dropped, the main thread already has the error. */
const failedJobs = new Set<number>();

port.on('message', (request: SnapshotThreadRequest) => {
  if (failedJobs.has(request.id)) {
    if (request.type === 'finish' || request.type === 'abort') failedJobs.delete(request.id);
    return;
  }
  try {
    run(request);
  } catch (error) {
    databases.get(request.id)?.close();
    databases.delete(request.id);
    if (request.type !== 'finish' && request.type !== 'abort') failedJobs.add(request.id);
    const message = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error ? error.stack : undefined;
    port.postMessage({ type: 'failed', id: request.id, message, stack } satisfies SnapshotThreadReply);
  }
});

function run(request: SnapshotThreadRequest): void {
  if (request.type === 'open') {
    databases.set(request.id, new SnapshotDatabase(request.tableNames, request.hashRows));
    return;
  }
  const database = databases.get(request.id);
  if (database === undefined) throw new Error(`snapshot job ${request.id} is not open`);
  switch (request.type) {
    case 'begin-table':
      database.beginTable(request.name);
      return;
    case 'rows':
      database.insertRows(request.keys, request.rows);
      return;
    case 'end-table':
      database.endTable();
      return;
    case 'finish': {
      databases.delete(request.id);
      const bytes = database.finish(request.meta, request.prefix);
      port!.postMessage({ type: 'finished', id: request.id, bytes } satisfies SnapshotThreadReply, [
        bytes.buffer as ArrayBuffer,
      ]);
      return;
    }
    case 'abort':
      databases.delete(request.id);
      database.close();
      return;
  }
}
