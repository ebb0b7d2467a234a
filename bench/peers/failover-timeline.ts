// The timeline of each failover of a `bench peers` run, from the members' own logs: when the
// survivors' election timers fired (pre-candidate), when one became candidate and leader, set
// against the signal to the old leader and the first acknowledged write (issue 19).
//
//   FLOTILLA_KEEP_TMP=1 npm run bench -- peers ... 2> run.err
//   npx tsx bench/peers/failover-timeline.ts run.err <data dir>/flotilla [flotilla]
//
// run.err holds the bench's progress lines (`<system> freeze of member N at <ISO time>` and
// `<system> freeze i/n: first write after X ms`); <data dir> is the kept bench-peers-* directory.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { median, percentile, printTable, round } from '../_report.ts';

interface Failover {
  readonly signalledMs: number;
  readonly firstWriteMs: number;
}

interface RoleEvent {
  readonly timeMs: number;
  readonly node: string;
  readonly role: string;
}

/** Events further than this after a signal belong to the cluster's return, not to the failover. */
const windowMs = 5_000;

function failovers(progress: string, system: string): Failover[] {
  const found: Failover[] = [];
  let signalledMs: number | null = null;
  for (const line of progress.split('\n')) {
    const signal = line.match(new RegExp(`^\\s+${system} (?:kill|freeze) of member \\d at (\\S+)$`));
    if (signal !== null) signalledMs = Date.parse(signal[1]!);
    const write = line.match(new RegExp(`^\\s+${system} (?:kill|freeze) \\d+/\\d+: first write after (\\d+) ms$`));
    if (write !== null && signalledMs !== null) {
      found.push({ signalledMs, firstWriteMs: Number(write[1]) });
      signalledMs = null;
    }
  }
  return found;
}

function roleEvents(directory: string): RoleEvent[] {
  const events: RoleEvent[] = [];
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.log'))) {
    for (const line of readFileSync(path.join(directory, file), 'utf8').split('\n')) {
      if (!line.includes('"subsystem":"raft"') || !/"msg":"(now \w[\w-]*|became leader)"/.test(line)) continue;
      const event = JSON.parse(line) as { time: string; node: string; role: string };
      events.push({ timeMs: Date.parse(event.time), node: event.node, role: event.role });
    }
  }
  return events.sort((a, b) => a.timeMs - b.timeMs);
}

function firstAfter(events: readonly RoleEvent[], role: string, fromMs: number): number | null {
  const event = events.find((candidate) => candidate.role === role && candidate.timeMs >= fromMs);
  return event === undefined || event.timeMs > fromMs + windowMs ? null : event.timeMs - fromMs;
}

function main(argv: string[]): void {
  const [progressFile, directory, system = 'flotilla'] = argv;
  if (progressFile === undefined || directory === undefined)
    throw new Error('usage: failover-timeline.ts <bench stderr> <kept data dir of the system> [system]');
  const events = roleEvents(directory);
  const rows = failovers(readFileSync(progressFile, 'utf8'), system).map((failover, index) => {
    const preVote = firstAfter(events, 'pre-candidate', failover.signalledMs);
    const candidate = firstAfter(events, 'candidate', failover.signalledMs);
    const leader = firstAfter(events, 'leader', failover.signalledMs);
    const preCandidates = events.filter(
      (event) =>
        event.role === 'pre-candidate' &&
        event.timeMs >= failover.signalledMs &&
        event.timeMs <= failover.signalledMs + (leader ?? windowMs),
    ).length;
    return {
      run: index + 1,
      pre_vote_ms: preVote ?? '-',
      candidate_ms: candidate ?? '-',
      leader_ms: leader ?? '-',
      first_write_ms: failover.firstWriteMs,
      write_after_leader_ms: leader === null ? '-' : failover.firstWriteMs - leader,
      pre_candidacies: preCandidates,
    };
  });
  printTable(rows);
  const column = (key: 'pre_vote_ms' | 'leader_ms' | 'first_write_ms' | 'write_after_leader_ms'): string => {
    const values = rows.map((row) => row[key]).filter((value): value is number => typeof value === 'number');
    if (values.length === 0) return `${key}: -`;
    return `${key}: p50 ${round(median(values), 0)}, p99 ${round(percentile(values, 0.99), 0)}`;
  };
  process.stdout.write(
    `${[column('pre_vote_ms'), column('leader_ms'), column('first_write_ms'), column('write_after_leader_ms')].join('; ')}\n`,
  );
}

main(process.argv.slice(2));
