// Scripted scenarios: the simulator's world driven step by step by a test instead of by the
// seed, for the smallest reproduction of a bug the random runs found. Every step still goes
// through SimCluster, so the same checkers watch it and the same trace explains a failure.
import type { CoreConfig } from '../../../src/raft/config.ts';
import { SeededRandom } from '../../../src/raft/random.ts';
import { nodeId, type NodeId } from '../../../src/raft/types.ts';
import { nodeAddress, SimCluster } from './cluster.ts';
import { quietNetwork } from './network.ts';
import { SimulationFailure } from './run.ts';

export const scriptedElectionTicks = 10;
const maxDeliveries = 10_000;
const maxElectionTicks = 100;

/** A quiet cluster n1..nN; nothing is random except the cores' election jitter. */
export function scriptedCluster(nodeCount: number, tuning: Partial<CoreConfig> = {}, seed = 1): SimCluster {
  return new SimCluster(
    {
      seed,
      nodeCount,
      tuning: { electionTicks: scriptedElectionTicks, heartbeatTicks: 1, ...tuning },
      faults: quietNetwork,
      maxSnapshotDelayInputs: 0,
      traceEvents: 200,
    },
    new SeededRandom(seed),
    new SeededRandom(seed + 1),
  );
}

/** Runs `body`; a failure comes back as a SimulationFailure naming the step, with the trace. */
export function runScript(cluster: SimCluster, body: (cluster: SimCluster) => void): void {
  try {
    body(cluster);
  } catch (error) {
    throw new SimulationFailure(cluster.settings.seed, cluster.step, error, cluster.trace.lines());
  }
}

export const id = (name: string): NodeId => nodeId(name);

export function deliverAll(cluster: SimCluster): void {
  for (let count = 0; cluster.deliver(() => true); count++) {
    if (count > maxDeliveries) throw new Error(`script: messages still flowing after ${maxDeliveries} deliveries`);
  }
}

export function tickNode(cluster: SimCluster, name: string, times = 1): void {
  for (let count = 0; count < times; count++) {
    cluster.tick(cluster.node(id(name)), true);
    deliverAll(cluster);
  }
}

/** Ticks `name` alone (nobody else's timer runs) until it leads. */
export function electLeader(cluster: SimCluster, name: string): void {
  const node = cluster.node(id(name));
  for (let count = 0; count < maxElectionTicks; count++) {
    if (node.status().role === 'leader') return;
    tickNode(cluster, name);
  }
  throw new Error(`script: ${name} did not become leader within ${maxElectionTicks} ticks`);
}

export function propose(cluster: SimCluster, name: string, payload: string, process = true): void {
  const result = cluster.proposePayload(cluster.node(id(name)), payload, undefined, process);
  if (!result.ok) throw new Error(`script: ${name} refused ${payload}: ${result.reason}`);
}

/** The leader `leaderName` adds a fresh learner, which starts empty and joins. */
export function addLearner(cluster: SimCluster, leaderName: string): NodeId {
  const leader = cluster.node(id(leaderName));
  const learner = cluster.freshNodeId();
  cluster.begin(`membership ${leaderName} add-learner ${learner}`);
  const result = leader.proposeMembership({ type: 'add-learner', node: learner, address: nodeAddress(learner) });
  if (!result.ok) throw new Error(`script: ${leaderName} refused to add ${learner}: ${result.reason}`);
  cluster.createNode(learner).start();
  cluster.settle(leader, true);
  deliverAll(cluster);
  return learner;
}
