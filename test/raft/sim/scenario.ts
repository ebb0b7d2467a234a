// What happens to a simulated cluster: the plan drawn from a seed (cluster size, core tuning,
// fault levels, which nemeses are on), and one random action per step — tick a node, deliver a
// message, or, more rarely, a client proposal, a read, a crash, a restart, a partition, a heal,
// a leadership transfer or a membership change. Everything is drawn from the seed's generator.
import type { CoreConfig } from '../../../src/raft/config.ts';
import { members } from '../../../src/raft/membership.ts';
import { SeededRandom } from '../../../src/raft/random.ts';
import type { MembershipChange } from '../../../src/raft/types.ts';
import { nodeAddress, type SimCluster } from './cluster.ts';
import { type NetworkFaults, quietNetwork } from './network.ts';
import { type CrashPoint, crashPoints, type DiskCrash, intactDisk, type SimNode } from './node.ts';
import { stampedPayload } from './state-machine.ts';

export interface SimOptions {
  /** Cluster size; by default drawn from the seed. */
  readonly nodes?: 3 | 5;
  /** Random steps before the final quiet phase. */
  readonly steps?: number;
  /** Events kept for a failure's trace. */
  readonly traceEvents?: number;
  /** A full (from scratch) comparison of every log every this many steps, besides the incremental checks. */
  readonly fullCheckEvery?: number;
  /** Disk faults at crashes; by default drawn from the seed (half the plans). */
  readonly diskFaults?: boolean;
  /** A broken disk whose crashes lose fsynced entries: only to prove the checkers catch one. */
  readonly lyingFsync?: boolean;
  /** Asynchronous storage writes (the real driver's mode); by default drawn from the seed (half the plans). */
  readonly asyncWrites?: boolean;
  /** Followers campaign at electionTicks of a leader's silence (the masters' mode); by default drawn from the seed. */
  readonly preVoteAtElectionTicks?: boolean;
  /** Leaders' liveness beacons (src/raft/beacon.ts); by default drawn from the seed (half the plans). */
  readonly beacon?: boolean;
}

export const defaultSteps = 3_000;
export const defaultFullCheckEvery = 10;
/** Clusters shrink below this many voters only in plans with `smallClusters` (down to one voter). */
export const minimumVoters = 3;
/** A snapshot delay that no count of inputs ends: only a "writer finishes" step hands it over. */
export const slowSnapshotWriter = Number.POSITIVE_INFINITY;

export interface SimPlan {
  readonly seed: number;
  readonly nodeCount: number;
  readonly steps: number;
  readonly fullCheckEvery: number;
  readonly tuning: Partial<CoreConfig> & { readonly electionTicks: number };
  readonly faults: NetworkFaults;
  /** When true, crashes may take down a majority of voters (liveness is then not expected until the end). */
  readonly allowMajorityDown: boolean;
  readonly membershipChanges: boolean;
  /** Removals may take the cluster down to two voters, or one (quorum edge cases). */
  readonly smallClusters: boolean;
  /** Chance that the driver drains a node's Ready right after an input (else it batches). */
  readonly processReadyProbability: number;
  /**
   * 'free': each tick step ticks a random node (weighted by `clockRates`): clocks drift without
   * bound. 'lockstep': every live node ticks once per round, in a shuffled order: clocks drift by
   * at most one tick, the bound lease reads rely on (§6.4.1), so only then is readMode 'lease' drawn.
   */
  readonly clock: 'free' | 'lockstep';
  /** Relative clock rates in the free clock: node n<k> ticks `clockRates[k-1]` times as often as a rate-1 node. */
  readonly clockRates: readonly number[];
  /** Snapshots reach the core up to this many inputs after they are serialised (or only when the writer finishes). */
  readonly maxSnapshotDelayInputs: number;
  /** Crashes may tear the write in progress and lose the unsynced tail (storage.ts, "Disk faults"). */
  readonly diskFaults: boolean;
  /** Crashes lose fsynced entries too: a broken disk the checkers must catch. */
  readonly lyingFsync: boolean;
  /**
   * null: each Ready is written before advance() (synchronous driver). A number: writes are
   * asynchronous (tuning.asyncStorageWrites) and each completes up to this many inputs later.
   */
  readonly maxWriteDelayInputs: number | null;
  /** Leaders' beacons reach followers (beaconSomeone), and the core's beacon timing is on. */
  readonly beacon: boolean;
}

export function planFor(seed: number, options: SimOptions = {}): SimPlan {
  const random = new SeededRandom(mixSeed(seed, 0x9a11));
  // Drawn even when the size is given, so --nodes changes the size and nothing else of the plan.
  const drawnNodeCount = random.pick([3, 5]);
  const nodeCount = options.nodes ?? drawnNodeCount;
  const snapshotThresholdEntries = 20 + random.nextInt(31);
  const tuning = {
    electionTicks: 10,
    heartbeatTicks: random.pick([1, 2, 3]),
    checkQuorum: random.chance(0.85),
    snapshotThresholdEntries,
    // Not drawn, so every seed's plan stays what it was: half the seeds stagger their snapshots.
    staggerSnapshots: snapshotThresholdEntries % 2 === 0,
    snapshotChunkBytes: random.pick([64, 64, 128, 256]),
    compactionTrailingEntries: random.pick([0, 2, 5, 10]),
    maxInflightMessages: random.pick([1, 2, 4, 16]),
    maxAppendBytes: random.pick([16, 64, 256, 4096]),
    promoteLagEntries: random.pick([2, 5, 20]),
    maxApplyBytes: random.pick([8, 64, 1024]),
    maxPendingReads: random.pick([2, 8, 64]),
    maxUncommittedBytes: random.pick([256, 4096, 1 << 20]),
  };
  const faults: NetworkFaults = {
    dropProbability: random.pick([0, 0.01, 0.05, 0.1]),
    duplicateProbability: random.pick([0, 0.02, 0.05]),
    reorderProbability: random.pick([0, 0.1, 0.3]),
    maxDelayTicks: random.pick([0, nodeCount, 3 * nodeCount]),
    longDelayProbability: random.pick([0, 0, 0.002, 0.01]),
    longDelayTicks: 100 * nodeCount,
  };
  const plan = {
    seed,
    nodeCount,
    tuning,
    faults,
    steps: options.steps ?? defaultSteps,
    fullCheckEvery: options.fullCheckEvery ?? defaultFullCheckEvery,
    allowMajorityDown: random.chance(0.2),
    membershipChanges: random.chance(0.6),
    processReadyProbability: random.pick([1, 0.9, 0.6, 0.6]),
    maxSnapshotDelayInputs: random.pick([0, 3, 20, slowSnapshotWriter, slowSnapshotWriter]),
    clockRates: random.chance(0.5) ? [1] : Array.from({ length: nodeCount + 8 }, () => random.pick([0.5, 1, 1, 2, 3])),
  };
  const timing = clockAndReads(random, tuning);
  const smallClusters = random.chance(0.25);
  // Its own stream, so the plans of seeds drawn before it existed stay the same: the LAN profile's
  // narrow jitter (12 + 0..2 ticks) makes followers time out together far more often.
  const jitter = new SeededRandom(mixSeed(seed, 0x71e7)).pick([10, 10, 3, 2]);
  // Its own stream again: half the plans campaign at electionTicks of a leader's silence, as masters do.
  const preVoteAtElectionTicks = options.preVoteAtElectionTicks ?? new SeededRandom(mixSeed(seed, 0xe1ec)).chance(0.5);
  // Its own stream too; a plan without disk faults draws nothing more than before they existed.
  const diskFaults = options.diskFaults ?? new SeededRandom(mixSeed(seed, 0xd15c)).chance(0.5);
  // Its own stream as well: plans with synchronous writes are those of seeds drawn before.
  const writes = new SeededRandom(mixSeed(seed, 0xa5c1));
  const asyncWrites = options.asyncWrites ?? writes.chance(0.5);
  const maxWriteDelayInputs = asyncWrites ? writes.pick([0, 1, 2, 5]) : null;
  // Its own stream as well: a plan without beacons draws nothing more than before they existed.
  const beacons = new SeededRandom(mixSeed(seed, 0xbeac));
  const beacon = options.beacon ?? beacons.chance(0.5);
  // A lease (§6.4.1) counts on electionTicks of stickiness: there the beacon only lengthens it.
  const beaconTuning = beacon
    ? {
        beaconElectionTicks:
          timing.tuning.readMode === 'lease' ? beacons.pick([10, 12]) : beacons.pick([4, 6, 8, 8, 10]),
        beaconBoundTicks: beacons.pick([20, 30, 60]),
      }
    : {};
  return {
    ...plan,
    ...timing,
    tuning: {
      ...timing.tuning,
      electionJitterTicks: jitter,
      preVoteAtElectionTicks,
      ...(asyncWrites ? { asyncStorageWrites: true } : {}),
      ...beaconTuning,
    },
    maxWriteDelayInputs,
    smallClusters,
    diskFaults,
    lyingFsync: options.lyingFsync ?? false,
    beacon,
  };
}

/** Drawn after the rest (as smallClusters is), so adding it left every earlier draw of a seed's plan as it was. */
function clockAndReads(random: SeededRandom, tuning: SimPlan['tuning']): Pick<SimPlan, 'clock' | 'tuning'> {
  const clock = random.chance(0.35) ? 'lockstep' : 'free';
  const lease = clock === 'lockstep' && tuning.checkQuorum === true && random.chance(0.7);
  return { clock, tuning: lease ? { ...tuning, readMode: 'lease' } : tuning };
}

// A seed mixed with a purpose, so the plan, the scenario and the network draw independent streams.
export function mixSeed(seed: number, purpose: number): number {
  return (Math.imul(seed ^ purpose, 0x85ebca6b) ^ (seed >>> 13)) >>> 0;
}

// ---------------------------------------------------------------------- the actions

type Action = (cluster: SimCluster, plan: SimPlan) => void;

interface WeightedAction {
  readonly weight: number;
  readonly run: Action;
}

/** Runs one random step. */
export function randomStep(cluster: SimCluster, plan: SimPlan): void {
  const random = cluster.random;
  const actions = availableActions(cluster, plan);
  let total = 0;
  for (const action of actions) total += action.weight;
  let draw = random.next() * total;
  for (const action of actions) {
    draw -= action.weight;
    if (draw < 0) {
      action.run(cluster, plan);
      return;
    }
  }
  actions[actions.length - 1]!.run(cluster, plan);
}

function availableActions(cluster: SimCluster, plan: SimPlan): WeightedAction[] {
  const actions: WeightedAction[] = [{ weight: 30, run: tickSomeone }];
  const inFlight = cluster.network.inFlightCount();
  if (inFlight > 0) actions.push({ weight: 20 + 4 * Math.min(inFlight, 40), run: deliverOne });
  if (cluster.upNodes().some((node) => node.hasReady())) actions.push({ weight: 5, run: flushSomeone });
  const writing = cluster.upNodes().filter((node) => node.hasPendingSnapshot());
  // The interesting moment for a writer to finish is while its node has a Ready pending.
  if (writing.length > 0)
    actions.push({ weight: writing.some((node) => node.hasReady()) ? 4 : 0.3, run: finishSnapshotWriter });
  if (cluster.upNodes().some((node) => node.hasWritesInFlight())) actions.push({ weight: 8, run: completeWrites });
  actions.push({ weight: 10, run: proposeSomething }, { weight: 1.5, run: readSomewhere });
  actions.push({ weight: 0.4, run: crashSomeone }, { weight: 0.3, run: transferLeadership });
  actions.push({ weight: 0.5, run: dropConnection });
  if (cluster.downNodes().length > 0) actions.push({ weight: 0.5, run: restartSomeone });
  actions.push(cluster.network.isPartitioned() ? { weight: 0.4, run: heal } : { weight: 0.3, run: partition });
  if (plan.membershipChanges) actions.push({ weight: 1, run: changeMembership });
  actions.push({ weight: 0.1, run: toggleFaults });
  if (plan.beacon) actions.push({ weight: 12, run: beaconSomeone });
  return actions;
}

function processNow(cluster: SimCluster, plan: SimPlan): boolean {
  return plan.processReadyProbability >= 1 || cluster.random.chance(plan.processReadyProbability);
}

const tickSomeone: Action = (cluster, plan) => {
  const up = cluster.upNodes();
  if (up.length === 0) {
    cluster.begin('tick (everyone is down)');
    cluster.network.tick();
    return;
  }
  const node = plan.clock === 'lockstep' ? nextInLockstep(cluster, up) : pickByClock(cluster, plan, up);
  cluster.tick(node, processNow(cluster, plan));
};

/** The next node of the current lockstep round; a new round (a fresh shuffle) when it is over. */
function nextInLockstep(cluster: SimCluster, up: readonly SimNode[]): SimNode {
  for (;;) {
    if (cluster.lockstepRound.length === 0)
      cluster.lockstepRound = shuffle(
        cluster.random,
        up.map((node) => node.id),
      );
    const node = cluster.nodes.get(cluster.lockstepRound.shift()!);
    if (node?.up) return node;
  }
}

/** Nodes with a fast clock tick more often: their timers fire early relative to the others'. */
function pickByClock(cluster: SimCluster, plan: SimPlan, up: readonly SimNode[]): SimNode {
  if (plan.clockRates.length === 1) return cluster.random.pick(up);
  const rate = (node: SimNode): number => plan.clockRates[(Number(node.id.slice(1)) - 1) % plan.clockRates.length]!;
  let draw = cluster.random.next() * up.reduce((total, node) => total + rate(node), 0);
  for (const node of up) {
    draw -= rate(node);
    if (draw < 0) return node;
  }
  return up[up.length - 1]!;
}

const deliverOne: Action = (cluster, plan) => {
  if (!cluster.deliver(() => processNow(cluster, plan))) tickSomeone(cluster, plan);
};

const flushSomeone: Action = (cluster) => {
  const pending = cluster.upNodes().filter((node) => node.hasReady());
  if (pending.length > 0) cluster.flush(cluster.random.pick(pending));
};

/** A background snapshot writer finishes, between two inputs of its node (maybe with a Ready pending). */
const finishSnapshotWriter: Action = (cluster) => {
  const writing = cluster.upNodes().filter((node) => node.hasPendingSnapshot());
  const busy = writing.filter((node) => node.hasReady());
  if (writing.length === 0) return;
  const node = cluster.random.pick(busy.length > 0 ? busy : writing);
  cluster.begin(`snapshot writer of ${node.id} finishes`);
  node.finishPendingSnapshot();
  cluster.settle(node, false);
};

/** A node's storage writer finishes some of its writes in flight (asynchronous writes), in order. */
const completeWrites: Action = (cluster, plan) => {
  const writing = cluster.upNodes().filter((node) => node.hasWritesInFlight());
  if (writing.length === 0) return;
  const node = cluster.random.pick(writing);
  const count = 1 + cluster.random.nextInt(3);
  cluster.begin(`writer of ${node.id} completes ${count}`);
  cluster.note(`(${node.completeWrites(count)} done)`);
  cluster.settle(node, processNow(cluster, plan));
};

/** A leader if some live node believes it is one, else anyone (to see the refusal). */
function proposalTarget(cluster: SimCluster): SimNode | null {
  const leaders = cluster.believedLeaders();
  if (leaders.length > 0) return cluster.random.pick(leaders);
  const up = cluster.upNodes();
  return up.length === 0 ? null : cluster.random.pick(up);
}

/** Clients come in bursts: several proposals may reach a leader before its next Ready. */
const proposeSomething: Action = (cluster, plan) => {
  const burst = cluster.random.chance(0.3) ? 2 + cluster.random.nextInt(4) : 1;
  for (let count = 0; count < burst; count++) proposeOne(cluster, plan);
};

function proposeOne(cluster: SimCluster, plan: SimPlan): void {
  const target = proposalTarget(cluster);
  if (target === null) return;
  const random = cluster.random;
  if (random.chance(0.4)) {
    cluster.proposePayload(target, cluster.freshPayload(), undefined, processNow(cluster, plan));
    return;
  }
  // A client sends its current request; until it has seen it applied it retries the same stamp,
  // possibly to another node (§6.3): the retry must not apply twice.
  const client = random.pick(cluster.clients);
  if (client.outstanding) {
    cluster.counters.retries++;
  } else {
    client.sequence++;
    client.outstanding = true;
  }
  const stamp = { client: client.id, sequence: client.sequence };
  cluster.proposePayload(target, stampedPayload(stamp), stamp, processNow(cluster, plan));
}

const readSomewhere: Action = (cluster, plan) => {
  const up = cluster.upNodes();
  if (up.length > 0) cluster.readIndex(cluster.random.pick(up), processNow(cluster, plan));
};

const crashSomeone: Action = (cluster, plan) => {
  const up = cluster.upNodes().filter((node) => !node.retired);
  if (up.length <= 1) return;
  // With disk faults, a write is torn only if one is in progress: prefer a node with a Ready pending.
  const writing = plan.diskFaults ? up.filter((node) => node.hasReady()) : [];
  const victim = cluster.random.pick(writing.length > 0 && cluster.random.chance(0.5) ? writing : up);
  const voters = cluster.latestMembership().voters;
  const downVoters = voters.filter((id) => !cluster.nodes.get(id)?.up).length + (voters.includes(victim.id) ? 1 : 0);
  const minority = Math.floor((voters.length - 1) / 2);
  if (!plan.allowMajorityDown && downVoters > minority) return;
  const tearing = plan.diskFaults && victim.hasReady() && cluster.random.chance(0.5);
  const point = tearing ? 'after-persist' : cluster.random.pick(crashPoints);
  const disk = plan.diskFaults ? drawDiskCrash(cluster.random, point) : intactDisk;
  cluster.crash(victim, point, plan.lyingFsync ? { ...disk, lyingFsyncEntries: 1 + cluster.random.nextInt(3) } : disk);
  // A dead process's sockets close: most survivors notice at once (the others later, or by
  // their election timeout, as when the close is lost behind a partition).
  for (const survivor of cluster.upNodes()) {
    if (cluster.random.chance(0.7)) cluster.disconnect(survivor, victim.id, processNow(cluster, plan));
  }
};

/**
 * A leader's beacon thread reaches one follower: the leader's process lives, whether or not its
 * Raft messages flow (a leader that only ticks rarely in the free clock is a stalled one). The
 * datagram crosses the network as messages do: lost to a cut link or a drop, except now and then
 * (a beacon that gets through where the Raft connection does not, or a forged one: the core's
 * bound must still end the wait).
 */
const beaconSomeone: Action = (cluster) => {
  const leaders = cluster.upNodes().filter((node) => node.status().role === 'leader');
  if (leaders.length === 0) return;
  const leader = cluster.random.pick(leaders);
  const followers = cluster.upNodes().filter((node) => node !== leader);
  if (followers.length === 0) return;
  const follower = cluster.random.pick(followers);
  const strayed = cluster.random.chance(0.05);
  if (
    !strayed &&
    (cluster.network.isCut(leader.id, follower.id) || cluster.random.chance(cluster.network.dropChance()))
  )
    return;
  cluster.beacon(follower, leader.id, leader.status().term);
};

/** A torn write needs a write in progress ('after-persist'); an unsynced tail can be lost at any crash. */
function drawDiskCrash(random: SeededRandom, point: CrashPoint): DiskCrash {
  const tornWrite =
    point === 'after-persist' && random.chance(0.7)
      ? { entriesKept: random.pick([0, 0, 1, 2, 5]), tearNext: random.chance(0.7) }
      : null;
  return { loseUnsyncedTail: random.chance(0.5), tornWrite };
}

/** A connection drops while both ends live (a proxy, a reset): the worst case for an eager PreVote. */
const dropConnection: Action = (cluster, plan) => {
  const up = cluster.upNodes();
  if (up.length < 2) return;
  const node = cluster.random.pick(up);
  const peer = cluster.random.pick([...cluster.nodes.keys()].filter((id) => id !== node.id));
  cluster.disconnect(node, peer, processNow(cluster, plan));
};

const restartSomeone: Action = (cluster) => {
  const down = cluster.downNodes();
  if (down.length === 0) return;
  const node = cluster.random.pick(down);
  node.setSnapshotDelay(cluster.snapshotDelay());
  cluster.restart(node);
};

const partition: Action = (cluster) => {
  const random = cluster.random;
  const ids = [...cluster.nodes.keys()];
  const kind = random.nextInt(4);
  cluster.counters.partitions++;
  if (kind === 0) {
    const shuffled = shuffle(random, ids);
    const cut = 1 + random.nextInt(shuffled.length - 1);
    const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
    cluster.begin(`partition ${groups.map((group) => group.join(',')).join(' | ')}`);
    cluster.network.partition(groups);
  } else if (kind === 1) {
    const leaders = cluster.believedLeaders();
    const isolated = leaders.length > 0 ? random.pick(leaders).id : random.pick(ids);
    cluster.begin(`isolate ${isolated}`);
    cluster.network.partition([[isolated], ids.filter((id) => id !== isolated)]);
  } else if (kind === 2) {
    const from = random.pick(ids);
    const to = random.pick(ids.filter((id) => id !== from));
    cluster.begin(`cut one way ${from}>${to}`);
    cluster.network.cutOneWay(from, to);
  } else {
    // A congested link, most often out of a leader: its messages arrive from the past.
    const leaders = cluster.believedLeaders();
    const from = leaders.length > 0 && random.chance(0.7) ? random.pick(leaders).id : random.pick(ids);
    const to = random.pick(ids.filter((id) => id !== from));
    const extraTicks = (5 + random.nextInt(40)) * cluster.settings.nodeCount;
    const bothWays = random.chance(0.5);
    cluster.begin(`slow link ${from}${bothWays ? '<' : ''}>${to} +${extraTicks}`);
    cluster.network.slowDown(from, to, extraTicks);
    if (bothWays) cluster.network.slowDown(to, from, extraTicks);
  }
};

const heal: Action = (cluster) => {
  cluster.begin('heal');
  cluster.network.heal();
};

const transferLeadership: Action = (cluster, plan) => {
  const leaders = cluster.believedLeaders();
  if (leaders.length === 0) return;
  const leader = cluster.random.pick(leaders);
  const voters = leader.status().membership.voters.filter((id) => id !== leader.id);
  if (voters.length === 0) return;
  const target = cluster.random.pick(voters);
  cluster.begin(`transfer ${leader.id} -> ${target}`);
  cluster.counters.transfers++;
  cluster.note(leader.transferLeadership(target) ? 'started' : 'refused');
  cluster.settle(leader, processNow(cluster, plan));
};

const changeMembership: Action = (cluster, plan) => {
  const leaders = cluster.believedLeaders();
  if (leaders.length === 0) return;
  const leader = cluster.random.pick(leaders);
  const change = pickMembershipChange(cluster, plan, leader);
  if (change === null) return;
  cluster.begin(`membership ${leader.id} ${change.type} ${change.node}`);
  const result = leader.proposeMembership(change);
  cluster.note(result.ok ? `-> ${result.index}/${result.term}` : `-> ${result.reason}`);
  if (result.ok) {
    cluster.counters.membershipChanges++;
    if (change.type === 'add-learner') cluster.createNode(change.node).start();
  }
  cluster.settle(leader, processNow(cluster, plan));
};

function pickMembershipChange(cluster: SimCluster, plan: SimPlan, leader: SimNode): MembershipChange | null {
  const membership = leader.status().membership;
  const options: (() => MembershipChange | null)[] = [];
  if (members(membership).length < plan.nodeCount + 2) {
    options.push(() => {
      const node = cluster.freshNodeId();
      return { type: 'add-learner', node, address: nodeAddress(node) };
    });
  }
  if (membership.learners.length > 0)
    options.push(() => ({ type: 'promote', node: cluster.random.pick(membership.learners) }));
  if (membership.voters.length > (plan.smallClusters ? 1 : minimumVoters)) {
    options.push(() => ({ type: 'remove', node: cluster.random.pick(membership.voters) }));
  }
  if (membership.learners.length > 0)
    options.push(() => ({ type: 'remove', node: cluster.random.pick(membership.learners) }));
  return options.length === 0 ? null : cluster.random.pick(options)();
}

const toggleFaults: Action = (cluster, plan) => {
  const calm = cluster.network.currentFaults() === quietNetwork;
  cluster.begin(calm ? 'network: faults on' : 'network: calm');
  cluster.network.setFaults(calm ? plan.faults : quietNetwork);
};

function shuffle<T>(random: SeededRandom, items: readonly T[]): T[] {
  const result = [...items];
  for (let position = result.length - 1; position > 0; position--) {
    const other = random.nextInt(position + 1);
    [result[position], result[other]] = [result[other]!, result[position]!];
  }
  return result;
}
