// Diagnostic for issue 19 (not a benchmark of Flotilla): what one durable write costs on this disk,
// the floor under a replicated write's latency. Each pattern runs `count` times, one after the
// other, on a fresh file in a temporary directory; it prints p50 and p99 in ms per pattern:
// - append + fdatasync: a log appended to and synced, as ZooKeeper's transaction log does;
// - overwrite + fdatasync: the same bytes rewritten in place (a file that does not grow);
// - SQLite transaction: one entry row and the hard-state row in one transaction, WAL and
//   synchronous=FULL, as src/raft/storage.ts writes a Ready.
// Usage: npx tsx bench/peers/fsync-floor.ts [count]
import Database from 'better-sqlite3';
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeTempDir } from '../../test/support/tmp.ts';
import { percentile, round } from '../_report.ts';

const entryBytes = 300;

function timed(count: number, write: (ordinal: number) => void): { p50_ms: number; p99_ms: number } {
  const durations: number[] = [];
  for (let ordinal = 0; ordinal < count; ordinal++) {
    const startedMs = performance.now();
    write(ordinal);
    durations.push(performance.now() - startedMs);
  }
  return { p50_ms: round(percentile(durations, 0.5), 3), p99_ms: round(percentile(durations, 0.99), 3) };
}

function syncedFileWrites(directory: string, count: number, inPlace: boolean): ReturnType<typeof timed> {
  const descriptor = openSync(path.join(directory, inPlace ? 'overwritten' : 'appended'), 'w');
  const bytes = Buffer.alloc(entryBytes, 1);
  try {
    return timed(count, () => {
      writeSync(descriptor, bytes, 0, bytes.length, inPlace ? 0 : null);
      fdatasyncSync(descriptor);
    });
  } finally {
    closeSync(descriptor);
  }
}

function sqliteTransactions(directory: string, count: number): ReturnType<typeof timed> {
  const database = new Database(path.join(directory, 'raft.db'));
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.exec('CREATE TABLE entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)');
    database.exec('CREATE TABLE hard_state (id INTEGER PRIMARY KEY, commit_index INTEGER NOT NULL)');
    const insertEntry = database.prepare('INSERT INTO entries (idx, data) VALUES (?, ?)');
    const upsertHardState = database.prepare(
      'INSERT INTO hard_state (id, commit_index) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET commit_index = excluded.commit_index',
    );
    const bytes = Buffer.alloc(entryBytes, 1);
    const persist = database.transaction((ordinal: number) => {
      insertEntry.run(ordinal + 1, bytes);
      upsertHardState.run(ordinal);
    });
    return timed(count, (ordinal) => persist(ordinal));
  } finally {
    database.close();
  }
}

const count = Number(process.argv[2] ?? 500);
if (!Number.isSafeInteger(count) || count < 1) throw new Error('count must be a positive whole number');
const directory = makeTempDir('fsync-floor-');
const load = round(os.loadavg()[0]!, 1);
const patterns = {
  'append + fdatasync': () => syncedFileWrites(directory, count, false),
  'overwrite + fdatasync': () => syncedFileWrites(directory, count, true),
  'SQLite transaction (WAL, synchronous=FULL)': () => sqliteTransactions(directory, count),
};
for (const [pattern, run] of Object.entries(patterns)) {
  process.stdout.write(`${JSON.stringify({ bench: 'fsync-floor', pattern, count, ...run(), load })}\n`);
}
