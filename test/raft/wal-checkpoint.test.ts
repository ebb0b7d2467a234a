// The Raft log's WAL is copied back into raft.db by checkpoint() on the append connection, when
// the replica finds a turn for it, never by a committing transaction below the backstop (issue
// 19); the schedule counts pages, not time, and a SIGKILL in any of it loses no acknowledged
// entry. On real files; the crash test SIGKILLs a real child process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entryChecksum } from '../../src/raft/checksum.ts';
import { walBackstopFactor, walCheckpointPages } from '../../src/raft/limits.ts';
import { RaftNode } from '../../src/raft/node.ts';
import type { ReplicatedStateMachine } from '../../src/raft/state-machine-host.ts';
import { databaseFileName, SqliteRaftStorage, type StorageOptions } from '../../src/raft/storage.ts';
import { nodeId } from '../../src/raft/types.ts';
import type { Entry, Membership } from '../../src/raft/types.ts';
import { createLogger } from '../../src/util/logger.ts';
import { waitFor } from '../support/wait.ts';
import { testStorageWriter } from './support/process-cluster.ts';

const bootstrap: Membership = { voters: [nodeId('m1')], learners: [], addresses: { m1: '127.0.0.1:1' } };
const pageBytes = 4096;
const walHeaderBytes = 32;
const walFrameBytes = 24 + pageBytes;
const temporaryDirectories: string[] = [];

function freshDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'flotilla-wal-checkpoint-'));
  temporaryDirectories.push(directory);
  return directory;
}

test.after(() => {
  for (const directory of temporaryDirectories) rmSync(directory, { recursive: true, force: true });
});

function makeEntry(index: number, dataBytes: number): Entry {
  const data = new Uint8Array(Buffer.alloc(dataBytes, index % 251));
  return { term: 1, index, type: 'normal', data, checksum: entryChecksum(1, index, 'normal', data, undefined) };
}

function appendOne(storage: SqliteRaftStorage, index: number, entries: number, dataBytes: number): number {
  const batch: Entry[] = [];
  for (let count = 0; count < entries; count++) batch.push(makeEntry(index + count + 1, dataBytes));
  storage.persist({ hardState: null, entries: batch, snapshot: null });
  return index + entries;
}

function open(directory: string, options: StorageOptions = {}): SqliteRaftStorage {
  const storage = SqliteRaftStorage.open(directory, options);
  storage.persist({ hardState: { term: 1, vote: nodeId('m1'), commit: 0 }, entries: [], snapshot: null });
  return storage;
}

const databaseBytes = (directory: string) => statSync(join(directory, databaseFileName)).size;
const walBytes = (directory: string) => statSync(join(directory, `${databaseFileName}-wal`)).size;

test('no commit checkpoints below the backstop: 1,500 one-page transactions leave raft.db as it was', () => {
  const directory = freshDirectory();
  const storage = open(directory);
  try {
    const before = databaseBytes(directory);
    let index = 0;
    // SQLite's automatic checkpoint (1,000 pages) would have copied pages into raft.db by now.
    for (let transaction = 0; transaction < 1_500; transaction++) index = appendOne(storage, index, 1, 100);
    assert.ok(1_500 < walBackstopFactor * walCheckpointPages, 'the test stays below the backstop');
    assert.is(databaseBytes(directory), before, 'no page copied back by a committing transaction');
    assert.ok(walBytes(directory) >= walHeaderBytes + 1_500 * walFrameBytes, 'every frame still in the WAL');
    // Between turns, the replica's checkpoint copies them all back.
    const result = storage.checkpoint();
    assert.is(result.framesCopied, result.framesInWal);
    assert.ok(result.framesInWal >= 1_500, `${result.framesInWal} frames`);
    assert.ok(databaseBytes(directory) > before, 'the checkpoint copied pages into raft.db');
  } finally {
    storage.close();
  }
  assert.is(SqliteRaftStorage.open(directory).load(bootstrap).entries.length, 1_500);
});

test('the schedule counts pages: one-page appends are due every threshold transactions, urgent at twice that', () => {
  const directory = freshDirectory();
  const threshold = 50;
  const storage = open(directory, { walCheckpointPages: threshold });
  try {
    storage.checkpoint();
    let index = 0;
    const urgencies: string[] = [];
    // A one-entry append writes one page (storage.test.ts counts its frames).
    for (let transaction = 1; transaction <= 2 * threshold; transaction++) {
      index = appendOne(storage, index, 1, 10);
      urgencies.push(storage.walCheckpointUrgency());
    }
    assert.equal(
      [urgencies.indexOf('when-idle') + 1, urgencies.indexOf('now') + 1, urgencies.length],
      [threshold, 2 * threshold, 2 * threshold],
    );
    assert.is(storage.checkpoint().framesCopied, 2 * threshold);
    assert.is(storage.walCheckpointUrgency(), 'none');

    // A replica that checkpoints whenever one is due: 1,000 transactions, 20 checkpoints, and the
    // WAL starts over after each (the same connection: no reader holds it), so its file stays at
    // its first cycle's size.
    let checkpoints = 0;
    let walAfterFirst = 0;
    for (let transaction = 0; transaction < 1_000; transaction++) {
      index = appendOne(storage, index, 1, 10);
      if (storage.walCheckpointUrgency() === 'none') continue;
      const result = storage.checkpoint();
      // A leaf split also rewrites its parent: a few frames more than the estimate, never a cycle more.
      assert.ok(
        result.framesInWal >= threshold && result.framesInWal < 1.2 * threshold,
        `${result.framesInWal} frames`,
      );
      checkpoints++;
      if (checkpoints === 1) walAfterFirst = walBytes(directory);
    }
    assert.is(checkpoints, 1_000 / threshold);
    assert.is(walBytes(directory), walAfterFirst, 'the WAL rewound after each checkpoint');
  } finally {
    storage.close();
  }
});

test('the WAL stays bounded when no checkpoint is run: a commit checkpoints past the backstop', () => {
  const directory = freshDirectory();
  const threshold = 100;
  const storage = open(directory, { walCheckpointPages: threshold });
  try {
    let index = 0;
    // 10 entries of 5 KiB: about 15 pages per transaction; 2.5 times the backstop in all.
    const transactions = Math.ceil((2.5 * walBackstopFactor * threshold) / 15);
    for (let transaction = 0; transaction < transactions; transaction++) index = appendOne(storage, index, 10, 5_000);
    const boundFrames = walBackstopFactor * threshold + 2 * 15;
    assert.ok(walBytes(directory) <= walHeaderBytes + boundFrames * walFrameBytes, `WAL ${walBytes(directory)} bytes`);
    assert.ok(databaseBytes(directory) > walBackstopFactor * threshold * pageBytes, 'the backstop copied pages back');
  } finally {
    storage.close();
  }
});

class CountingStateMachine implements ReplicatedStateMachine {
  applied = 0;
  apply(): unknown {
    this.applied++;
    return null;
  }
  snapshot(): Uint8Array {
    return new Uint8Array(0);
  }
  restore(): void {}
}

async function withReplica(threshold: number, action: (node: RaftNode, checkpoints: number[]) => Promise<void>) {
  const checkpoints: number[] = [];
  const node = RaftNode.start({
    id: nodeId('m1'),
    dataDir: freshDirectory(),
    peers: { m1: '127.0.0.1:1' },
    secret: 'a-secret-of-twenty-characters',
    stateMachine: new CountingStateMachine(),
    logger: createLogger({ node: 'm1', component: 'raft' }, { write: () => undefined }),
    timing: { tickMs: 10, electionTicks: 5, heartbeatTicks: 1 },
    storageWriter: testStorageWriter(),
    storage: { walCheckpointPages: threshold },
    observer: {
      persisted: () => undefined,
      snapshotTaken: () => undefined,
      snapshotInstalled: () => undefined,
      walCheckpointed: (_durationMs, frames) => checkpoints.push(frames),
    },
  });
  try {
    await waitFor(() => node.status().role === 'leader' && node.status().applied >= 1, {
      timeoutMs: 30_000,
      what: 'm1 elected alone, its no-op applied',
    });
    await action(node, checkpoints);
  } finally {
    await node.stop({ transferLeadership: false });
  }
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test('a replica checkpoints in a turn no write waits for, as soon as one is due', async () => {
  const threshold = 20;
  await withReplica(threshold, async (node, checkpoints) => {
    // One write at a time, the next a turn later (a client's next request comes a round trip
    // later): each is one transaction of one page, and the turn after it is idle.
    const writes = 10 * threshold;
    for (let write = 0; write < writes; write++) {
      await node.propose(Buffer.from(`write-${write}`));
      await nextTurn();
    }
    // The election's hard state and no-op add a page or two: 10 cycles of 20 pages. (The writer
    // thread reports its last checkpoint after the last answer.)
    await waitFor(() => checkpoints.length >= writes / threshold, {
      timeoutMs: 30_000,
      what: `${writes / threshold} checkpoints (so far of ${checkpoints.join(', ')} frames)`,
    });
    assert.is(checkpoints.length, writes / threshold, `checkpoints of ${checkpoints.join(', ')} frames`);
    // Leaf splits rewrite parents (frames the estimate leaves out), never a forced 2x.
    for (const frames of checkpoints) assert.ok(frames >= threshold && frames < 1.5 * threshold, `${frames} frames`);
  });
});

test('a replica that is never idle checkpoints anyway at twice the threshold, between turns', async () => {
  const threshold = 20;
  await withReplica(threshold, async (node, checkpoints) => {
    // The next write is proposed in the turn that answers the last: a write always waits.
    const writes = 10 * threshold;
    for (let write = 0; write < writes; write++) await node.propose(Buffer.from(`write-${write}`));
    await nextTurn();
    assert.ok(checkpoints.length >= writes / (2.5 * threshold), `checkpoints of ${checkpoints.join(', ')} frames`);
    for (const frames of checkpoints) assert.ok(frames < 2.5 * threshold, `${frames} frames`);
  });
});

/** Runs the appender child until it printed `linesAfter` lines after `minCheckpoints` checkpoints; SIGKILLs it. */
function appendUntilKilled(directory: string, minCheckpoints: number, linesAfter: number): Promise<number> {
  const fixture = new URL('./fixtures/wal-appender.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, directory], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffered = '';
    let lastDurable = 0;
    let linesSeen = 0;
    let linesTotal = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [index, checkpoints] = line.split(' ').map(Number);
        lastDurable = index!;
        linesTotal++;
        if (checkpoints! >= minCheckpoints) linesSeen++;
      }
      // An appender that never checkpoints must fail the test, not hang it.
      if (linesTotal > 20_000 && linesSeen === 0) {
        child.kill('SIGKILL');
        reject(new Error(`no ${minCheckpoints} checkpoints after ${linesTotal} transactions`));
      }
      if (linesSeen >= linesAfter && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lastDurable);
      else reject(new Error(`appender exited with ${code}`));
    });
  });
}

test('SIGKILL while appending and checkpointing: raft.db opens with every entry acknowledged as durable', async () => {
  const directory = freshDirectory();
  // Killed at a different point of the checkpoint cycle each time (after 1, 7 and 13 transactions).
  for (const [round, linesAfter] of [1, 7, 13].entries()) {
    const acknowledged = await appendUntilKilled(directory, 2 * (round + 1), linesAfter);
    const storage = SqliteRaftStorage.open(directory);
    try {
      const entries = storage.load(bootstrap).entries;
      assert.ok(
        entries.length >= acknowledged,
        `round ${round}: ${entries.length} entries, ${acknowledged} acknowledged`,
      );
      assert.is(entries.at(-1)?.index ?? 0, entries.length, 'load() checked contiguity; the log starts at 1');
    } finally {
      storage.close();
    }
  }
});

test.run();
