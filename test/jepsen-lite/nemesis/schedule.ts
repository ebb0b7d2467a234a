// The seeded fault schedule: which faults, when, and for how long. Pure: the same seed, time
// and nemesis give the same schedule (targets that depend on the cluster — the leader — are
// chosen when the fault runs). Faults run one at a time; each heals before the next, and no
// fault runs in the quiet period at the end.
import { SeededRandom } from '../../../src/raft/random.ts';
import { type PartitionShape, partitionShapes } from './partitions.ts';

export const nemesisNames = [
  'none',
  'kill-leader',
  'kill',
  'pause',
  'partition',
  'latency',
  'restart',
  'membership',
  'all',
] as const;
export type NemesisName = (typeof nemesisNames)[number];
export type FaultKind = Exclude<NemesisName, 'none' | 'all'>;

export type FaultPlan =
  | { readonly kind: 'kill-leader' }
  /** How many random members to SIGKILL: one, a minority, or (rarely) a majority. */
  | { readonly kind: 'kill'; readonly count: 'one' | 'minority' | 'majority' }
  | { readonly kind: 'pause'; readonly target: 'leader' | 'random' }
  | { readonly kind: 'partition'; readonly shape: PartitionShape; readonly style: 'drop' | 'cut' }
  | { readonly kind: 'latency'; readonly delayMs: number; readonly jitterMs: number; readonly scope: 'all' | 'zones' }
  /** SIGTERM (a clean stop: the leader hands over first) and start again. */
  | { readonly kind: 'restart'; readonly target: 'leader' | 'random' }
  /** REMOVE_MASTER one member, then ADD_MASTER a fresh one. */
  | { readonly kind: 'membership'; readonly target: 'leader' | 'random' };

export interface ScheduledFault {
  /** Earliest start, in ms on the run clock. */
  readonly atMs: number;
  /** How long the fault lasts before it heals. */
  readonly durationMs: number;
  readonly plan: FaultPlan;
}

export interface ScheduleOptions {
  readonly nemesis: NemesisName;
  readonly seed: number;
  readonly timeMs: number;
  /** No fault may still be active in the last `quietMs`. */
  readonly quietMs: number;
}

const allKinds: readonly FaultKind[] = [
  'kill-leader',
  'kill',
  'pause',
  'partition',
  'latency',
  'restart',
  'membership',
];

export function planSchedule(options: ScheduleOptions): ScheduledFault[] {
  if (options.nemesis === 'none') return [];
  const random = new SeededRandom(options.seed ^ 0x6e656d);
  const short = options.timeMs <= 30_000;
  const [minimumMs, maximumMs] = short ? [2_000, 5_000] : [3_000, 10_000];
  const [gapMinimumMs, gapMaximumMs] = short ? [1_000, 2_500] : [1_500, 5_000];
  const endMs = options.timeMs - options.quietMs;
  const schedule: ScheduledFault[] = [];
  let atMs = Math.min(2_000, options.timeMs * 0.1);
  while (atMs + minimumMs <= endMs) {
    const kind = options.nemesis === 'all' ? random.pick(allKinds) : options.nemesis;
    const durationMs = Math.min(between(random, minimumMs, maximumMs), endMs - atMs);
    schedule.push({ atMs, durationMs, plan: planFault(kind, random) });
    atMs += durationMs + between(random, gapMinimumMs, gapMaximumMs);
  }
  return schedule;
}

function planFault(kind: FaultKind, random: SeededRandom): FaultPlan {
  switch (kind) {
    case 'kill-leader':
      return { kind };
    case 'kill':
      return { kind, count: random.chance(0.15) ? 'majority' : random.chance(0.5) ? 'minority' : 'one' };
    case 'pause':
      return { kind, target: random.chance(0.5) ? 'leader' : 'random' };
    case 'partition':
      return { kind, shape: random.pick(partitionShapes), style: random.chance(0.75) ? 'drop' : 'cut' };
    case 'latency':
      return {
        kind,
        delayMs: random.pick([50, 100, 200, 400]),
        jitterMs: random.pick([0, 20, 50]),
        scope: random.chance(0.5) ? 'all' : 'zones',
      };
    case 'restart':
      return { kind, target: random.chance(0.6) ? 'leader' : 'random' };
    case 'membership':
      return { kind, target: random.chance(0.3) ? 'leader' : 'random' };
  }
}

function between(random: SeededRandom, minimum: number, maximum: number): number {
  return Math.round(minimum + random.next() * (maximum - minimum));
}

export function describePlan(plan: FaultPlan): string {
  switch (plan.kind) {
    case 'kill-leader':
      return 'SIGKILL the leader';
    case 'kill':
      return `SIGKILL ${plan.count === 'one' ? 'one random member' : `a random ${plan.count}`}`;
    case 'pause':
      return `SIGSTOP ${plan.target === 'leader' ? 'the leader' : 'a random member'}`;
    case 'partition':
      return `partition: ${plan.shape} (${plan.style})`;
    case 'latency':
      return `latency +${plan.delayMs} ms ±${plan.jitterMs} (${plan.scope === 'all' ? 'every link' : 'between two zones'})`;
    case 'restart':
      return `SIGTERM and restart ${plan.target === 'leader' ? 'the leader' : 'a random member'}`;
    case 'membership':
      return `REMOVE_MASTER ${plan.target === 'leader' ? 'the leader' : 'a random member'}, ADD_MASTER a fresh one`;
  }
}
