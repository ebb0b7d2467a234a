// One simulation run: `runSeed(seed)` builds the cluster the seed's plan describes, runs the
// random steps (every one checked), then the final quiet phase — heal, restart everyone, no
// faults — and checks liveness: a leader within a bound, a final proposal committed and applied
// by every live member, all members agreeing on the same sequence. A failure throws a
// SimulationFailure whose message starts "seed S step N:" and which carries the trace.
import { isMember } from '../../../src/raft/membership.ts';
import { SeededRandom } from '../../../src/raft/random.ts';
import type { LogIndex } from '../../../src/raft/types.ts';
import { type ClusterCounters, SimCluster } from './cluster.ts';
import { type NetworkCounters, quietNetwork } from './network.ts';
import type { SimNode } from './node.ts';
import { mixSeed, planFor, randomStep, type SimOptions, type SimPlan } from './scenario.ts';
import { type SimRequest, stampedPayload, stampKey } from './state-machine.ts';
import { defaultTraceEvents } from './trace.ts';

export type { SimOptions };

/** Bounds of the final phase, in rounds (one round: every live node ticks once, then the network drains). */
export const leaderBoundElections = 10;
export const finalCommitBoundElections = 30;
export const agreementBoundRounds = 200;
export const maxDeliveriesPerRound = 50_000;

export class SimulationFailure extends Error {
  override name = 'SimulationFailure';
  constructor(
    readonly seed: number,
    readonly step: number,
    readonly reason: unknown,
    readonly trace: readonly string[],
  ) {
    super(
      `seed ${seed} step ${step}: ${reason instanceof Error ? `${reason.name === 'Error' ? '' : `${reason.name}: `}${reason.message}` : String(reason)}`,
    );
  }
}

export class LivenessFailure extends Error {
  override name = 'LivenessFailure';
}

export interface SeedResult {
  readonly seed: number;
  readonly nodeCount: number;
  readonly steps: number;
  readonly counters: ClusterCounters;
  readonly network: NetworkCounters;
  readonly maxTerm: number;
  readonly leaderTerms: number;
  readonly finalCommit: LogIndex;
  /** Torn last entries that restarts found by checksum and truncated, over every replica's disk. */
  readonly tornEntriesTruncated: number;
}

export function runSeed(seed: number, options: SimOptions = {}): SeedResult {
  const plan = planFor(seed, options);
  const cluster = new SimCluster(
    {
      seed,
      nodeCount: plan.nodeCount,
      tuning: plan.tuning,
      faults: plan.faults,
      maxSnapshotDelayInputs: plan.maxSnapshotDelayInputs,
      maxWriteDelayInputs: plan.maxWriteDelayInputs,
      traceEvents: options.traceEvents ?? defaultTraceEvents,
    },
    new SeededRandom(mixSeed(seed, 0x5ce0)),
    new SeededRandom(mixSeed(seed, 0x0e7)),
  );
  try {
    for (let count = 1; count <= plan.steps; count++) {
      randomStep(cluster, plan);
      if (count % plan.fullCheckEvery === 0) cluster.fullCheck();
    }
    const finalCommit = finalPhase(cluster, plan);
    const maxTerm = Math.max(...cluster.upNodes().map((node) => node.status().term));
    return {
      seed,
      nodeCount: plan.nodeCount,
      steps: cluster.step,
      counters: cluster.counters,
      network: cluster.network.counters,
      maxTerm,
      leaderTerms: cluster.checkers.leaderTerms(),
      finalCommit,
      tornEntriesTruncated: [...cluster.nodes.values()].reduce(
        (total, node) => total + node.disk.tornEntriesTruncated,
        0,
      ),
    };
  } catch (error) {
    throw new SimulationFailure(seed, cluster.step, error, [`plan ${describePlan(plan)}`, ...cluster.trace.lines()]);
  }
}

// ---------------------------------------------------------------------- the final phase

function finalPhase(cluster: SimCluster, plan: SimPlan): LogIndex {
  cluster.begin('final: heal, calm network, restart everyone');
  cluster.network.heal();
  cluster.network.setFaults(quietNetwork);
  for (const node of cluster.downNodes()) {
    node.setSnapshotDelay(0);
    cluster.restart(node);
  }
  for (const node of cluster.upNodes()) if (node.hasReady()) cluster.flush(node);
  return checkLiveness(cluster, plan.tuning.electionTicks);
}

/**
 * Liveness of a healed, quiet cluster: a leader within a bound of rounds, a final client request
 * applied by every live member, and all members converging on one state. Returns the final commit.
 */
export function checkLiveness(cluster: SimCluster, electionTicks: number): LogIndex {
  const leaderBound = leaderBoundElections * electionTicks;
  if (runRoundsUntil(cluster, leaderBound, () => currentLeader(cluster) !== null) === null) {
    throw new LivenessFailure(
      `liveness: no leader within ${leaderBound} rounds of a healed, quiet, fully restarted cluster (${describeMembers(cluster)})`,
    );
  }
  const finalStamp: SimRequest = { client: 'final', sequence: 1 };
  const commitBound = finalCommitBoundElections * electionTicks;
  let round = 0;
  const committed = runRoundsUntil(cluster, commitBound, () => {
    // The client retries its one request with the same stamp, to whoever leads now (§6.3).
    if (round++ % electionTicks === 0 && !cluster.checkers.stampApplied(stampKey(finalStamp)))
      proposeFinal(cluster, finalStamp);
    return finalAppliedEverywhere(cluster, finalStamp);
  });
  if (committed === null) {
    throw new LivenessFailure(
      `liveness: the final proposal was not applied by every live member within ${commitBound} rounds (${describeMembers(cluster)})`,
    );
  }
  retireNonMembers(cluster);
  const agreed = runRoundsUntil(cluster, agreementBoundRounds, () => membersAgree(cluster));
  if (agreed === null)
    throw new LivenessFailure(`liveness: members do not converge on one applied state (${describeMembers(cluster)})`);
  checkFinalStates(cluster);
  cluster.fullCheck();
  return agreed;
}

/** Runs rounds until `done` gives a value (returned) or the bound passes (null). */
function runRoundsUntil<T>(cluster: SimCluster, maxRounds: number, done: () => T | null | false): T | null {
  for (let round = 0; round <= maxRounds; round++) {
    const value = done();
    if (value !== null && value !== false) return value;
    runRound(cluster);
  }
  return null;
}

function runRound(cluster: SimCluster): void {
  for (const node of cluster.upNodes()) cluster.tick(node, true);
  let deliveries = 0;
  while (cluster.deliver(() => true)) {
    if (++deliveries > maxDeliveriesPerRound) {
      throw new LivenessFailure(
        `liveness: more than ${maxDeliveriesPerRound} messages in one quiet round (a message storm)`,
      );
    }
  }
}

/**
 * The live leader of the highest term, if no live member of its configuration is in a higher term.
 * (A removed replica may sit in a higher term forever; it is not the cluster's business.)
 */
function currentLeader(cluster: SimCluster): SimNode | null {
  let leader: SimNode | null = null;
  let leaderTerm = -1;
  for (const node of cluster.upNodes()) {
    const status = node.status();
    if (status.role === 'leader' && status.term > leaderTerm) {
      leader = node;
      leaderTerm = status.term;
    }
  }
  if (leader === null) return null;
  const membership = leader.status().membership;
  const newerMember = cluster.memberNodes(membership).some((node) => node.up && node.status().term > leaderTerm);
  return newerMember ? null : leader;
}

function proposeFinal(cluster: SimCluster, stamp: SimRequest): void {
  const leader = currentLeader(cluster);
  if (leader !== null) cluster.proposePayload(leader, stampedPayload(stamp), stamp);
}

/** The live members of the current leader's configuration, or null when there is no leader. */
function liveMembers(cluster: SimCluster): SimNode[] | null {
  const leader = currentLeader(cluster);
  if (leader === null) return null;
  return cluster.memberNodes(leader.status().membership).filter((node) => node.up);
}

function finalAppliedEverywhere(cluster: SimCluster, stamp: SimRequest): boolean {
  const live = liveMembers(cluster);
  return live?.every((node) => node.stateMachine.hasApplied(stampKey(stamp))) ?? false;
}

function retireNonMembers(cluster: SimCluster): void {
  const membership = currentLeader(cluster)!.status().membership;
  for (const node of cluster.nodes.values()) {
    if (isMember(membership, node.id) || node.retired) continue;
    if (node.up) cluster.crash(node, 'between-readies');
    node.retired = true;
  }
}

/** Every member applied everything the leader committed, and all have the same state. */
function membersAgree(cluster: SimCluster): LogIndex | false {
  const leader = currentLeader(cluster);
  if (leader === null) return false;
  const status = leader.status();
  const live = cluster.memberNodes(status.membership);
  if (live.some((node) => !node.up)) return false;
  const machines = live.map((node) => node.stateMachine);
  const reference = machines[0]!;
  const same = machines.every(
    (machine) => machine.appliedIndex === status.commit && machine.digest === reference.digest,
  );
  return same ? status.commit : false;
}

function checkFinalStates(cluster: SimCluster): void {
  const membership = currentLeader(cluster)!.status().membership;
  const nodes = cluster.memberNodes(membership);
  const reference = nodes[0]!.stateMachine.payloads.join(',');
  for (const node of nodes) {
    const payloads = node.stateMachine.payloads;
    if (payloads.join(',') !== reference) {
      throw new Error(`state machine safety: ${node.id} and ${nodes[0]!.id} end with different applied sequences`);
    }
    const stamped = payloads.filter((payload) => !payload.startsWith('u'));
    if (new Set(stamped).size !== stamped.length)
      throw new Error(`client exactly-once: ${node.id} ends with a stamped request applied twice`);
  }
  const finalPayloads = new Set(nodes[0]!.stateMachine.payloads);
  for (const client of cluster.clients) {
    for (let sequence = 1; sequence <= client.sequence; sequence++) {
      const key = stampKey({ client: client.id, sequence });
      if (cluster.checkers.stampApplied(key) && !finalPayloads.has(key)) {
        throw new Error(`client exactly-once: ${key} was applied during the run but is missing from the final state`);
      }
    }
  }
}

function describeMembers(cluster: SimCluster): string {
  return [...cluster.nodes.values()]
    .map((node) => {
      if (!node.up) return `${node.id} ${node.retired ? 'retired' : 'down'}`;
      const status = node.status();
      const progress = Object.entries(status.progress)
        .map(([id, entry]) => `${id}:${entry.state}/${entry.match}/${entry.next}`)
        .join(',');
      const membership = `voters ${status.membership.voters.join(',')} learners ${status.membership.learners.join(',') || '-'}`;
      return (
        `${node.id} ${status.role} t${status.term} last ${status.lastIndex} commit ${status.commit} applied ${status.applied} ` +
        `leader ${status.leader || '-'} ${membership}${progress === '' ? '' : ` progress ${progress}`}`
      );
    })
    .join('; ');
}

export function describePlan(plan: SimPlan): string {
  return JSON.stringify(plan, (_key, value: unknown) => (value === Number.POSITIVE_INFINITY ? 'unbounded' : value));
}
