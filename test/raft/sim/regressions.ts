// The smallest reproductions of the core bugs the random runs found, as scripted scenarios.
// Each throws (a SimulationFailure with the trace) when the bug is present.
import type { Message } from '../../../src/raft/types.ts';
import type { SimCluster } from './cluster.ts';
import { checkLiveness } from './run.ts';
import {
  addLearner,
  deliverAll,
  electLeader,
  id,
  propose,
  runScript,
  scriptedCluster,
  scriptedElectionTicks,
  tickNode,
} from './script.ts';

/**
 * Found by seed 5 (and many more). A follower in the replicate state whose whole in-flight
 * window was lost (here: one append carrying two entries, window of one message) must still
 * catch up: the leader frees a window slot when the follower answers a heartbeat, then probes.
 */
export function lostWindowScenario(): void {
  const cluster = scriptedCluster(3, { maxInflightMessages: 1 });
  runScript(cluster, () => {
    electLeader(cluster, 'n1');
    cluster.network.cutOneWay(id('n1'), id('n3'));
    // Two proposals before the leader's next Ready: one append carries both, and it is lost.
    propose(cluster, 'n1', 'u1', false);
    propose(cluster, 'n1', 'u2', true);
    deliverAll(cluster);
    cluster.network.heal();
    checkLiveness(cluster, scriptedElectionTicks);
  });
}

/**
 * Found by seed 785 (seed 1437 with an earlier generator). ReadIndex (§6.4) needs a majority of
 * voters to confirm the leadership; a learner's heartbeat answer must not count. Here the old
 * leader n1, cut off with the learner n4, answers a read at an index the new leader n2 passed.
 */
export function learnerReadScenario(): void {
  const cluster = scriptedCluster(3);
  runScript(cluster, () => {
    electLeader(cluster, 'n1');
    const learner = addLearner(cluster, 'n1');
    tickNode(cluster, 'n1', 3);
    cluster.network.partition([
      [id('n1'), learner],
      [id('n2'), id('n3')],
    ]);
    // n2 and n3 stop hearing from n1; n2 wins term 2 and commits an entry. n1 has not ticked,
    // so it has not yet noticed (CheckQuorum acts only after an election timeout of its own).
    tickNode(cluster, 'n3', scriptedElectionTicks);
    electLeader(cluster, 'n2');
    propose(cluster, 'n2', 'u1');
    deliverAll(cluster);
    cluster.readIndex(cluster.node(id('n1')), true);
    deliverAll(cluster);
  });
}

/**
 * A driver that writes snapshots in the background (DESIGN.md: snapshot writing goes to a worker)
 * and batches inputs (group commit) may hand over a snapshot of its own after the core restored
 * a newer one from the leader but before the next Ready. snapshotTaken() must then ignore the
 * older snapshot — not assert (`installsFirst` 0: found by seeds 46, 1794) — and must not tell storage
 * to drop entries that no durable snapshot covers yet (`installsFirst` 1: the writer's snapshot is
 * older than one installed meanwhile, and the early return hands back the restored index).
 */
export function backgroundSnapshotScenario(installsFirst: 0 | 1 = 0): void {
  const cluster = scriptedCluster(3, {
    snapshotThresholdEntries: 5,
    compactionTrailingEntries: 0,
    snapshotChunkBytes: 64,
  });
  runScript(cluster, () => {
    const follower = cluster.node(id('n3'));
    follower.setSnapshotDelay(Number.POSITIVE_INFINITY);
    electLeader(cluster, 'n1');
    proposeAndDeliver(cluster, 1, 6);
    tickNode(cluster, 'n1', 2);
    if (!follower.hasPendingSnapshot()) throw new Error('script: n3 has not serialised a snapshot');
    // n3's writer is still busy. Cut off, n3 falls behind the others' compaction, and needs the
    // leader's snapshot (once, or twice) to come back.
    let next = 7;
    for (let round = 0; round <= installsFirst; round++) {
      cluster.network.partition([[id('n1'), id('n2')], [id('n3')]]);
      proposeAndDeliver(cluster, next, next + 13);
      next += 14;
      cluster.network.heal();
      const lastRound = round === installsFirst;
      deliverSnapshotTo(cluster, 'n3', lastRound);
      if (!lastRound) deliverAll(cluster);
    }
    cluster.begin('n3: the background snapshot writer finishes');
    follower.finishPendingSnapshot();
    cluster.settle(follower, true);
    checkLiveness(cluster, scriptedElectionTicks);
  });
}

function proposeAndDeliver(cluster: SimCluster, first: number, last: number): void {
  for (let number = first; number <= last; number++) {
    propose(cluster, 'n1', `u${number}`);
    deliverAll(cluster);
  }
}

/**
 * Runs the cluster until the leader's snapshot reaches `name`; with `batchLast`, the Ready after
 * the last chunk (the one that restores the snapshot) is left pending, as a batching driver would.
 */
function deliverSnapshotTo(cluster: SimCluster, name: string, batchLast: boolean): void {
  const target = id(name);
  const isLastChunk = (message: Message): boolean =>
    message.type === 'snapshot-chunk' &&
    message.to === target &&
    message.offset + message.data.byteLength === message.totalBytes;
  let delivered = false;
  for (let count = 0; count < 1_000 && !delivered; count++) {
    const stepped = cluster.deliver((_node, message) => {
      delivered = isLastChunk(message);
      return !(delivered && batchLast);
    });
    if (!stepped) cluster.tick(cluster.node(id('n1')), true);
  }
  if (!delivered) throw new Error(`script: the leader never sent ${name} its snapshot`);
}

/**
 * Found by seed 3783. Lease reads (§6.4.1) and leadership transfer (§3.10): the leader turned
 * the lease off while a transfer was in flight, because TimeoutNow makes voters ignore their
 * stickiness, and back on once it abandoned the transfer (an election timeout later). A
 * TimeoutNow still on the wire is not abandoned with it: delivered late (or delivered in time
 * to a transferee whose win the leader never heard of), it makes the transferee win an
 * election the old leader's lease says nobody can win, and the old leader, not yet told,
 * serves a read from before the new leader's commit. No lease once a TimeoutNow went out.
 */
export function lateTimeoutNowScenario(): void {
  const cluster = scriptedCluster(3, { readMode: 'lease', checkQuorum: true });
  runScript(cluster, () => {
    const [n1, n2, n3] = [id('n1'), id('n2'), id('n3')];
    electLeader(cluster, 'n1');
    tickRounds(cluster, 2);
    cluster.begin('transfer n1 -> n2');
    if (!cluster.node(n1).transferLeadership(n2)) throw new Error('script: n1 refused to transfer');
    cluster.settle(cluster.node(n1), true);
    // The TimeoutNow is slow on the wire; n1 gives up on the transfer an election timeout later.
    const late = cluster.network.holdBack((message) => message.type === 'timeout-now');
    if (late.length !== 1) throw new Error('script: expected one TimeoutNow in flight');
    tickRounds(cluster, scriptedElectionTicks + 1);
    if (cluster.node(n1).status().transferee !== '') throw new Error('script: the transfer was not abandoned');
    // n1 hears nothing from n2 and n3 from now on; its last heartbeat round was answered.
    cluster.network.cutOneWay(n2, n1);
    cluster.network.cutOneWay(n3, n1);
    cluster.begin('the late TimeoutNow arrives');
    for (const message of late) cluster.network.send(message);
    deliverAll(cluster);
    tickNode(cluster, 'n2', 0);
    if (cluster.node(n2).status().role !== 'leader') throw new Error('script: n2 did not win the transfer election');
    propose(cluster, 'n2', 'u1');
    deliverAll(cluster);
    cluster.readIndex(cluster.node(n1), true);
    deliverAll(cluster);
  });
}

/** Every live node ticks once per round (clocks in lockstep), then the network drains. */
function tickRounds(cluster: SimCluster, rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    for (const node of cluster.upNodes()) cluster.tick(node, true);
    deliverAll(cluster);
  }
}

/**
 * Found by seed 902 (and ten more in 1..3000 once plans may shrink to two voters). With two
 * voters {n1, n2}, the leader n1 proposes its own removal; the config entry takes effect at once
 * in n1's log ({n2}), but n1 loses n2 before replicating it. Now n1 holds the longer log and is
 * no voter in it, so it never campaigns; n2, still on {n1, n2}, needs n1's vote, which the
 * up-to-date rule (§5.4.1) refuses. No leader, ever. The leader must not remove itself from two
 * voters (transfer leadership first), or the cluster must get out of this some other way.
 */
export function selfRemovalOfTwoScenario(): void {
  const cluster = scriptedCluster(2);
  runScript(cluster, () => {
    electLeader(cluster, 'n1');
    tickNode(cluster, 'n1', 2);
    cluster.network.partition([[id('n1')], [id('n2')]]);
    if (!proposeOwnRemoval(cluster, 'n1')) return;
    // CheckQuorum: cut off from n2, n1 steps down before n2 ever sees the removal.
    tickNode(cluster, 'n1', 2 * scriptedElectionTicks);
    cluster.network.heal();
    checkLiveness(cluster, scriptedElectionTicks);
  });
}

/**
 * The same configuration change, seen by a client: while n1's removal is uncommitted, n1's
 * latest membership has one voter, n2, and ReadIndex takes its shortcut for a one-voter cluster
 * (and counts n1's own acknowledgement, though n1 is no voter in it). Meanwhile n2, alone a
 * majority of {n2}, elects itself and commits: n1 serves a read from before that commit.
 */
export function selfRemovalReadScenario(): void {
  const cluster = scriptedCluster(2);
  runScript(cluster, () => {
    electLeader(cluster, 'n1');
    tickNode(cluster, 'n1', 2);
    cluster.network.cutOneWay(id('n2'), id('n1'));
    if (!proposeOwnRemoval(cluster, 'n1')) return;
    deliverAll(cluster);
    for (let count = 0; count < 100 && cluster.node(id('n2')).status().role !== 'leader'; count++)
      tickNode(cluster, 'n2');
    propose(cluster, 'n2', 'u1');
    deliverAll(cluster);
    cluster.readIndex(cluster.node(id('n1')), true);
    deliverAll(cluster);
  });
}

/** False when the core refuses (which is one acceptable fix). */
function proposeOwnRemoval(cluster: SimCluster, name: string): boolean {
  const leader = cluster.node(id(name));
  cluster.begin(`membership ${name} remove ${name}`);
  const result = leader.proposeMembership({ type: 'remove', node: leader.id });
  cluster.note(result.ok ? `-> ${result.index}/${result.term}` : `-> ${result.reason}`);
  cluster.settle(leader, true);
  return result.ok;
}
