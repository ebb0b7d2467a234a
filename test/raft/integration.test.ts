// Three real replica processes on loopback: real ws transport, real SQLite files, real SIGKILL.
import path from 'node:path';
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exitOf } from '../support/child-exit.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { ProcessCluster, ProposingClient, type ReplicaProcess, startTimeoutMs } from './support/process-cluster.ts';

async function values(replica: ReplicaProcess): Promise<string[]> {
  const response = await fetch(`http://${replica.address}/values`, { signal: AbortSignal.timeout(5000) });
  if (response.status !== 200) throw new Error(`values from ${replica.id}: HTTP ${response.status}`);
  return ((await response.json()) as { values: string[] }).values;
}

function countOf(list: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of list) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

test('kill -9 of the leader mid-stream loses no acknowledged proposal and applies none twice', async () => {
  const cluster = await ProcessCluster.start(makeTempDir('raft-kill-'), 3);
  const acknowledged: string[] = [];
  let stop = false;
  const clients = Array.from({ length: 8 }, (_, client) =>
    (async () => {
      const proposer = new ProposingClient(cluster, `c${client}`);
      for (let sequence = 0; !stop; sequence++) {
        const value = `c${client}-${sequence}`;
        if (await proposer.propose(value, 5_000)) acknowledged.push(value);
      }
    })(),
  );
  try {
    await waitFor(() => acknowledged.length >= 100, { timeoutMs: 20_000, what: '100 acknowledged proposals' });
    const oldLeader = await cluster.waitForLeader();
    await cluster.kill(oldLeader, 'SIGKILL');
    const before = acknowledged.length;
    const newLeader = await cluster.waitForLeader(15_000, [oldLeader.id]);
    await waitFor(() => acknowledged.length >= before + 100, {
      timeoutMs: 20_000,
      what: '100 more proposals after the failover',
    });
    stop = true;
    await Promise.all(clients);
    const applied = countOf(await values(newLeader));
    const lost = acknowledged.filter((value) => !applied.has(value));
    const doubled = [...applied].filter(([, count]) => count > 1).map(([value]) => value);
    assert.equal(lost, [], 'acknowledged proposals missing after failover');
    assert.equal(doubled, [], 'proposals applied more than once');
    assert.not.equal(newLeader.id, oldLeader.id);

    // The killed replica restarts from its own files and catches up to the same sequence.
    cluster.launch(oldLeader);
    const leaderStatus = await cluster.status(newLeader);
    assert.ok(leaderStatus !== null);
    await waitFor(async () => ((await cluster.status(oldLeader))?.applied ?? 0) >= leaderStatus.commit, {
      timeoutMs: startTimeoutMs,
      what: `${oldLeader.id} to catch up after its restart`,
    });
    assert.equal(await values(oldLeader), await values(newLeader));
  } finally {
    stop = true;
    await Promise.all(clients);
    await cluster.stop();
  }
});

test('a replica that missed compacted entries catches up through a snapshot', async () => {
  const cluster = await ProcessCluster.start(makeTempDir('raft-snap-'), 3, ['--snapshot-entries', '40']);
  try {
    const leader = await cluster.waitForLeader();
    const lagging = cluster.replicas.find((replica) => replica.id !== leader.id)!;
    await cluster.kill(lagging);
    const client = new ProposingClient(cluster, 'snap');
    for (let count = 0; count < 200; count++)
      assert.ok(await client.propose(`v${count}`), `proposal ${count} acknowledged`);
    // Snapshots are written in the background: wait until every live replica (whichever leads
    // when the lagging one returns) has compacted past what the lagging one holds.
    const live = cluster.replicas.filter((replica) => replica !== lagging);
    await waitFor(
      async () =>
        (await Promise.all(live.map((replica) => cluster.status(replica)))).every(
          (current) => (current?.firstIndex ?? 0) > 2,
        ),
      {
        timeoutMs: 20_000,
        what: 'the live replicas to compact their logs',
      },
    );
    cluster.launch(lagging);
    // The core counts an installed snapshot as applied as soon as its last chunk arrives, a
    // turn of the event loop before the driver persists and restores it: wait for both.
    const status = await waitFor(
      async () => {
        const current = await cluster.status(lagging);
        return current !== null && current.applied >= 200 && current.snapshotIndex > 0 ? current : null;
      },
      { timeoutMs: startTimeoutMs, what: `${lagging.id} to catch up through a snapshot` },
    );
    assert.ok(status.snapshotIndex > 0, `${lagging.id} holds a snapshot (snapshotIndex ${status.snapshotIndex})`);
    assert.match(lagging.output, /installed snapshot from the leader/);
    const leaderValues = await values(leader);
    await waitFor(async () => (await cluster.status(lagging))?.applied === (await cluster.status(leader))?.applied, {
      timeoutMs: 10_000,
      what: 'equal applied indexes',
    });
    assert.equal(leaderValues.length, 200);
    assert.equal(await values(lagging), leaderValues);
  } finally {
    await cluster.stop();
  }
});

test('SIGTERM on the leader hands leadership over without an election timeout', async () => {
  const cluster = await ProcessCluster.start(makeTempDir('raft-term-'), 3);
  try {
    const leader = await cluster.waitForLeader();
    const before = await cluster.status(leader);
    await cluster.kill(leader, 'SIGTERM');
    const next = await cluster.waitForLeader(10_000, [leader.id]);
    const after = await cluster.status(next);
    assert.ok(before !== null && after !== null);
    // A transfer is one election in the next term, started at once by TimeoutNow (§3.10):
    // no pre-vote round after a timeout, so exactly one term passes.
    assert.is(after.term, before.term + 1);
    assert.match(leader.output, /leadership handed over before stopping/);
  } finally {
    await cluster.stop();
  }
});

test('a master whose log was corrupted on disk refuses to start and names the entry', async () => {
  const cluster = await ProcessCluster.start(makeTempDir('raft-corrupt-'), 3, [], 'master');
  const victim = cluster.replicas[2]!;
  try {
    const leader = await cluster.waitForLeader();
    for (let count = 0; count < 5; count++) {
      const response = await fetch(`http://${leader.address}/api/v1/kv/ns/k${count}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value: `v${count}` }),
      });
      assert.is(response.status, 200);
    }
    await waitFor(async () => ((await cluster.status(victim))?.applied ?? 0) >= 6, {
      timeoutMs: 10_000,
      what: `${victim.id} to apply the writes`,
    });
    await cluster.kill(victim);
    // Flip one byte of one entry's payload behind SQLite's back, as a failing disk would.
    const database = new Database(path.join(cluster.dataRoot, victim.id, 'raft.db'));
    const row = database
      .prepare('SELECT idx, data FROM entries WHERE length(data) > 0 ORDER BY idx DESC LIMIT 1')
      .get() as { idx: number; data: Buffer };
    const data = Buffer.from(row.data);
    data[0] = data[0]! ^ 0xff;
    database.prepare('UPDATE entries SET data = ? WHERE idx = ?').run(data, row.idx);
    database.close();
    cluster.launch(victim);
    const { code } = await exitOf(victim.child!, {
      timeoutMs: 120_000,
      what: `${victim.id} started on a corrupt log`,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; its output ends:\n${victim.output.slice(-3_000)}`);
    });
    assert.is(code, 1);
    assert.match(victim.output, new RegExp(`raft log entry ${row.idx} is corrupt`));
  } finally {
    await cluster.stop();
  }
});

test.run();
