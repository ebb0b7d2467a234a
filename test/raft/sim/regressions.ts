// The smallest reproductions of the core bugs the random runs found, as scripted scenarios.
// Each throws (a SimulationFailure with the trace) when the bug is present.
import type { Message } from '../../../src/raft/types.ts';
import { checkLiveness } from './run.ts';
import { addLearner, deliverAll, electLeader, id, propose, runScript, scriptedCluster, scriptedElectionTicks, tickNode } from './script.ts';

/**
 * Found by seed 3. A follower in the replicate state whose whole in-flight window was lost
 * (here: one append carrying two entries, window of one message) must still catch up: the
 * leader frees a window slot when the follower answers a heartbeat, then probes again.
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
 * Found by seed 1437. ReadIndex (§6.4) needs a majority of voters to confirm the leadership;
 * a learner's heartbeat answer must not count. Here the old leader n1, cut off with the learner
 * n4, answers a read at an index that the new leader n2 has already passed.
 */
export function learnerReadScenario(): void {
  const cluster = scriptedCluster(3);
  runScript(cluster, () => {
    electLeader(cluster, 'n1');
    const learner = addLearner(cluster, 'n1');
    tickNode(cluster, 'n1', 3);
    cluster.network.partition([[id('n1'), learner], [id('n2'), id('n3')]]);
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
 * a newer one from the leader but before the next Ready: snapshotTaken() must then ignore the
 * older snapshot, not assert, and must not let storage drop entries no durable snapshot covers.
 */
export function backgroundSnapshotScenario(): void {
  const cluster = scriptedCluster(3, { snapshotThresholdEntries: 5, compactionTrailingEntries: 0, snapshotChunkBytes: 64 });
  runScript(cluster, () => {
    const follower = cluster.node(id('n3'));
    follower.setSnapshotDelay(Number.MAX_SAFE_INTEGER);
    electLeader(cluster, 'n1');
    for (let number = 1; number <= 6; number++) {
      propose(cluster, 'n1', `u${number}`);
      deliverAll(cluster);
    }
    tickNode(cluster, 'n1', 2);
    // n3 has serialised a snapshot of its own; its writer is still busy. n3 is cut off while
    // the others move on and compact, so it will need the leader's snapshot.
    cluster.network.partition([[id('n1'), id('n2')], [id('n3')]]);
    for (let number = 7; number <= 20; number++) {
      propose(cluster, 'n1', `u${number}`);
      deliverAll(cluster);
    }
    cluster.network.heal();
    // n3's driver batches: the Ready after the last chunk (which restores the leader's snapshot)
    // is not processed before the writer finishes.
    let restored = false;
    const lastChunkToFollower = (message: Message): boolean =>
      message.type === 'snapshot-chunk' && message.to === follower.id && message.offset + message.data.byteLength === message.totalBytes;
    for (let count = 0; count < 1_000 && !restored; count++) {
      if (!cluster.deliver((_node, message) => !(restored = lastChunkToFollower(message)))) cluster.tick(cluster.node(id('n1')), true);
    }
    if (!restored) throw new Error('script: the leader never sent n3 its snapshot');
    cluster.begin('n3: the background snapshot writer finishes');
    follower.finishPendingSnapshot();
    cluster.settle(follower, true);
    checkLiveness(cluster, scriptedElectionTicks);
  });
}
