// The storage writer's worker thread (src/raft/storage-writer.ts), for real: a thread, a SQLite
// file, fsync. Requests posted in one turn are answered in order, those that queued share a
// transaction (one answer per transaction, the last request of each marked groupEnd), and what
// was reported durable is exactly what a fresh handle reads back. After a failed write nothing
// more is reported durable, and nothing reported durable is missing from the disk.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entryChecksum } from '../../src/raft/checksum.ts';
import { SqliteRaftStorage } from '../../src/raft/storage.ts';
import { StorageWriter } from '../../src/raft/storage-writer.ts';
import { type Entry, type Membership, nodeId } from '../../src/raft/types.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const bootstrap: Membership = { voters: [nodeId('m1')], learners: [], addresses: { m1: '127.0.0.1:5050' } };

function entry(index: number, term = 1): Entry {
  const data = new Uint8Array(Buffer.from(`command-${index}`, 'utf8'));
  return { term, index, type: 'normal', data, checksum: entryChecksum(term, index, 'normal', data, undefined) };
}

function loadedIndexes(directory: string): number[] {
  const storage = SqliteRaftStorage.open(directory);
  try {
    return storage.load(bootstrap).entries.map((loaded) => loaded.index);
  } finally {
    storage.close();
  }
}

interface Answer {
  readonly id: number;
  readonly groupEnd: boolean;
}

function startWriter(directory: string, answers: Answer[], failures: Error[]): StorageWriter {
  return StorageWriter.start(
    directory,
    {},
    {
      done: (id, _durationMs, groupEnd) => answers.push({ id, groupEnd }),
      failed: (error) => failures.push(error),
    },
  );
}

test('writes posted in one turn are answered in order, queued ones share a transaction, all are on disk', async () => {
  const directory = makeTempDir('raft-storage-writer-');
  const answers: Answer[] = [];
  const failures: Error[] = [];
  const writer = startWriter(directory, answers, failures);
  const posts = 60;
  const hardState = { term: 1, vote: nodeId('m1'), commit: 0 };
  for (let index = 1; index <= posts; index++)
    writer.post({ type: 'persist', batch: { hardState, entries: [entry(index)], snapshot: null }, durable: true });
  await waitFor(() => answers.length === posts || failures.length > 0, { timeoutMs: 60_000, what: 'every answer' });
  await writer.close(null);
  assert.equal(failures, []);
  assert.equal(
    answers.map((answer) => answer.id),
    Array.from({ length: posts }, (_unused, offset) => offset + 1),
    'answers in the order posted',
  );
  assert.ok(answers[posts - 1]!.groupEnd, 'the last answer ends its transaction');
  const transactions = answers.filter((answer) => answer.groupEnd).length;
  assert.ok(transactions < posts, `${posts} writes posted in one turn took ${transactions} transactions`);
  assert.equal(
    loadedIndexes(directory),
    Array.from({ length: posts }, (_unused, offset) => offset + 1),
  );
});

test('after a failed write nothing more is answered, and every write answered is on disk', async () => {
  const directory = makeTempDir('raft-storage-writer-failed-');
  const answers: Answer[] = [];
  const failures: Error[] = [];
  const writer = startWriter(directory, answers, failures);
  const hardState = { term: 1, vote: nodeId('m1'), commit: 0 };
  const persist = (entries: Entry[]) =>
    writer.post({ type: 'persist', batch: { hardState, entries, snapshot: null }, durable: true });
  persist([entry(1), entry(2)]);
  await waitFor(() => answers.length === 1, { timeoutMs: 30_000, what: 'the first write durable' });
  persist([entry(3)]);
  persist([entry(9)]); // a gap after 3: the storage refuses it
  persist([entry(4)]);
  await waitFor(() => failures.length > 0, { timeoutMs: 30_000, what: 'the failed write reported' });
  writer.terminate();
  assert.is(failures.length, 1);
  assert.match(failures[0]!.message, /gap/);
  const answered = answers.map((answer) => answer.id);
  assert.ok(!answered.includes(3) && !answered.includes(4), `answered after the failure: ${answered.join(',')}`);
  const onDisk = loadedIndexes(directory);
  assert.ok(onDisk.includes(1) && onDisk.includes(2), 'what was answered durable is on disk');
  assert.ok(!onDisk.includes(4) && !onDisk.includes(9), `nothing after the failed write: ${onDisk.join(',')}`);
});

test.run();
