// Zones with real `flotilla master` processes: three masters in dc1, dc2 and dc3, each started
// with --preferred-leader-zones dc3. Every master learns every zone (GET_RAFT, `flotilla
// status`); leadership moves to m3 in dc3 and stays; with m3 killed, a master in dc1 or dc2
// leads and does not hand leadership around, and m3's zone is still shown; once m3 is back and
// caught up, leadership returns to it.
// flotilla-test-timeout-seconds: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RaftView } from '../../src/master/interface.ts';
import { flotilla } from '../cli/support/cli-process.ts';
import { ProcessCluster, type ReplicaProcess } from '../raft/support/process-cluster.ts';
import { parsePrometheusText } from '../support/prometheus.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const zoneOf: Record<string, string> = { m1: 'dc1', m2: 'dc2', m3: 'dc3' };

async function getRaft(replica: ReplicaProcess): Promise<RaftView | null> {
  try {
    const response = await fetch(`http://${replica.address}/api/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'GET_RAFT' }),
      signal: AbortSignal.timeout(3000),
    });
    return ((await response.json()) as { get_raft: RaftView }).get_raft;
  } catch {
    return null;
  }
}

async function leaderView(cluster: ProcessCluster): Promise<RaftView | null> {
  for (const replica of cluster.replicas) {
    const view = replica.child === null ? null : await getRaft(replica);
    if (view?.role === 'leader') return view;
  }
  return null;
}

function waitForLeader(cluster: ProcessCluster, accept: (view: RaftView) => boolean, what: string): Promise<RaftView> {
  return waitFor(
    async () => {
      const view = await leaderView(cluster);
      return view !== null && accept(view) ? view : null;
    },
    { timeoutMs: 90_000, what, intervalMs: 200 },
  );
}

async function handOvers(replica: ReplicaProcess): Promise<number> {
  const text = await (await fetch(`http://${replica.address}/metrics`)).text();
  return parsePrometheusText(text)
    .filter((sample) => sample.name === 'flotilla_zone_preference_hand_overs_total')
    .reduce((total, sample) => total + sample.value, 0);
}

test('masters learn each other’s zones, and leadership prefers dc3 without flapping', async () => {
  const cluster = await ProcessCluster.start(
    makeTempDir('masters-zones-'),
    3,
    ['--preferred-leader-zones', 'dc3'],
    'master',
    (id) => ['--zone', zoneOf[id]!],
  );
  try {
    // Every master, follower or not, shows every member's zone from the replicated records.
    for (const replica of cluster.replicas) {
      await waitFor(
        async () => {
          const view = await getRaft(replica);
          return view !== null && view.members.length === 3 && view.members.every((m) => m.zone === zoneOf[m.id]);
        },
        { timeoutMs: 60_000, what: `${replica.id} to know every zone`, intervalMs: 200 },
      );
    }
    const first = await waitForLeader(cluster, (view) => view.id === 'm3', 'm3 (dc3) to lead');
    assert.equal(first.preferredLeaderZones, ['dc3']);
    assert.is(first.zone, 'dc3');

    // Counted since each master started: the first leader may have handed over to m3 already.
    const before = new Map<string, number>();
    for (const id of ['m1', 'm2']) before.set(id, await handOvers(cluster.replica(id)));

    // m3 down for now: a master outside dc3 leads, and keeps leading (nobody healthy in dc3).
    await cluster.kill(cluster.replica('m3'));
    const interim = await waitForLeader(cluster, (view) => view.id !== 'm3', 'm1 or m2 to lead without m3');
    const interimLeader = cluster.replica(interim.id);
    for (let sample = 0; sample < 10; sample++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const now = await leaderView(cluster);
      assert.is(now?.id, interim.id, 'no hand-over while no voter in dc3 is healthy');
      assert.is(now?.term, interim.term);
    }
    assert.is(await handOvers(interimLeader), before.get(interim.id));
    const raft = await getRaft(interimLeader);
    assert.is(raft?.members.find((member) => member.id === 'm3')?.zone, 'dc3', "the dead master's zone stays known");

    // `flotilla status` shows the zones, m3's too while it is down.
    const status = await flotilla(['status', '--json', '--masters', cluster.replicas.map((r) => r.address).join(',')]);
    assert.is(status.status, 0, status.stderr);
    const masters = (JSON.parse(status.stdout) as { masters: { id: string; role: string; zone: string | null }[] })
      .masters;
    assert.equal(
      masters.map((master) => [master.id, master.zone, master.role === 'down']),
      [
        ['m1', 'dc1', false],
        ['m2', 'dc2', false],
        ['m3', 'dc3', true],
      ],
    );

    // m3 back: once it has caught up and answered steadily, the interim leader hands over to it.
    cluster.launch(cluster.replica('m3'), ['--zone', 'dc3']);
    const back = await waitForLeader(cluster, (view) => view.id === 'm3', 'leadership back on m3');
    assert.is(await handOvers(interimLeader), before.get(interim.id)! + 1, 'the interim leader counted its hand-over');
    for (let sample = 0; sample < 6; sample++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const now = await leaderView(cluster);
      assert.is(now?.id, 'm3', 'a leader in a preferred zone stays');
      assert.is(now?.term, back.term);
    }
  } finally {
    await cluster.stop();
  }
});

test.run();
