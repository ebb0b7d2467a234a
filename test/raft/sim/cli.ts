// `npm run sim -- --seeds N [--seed S] [--start S0] [--trace] [--nodes 3|5] [--steps N] [--full-check-every N] [--disk-faults on|off]
//   [--async-writes on|off] [--prevote-at-election-ticks on|off] [--beacon on|off]`
//
// Runs the deterministic Raft simulation over a range of seeds (or one seed), prints a progress
// line while it runs, every failing seed with its message (and, with --trace, the events that led
// to it), a summary, and last the line `flotilla-test: N passed, N failed, 0 skipped` that
// scripts/test.ts counts. Exits 1 when any seed failed. A failing seed replays exactly:
//   npm run sim -- --seed 1437 --trace
import { Command, InvalidArgumentError } from 'commander';
import { printTestCounts } from '../../support/counts.ts';
import { runSeed, type SeedResult, SimulationFailure } from './run.ts';
import { defaultFullCheckEvery, defaultSteps } from './scenario.ts';
import { defaultTraceEvents } from './trace.ts';

interface CliOptions {
  readonly seeds: number;
  readonly start: number;
  readonly seed?: number;
  readonly trace: boolean;
  readonly traceEvents: number;
  readonly nodes?: 3 | 5;
  readonly steps: number;
  readonly fullCheckEvery: number;
  readonly diskFaults?: boolean;
  readonly asyncWrites?: boolean;
  readonly prevoteAtElectionTicks?: boolean;
  readonly beacon?: boolean;
}

const maxSeeds = 10_000_000;
const progressEveryMs = 1_000;

function wholeNumber(name: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
    }
    return value;
  };
}

function parseOptions(argv: readonly string[]): CliOptions {
  const program = new Command('sim')
    .description('deterministic simulation of the Raft core: faults, crashes, partitions, membership changes')
    .option('--seeds <count>', 'how many seeds to run', wholeNumber('seeds', 1, maxSeeds), 100)
    .option('--start <seed>', 'first seed of the range', wholeNumber('start', 0, 2 ** 31), 1)
    .option('--seed <seed>', 'run this one seed only', wholeNumber('seed', 0, 2 ** 31))
    .option('--trace', 'print the last events before each failure', false)
    .option(
      '--trace-events <count>',
      'events kept for a trace',
      wholeNumber('trace-events', 1, 1_000_000),
      defaultTraceEvents,
    )
    .option('--nodes <count>', 'cluster size (3 or 5); by default drawn from each seed', (text: string) => {
      if (text !== '3' && text !== '5') throw new InvalidArgumentError(`nodes must be 3 or 5, got "${text}"`);
      return Number(text) as 3 | 5;
    })
    .option(
      '--steps <count>',
      'random steps per seed before the final quiet phase',
      wholeNumber('steps', 1, 10_000_000),
      defaultSteps,
    )
    .option(
      '--full-check-every <steps>',
      'compare every log from scratch every this many steps (1: every step)',
      wholeNumber('full-check-every', 1, 10_000_000),
      defaultFullCheckEvery,
    )
    .option(
      '--disk-faults <on|off>',
      'torn writes and lost unsynced tails at every crash (on) or none (off); by default drawn from each seed',
      (text: string) => {
        if (text !== 'on' && text !== 'off')
          throw new InvalidArgumentError(`disk-faults must be on or off, got "${text}"`);
        return text === 'on';
      },
    )
    .option(
      '--async-writes <on|off>',
      "writes complete after advance(), later, as the real driver's worker thread (on), or before it (off); by default drawn from each seed",
      (text: string) => {
        if (text !== 'on' && text !== 'off')
          throw new InvalidArgumentError(`async-writes must be on or off, got "${text}"`);
        return text === 'on';
      },
    )
    .option(
      '--prevote-at-election-ticks <on|off>',
      'followers campaign at electionTicks of silence (on, as masters do) or after their randomized timeout (off); by default drawn from each seed',
      (text: string) => {
        if (text !== 'on' && text !== 'off')
          throw new InvalidArgumentError(`prevote-at-election-ticks must be on or off, got "${text}"`);
        return text === 'on';
      },
    )
    .option(
      '--beacon <on|off>',
      "leaders' liveness beacons reach their followers (src/raft/beacon.ts) and followers time a beaconing leader's silence by beaconElectionTicks; by default drawn from each seed",
      (text: string) => {
        if (text !== 'on' && text !== 'off') throw new InvalidArgumentError(`beacon must be on or off, got "${text}"`);
        return text === 'on';
      },
    )
    .parse([...argv]);
  return program.opts<CliOptions>();
}

interface Failure {
  readonly seed: number;
  readonly message: string;
  readonly trace: readonly string[];
}

class Progress {
  private lastPrint = 0;
  constructor(
    private readonly total: number,
    private readonly startedAt: number,
  ) {}

  update(done: number, failed: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastPrint < progressEveryMs) return;
    this.lastPrint = now;
    const line = `sim: ${done}/${this.total} seeds, ${failed} failed, ${formatRate(done, now - this.startedAt)} seeds/s`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}\u001b[K${force ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  }
}

function formatRate(seeds: number, elapsedMs: number): string {
  return elapsedMs <= 0 ? '-' : (seeds / (elapsedMs / 1000)).toFixed(1);
}

function main(): void {
  const options = parseOptions(process.argv);
  const seeds =
    options.seed !== undefined
      ? [options.seed]
      : Array.from({ length: options.seeds }, (_, offset) => options.start + offset);
  const startedAt = Date.now();
  const progress = new Progress(seeds.length, startedAt);
  const failures: Failure[] = [];
  const results: SeedResult[] = [];
  seeds.forEach((seed, position) => {
    try {
      results.push(
        runSeed(seed, {
          nodes: options.nodes,
          steps: options.steps,
          traceEvents: options.traceEvents,
          fullCheckEvery: options.fullCheckEvery,
          diskFaults: options.diskFaults,
          asyncWrites: options.asyncWrites,
          preVoteAtElectionTicks: options.prevoteAtElectionTicks,
          beacon: options.beacon,
        }),
      );
    } catch (error) {
      const failure =
        error instanceof SimulationFailure
          ? { seed, message: error.message, trace: error.trace }
          : { seed, message: `seed ${seed}: simulator error: ${(error as Error).stack ?? String(error)}`, trace: [] };
      failures.push(failure);
      if (process.stderr.isTTY) process.stderr.write('\n');
      process.stdout.write(`FAIL ${failure.message}\n`);
      if (options.trace) process.stdout.write(`${failure.trace.map((line) => `  ${line}`).join('\n')}\n`);
    }
    progress.update(position + 1, failures.length, position + 1 === seeds.length);
  });
  printSummary(seeds, results, failures, Date.now() - startedAt);
  printTestCounts({ passed: seeds.length - failures.length, failed: failures.length, skipped: 0 });
  process.exitCode = failures.length > 0 ? 1 : 0;
}

function printSummary(
  seeds: readonly number[],
  results: readonly SeedResult[],
  failures: readonly Failure[],
  elapsedMs: number,
): void {
  const sum = (pick: (result: SeedResult) => number): number =>
    results.reduce((total, result) => total + pick(result), 0);
  const first = seeds[0];
  const last = seeds[seeds.length - 1];
  process.stdout.write(
    `sim: seeds ${first}..${last}: ${results.length} passed, ${failures.length} failed in ${(elapsedMs / 1000).toFixed(1)} s ` +
      `(${formatRate(seeds.length, elapsedMs)} seeds/s)\n` +
      `sim: ${sum((result) => result.steps)} steps, ${sum((result) => result.leaderTerms)} leader terms, ` +
      `${sum((result) => result.counters.proposalsAccepted)} proposals accepted, ${sum((result) => result.counters.crashes)} crashes, ` +
      `${sum((result) => result.counters.tornWrites)} torn writes (${sum((result) => result.tornEntriesTruncated)} torn entries truncated), ` +
      `${sum((result) => result.counters.unsyncedTailsLost)} unsynced tails lost, ` +
      `${sum((result) => result.counters.disconnects)} disconnects, ` +
      `${sum((result) => result.counters.partitions)} partitions, ${sum((result) => result.counters.membershipChanges)} membership changes, ` +
      `${sum((result) => result.counters.snapshotsTaken)} snapshots taken, ${sum((result) => result.counters.snapshotsInstalled)} installed, ` +
      `${sum((result) => result.counters.readsAnswered)} reads answered\n`,
  );
  if (failures.length === 0) return;
  process.stdout.write(`sim: failing seeds: ${failures.map((failure) => failure.seed).join(' ')}\n`);
  for (const failure of failures) process.stdout.write(`  ${failure.message.split('\n')[0]}\n`);
  process.stdout.write(`sim: replay one with: npm run sim -- --seed ${failures[0]!.seed} --trace\n`);
}

main();
