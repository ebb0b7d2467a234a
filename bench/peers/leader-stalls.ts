// Which election timers would have deposed a leader that only stalled (issue 19: the
// false-election rate). An election needs both followers of a 3-member cluster silent long enough:
// the one that campaigns for its timer, the one that grants for its stickiness lease
// (electionTicks). The silences metric sums the followers, so it cannot tell one follower's long
// silence (the other still heard the leader, or was itself held and counted few ticks) from a
// stall both saw. The masters log each silence of half the election timeout or more ("leader
// silence", src/raft/node.ts); this pairs the followers' lines by term and end time.
//
//   FLOTILLA_KEEP_TMP=1 npm run bench -- peers --systems flotilla --rounds 0 --kills 0 --failover= \
//     --clients 256 --false-elections 180
//   npx tsx bench/peers/leader-stalls.ts <kept data dir>/flotilla [electionTicks=10]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { printTable } from '../_report.ts';

export interface FollowerSilence {
  readonly endMs: number;
  readonly node: string;
  readonly term: number;
  readonly ticks: number;
  readonly silenceMs: number;
}

/** One leader stall: the silence each follower counted (0 for a follower that logged none). */
export interface Stall {
  readonly endMs: number;
  readonly term: number;
  /** By follower, largest first. */
  readonly ticks: readonly number[];
}

/** Followers hear a leader that resumes within a few ms of each other; further apart is another stall. */
const sameStallWindowMs = 150;

export function pairStalls(silences: readonly FollowerSilence[], followers: number): Stall[] {
  const sorted = [...silences].sort((a, b) => a.endMs - b.endMs);
  const stalls: { endMs: number; term: number; byNode: Map<string, number> }[] = [];
  for (const silence of sorted) {
    const open = stalls.find(
      (stall) =>
        stall.term === silence.term &&
        !stall.byNode.has(silence.node) &&
        silence.endMs - stall.endMs <= sameStallWindowMs,
    );
    if (open !== undefined) open.byNode.set(silence.node, silence.ticks);
    else stalls.push({ endMs: silence.endMs, term: silence.term, byNode: new Map([[silence.node, silence.ticks]]) });
  }
  return stalls.map((stall) => {
    const ticks = [...stall.byNode.values()];
    while (ticks.length < followers) ticks.push(0);
    return { endMs: stall.endMs, term: stall.term, ticks: ticks.sort((a, b) => b - a) };
  });
}

/**
 * The chance a stall became an election with followers that campaign after `timeoutTicks`
 * (fixed: [t, t + 1); randomized: drawn from [t, t + jitter)) and grant once out of a lease of
 * `electionTicks`: some follower's timer fires within its silence while the other is out of its lease.
 */
export function electionChance(stall: Stall, electionTicks: number, timeoutTicks: number, jitterTicks: number): number {
  const [first = 0, second = 0] = stall.ticks;
  const fires = (silence: number): number => Math.min(1, Math.max(0, (silence - timeoutTicks + 1) / jitterTicks));
  const grants = (silence: number): boolean => silence >= electionTicks;
  const firstWins = grants(second) ? fires(first) : 0;
  const secondWins = grants(first) ? fires(second) : 0;
  return 1 - (1 - firstWins) * (1 - secondWins);
}

function readSilences(directory: string): FollowerSilence[] {
  const found: FollowerSilence[] = [];
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.log'))) {
    for (const line of readFileSync(path.join(directory, file), 'utf8').split('\n')) {
      if (!line.includes('"msg":"leader silence"')) continue;
      const event = JSON.parse(line) as {
        time: string;
        node: string;
        term: number;
        silenceTicks: number;
        silenceMs: number;
      };
      found.push({
        endMs: Date.parse(event.time),
        node: event.node,
        term: event.term,
        ticks: event.silenceTicks,
        silenceMs: event.silenceMs,
      });
    }
  }
  return found;
}

function main(argv: string[]): void {
  const [directory, electionText = '10'] = argv;
  if (directory === undefined) throw new Error('usage: leader-stalls.ts <kept data dir of the system> [electionTicks]');
  const electionTicks = Number(electionText);
  const stalls = pairStalls(readSilences(directory), 2);
  const policies = [
    { name: `randomized ${electionTicks}-${2 * electionTicks - 1}`, timeout: electionTicks, jitter: electionTicks },
    ...[0, 1, 2, 3].map((extra) => ({
      name: `fixed ${electionTicks + extra}`,
      timeout: electionTicks + extra,
      jitter: 1,
    })),
  ];
  printTable(
    policies.map((policy) => ({
      timer: policy.name,
      'expected elections': stalls
        .reduce(
          (sum, stall) =>
            sum + electionChance(stall, Math.max(electionTicks, policy.timeout), policy.timeout, policy.jitter),
          0,
        )
        .toFixed(2),
    })),
  );
  const both = stalls.filter((stall) => stall.ticks[1]! > 0);
  process.stdout.write(
    `${stalls.length} stalls of at least ${Math.ceil(electionTicks / 2)} ticks, ${both.length} seen by both followers; ` +
      `ticks (both followers) of the longest: ${JSON.stringify(
        [...stalls]
          .sort((a, b) => b.ticks[1]! - a.ticks[1]! || b.ticks[0]! - a.ticks[0]!)
          .slice(0, 10)
          .map((stall) => stall.ticks),
      )}\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1])))
  main(process.argv.slice(2));
