// Backups as docs/operating.md tells an operator to take and restore them, with real masters and
// the real CLI: `flotilla backup` of a running cluster, the cluster wiped, `flotilla restore` into
// each master's empty data directory, the masters started again — and the state is back (the
// same keys, weights and state hash), and the restored cluster takes new writes. A damaged file
// and a data directory in use are refused, changing nothing.
// flotilla-test-timeout-seconds: 300
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RaftView } from '../../src/master/interface.ts';
import { flotilla } from '../cli/support/cli-process.ts';
import { ProcessCluster, type ReplicaProcess, startTimeoutMs } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const zoneOf: Record<string, string> = { m1: 'dc1', m2: 'dc2', m3: 'dc3' };
const keyCount = 25;

interface BackupSummary {
  readonly file: string;
  readonly applied_index: number;
  readonly state_hash: string;
}

async function call(replica: ReplicaProcess, body: object): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://${replica.address}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

async function put(leader: ReplicaProcess, key: string, value: string): Promise<void> {
  const response = await fetch(`http://${leader.address}/api/v1/kv/backup-test/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value }),
  });
  assert.is(response.status, 200, `PUT ${key}`);
}

/**
 * A linearizable read on `replica`: the value, or null for 404. Right after an election a
 * follower may answer 503 or 504 (its read index is not confirmed yet): asked again, as a
 * client must; any other answer fails with its status and body.
 */
function get(replica: ReplicaProcess, key: string): Promise<string | null> {
  return waitFor(
    async () => {
      const response = await fetch(`http://${replica.address}/api/v1/kv/backup-test/${key}`, {
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status === 503 || response.status === 504) return undefined;
      if (response.status === 404) return { value: null };
      const text = await response.text();
      assert.is(response.status, 200, `GET ${key} on ${replica.id}: ${text}`);
      return { value: (JSON.parse(text) as { value: string }).value };
    },
    { timeoutMs: 30_000, what: `${replica.id} to answer GET ${key} (not 503/504)`, intervalMs: 200 },
  ).then((answer) => answer.value);
}

const masters = (cluster: ProcessCluster): string => cluster.replicas.map((replica) => replica.address).join(',');

async function zonesKnown(cluster: ProcessCluster, leader: ReplicaProcess): Promise<void> {
  await waitFor(
    async () => {
      const raft = ((await call(leader, { type: 'GET_RAFT' })).body as { get_raft: RaftView }).get_raft;
      return raft.members.every((member) => member.zone === zoneOf[member.id]);
    },
    { timeoutMs: 30_000, what: `every zone recorded in ${cluster.replicas.length} masters`, intervalMs: 200 },
  );
}

test('backup of a running cluster, wipe, restore every master: the state is back', async () => {
  const root = makeTempDir('masters-backup-');
  const cluster = await ProcessCluster.start(root, 3, [], 'master', (id) => ['--zone', zoneOf[id]!]);
  try {
    let leader = await cluster.waitForLeader();
    await zonesKnown(cluster, leader);
    for (let index = 0; index < keyCount; index++) await put(leader, `k${index}`, `value-${index}`);
    const weights = await call(leader, {
      type: 'UPDATE_WEIGHTS',
      update_weights: { weight_infos: [{ role: 'web', weight: 3 }] },
    });
    assert.is(weights.status, 200, JSON.stringify(weights.body));

    const file = path.join(makeTempDir('backup-file-'), 'cluster.backup');
    const saved = await flotilla(['backup', '--out', file, '--json', '--masters', masters(cluster)]);
    assert.is(saved.status, 0, saved.stderr);
    const summary = JSON.parse(saved.stdout) as BackupSummary;
    assert.ok(summary.applied_index > keyCount);

    // Refused, changing nothing: a damaged copy, and a data directory that is in use.
    const damaged = `${file}.damaged`;
    const bytes = readFileSync(file);
    bytes[bytes.byteLength >> 1]! ^= 0xff;
    writeFileSync(damaged, bytes);
    const restoreArgs = (from: string, id: string): string[] => [
      'restore',
      '--from',
      from,
      '--data-dir',
      path.join(root, id),
      '--id',
      id,
      '--peers',
      cluster.peersFlag(),
      '--json',
    ];
    const badFile = await flotilla(restoreArgs(damaged, 'm1'));
    assert.is(badFile.status, 1);
    assert.is((JSON.parse(badFile.stderr) as { error: { code: string } }).error.code, 'BACKUP_INVALID');
    const inUse = await flotilla(restoreArgs(file, 'm1'));
    assert.is(inUse.status, 1);
    assert.is((JSON.parse(inUse.stderr) as { error: { code: string } }).error.code, 'DATA_DIR_NOT_EMPTY');

    // The disaster: every master and all its data gone.
    await cluster.stop();
    for (const replica of cluster.replicas) rmSync(path.join(root, replica.id), { recursive: true, force: true });

    for (const replica of cluster.replicas) {
      const restored = await flotilla(restoreArgs(file, replica.id));
      assert.is(restored.status, 0, restored.stderr);
      assert.is((JSON.parse(restored.stdout) as { state_hash: string }).state_hash, summary.state_hash);
    }
    for (const replica of cluster.replicas) cluster.launch(replica, ['--zone', zoneOf[replica.id]!]);
    // Three masters starting at once: as long as a cluster's first start may take (CI load ~55 saw 60 s pass).
    leader = await cluster.waitForLeader(startTimeoutMs);

    const follower = cluster.replicas.find((replica) => replica.id !== leader.id)!;
    for (let index = 0; index < keyCount; index++) assert.is(await get(follower, `k${index}`), `value-${index}`);
    const roles = (await call(leader, { type: 'GET_WEIGHTS' })).body as {
      get_weights: { weight_infos: { role: string; weight: number }[] };
    };
    assert.equal(roles.get_weights.weight_infos, [{ role: 'web', weight: 3 }]);
    const raft = ((await call(leader, { type: 'GET_RAFT' })).body as { get_raft: RaftView }).get_raft;
    assert.equal(
      raft.members.map((member) => [member.id, member.role, member.zone]),
      [
        ['m1', 'voter', 'dc1'],
        ['m2', 'voter', 'dc2'],
        ['m3', 'voter', 'dc3'],
      ],
    );
    assert.ok(raft.snapshotIndex >= summary.applied_index, 'the log starts at the restored snapshot');

    // The same state, and a cluster that works: a backup now has the same hash, then a new write.
    const again = await flotilla(['backup', '--out', `${file}.again`, '--json', '--masters', masters(cluster)]);
    assert.is(again.status, 0, again.stderr);
    assert.is((JSON.parse(again.stdout) as BackupSummary).state_hash, summary.state_hash);
    await put(leader, 'after-restore', 'yes');
    assert.is(await get(follower, 'after-restore'), 'yes');
  } finally {
    await cluster.stop();
  }
});

test.run();
