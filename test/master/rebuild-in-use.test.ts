// A master that holds its Raft files but does not answer (frozen by SIGSTOP, or cut off from this
// host) is running, not damaged: its raft.db is locked (storage.ts, locking_mode=EXCLUSIVE). The
// check must say "in use", and `flotilla raft rebuild` must refuse even with --force, or it would
// move a live master's files away under it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkDataDirectory } from '../../src/master/rebuild/data-directory-check.ts';
import { entryChecksum } from '../../src/raft/checksum.ts';
import { databaseFileName, SqliteRaftStorage } from '../../src/raft/storage.ts';
import { type Entry, NO_NODE } from '../../src/raft/types.ts';
import type { RaftView } from '../../src/master/interface.ts';
import { makeTempDir } from '../support/tmp.ts';
import { ProcessCluster } from '../raft/support/process-cluster.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function entry(index: number): Entry {
  const data = new Uint8Array(Buffer.from(`command-${index}`, 'utf8'));
  return { term: 1, index, type: 'normal', data, checksum: entryChecksum(1, index, 'normal', data, undefined) };
}

async function raftView(replica: { address: string }): Promise<RaftView> {
  const response = await fetch(`http://${replica.address}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'GET_RAFT' }),
    signal: AbortSignal.timeout(10_000),
  });
  return ((await response.json()) as { get_raft: RaftView }).get_raft;
}

function withHeldStorage(action: (dataDirectory: string) => void): void {
  const dataDirectory = makeTempDir('rebuild-in-use-');
  const storage = SqliteRaftStorage.open(dataDirectory);
  try {
    storage.persist({ hardState: { term: 1, vote: NO_NODE, commit: 1 }, entries: [entry(1)], snapshot: null });
    action(dataDirectory);
  } finally {
    storage.close();
  }
}

test('files held by a running master are in use, not damaged; released, they check out', () => {
  let directory = '';
  withHeldStorage((dataDirectory) => {
    directory = dataDirectory;
    assert.equal(checkDataDirectory(dataDirectory), { state: 'in-use' });
  });
  assert.equal(checkDataDirectory(directory), { state: 'intact', term: 1, snapshotIndex: 0, lastIndex: 1 });
});

test('raft rebuild refuses, even with --force, a frozen master (SIGSTOP) that holds its files', async () => {
  const root = makeTempDir('rebuild-frozen-');
  const cluster = await ProcessCluster.start(root, 3, [], 'master');
  const leader = await cluster.waitForLeader();
  const frozen = cluster.replicas.find((replica) => replica.id !== leader.id)!;
  const child = frozen.child!;
  try {
    child.kill('SIGSTOP');
    const others = cluster.replicas.filter((replica) => replica !== frozen);
    const rebuilt = spawnSync(
      process.execPath,
      [
        path.join(repoRoot, 'bin', 'flotilla.js'),
        'raft',
        'rebuild',
        frozen.id,
        '--data-dir',
        path.join(root, frozen.id),
        '--masters',
        [...others, frozen].map((replica) => replica.address).join(','),
        '--force',
        '--json',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.is(rebuilt.status, 1, rebuilt.stderr);
    assert.is((JSON.parse(rebuilt.stderr) as { error: { code: string } }).error.code, 'MASTER_RUNNING');
    assert.ok(existsSync(path.join(root, frozen.id, databaseFileName)), 'its files stay where they are');
    const members = (await raftView(leader)).members.map((member) => member.id);
    assert.ok(members.includes(frozen.id), `${frozen.id} is still a member: ${members.join(',')}`);
  } finally {
    child.kill('SIGCONT');
    await cluster.stop();
  }
});

test.run();
