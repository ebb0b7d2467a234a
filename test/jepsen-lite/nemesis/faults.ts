// Each fault: choose its targets in the live cluster, break something, wait, heal. The wait is
// the fault's duration; healing happens in a finally, so a fault interrupted by an error still
// heals. What was done is returned for the report.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SeededRandom } from '../../../src/raft/random.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { Grudge } from '../net/faults.ts';
import { grudgeLinks } from '../net/faults.ts';
import { bridge, describeGrudge, isolate, majoritiesRing, majorityMinority } from './partitions.ts';
import type { FaultPlan } from './schedule.ts';

export interface FaultContext {
  readonly cluster: Cluster;
  readonly random: SeededRandom;
  /** Called when the fault is healed (before any settling wait), for the report's band. */
  readonly healed: () => void;
}

export interface FaultOutcome {
  readonly targets: readonly string[];
  readonly detail: string;
  /** False when the fault could not be applied (no leader to kill, a membership change refused). */
  readonly applied: boolean;
}

const leaderWaitMs = 5_000;
const membershipCallMs = 15_000;
const promotionWaitMs = 30_000;

export async function runFault(context: FaultContext, plan: FaultPlan, durationMs: number): Promise<FaultOutcome> {
  switch (plan.kind) {
    case 'kill-leader':
      return killNodes(context, await leaderOrNothing(context), durationMs, 'the leader');
    case 'kill':
      return killNodes(context, pickMembers(context, killCount(context, plan.count)), durationMs, `${plan.count}`);
    case 'pause':
      return pauseNode(
        context,
        plan.target === 'leader' ? await leaderOrNothing(context) : pickMembers(context, 1),
        durationMs,
      );
    case 'partition':
      return partition(context, plan, durationMs);
    case 'latency':
      return latency(context, plan, durationMs);
    case 'restart':
      return restartNode(
        context,
        plan.target === 'leader' ? await leaderOrNothing(context) : pickMembers(context, 1),
        durationMs,
      );
    case 'membership':
      return changeMembership(
        context,
        plan.target === 'leader' ? await leaderOrNothing(context) : pickMembers(context, 1),
        durationMs,
      );
  }
}

async function leaderOrNothing(context: FaultContext): Promise<string[]> {
  try {
    return [await context.cluster.waitForLeader(leaderWaitMs)];
  } catch {
    return [];
  }
}

function pickMembers(context: FaultContext, count: number): string[] {
  return shuffle(context.cluster.runningMembers(), context.random).slice(0, count);
}

function killCount(context: FaultContext, count: 'one' | 'minority' | 'majority'): number {
  const size = context.cluster.members().length;
  if (count === 'one') return 1;
  if (count === 'majority') return Math.floor(size / 2) + 1;
  return 1 + context.random.nextInt(Math.max(1, Math.floor((size - 1) / 2)));
}

export function shuffle<T>(items: readonly T[], random: SeededRandom): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = random.nextInt(index + 1);
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

const nothing = (why: string): FaultOutcome => ({ targets: [], detail: why, applied: false });

async function killNodes(
  context: FaultContext,
  targets: string[],
  durationMs: number,
  what: string,
): Promise<FaultOutcome> {
  if (targets.length === 0) return nothing(`no ${what} to kill`);
  try {
    await Promise.all(targets.map((id) => context.cluster.kill(id, 'SIGKILL')));
    await sleep(durationMs);
  } finally {
    for (const id of targets) context.cluster.restart(id);
    context.healed();
  }
  return { targets, detail: `SIGKILL ${targets.join(', ')}; restarted after ${durationMs} ms`, applied: true };
}

async function pauseNode(context: FaultContext, targets: string[], durationMs: number): Promise<FaultOutcome> {
  if (targets.length === 0) return nothing('no member to pause');
  try {
    for (const id of targets) context.cluster.pause(id);
    await sleep(durationMs);
  } finally {
    for (const id of targets) context.cluster.resume(id);
    context.healed();
  }
  return { targets, detail: `SIGSTOP ${targets.join(', ')}; SIGCONT after ${durationMs} ms`, applied: true };
}

async function partition(
  context: FaultContext,
  plan: Extract<FaultPlan, { kind: 'partition' }>,
  durationMs: number,
): Promise<FaultOutcome> {
  const members = [...context.cluster.members()];
  const shuffled = shuffle(members, context.random);
  let grudge: Grudge;
  switch (plan.shape) {
    case 'isolate-leader': {
      const [leader] = await leaderOrNothing(context);
      grudge = isolate(members, leader ?? shuffled[0]!);
      break;
    }
    case 'isolate-node':
      grudge = isolate(members, shuffled[0]!);
      break;
    case 'majority-minority':
      grudge = majorityMinority(shuffled);
      break;
    case 'majorities-ring':
      grudge = majoritiesRing(shuffled);
      break;
    case 'bridge':
      grudge = bridge(shuffled);
      break;
  }
  const { network } = context.cluster;
  try {
    network.faults.update(grudgeLinks(grudge).map((link) => ({ ...link, state: { mode: plan.style } })));
    await network.apply();
    await sleep(durationMs);
  } finally {
    network.faults.healAll();
    await network.apply();
    context.healed();
  }
  return { targets: members, detail: `${plan.shape} (${plan.style}): ${describeGrudge(grudge)}`, applied: true };
}

async function latency(
  context: FaultContext,
  plan: Extract<FaultPlan, { kind: 'latency' }>,
  durationMs: number,
): Promise<FaultOutcome> {
  const members = shuffle(context.cluster.members(), context.random);
  const zoneOf = new Map(members.map((id, position) => [id, plan.scope === 'all' ? position : position % 2]));
  const links: { from: string; to: string }[] = [];
  for (const from of members)
    for (const to of members) if (from !== to && zoneOf.get(from) !== zoneOf.get(to)) links.push({ from, to });
  const { network } = context.cluster;
  try {
    network.faults.update(
      links.map((link) => ({ ...link, state: { delayMs: plan.delayMs, jitterMs: plan.jitterMs } })),
    );
    await network.apply();
    await sleep(durationMs);
  } finally {
    network.faults.healAll();
    await network.apply();
    context.healed();
  }
  const zones =
    plan.scope === 'all'
      ? 'every link'
      : `zones ${members.filter((id) => zoneOf.get(id) === 0).join(' ')} | ${members.filter((id) => zoneOf.get(id) === 1).join(' ')}`;
  const style = network.latencyStyle === 'delay' ? '' : ' (as packet loss: this kernel has no netem)';
  return { targets: members, detail: `+${plan.delayMs} ms ±${plan.jitterMs} on ${zones}${style}`, applied: true };
}

async function restartNode(context: FaultContext, targets: string[], durationMs: number): Promise<FaultOutcome> {
  const [target] = targets;
  if (target === undefined) return nothing('no member to restart');
  const startedMs = performance.now();
  try {
    await context.cluster.kill(target, 'SIGTERM');
  } finally {
    context.cluster.restart(target);
    context.healed();
  }
  const stopMs = Math.round(performance.now() - startedMs);
  await sleep(Math.max(0, durationMs - stopMs));
  return { targets, detail: `SIGTERM ${target} (stopped in ${stopMs} ms), started again`, applied: true };
}

async function changeMembership(context: FaultContext, targets: string[], durationMs: number): Promise<FaultOutcome> {
  const [target] = targets;
  if (target === undefined) return nothing('no member to remove');
  const removal = await context.cluster.removeMaster(target, membershipCallMs);
  if (!removal.ok) {
    context.healed();
    return { targets, detail: `REMOVE_MASTER ${target} not done: ${removal.detail}`, applied: false };
  }
  try {
    await sleep(durationMs / 2);
    const addition = await context.cluster.addFreshMaster(promotionWaitMs);
    return {
      targets: [target, addition.id],
      detail: `REMOVE_MASTER ${target} (${removal.detail}); ADD_MASTER ${addition.id}: ${addition.detail}`,
      applied: true,
    };
  } finally {
    context.healed();
  }
}
