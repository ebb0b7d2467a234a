// The master procedures of docs/operating.md, run as an operator would, with real masters and the
// real CLI: replacing a dead master ("Replacing a dead master": SIGKILL, its disk gone, `flotilla
// raft remove`, a fresh master started with --join, `flotilla raft add`, promoted by the leader's
// learner promoter), and a rolling restart one master at a time with leadership moved first
// ("Rolling upgrades"). Every write acknowledged before, during and after is read back.
// flotilla-test-timeout-seconds: 300
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RaftView } from '../../src/master/interface.ts';
import { type CliResult, flotilla } from '../cli/support/cli-process.ts';
import { freePort, ProcessCluster, type ReplicaProcess } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

async function put(cluster: ProcessCluster, key: string, value: string): Promise<void> {
  // Through whichever master leads now: an election may be under way after a kill.
  await waitFor(
    async () => {
      const leader = await cluster.waitForLeader(30_000);
      const response = await fetch(`http://${leader.address}/api/v1/kv/operating/${key}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'idempotency-key': `put-${key}` },
        body: JSON.stringify({ value }),
        signal: AbortSignal.timeout(10_000),
      }).catch(() => null);
      return response?.status === 200 ? true : null;
    },
    { timeoutMs: 60_000, what: `PUT ${key}` },
  );
}

async function get(replica: ReplicaProcess, key: string): Promise<string | null> {
  const response = await fetch(`http://${replica.address}/api/v1/kv/operating/${key}`, {
    signal: AbortSignal.timeout(10_000),
  });
  return response.status === 200 ? ((await response.json()) as { value: string }).value : null;
}

async function raftOf(replica: ReplicaProcess): Promise<RaftView> {
  const response = await fetch(`http://${replica.address}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'GET_RAFT' }),
    signal: AbortSignal.timeout(10_000),
  });
  return ((await response.json()) as { get_raft: RaftView }).get_raft;
}

const mastersFlag = (replicas: readonly ReplicaProcess[]): string =>
  replicas.map((replica) => replica.address).join(',');

/** A membership change is refused while another is in flight (409): the operator tries again. */
function cliRetryingPending(args: readonly string[]): Promise<CliResult> {
  return waitFor(
    async () => {
      const result = await flotilla(args);
      return result.status !== 0 && result.stderr.includes('MEMBERSHIP_CHANGE_PENDING') ? null : result;
    },
    { timeoutMs: 30_000, what: `flotilla ${args.join(' ')}` },
  );
}

async function assertAllKeys(replicas: readonly ReplicaProcess[], keys: readonly string[]): Promise<void> {
  for (const replica of replicas) {
    for (const key of keys) assert.is(await get(replica, key), `value-${key}`, `${key} on ${replica.id}`);
  }
}

test('a dead master is removed and replaced by a fresh one, which is promoted and counts in the quorum', async () => {
  const root = makeTempDir('masters-replace-');
  const cluster = await ProcessCluster.start(root, 3, [], 'master');
  const keys: string[] = [];
  try {
    for (let index = 0; index < 20; index++) {
      keys.push(`before-${index}`);
      await put(cluster, `before-${index}`, `value-before-${index}`);
    }
    // The leader's machine dies, and its disk with it.
    const dead = await cluster.waitForLeader();
    await cluster.kill(dead, 'SIGKILL');
    rmSync(path.join(root, dead.id), { recursive: true, force: true });
    cluster.replicas.splice(cluster.replicas.indexOf(dead), 1);
    await cluster.waitForLeader(30_000);
    const survivors = [...cluster.replicas];

    const removed = await cliRetryingPending([
      'raft',
      'remove',
      dead.id,
      '--json',
      '--masters',
      mastersFlag(survivors),
    ]);
    assert.is(removed.status, 0, removed.stderr);

    const fresh: ReplicaProcess = { id: 'm4', address: `127.0.0.1:${await freePort()}`, child: null, output: '' };
    cluster.replicas.push(fresh);
    cluster.launch(fresh, ['--join']);
    const added = await cliRetryingPending([
      'raft',
      'add',
      fresh.id,
      fresh.address,
      '--json',
      '--masters',
      mastersFlag(survivors),
    ]);
    assert.is(added.status, 0, added.stderr);
    const promoted = await waitFor(
      async () => {
        const raft = await raftOf(await cluster.waitForLeader());
        const roles = raft.members.map((member) => `${member.id}:${member.role}`).sort();
        return roles.join(',') === [...survivors.map((replica) => `${replica.id}:voter`), 'm4:voter'].sort().join(',')
          ? raft
          : null;
      },
      { timeoutMs: 60_000, what: 'm4 promoted to voter, the dead master gone', intervalMs: 200 },
    );
    assert.not.ok(promoted.members.some((member) => member.id === dead.id));
    await assertAllKeys([fresh], keys);

    // m4 is a real voter: with one more old master dead, the other and m4 are a majority of three.
    const second = survivors[0]!;
    await cluster.kill(second, 'SIGKILL');
    keys.push('after-second-loss');
    await put(cluster, 'after-second-loss', 'value-after-second-loss');
    await assertAllKeys([survivors[1]!, fresh], keys);
  } finally {
    await cluster.stop();
  }
});

test('a rolling restart, one master at a time, leadership moved off each first: no write lost', async () => {
  const root = makeTempDir('masters-rolling-');
  const cluster = await ProcessCluster.start(root, 3, [], 'master');
  const keys: string[] = [];
  try {
    const masters = mastersFlag(cluster.replicas);
    for (const replica of [...cluster.replicas]) {
      keys.push(`before-${replica.id}`);
      await put(cluster, `before-${replica.id}`, `value-before-${replica.id}`);
      const leader = await cluster.waitForLeader();
      if (leader.id === replica.id) {
        const moved = await flotilla(['raft', 'transfer', '--json', '--masters', masters]);
        assert.is(moved.status, 0, moved.stderr);
        assert.is.not((JSON.parse(moved.stdout) as { to: string }).to, replica.id);
      }
      // systemctl stop: SIGTERM; the master exits once its work is flushed.
      await cluster.kill(replica, 'SIGTERM');
      keys.push(`while-${replica.id}-down`);
      await put(cluster, `while-${replica.id}-down`, `value-while-${replica.id}-down`);
      // The new build would start here: same flags, same data directory.
      cluster.launch(replica);
      await waitFor(() => raftOf(replica).catch(() => null), { timeoutMs: 60_000, what: `${replica.id} back` });
      const commitIndex = (await raftOf(await cluster.waitForLeader())).commitIndex;
      await waitFor(async () => (await raftOf(replica)).appliedIndex >= commitIndex, {
        timeoutMs: 60_000,
        what: `${replica.id} caught up to index ${commitIndex}`,
        intervalMs: 200,
      });
    }
    keys.push('after');
    await put(cluster, 'after', 'value-after');
    await assertAllKeys(cluster.replicas, keys);
  } finally {
    await cluster.stop();
  }
});

test.run();
