// Diagnostic for issue 19 (not a benchmark): how long the leader's event loop is held by writing
// its log and by copying the WAL back, from the leader's own /metrics around each round: the
// transactions that took 25 ms or more (flotilla_raft_fsync_seconds: with SQLite's automatic
// checkpoint, the commit that ran one is among them) and the checkpoints run between turns
// (flotilla_raft_wal_checkpoint_seconds: count, total and longest bucket; null for a build
// without them). With `--baseline <checkout>` rounds alternate A B A B. Usage:
//   npx tsx bench/peers/wal-checkpoints.ts [--clients 256] [--seconds 5] [--rounds 3] [--baseline <dir>]
//     [--flotilla-args '...'] [--baseline-args '...']
import path from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../_report.ts';
import { makeTempDir } from '../../test/support/tmp.ts';
import { FlotillaSystem } from './flotilla.ts';
import { benchValue, runRound } from './load.ts';

/** One Prometheus histogram: cumulative bucket counts by upper bound (seconds), count, sum. */
interface Histogram {
  readonly buckets: ReadonlyMap<number, number>;
  readonly count: number;
  readonly sum: number;
}

async function histograms(address: string): Promise<Map<string, Histogram>> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const found = new Map<string, { buckets: Map<number, number>; count: number; sum: number }>();
  const entry = (name: string) => {
    let histogram = found.get(name);
    if (histogram === undefined) {
      histogram = { buckets: new Map(), count: 0, sum: 0 };
      found.set(name, histogram);
    }
    return histogram;
  };
  for (const line of text.split('\n')) {
    const bucket = /^(\w+)_bucket\{.*le="([^"]+)".*\} (\S+)$/.exec(line);
    if (bucket !== null) entry(bucket[1]!).buckets.set(Number(bucket[2]), Number(bucket[3]));
    const total = /^(\w+)_(count|sum)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (total !== null) entry(total[1]!)[total[2] as 'count' | 'sum'] = Number(total[3]);
  }
  return found;
}

/** Observations in (after - before) above `thresholdSeconds` (bucket bounds at or below it). */
function countAbove(before: Histogram | undefined, after: Histogram | undefined, thresholdSeconds: number): number {
  if (after === undefined) return 0;
  const atOrBelow = (histogram: Histogram | undefined) => histogram?.buckets.get(thresholdSeconds) ?? 0;
  return after.count - (before?.count ?? 0) - (atOrBelow(after) - atOrBelow(before));
}

/** The upper bound of the highest bucket that gained an observation, in ms (Infinity: past the last). */
function longestBucketMs(before: Histogram | undefined, after: Histogram | undefined): number | null {
  if (after === undefined || after.count === (before?.count ?? 0)) return null;
  const bounds = [...after.buckets.keys()].sort((a, b) => a - b);
  for (const bound of bounds) {
    const below = (after.buckets.get(bound) ?? 0) - (before?.buckets.get(bound) ?? 0);
    if (below === after.count - (before?.count ?? 0)) return bound * 1000;
  }
  return Number.POSITIVE_INFINITY;
}

const fsyncMetric = 'flotilla_raft_fsync_seconds';
const checkpointMetric = 'flotilla_raft_wal_checkpoint_seconds';
const longTransactionSeconds = 0.025;

async function measureRound(system: FlotillaSystem, clients: number, seconds: number, round: number) {
  const leader = (await system.waitHealthy(30_000)).find((view) => view.leader)!.index;
  const address = system.memberAddresses()[leader]!;
  const before = await histograms(address);
  const result = await runRound((client) => system.openClient(client), clients, seconds, benchValue(round));
  const after = await histograms(address);
  const checkpoints = after.has(checkpointMetric)
    ? after.get(checkpointMetric)!.count - (before.get(checkpointMetric)?.count ?? 0)
    : null;
  const figures = {
    system: system.name,
    clients,
    round,
    writesPerSecond: Math.round(result.ops / result.seconds),
    p99Ms: result.p99Ms,
    transactions: (after.get(fsyncMetric)?.count ?? 0) - (before.get(fsyncMetric)?.count ?? 0),
    transactionsOver25Ms: countAbove(before.get(fsyncMetric), after.get(fsyncMetric), longTransactionSeconds),
    longestTransactionBucketMs: longestBucketMs(before.get(fsyncMetric), after.get(fsyncMetric)),
    checkpoints,
    checkpointMsTotal:
      checkpoints === null
        ? null
        : Math.round(((after.get(checkpointMetric)?.sum ?? 0) - (before.get(checkpointMetric)?.sum ?? 0)) * 1000),
    longestCheckpointBucketMs: longestBucketMs(before.get(checkpointMetric), after.get(checkpointMetric)),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  return figures;
}

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '256' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    baseline: { type: 'string' },
    'flotilla-args': { type: 'string', default: '' },
    'baseline-args': { type: 'string', default: '' },
  },
});
const clientCounts = values.clients.split(',').map(Number);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const dataRoot = makeTempDir('wal-checkpoints-');
const masterFlags = (text: string) => text.split(' ').filter((flag) => flag !== '');
const systems = [new FlotillaSystem(path.join(dataRoot, 'this'), masterFlags(values['flotilla-args']))];
if (values.baseline !== undefined) {
  const binary = path.join(values.baseline, 'bin', 'flotilla.js');
  systems.push(
    new FlotillaSystem(
      path.join(dataRoot, 'baseline'),
      masterFlags(values['baseline-args']),
      [],
      binary,
      'flotilla-baseline',
    ),
  );
}
const all: Awaited<ReturnType<typeof measureRound>>[] = [];
try {
  for (const system of systems) await system.start();
  for (const clients of clientCounts) {
    for (let round = 1; round <= rounds; round++) {
      for (const system of systems) all.push(await measureRound(system, clients, seconds, round));
    }
  }
} finally {
  await Promise.all(systems.map((system) => system.stop()));
}
for (const clients of clientCounts) {
  for (const system of systems) {
    const rows = all.filter((row) => row.system === system.name && row.clients === clients);
    const median = (pick: (row: (typeof rows)[number]) => number) => percentile(rows.map(pick), 0.5);
    const summary = {
      system: system.name,
      clients,
      writesPerSecond: median((row) => row.writesPerSecond),
      p99Ms: median((row) => row.p99Ms),
      transactionsOver25MsPerRound: rows.map((row) => row.transactionsOver25Ms),
      checkpointsPerRound: rows.map((row) => row.checkpoints),
      checkpointMsPerRound: rows.map((row) => row.checkpointMsTotal),
    };
    process.stdout.write(`median ${JSON.stringify(summary)}\n`);
  }
}
