// A full disk at the storage layer, on real SQLite files: raft.db is capped with SQLite's own
// max_page_count (the SQLITE_FULL a full filesystem gives, without needing one; the
// size-limited tmpfs version is test/raft/disk-full-process.test.ts). A failed write is a named
// StorageWriteError, keeps nothing of its batch and every earlier one whole; the driver stops the
// replica with exit code 74 and one log line naming the cause. A snapshot file, written beside the
// database, is tested on a full 2 MiB tmpfs (root), since it fails with the filesystem's ENOSPC.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entryChecksum } from '../../src/raft/checksum.ts';
import { exitCodeStorageWriteFailed, StorageWriteError } from '../../src/raft/disk-errors.ts';
import { RaftNode, RaftRequestError } from '../../src/raft/node.ts';
import { SqliteRaftStorage } from '../../src/raft/storage.ts';
import { nodeId } from '../../src/raft/types.ts';
import type { Entry, Membership } from '../../src/raft/types.ts';
import { createLogger } from '../../src/util/logger.ts';
import { tmpfsMountUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { testStorageWriter } from './support/process-cluster.ts';

const bootstrap: Membership = { voters: [nodeId('m1')], learners: [], addresses: { m1: '127.0.0.1:1' } };
const entryBytes = 2_000;
const cappedDatabaseBytes = 256 * 1024;

function makeEntry(index: number, term: number): Entry {
  const data = new Uint8Array(Buffer.alloc(entryBytes, index % 251));
  return { term, index, type: 'normal', data, checksum: entryChecksum(term, index, 'normal', data, undefined) };
}

test('a write past a full database fails with RAFT_STORAGE_WRITE_FAILED and keeps every earlier batch whole', () => {
  const directory = makeTempDir('raft-disk-full-');
  const storage = SqliteRaftStorage.open(directory, { maxDatabaseBytes: cappedDatabaseBytes });
  let lastIndex = 0;
  let failure: unknown = null;
  // Batches of 5 entries (one transaction each) until the cap refuses one; bounded in case it never does.
  for (let batch = 0; batch < 1_000 && failure === null; batch++) {
    const entries = Array.from({ length: 5 }, (_, offset) => makeEntry(lastIndex + offset + 1, 1));
    try {
      storage.persist({ hardState: { term: 1, vote: nodeId('m1'), commit: lastIndex }, entries, snapshot: null });
      lastIndex += entries.length;
    } catch (error) {
      failure = error;
    }
  }
  assert.instance(failure, StorageWriteError);
  const writeError = failure as StorageWriteError;
  assert.is(writeError.code, 'RAFT_STORAGE_WRITE_FAILED');
  assert.is(writeError.causeCode, 'SQLITE_FULL');
  assert.is(writeError.operation, 'persist');
  assert.ok(lastIndex > 0, 'some batches fit before the cap');
  storage.close();

  const reopened = SqliteRaftStorage.open(directory);
  try {
    const loaded = reopened.load(bootstrap);
    assert.is(loaded.entries.length, lastIndex, 'exactly the acknowledged batches, nothing of the failed one');
    assert.equal(
      loaded.entries.map((entry) => entry.checksum),
      Array.from({ length: lastIndex }, (_, offset) => makeEntry(offset + 1, 1).checksum),
    );
    assert.is(loaded.hardState.commit, lastIndex - 5, 'the hard state of the last batch that was written');
    // With room again, the replica writes on where it stopped.
    reopened.persist({ hardState: null, entries: [makeEntry(lastIndex + 1, 1)], snapshot: null });
    assert.is(reopened.load(bootstrap).entries.length, lastIndex + 1);
  } finally {
    reopened.close();
  }
});

testUnless(
  test,
  tmpfsMountUnavailableReason(),
  'a snapshot file that does not fit on a full filesystem is a StorageWriteError (ENOSPC) and records nothing',
  () => {
    const directory = makeTempDir('raft-disk-full-snapshot-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', directory]);
    try {
      const storage = SqliteRaftStorage.open(directory);
      try {
        storage.persist({ hardState: null, entries: [makeEntry(1, 1), makeEntry(2, 1)], snapshot: null });
        fillUntilFull(join(directory, 'filler'));
        const snapshot = { meta: { index: 2, term: 1, membership: bootstrap }, data: new Uint8Array(256 * 1024) };
        let failure: unknown = null;
        try {
          storage.saveSnapshot(snapshot);
        } catch (error) {
          failure = error;
        }
        assert.instance(failure, StorageWriteError);
        assert.is((failure as StorageWriteError).operation, 'save-snapshot');
        assert.is((failure as StorageWriteError).causeCode, 'ENOSPC');
      } finally {
        storage.close();
      }
      rmSync(join(directory, 'filler'));
      // Reopened (the half-written temporary file is swept on open): no snapshot, the log whole.
      const reopened = SqliteRaftStorage.open(directory);
      try {
        const loaded = reopened.load(bootstrap);
        assert.is(loaded.snapshot, null, 'no snapshot recorded');
        assert.equal(
          loaded.entries.map((entry) => entry.index),
          [1, 2],
        );
        assert.equal(readdirSync(join(directory, 'snapshots')), [], 'no stray snapshot file is left');
      } finally {
        reopened.close();
      }
    } finally {
      execFileSync('umount', ['-l', directory]);
    }
  },
);

/** Writes zeros into `file` until the filesystem refuses (ENOSPC). */
function fillUntilFull(file: string): void {
  const descriptor = openSync(file, 'w');
  try {
    for (const chunkBytes of [64 * 1024, 512]) {
      const chunk = Buffer.alloc(chunkBytes);
      for (;;) {
        try {
          writeSync(descriptor, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(descriptor);
  }
}

test('a single-replica leader whose write fails stops with exit code 74, a named log line, and restarts intact', async () => {
  const directory = makeTempDir('raft-disk-full-node-');
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const fatal: { error: Error; exitCode: number }[] = [];
  const node = RaftNode.start({
    id: nodeId('m1'),
    dataDir: directory,
    peers: { m1: '127.0.0.1:1' },
    secret: 'disk-full-secret',
    stateMachine: { apply: () => null, snapshot: () => new Uint8Array(0), restore: () => {} },
    logger: createLogger({ node: 'm1', component: 'raft' }, sink),
    storage: { maxDatabaseBytes: cappedDatabaseBytes },
    storageWriter: testStorageWriter(),
    // Never a snapshot: the test is about the log filling up.
    core: { snapshotThresholdEntries: 1_000_000 },
    onFatal: (error, exitCode) => fatal.push({ error, exitCode }),
  });
  await waitFor(() => node.status().role === 'leader', { timeoutMs: 30_000, what: 'm1 to lead itself' });
  const acknowledged: number[] = [];
  let refusal: unknown = null;
  for (let count = 0; count < 10_000 && refusal === null; count++) {
    try {
      acknowledged.push((await node.propose(new Uint8Array(Buffer.alloc(entryBytes, 7)))).index);
    } catch (error) {
      refusal = error;
    }
  }
  assert.instance(refusal, RaftRequestError);
  assert.is((refusal as RaftRequestError).code, 'stopped');
  assert.is(fatal.length, 1);
  assert.is(fatal[0]!.exitCode, exitCodeStorageWriteFailed);
  assert.instance(fatal[0]!.error, StorageWriteError);
  const logLine = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.exitCode);
  assert.ok(logLine !== undefined, 'one log line names the failure');
  assert.is(logLine.code, 'RAFT_STORAGE_WRITE_FAILED');
  assert.is(logLine.cause, 'SQLITE_FULL');
  assert.is(logLine.level, 'error');
  // Nothing more is accepted; and the files hold every acknowledged entry, verified by checksum.
  const afterwards = await node.propose(new Uint8Array(1)).then(
    () => null,
    (error: unknown) => error,
  );
  assert.is((afterwards as RaftRequestError | null)?.code, 'stopped');
  const storage = SqliteRaftStorage.open(directory);
  try {
    const loaded = storage.load(bootstrap);
    const stored = new Set(loaded.entries.map((entry) => entry.index));
    assert.ok(
      acknowledged.every((index) => stored.has(index)),
      'every acknowledged proposal is on disk',
    );
  } finally {
    storage.close();
  }
});

test.run();
