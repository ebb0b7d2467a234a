// The Raft series of /metrics on real `flotilla master` processes, after what they count has
// happened: snapshots (taken every 10 entries here: counts, sizes, times, index), and a leader
// killed (elections, term changes, leader changes, mesos_master_elected on the new leader).
// test/master/metrics.test.ts covers the rest on one master (proposals, commit and fsync latency).
// flotilla-test-timeout-seconds: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessCluster, type ReplicaProcess } from '../raft/support/process-cluster.ts';
import { parsePrometheusText, type Sample, sampleValue } from '../support/prometheus.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const snapshotEntries = 10;
const writes = 3 * snapshotEntries;

async function samples(replica: ReplicaProcess): Promise<Sample[]> {
  const response = await fetch(`http://${replica.address}/metrics`, { signal: AbortSignal.timeout(10_000) });
  assert.is(response.status, 200);
  return parsePrometheusText(await response.text());
}

/** A counter with no sample yet (a labelled one never incremented) reads 0. */
function counted(current: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return current
    .filter(
      (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    )
    .reduce((total, sample) => total + sample.value, 0);
}

async function put(leader: ReplicaProcess, key: string): Promise<void> {
  const response = await fetch(`http://${leader.address}/api/v1/kv/raft-metrics/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: key }),
    signal: AbortSignal.timeout(30_000),
  });
  assert.is(response.status, 200, `PUT ${key}`);
}

test('snapshots, elections, term and leader changes are counted where they happen', async () => {
  const cluster = await ProcessCluster.start(
    makeTempDir('raft-metrics-'),
    3,
    ['--snapshot-entries', String(snapshotEntries)],
    'master',
  );
  try {
    const leader = await cluster.waitForLeader();
    for (let index = 0; index < writes; index++) await put(leader, `k${index}`);
    for (const replica of cluster.replicas) {
      const taken = await waitFor(
        async () => {
          const current = await samples(replica);
          return counted(current, 'flotilla_raft_snapshots_total', { kind: 'taken' }) >= 1 ? current : null;
        },
        { timeoutMs: 60_000, what: `${replica.id} to take a snapshot`, intervalMs: 200 },
      );
      const value = (name: string): number => sampleValue(taken, name);
      assert.ok(value('flotilla_raft_snapshot_bytes') > 0, `${replica.id} snapshot size`);
      assert.ok(value('flotilla_raft_snapshot_duration_seconds_count') >= 1, `${replica.id} snapshot times`);
      assert.ok(value('flotilla_raft_snapshot_index') >= snapshotEntries, `${replica.id} snapshot index`);
    }

    const before = new Map<string, Sample[]>();
    for (const replica of cluster.replicas) before.set(replica.id, await samples(replica));
    assert.is(sampleValue(before.get(leader.id)!, 'mesos_master_elected'), 1);
    assert.ok(sampleValue(before.get(leader.id)!, 'flotilla_raft_elections_total') >= 1, 'the leader was elected');
    await cluster.kill(leader);
    const next = await cluster.waitForLeader(60_000, [leader.id]);
    const after = await samples(next);
    const grew = (name: string): number => sampleValue(after, name) - sampleValue(before.get(next.id)!, name);
    assert.ok(grew('flotilla_raft_elections_total') >= 1, 'the new leader started an election');
    assert.ok(grew('flotilla_raft_term_changes_total') >= 1, 'its term moved on');
    assert.ok(grew('flotilla_raft_leader_changes_total') >= 1, 'it saw the leader change');
    assert.is(sampleValue(after, 'mesos_master_elected'), 1);
    assert.is(sampleValue(after, 'flotilla_raft_is_leader'), 1);
    for (const survivor of cluster.replicas.filter((replica) => replica.id !== leader.id && replica.id !== next.id)) {
      const seen = await waitFor(
        async () => {
          const current = await samples(survivor);
          return sampleValue(current, 'flotilla_raft_leader_changes_total') >
            sampleValue(before.get(survivor.id)!, 'flotilla_raft_leader_changes_total')
            ? current
            : null;
        },
        { timeoutMs: 30_000, what: `${survivor.id} to count the leader change`, intervalMs: 200 },
      );
      assert.is(sampleValue(seen, 'mesos_master_elected'), 0, `${survivor.id} is not the leader`);
    }
  } finally {
    await cluster.stop();
  }
});

test.run();
