// Durable storage of one replica, on real files in a fresh temporary directory per test: what is
// persisted comes back after close and reopen, the log suffix is replaced on conflict, snapshots
// compact the log, and every kind of on-disk damage is refused by a named error.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CorruptEntryError, entryChecksum } from '../../src/raft/checksum.ts';
import {
  CorruptSnapshotError,
  CorruptStorageError,
  databaseFileName,
  snapshotDirectoryName,
  SqliteRaftStorage,
  StorageFormatError,
} from '../../src/raft/storage.ts';
import { NO_NODE, nodeId } from '../../src/raft/types.ts';
import type { Entry, EntryType, HardState, IdempotencyStamp, Membership, Snapshot } from '../../src/raft/types.ts';

const bootstrap: Membership = {
  voters: [nodeId('m1'), nodeId('m2'), nodeId('m3')],
  learners: [],
  addresses: { m1: '127.0.0.1:5050', m2: '127.0.0.1:5051', m3: '127.0.0.1:5052' },
};

const temporaryDirectories: string[] = [];

function freshDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'flotilla-storage-'));
  temporaryDirectories.push(directory);
  return directory;
}

test.after(() => {
  for (const directory of temporaryDirectories) rmSync(directory, { recursive: true, force: true });
});

function makeEntry(
  index: number,
  term: number,
  payload = `command-${index}`,
  type: EntryType = 'normal',
  idempotency?: IdempotencyStamp,
): Entry {
  const data = new Uint8Array(Buffer.from(payload, 'utf8'));
  const checksum = entryChecksum(term, index, type, data, idempotency);
  return idempotency === undefined
    ? { term, index, type, data, checksum }
    : { term, index, type, data, idempotency, checksum };
}

function makeEntries(firstIndex: number, lastIndex: number, term: number): Entry[] {
  const entries: Entry[] = [];
  for (let index = firstIndex; index <= lastIndex; index += 1) entries.push(makeEntry(index, term));
  return entries;
}

function makeSnapshot(index: number, term: number, payload: string, membership: Membership = bootstrap): Snapshot {
  return { meta: { index, term, membership }, data: new Uint8Array(Buffer.from(payload, 'utf8')) };
}

/** Open, act, close; then load from a second, fresh handle so nothing comes from memory. */
function reopenAndLoad(directory: string) {
  const storage = SqliteRaftStorage.open(directory);
  try {
    return storage.load(bootstrap);
  } finally {
    storage.close();
  }
}

function withStorage(directory: string, action: (storage: SqliteRaftStorage) => void): void {
  const storage = SqliteRaftStorage.open(directory);
  try {
    action(storage);
  } finally {
    storage.close();
  }
}

function withRawDatabase(directory: string, action: (database: Database.Database) => void): void {
  const database = new Database(join(directory, databaseFileName));
  try {
    action(database);
  } finally {
    database.close();
  }
}

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  assert.unreachable('expected an error, nothing was thrown');
  return undefined;
}

function flipBits(bytes: Uint8Array, position: number, mask: number): void {
  const original = bytes[position];
  assert.ok(original !== undefined, `byte ${position} is outside the ${bytes.byteLength}-byte buffer`);
  bytes[position] = original ^ mask;
}

const indexesOf = (entries: readonly Entry[]): number[] => entries.map((entry) => entry.index);
const snapshotFiles = (directory: string): string[] => readdirSync(join(directory, snapshotDirectoryName)).sort();

// --- round trips ---------------------------------------------------------------------------

test('a fresh directory loads an empty state with the bootstrap membership', () => {
  const directory = freshDirectory();
  const state = reopenAndLoad(directory);
  assert.equal(state.hardState, { term: 0, vote: NO_NODE, commit: 0 });
  assert.is(state.snapshot, null);
  assert.equal(state.entries, []);
  assert.equal(state.bootstrap, bootstrap);
  assert.ok(existsSync(join(directory, databaseFileName)));
});

test('the database runs in WAL mode (synchronous=FULL is per connection and asserted on open)', () => {
  const directory = freshDirectory();
  withStorage(directory, () => {});
  withRawDatabase(directory, (database) => {
    assert.is(database.pragma('journal_mode', { simple: true }), 'wal');
  });
});

test('an open storage holds raft.db exclusively: a second connection is refused, and there is no -shm file', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({
      hardState: { term: 1, vote: NO_NODE, commit: 0 },
      entries: makeEntries(1, 2, 1),
      snapshot: null,
    });
    assert.not.ok(existsSync(join(directory, `${databaseFileName}-shm`)), 'the WAL index is in heap memory');
    const second = new Database(join(directory, databaseFileName), { timeout: 0 });
    try {
      const error = catchError(() => second.prepare('SELECT count(*) FROM entries').get());
      assert.is((error as { code?: unknown }).code, 'SQLITE_BUSY');
    } finally {
      second.close();
    }
  });
  // Closed, the lock is gone: the next open reads what was written.
  assert.equal(indexesOf(reopenAndLoad(directory).entries), [1, 2]);
});

test('hard state and entries survive close and reopen, idempotency stamps and empty data included', () => {
  const directory = freshDirectory();
  const hardState: HardState = { term: 3, vote: nodeId('m2'), commit: 2 };
  const entries = [
    makeEntry(1, 1, '', 'noop'),
    makeEntry(2, 2, 'add-learner m4', 'config'),
    makeEntry(3, 3, '{"type":"launch"}', 'normal', { key: 'anonymous framework-ü', fingerprint: 'f0', atMs: 42 }),
  ];
  withStorage(directory, (storage) => storage.persist({ hardState, entries, snapshot: null }));
  const state = reopenAndLoad(directory);
  assert.equal(state.hardState, hardState);
  assert.equal(state.entries, entries);
  assert.is(state.entries[0]!.data.byteLength, 0);
});

test('a later persist appends; a hard state alone overwrites only the hard state', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({
      hardState: { term: 1, vote: nodeId('m1'), commit: 0 },
      entries: makeEntries(1, 3, 1),
      snapshot: null,
    });
    storage.persist({ hardState: null, entries: makeEntries(4, 6, 1), snapshot: null });
    storage.persist({ hardState: { term: 2, vote: NO_NODE, commit: 6 }, entries: [], snapshot: null });
  });
  const state = reopenAndLoad(directory);
  assert.equal(indexesOf(state.entries), [1, 2, 3, 4, 5, 6]);
  assert.equal(state.hardState, { term: 2, vote: NO_NODE, commit: 6 });
});

/** WAL frames (pages written) so far: the file is only appended to until a checkpoint. */
function walFrames(directory: string): number {
  const walBytes = statSync(join(directory, `${databaseFileName}-wal`)).size;
  const pageBytes = 4096;
  const frameHeaderBytes = 24;
  const walHeaderBytes = 32;
  assert.is((walBytes - walHeaderBytes) % (frameHeaderBytes + pageBytes), 0, 'default page size');
  return (walBytes - walHeaderBytes) / (frameHeaderBytes + pageBytes);
}

test('appends that move only the commit index write one page each: the hard_state row is not rewritten (issue 19)', () => {
  const directory = freshDirectory();
  const leader = nodeId('m1');
  withStorage(directory, (storage) => {
    storage.persist({ hardState: { term: 1, vote: leader, commit: 0 }, entries: [makeEntry(1, 1)], snapshot: null });
    const framesBefore = walFrames(directory);
    // A busy leader: every Ready carries an entry and a commit index one behind it.
    for (let index = 2; index <= 11; index++) {
      storage.persist({
        hardState: { term: 1, vote: leader, commit: index - 1 },
        entries: [makeEntry(index, 1)],
        snapshot: null,
      });
    }
    assert.is(walFrames(directory) - framesBefore, 10, 'one page (the entries leaf) per transaction');
  });
  withRawDatabase(directory, (database) => {
    const row = database.prepare('SELECT commit_index FROM hard_state').get() as { commit_index: number };
    assert.is(row.commit_index, 0, 'the row as of the last term change');
  });
  // Closed without a final hard state, as a SIGKILL leaves it: the rows say how far it was committed.
  assert.equal(reopenAndLoad(directory).hardState, { term: 1, vote: leader, commit: 10 });
});

test('a new term or vote rewrites the hard_state row; a batch without a hard state records the latest commit', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({
      hardState: { term: 1, vote: nodeId('m1'), commit: 0 },
      entries: makeEntries(1, 3, 1),
      snapshot: null,
    });
    storage.persist({
      hardState: { term: 1, vote: nodeId('m1'), commit: 3 },
      entries: makeEntries(4, 4, 1),
      snapshot: null,
    });
    storage.persist({ hardState: null, entries: makeEntries(5, 5, 1), snapshot: null });
    storage.persist({ hardState: { term: 2, vote: nodeId('m2'), commit: 4 }, entries: [], snapshot: null });
  });
  withRawDatabase(directory, (database) => {
    const commits = database.prepare('SELECT commit_index FROM entries ORDER BY idx').all() as {
      commit_index: number;
    }[];
    assert.equal(
      commits.map((row) => row.commit_index),
      [0, 0, 0, 3, 3],
    );
    assert.equal(database.prepare('SELECT term, vote, commit_index FROM hard_state').get(), {
      term: 2,
      vote: 'm2',
      commit_index: 4,
    });
  });
  assert.equal(reopenAndLoad(directory).hardState, { term: 2, vote: nodeId('m2'), commit: 4 });
});

test('after a transaction that rolled back, a new term in it is written again, not taken as already stored', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({
      hardState: { term: 1, vote: nodeId('m1'), commit: 0 },
      entries: makeEntries(1, 2, 1),
      snapshot: null,
    });
    assert.throws(
      () =>
        storage.persistAll([
          { hardState: { term: 2, vote: nodeId('m2'), commit: 1 }, entries: makeEntries(3, 3, 2), snapshot: null },
          { hardState: null, entries: makeEntries(9, 9, 2), snapshot: null },
        ]),
      /gap/,
    );
    storage.persist({
      hardState: { term: 2, vote: nodeId('m2'), commit: 1 },
      entries: makeEntries(3, 3, 2),
      snapshot: null,
    });
  });
  assert.equal(reopenAndLoad(directory).hardState, { term: 2, vote: nodeId('m2'), commit: 1 });
});

test('conflicting entries replace the stored suffix from their first index on (paper §5.3)', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({ hardState: null, entries: makeEntries(1, 5, 1), snapshot: null });
    storage.persist({ hardState: null, entries: [makeEntry(3, 2, 'new-3'), makeEntry(4, 2, 'new-4')], snapshot: null });
  });
  const state = reopenAndLoad(directory);
  assert.equal(indexesOf(state.entries), [1, 2, 3, 4], 'entry 5 of the old term is gone');
  assert.equal(
    state.entries.map((entry) => entry.term),
    [1, 1, 2, 2],
  );
  assert.is(Buffer.from(state.entries[2]!.data).toString(), 'new-3');
});

test('persistAll writes several Readies in order in one transaction; one bad batch rolls them all back', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persistAll([
      { hardState: { term: 1, vote: nodeId('m1'), commit: 0 }, entries: makeEntries(1, 3, 1), snapshot: null },
      { hardState: null, entries: [makeEntry(3, 2, 'new-3'), makeEntry(4, 2)], snapshot: null },
      { hardState: { term: 2, vote: nodeId('m2'), commit: 2 }, entries: [], snapshot: null },
    ]);
    assert.throws(
      () =>
        storage.persistAll([
          { hardState: { term: 3, vote: NO_NODE, commit: 2 }, entries: makeEntries(5, 5, 3), snapshot: null },
          { hardState: null, entries: makeEntries(9, 9, 3), snapshot: null },
        ]),
      /gap/,
    );
  });
  const state = reopenAndLoad(directory);
  assert.equal(indexesOf(state.entries), [1, 2, 3, 4]);
  assert.is(Buffer.from(state.entries[2]!.data).toString(), 'new-3', 'the later batch replaced entry 3');
  assert.equal(state.hardState, { term: 2, vote: nodeId('m2'), commit: 2 }, 'nothing of the failed group is kept');
});

test('a batch that would leave a gap or is not contiguous is refused and changes nothing', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({ hardState: null, entries: makeEntries(1, 3, 1), snapshot: null });
    assert.throws(() => storage.persist({ hardState: null, entries: makeEntries(5, 6, 1), snapshot: null }), /gap/);
    const holed = [makeEntry(4, 1), makeEntry(6, 1)];
    assert.throws(
      () => storage.persist({ hardState: { term: 9, vote: NO_NODE, commit: 0 }, entries: holed, snapshot: null }),
      /contiguous/,
    );
  });
  const state = reopenAndLoad(directory);
  assert.equal(indexesOf(state.entries), [1, 2, 3]);
  assert.is(state.hardState.term, 0, 'the refused batch rolled back as one transaction');
});

test('an entry whose checksum does not match is refused before it is written', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    const entry = { ...makeEntry(1, 1), checksum: 12345 };
    const error = catchError(() => storage.persist({ hardState: null, entries: [entry], snapshot: null }));
    assert.instance(error, CorruptEntryError);
    assert.equal(storage.load(bootstrap).entries, []);
  });
});

test('inserting 1000 entries in one persist (timing logged, not asserted)', () => {
  const directory = freshDirectory();
  const entries = Array.from({ length: 1000 }, (_, position) =>
    makeEntry(position + 1, 1, `{"type":"task-status","task":"t-${position}","state":"TASK_RUNNING"}`, 'normal', {
      key: `framework-1/${position}`,
      fingerprint: 'f'.repeat(64),
      atMs: 1_700_000_000_000 + position,
    }),
  );
  withStorage(directory, (storage) => {
    const start = performance.now();
    storage.persist({ hardState: { term: 1, vote: nodeId('m1'), commit: 0 }, entries, snapshot: null });
    const milliseconds = performance.now() - start;
    console.log(
      JSON.stringify({ bench: 'storage-persist-1000-entries', milliseconds: Number(milliseconds.toFixed(2)) }),
    );
  });
  assert.is(reopenAndLoad(directory).entries.length, 1000);
});

// --- snapshots and compaction -------------------------------------------------------------

test('a local snapshot plus compaction: load returns the snapshot and only the entries after it', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({
      hardState: { term: 2, vote: nodeId('m1'), commit: 10 },
      entries: [...makeEntries(1, 4, 1), ...makeEntries(5, 10, 2)],
      snapshot: null,
    });
    assert.is(storage.saveSnapshot(makeSnapshot(6, 2, 'state at 6')), true);
    storage.compact(6);
  });
  const state = reopenAndLoad(directory);
  assert.equal(state.snapshot, makeSnapshot(6, 2, 'state at 6'));
  assert.equal(indexesOf(state.entries), [7, 8, 9, 10]);
  assert.equal(snapshotFiles(directory), ['snapshot-2-6.bin']);
  withRawDatabase(directory, (database) => {
    const row = database.prepare('SELECT COUNT(*) AS count FROM entries WHERE idx <= 6').get() as { count: number };
    assert.is(row.count, 0, 'compaction deleted the covered entries from disk');
  });
});

test('a snapshot without compaction hides the covered entries from load but keeps them stored', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({ hardState: null, entries: makeEntries(1, 5, 1), snapshot: null });
    storage.saveSnapshot(makeSnapshot(3, 1, 'state at 3'));
  });
  assert.equal(indexesOf(reopenAndLoad(directory).entries), [4, 5]);
});

test('a newer snapshot replaces the older file; an older one loses the race and changes nothing', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({ hardState: null, entries: makeEntries(1, 20, 1), snapshot: null });
    storage.saveSnapshot(makeSnapshot(5, 1, 'state at 5'));
    assert.is(storage.saveSnapshot(makeSnapshot(15, 1, 'state at 15')), true);
    assert.is(storage.saveSnapshot(makeSnapshot(10, 1, 'state at 10')), false);
  });
  assert.equal(snapshotFiles(directory), ['snapshot-1-15.bin']);
  assert.is(reopenAndLoad(directory).snapshot?.meta.index, 15);
});

test('a snapshot saved in the background: the same file and CRC as saveSnapshot, written over several turns', async () => {
  // Larger than one CRC step (4 MiB), so the checksum runs over several event-loop turns.
  const data = new Uint8Array(9 * 1024 * 1024).map((_, position) => (position * 31) & 0xff);
  const snapshot: Snapshot = { meta: { index: 6, term: 2, membership: bootstrap }, data };
  const background = freshDirectory();
  const storage = SqliteRaftStorage.open(background);
  storage.persist({ hardState: null, entries: makeEntries(1, 10, 2), snapshot: null });
  let turns = 0;
  let counting = true;
  const count = (): void => {
    turns++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  assert.is(await storage.saveSnapshotInBackground(snapshot), true);
  counting = false;
  storage.compact(6);
  storage.close();
  assert.ok(turns > 2, `the event loop turned while it was written (${turns} turns)`);
  const straight = freshDirectory();
  withStorage(straight, (other) => {
    other.persist({ hardState: null, entries: makeEntries(1, 10, 2), snapshot: null });
    other.saveSnapshot(snapshot);
  });
  const recorded = (directory: string) => {
    let row: unknown;
    withRawDatabase(directory, (database) => {
      row = database.prepare('SELECT * FROM snapshot_meta').get();
    });
    return row;
  };
  assert.equal(recorded(background), recorded(straight), 'the same row: file name, size, CRC');
  assert.equal(readFileSync(join(background, snapshotDirectoryName, 'snapshot-2-6.bin')), Buffer.from(data));
  const state = reopenAndLoad(background);
  assert.is(state.snapshot?.meta.index, 6);
  assert.equal(indexesOf(state.entries), [7, 8, 9, 10]);
});

test('a snapshot saved in the background loses the race to a newer one recorded meanwhile, leaving no file', async () => {
  const directory = freshDirectory();
  const storage = SqliteRaftStorage.open(directory);
  storage.persist({ hardState: null, entries: makeEntries(1, 20, 1), snapshot: null });
  const older = storage.saveSnapshotInBackground(makeSnapshot(5, 1, 'state at 5'));
  assert.is(storage.saveSnapshot(makeSnapshot(15, 1, 'state at 15')), true);
  assert.is(await older, false);
  storage.close();
  assert.equal(snapshotFiles(directory), ['snapshot-1-15.bin']);
  assert.is(reopenAndLoad(directory).snapshot?.meta.index, 15);
});

test('compacting past the snapshot is refused: those entries would exist nowhere', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({ hardState: null, entries: makeEntries(1, 5, 1), snapshot: null });
    storage.saveSnapshot(makeSnapshot(3, 1, 'state at 3'));
    assert.throws(() => storage.compact(4), /snapshot/);
  });
  assert.equal(indexesOf(reopenAndLoad(directory).entries), [4, 5]);
});

test('an installed snapshot whose last entry the log holds keeps the suffix after it (paper §7)', () => {
  const directory = freshDirectory();
  const membership: Membership = {
    ...bootstrap,
    learners: [nodeId('m4')],
    addresses: { ...bootstrap.addresses, m4: '[::1]:5053' },
  };
  withStorage(directory, (storage) => {
    storage.persist({ hardState: null, entries: makeEntries(1, 8, 1), snapshot: null });
    storage.persist({
      hardState: { term: 1, vote: NO_NODE, commit: 5 },
      entries: [],
      snapshot: makeSnapshot(5, 1, 'leader state at 5', membership),
    });
  });
  const state = reopenAndLoad(directory);
  assert.equal(state.snapshot, makeSnapshot(5, 1, 'leader state at 5', membership));
  assert.equal(indexesOf(state.entries), [6, 7, 8]);
});

test('an installed snapshot that conflicts with the log discards the whole log, suffix included (paper §7)', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({ hardState: null, entries: makeEntries(1, 12, 1), snapshot: null });
    storage.persist({ hardState: null, entries: [], snapshot: makeSnapshot(10, 3, 'leader state at 10') });
  });
  const state = reopenAndLoad(directory);
  assert.is(state.snapshot?.meta.index, 10);
  assert.equal(state.entries, [], 'entries 11 and 12 of term 1 do not follow the snapshot and are gone');
  withStorage(directory, (storage) => {
    storage.persist({ hardState: null, entries: [makeEntry(11, 3), makeEntry(12, 3)], snapshot: null });
  });
  assert.equal(indexesOf(reopenAndLoad(directory).entries), [11, 12], 'the log continues right after the snapshot');
  withRawDatabase(directory, (database) => {
    const row = database.prepare('SELECT MIN(idx) AS first, COUNT(*) AS count FROM entries').get() as {
      first: number;
      count: number;
    };
    assert.equal(row, { first: 11, count: 2 });
  });
});

test('stray snapshot files from a crash are removed on open, the recorded one kept', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({ hardState: null, entries: makeEntries(1, 5, 1), snapshot: null });
    storage.saveSnapshot(makeSnapshot(4, 1, 'state at 4'));
  });
  writeFileSync(join(directory, snapshotDirectoryName, 'snapshot-1-5.bin.tmp'), 'half written');
  writeFileSync(join(directory, snapshotDirectoryName, 'snapshot-1-5.bin'), 'written, never recorded');
  writeFileSync(join(directory, snapshotDirectoryName, 'operator-notes.txt'), 'not ours');
  assert.equal(reopenAndLoad(directory).snapshot, makeSnapshot(4, 1, 'state at 4'));
  assert.equal(snapshotFiles(directory), ['operator-notes.txt', 'snapshot-1-4.bin']);
});

// --- damage on disk -----------------------------------------------------------------------

test('a corrupted entry byte is detected on load and names the index', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) =>
    storage.persist({ hardState: null, entries: makeEntries(1, 5, 1), snapshot: null }),
  );
  withRawDatabase(directory, (database) => {
    const { data } = database.prepare('SELECT data FROM entries WHERE idx = 3').get() as { data: Buffer };
    flipBits(data, 0, 0x01);
    database.prepare('UPDATE entries SET data = ? WHERE idx = 3').run(data);
  });
  const error = catchError(() => reopenAndLoad(directory));
  assert.instance(error, CorruptEntryError);
  assert.is((error as CorruptEntryError).index, 3);
  assert.match((error as Error).message, /entry 3/);
  assert.match((error as Error).message, new RegExp(databaseFileName.replace('.', '\\.')));
});

test('a tampered term or an unknown type code is a CorruptEntryError too', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) =>
    storage.persist({ hardState: null, entries: makeEntries(1, 5, 1), snapshot: null }),
  );
  withRawDatabase(directory, (database) => database.prepare('UPDATE entries SET term = 2 WHERE idx = 5').run());
  assert.is((catchError(() => reopenAndLoad(directory)) as CorruptEntryError).index, 5);
  withRawDatabase(directory, (database) => {
    database.prepare('UPDATE entries SET term = 1 WHERE idx = 5').run();
    database.prepare('UPDATE entries SET type = 77 WHERE idx = 2').run();
  });
  const error = catchError(() => reopenAndLoad(directory));
  assert.instance(error, CorruptEntryError);
  assert.is((error as CorruptEntryError).index, 2);
});

test('a missing entry in the middle of the log is a named gap', () => {
  const directory = freshDirectory();
  withStorage(directory, (storage) =>
    storage.persist({ hardState: null, entries: makeEntries(1, 5, 1), snapshot: null }),
  );
  withRawDatabase(directory, (database) => database.prepare('DELETE FROM entries WHERE idx = 3').run());
  const error = catchError(() => reopenAndLoad(directory));
  assert.instance(error, CorruptStorageError);
  assert.match((error as Error).message, /gap: entry 4 found where 3 belongs/);
});

function directoryWithSnapshot(): { directory: string; snapshotPath: string } {
  const directory = freshDirectory();
  withStorage(directory, (storage) => {
    storage.persist({ hardState: null, entries: makeEntries(1, 5, 1), snapshot: null });
    storage.saveSnapshot(makeSnapshot(4, 1, 'state at 4, long enough to flip a bit in'));
  });
  return { directory, snapshotPath: join(directory, snapshotDirectoryName, 'snapshot-1-4.bin') };
}

test('a snapshot file with a flipped bit is a CorruptSnapshotError naming the file', () => {
  const { directory, snapshotPath } = directoryWithSnapshot();
  const bytes = readFileSync(snapshotPath);
  flipBits(bytes, 10, 0x10);
  writeFileSync(snapshotPath, bytes);
  const error = catchError(() => reopenAndLoad(directory));
  assert.instance(error, CorruptSnapshotError);
  assert.is((error as CorruptSnapshotError).file, snapshotPath);
  assert.match((error as Error).message, /CRC-32/);
});

test('a truncated or missing snapshot file is a CorruptSnapshotError', () => {
  const { directory, snapshotPath } = directoryWithSnapshot();
  writeFileSync(snapshotPath, readFileSync(snapshotPath).subarray(0, 5));
  const truncated = catchError(() => reopenAndLoad(directory));
  assert.instance(truncated, CorruptSnapshotError);
  assert.match((truncated as Error).message, /5 bytes on disk/);
  rmSync(snapshotPath);
  const missing = catchError(() => reopenAndLoad(directory));
  assert.instance(missing, CorruptSnapshotError);
  assert.match((missing as Error).message, /snapshot-1-4\.bin/);
});

test('an unknown schema version is refused on open with a clear error', () => {
  const directory = freshDirectory();
  withStorage(directory, () => {});
  withRawDatabase(directory, (database) =>
    database.prepare("UPDATE meta SET value = 99 WHERE key = 'format_version'").run(),
  );
  const error = catchError(() => SqliteRaftStorage.open(directory));
  assert.instance(error, StorageFormatError);
  assert.match((error as Error).message, /format version 99 is not supported; this build reads version 3/);
});

test('a changed or half-written idempotency stamp is a CorruptEntryError naming the index', () => {
  const directory = freshDirectory();
  const stamped = makeEntry(2, 1, 'write', 'normal', { key: 'anonymous k', fingerprint: 'f1', atMs: 1_000 });
  withStorage(directory, (storage) =>
    storage.persist({ hardState: null, entries: [makeEntry(1, 1), stamped], snapshot: null }),
  );
  withRawDatabase(directory, (database) =>
    database.prepare("UPDATE entries SET idempotency_fingerprint = 'f2' WHERE idx = 2").run(),
  );
  assert.is((catchError(() => reopenAndLoad(directory)) as CorruptEntryError).index, 2);
  withRawDatabase(directory, (database) =>
    database.prepare("UPDATE entries SET idempotency_fingerprint = 'f1', idempotency_at_ms = NULL WHERE idx = 2").run(),
  );
  const error = catchError(() => reopenAndLoad(directory));
  assert.instance(error, CorruptEntryError);
  assert.is((error as CorruptEntryError).index, 2);
});

/** A raft.db as format version 1 wrote it (client session columns), with `entries` in it. */
function writeVersion1Database(directory: string, entries: readonly Entry[], clientStamped = false): void {
  withRawDatabase(directory, (database) => {
    database.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL);
      CREATE TABLE hard_state (id INTEGER PRIMARY KEY CHECK (id = 1), term INTEGER NOT NULL, vote TEXT NOT NULL,
        commit_index INTEGER NOT NULL);
      CREATE TABLE entries (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type INTEGER NOT NULL,
        client TEXT, sequence INTEGER, checksum INTEGER NOT NULL, data BLOB NOT NULL);
      CREATE TABLE snapshot_meta (id INTEGER PRIMARY KEY CHECK (id = 1), idx INTEGER NOT NULL, term INTEGER NOT NULL,
        membership TEXT NOT NULL, file_name TEXT NOT NULL, bytes INTEGER NOT NULL, crc INTEGER NOT NULL);
      INSERT INTO meta (key, value) VALUES ('format_version', 1);`);
    const insert = database.prepare(
      'INSERT INTO entries (idx, term, type, client, sequence, checksum, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const entry of entries) {
      const client = clientStamped ? ['framework-1', entry.index] : [null, null];
      insert.run(entry.index, entry.term, 1, ...client, entry.checksum, entry.data);
    }
  });
}

test('COMPAT: a version 1 database without client stamps is migrated on open and keeps its log', () => {
  const directory = freshDirectory();
  const old = [makeEntry(1, 1, 'a'), makeEntry(2, 1, 'b')];
  writeVersion1Database(directory, old);
  assert.equal(reopenAndLoad(directory).entries, old);
  withRawDatabase(directory, (database) => {
    const version = database.prepare("SELECT value FROM meta WHERE key = 'format_version'").get() as { value: number };
    assert.is(version.value, 3);
  });
  const stamped = makeEntry(3, 1, 'c', 'normal', { key: 'anonymous k', fingerprint: 'f', atMs: 5 });
  withStorage(directory, (storage) => storage.persist({ hardState: null, entries: [stamped], snapshot: null }));
  assert.equal(reopenAndLoad(directory).entries, [...old, stamped]);
});

/** A raft.db as format version 2 wrote it: no commit_index in the entries, the hard_state row rewritten per append. */
function writeVersion2Database(directory: string, entries: readonly Entry[], hardState: HardState): void {
  withRawDatabase(directory, (database) => {
    database.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL);
      CREATE TABLE hard_state (id INTEGER PRIMARY KEY CHECK (id = 1), term INTEGER NOT NULL, vote TEXT NOT NULL,
        commit_index INTEGER NOT NULL);
      CREATE TABLE entries (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type INTEGER NOT NULL,
        checksum INTEGER NOT NULL, data BLOB NOT NULL,
        idempotency_key TEXT, idempotency_fingerprint TEXT, idempotency_at_ms INTEGER);
      CREATE TABLE snapshot_meta (id INTEGER PRIMARY KEY CHECK (id = 1), idx INTEGER NOT NULL, term INTEGER NOT NULL,
        membership TEXT NOT NULL, file_name TEXT NOT NULL, bytes INTEGER NOT NULL, crc INTEGER NOT NULL);
      INSERT INTO meta (key, value) VALUES ('format_version', 2);`);
    database
      .prepare('INSERT INTO hard_state (id, term, vote, commit_index) VALUES (1, ?, ?, ?)')
      .run(hardState.term, hardState.vote, hardState.commit);
    const insert = database.prepare('INSERT INTO entries (idx, term, type, checksum, data) VALUES (?, ?, ?, ?, ?)');
    for (const entry of entries) insert.run(entry.index, entry.term, 1, entry.checksum, entry.data);
  });
}

test('COMPAT: a version 2 database is migrated on open: its log and commit index kept, later appends carry theirs', () => {
  const directory = freshDirectory();
  const old = makeEntries(1, 3, 2);
  const hardState: HardState = { term: 2, vote: nodeId('m1'), commit: 2 };
  writeVersion2Database(directory, old, hardState);
  const migrated = reopenAndLoad(directory);
  assert.equal(migrated.entries, old);
  assert.equal(migrated.hardState, hardState);
  withRawDatabase(directory, (database) => {
    const version = database.prepare("SELECT value FROM meta WHERE key = 'format_version'").get() as { value: number };
    assert.is(version.value, 3);
  });
  withStorage(directory, (storage) =>
    storage.persist({ hardState: { ...hardState, commit: 3 }, entries: makeEntries(4, 4, 2), snapshot: null }),
  );
  const appended = reopenAndLoad(directory);
  assert.equal(indexesOf(appended.entries), [1, 2, 3, 4]);
  assert.equal(appended.hardState, { ...hardState, commit: 3 });
});

test('COMPAT: a version 1 database holding client stamps is refused, unchanged', () => {
  const directory = freshDirectory();
  writeVersion1Database(directory, [makeEntry(1, 1, 'a')], true);
  const error = catchError(() => SqliteRaftStorage.open(directory));
  assert.instance(error, StorageFormatError);
  assert.match((error as Error).message, /1 client-stamped entries cannot be migrated/);
  withRawDatabase(directory, (database) => {
    const version = database.prepare("SELECT value FROM meta WHERE key = 'format_version'").get() as { value: number };
    assert.is(version.value, 1);
  });
});

test('a SQLite file that is not ours is refused on open', () => {
  const directory = freshDirectory();
  withRawDatabase(directory, (database) => database.exec('CREATE TABLE accounts (id INTEGER)'));
  const error = catchError(() => SqliteRaftStorage.open(directory));
  assert.instance(error, StorageFormatError);
  assert.match((error as Error).message, /not a Flotilla raft database/);
});

test.run();
