// A disk that really fills up, under a real replica: each replica of a three-replica
// ProcessCluster keeps its data directory on a size-limited tmpfs, and a filler file fills the
// leader's (one test) or a follower's (the other). Its next write fails (SQLITE_FULL): it must
// exit with code 74 and a log line naming RAFT_STORAGE_WRITE_FAILED, the other two must go on
// committing (electing a new leader first when the leader filled), and once the filler is gone
// the replica, restarted from its own files, must catch up to the same state (same applied
// sequence, compared by hash) with every acknowledged proposal in it exactly once. Needs root.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exitCodeStorageWriteFailed } from '../../src/raft/disk-errors.ts';
import { tmpfsMountUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor, withTimeout } from '../support/wait.ts';
import { ProcessCluster, ProposingClient, type ReplicaProcess } from './support/process-cluster.ts';

const tmpfsBytes = 16 * 1024 * 1024;
const valueBytes = 4_000;
/** Enough 4 KB writes to outgrow any WAL the replica had room for; a bound, never reached in practice. */
const maxProposalsUntilFull = 6_000;

async function appliedValues(replica: ReplicaProcess): Promise<string[]> {
  const response = await fetch(`http://${replica.address}/values`, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`values from ${replica.id}: HTTP ${response.status}`);
  return ((await response.json()) as { values: string[] }).values;
}

function stateHash(values: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(values)).digest('hex');
}

/** Writes zeros into `file` until the filesystem refuses (ENOSPC); returns the bytes written. */
function fillUntilFull(file: string): number {
  const descriptor = openSync(file, 'w');
  let written = 0;
  try {
    for (const chunkBytes of [1024 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(chunkBytes);
      for (;;) {
        try {
          written += writeSync(descriptor, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(descriptor);
  }
  return written;
}

function exitCodeOf(replica: ReplicaProcess): Promise<number | null> {
  const child = replica.child!;
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function fillOneAndRecover(victimRole: 'leader' | 'follower'): Promise<void> {
  const root = makeTempDir('raft-disk-full-process-');
  const mounted: string[] = [];
  let cluster: ProcessCluster | null = null;
  try {
    // Every replica on its own small tmpfs: which one fills depends on the role it has once elected.
    for (const id of ['m1', 'm2', 'm3']) {
      const directory = path.join(root, id);
      mkdirSync(directory);
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${tmpfsBytes}`, 'tmpfs', directory]);
      mounted.push(directory);
    }
    cluster = await ProcessCluster.start(root, 3);
    const leader = await cluster.waitForLeader();
    const full = victimRole === 'leader' ? leader : cluster.replicas.find((replica) => replica !== leader)!;
    const fullDirectory = path.join(root, full.id);
    const client = new ProposingClient(cluster, 'disk');
    const acknowledged: string[] = [];
    for (let count = 0; count < 20; count++) {
      const value = `before-${count}`;
      assert.ok(await client.propose(value), `${value} acknowledged`);
      acknowledged.push(value);
    }
    const fillerBytes = fillUntilFull(path.join(fullDirectory, 'filler'));
    const exited = exitCodeOf(full);
    let exitCode: number | null | undefined;
    void exited.then((code) => {
      exitCode = code;
    });
    for (let count = 0; exitCode === undefined && count < maxProposalsUntilFull; count++) {
      const value = `filling-${count}-${'x'.repeat(valueBytes)}`;
      if (await client.propose(value)) acknowledged.push(value);
    }
    const code = await withTimeout(exited, 60_000, `${full.id} (${victimRole}) to exit once its disk is full`);
    assert.is(code, exitCodeStorageWriteFailed, `${full.id} (${victimRole}) exits with code 74 once full`);
    full.child = null;
    const failureLine = full.output.split('\n').find((line) => line.includes('RAFT_STORAGE_WRITE_FAILED'));
    assert.ok(
      failureLine !== undefined,
      `${full.id} logs RAFT_STORAGE_WRITE_FAILED; its output ends:\n${full.output.slice(-2000)}`,
    );
    console.log(`${full.id} (${victimRole}) filled after ${fillerBytes} filler bytes: ${failureLine}`);

    // The other two are a majority: the cluster commits on without the full replica.
    for (let count = 0; count < 20; count++) {
      const value = `without-${full.id}-${count}`;
      assert.ok(await client.propose(value), `${value} acknowledged while ${full.id} is down`);
      acknowledged.push(value);
    }

    // Room again: it restarts from its own files (verified by checksum on open) and catches up.
    rmSync(path.join(fullDirectory, 'filler'));
    cluster.launch(full);
    const other = cluster.replicas.find((replica) => replica !== full)!;
    const expected = await appliedValues(other);
    await waitFor(
      async () => stateHash((await appliedValues(full)).slice(0, expected.length)) === stateHash(expected),
      {
        timeoutMs: 60_000,
        what: `${full.id} to apply the same sequence as the others after its restart`,
        intervalMs: 250,
      },
    );
    const hashes = await Promise.all(
      cluster.replicas.map(async (replica) => stateHash((await appliedValues(replica)).slice(0, expected.length))),
    );
    assert.equal(new Set(hashes).size, 1, `state hashes agree: ${hashes.join(' ')}`);
    const counts = new Map<string, number>();
    for (const value of await appliedValues(other)) counts.set(value, (counts.get(value) ?? 0) + 1);
    assert.equal(
      acknowledged.filter((value) => counts.get(value) !== 1).map((value) => value.slice(0, 24)),
      [],
      'every acknowledged proposal applied exactly once',
    );
  } finally {
    await cluster?.stop();
    for (const directory of mounted) execFileSync('umount', ['-l', directory]);
  }
}

const cannotMount = tmpfsMountUnavailableReason();
testUnless(
  test,
  cannotMount,
  'a leader whose disk fills exits 74 unharmed; the others elect, commit on; freed, it catches up',
  () => fillOneAndRecover('leader'),
);
testUnless(
  test,
  cannotMount,
  'a follower whose disk fills exits 74 unharmed; the cluster commits on; freed, it catches up',
  () => fillOneAndRecover('follower'),
);

test.run();
