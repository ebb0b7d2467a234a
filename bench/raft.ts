// Replicated write throughput and latency of three real replica processes on loopback, with
// real fsync (SQLite WAL, synchronous=FULL), through the test fixture's HTTP API
// (test/raft/fixtures/replica.ts). For each number of concurrent proposers, `runs` runs of
// `seconds` each; the reported figures are medians over runs.
//
//   npm run bench -- raft [--clients 1,16,256] [--mode leader,http] [--seconds 5] [--runs 3]
//
// `--mode leader`: the load is generated inside the leader process (replication alone); `http`:
// from this process over HTTP.
import { parseArgs } from 'node:util';
import { makeTempDir } from '../test/support/tmp.ts';
import { ProcessCluster } from '../test/raft/support/process-cluster.ts';
import { median, percentile, printTable, round } from './_report.ts';

interface RunResult {
  ops: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** Load generated inside the leader process: measures replication, not an HTTP client. */
async function runInLeader(leaderAddress: string, clients: number, seconds: number): Promise<RunResult> {
  const response = await fetch(`http://${leaderAddress}/load`, {
    method: 'POST',
    body: JSON.stringify({ clients, seconds, bytes: 100 }),
  });
  if (response.status !== 200) throw new Error(`load on ${leaderAddress}: HTTP ${response.status}`);
  return (await response.json()) as RunResult;
}

async function runOnce(leaderAddress: string, clients: number, seconds: number, runTag: string): Promise<RunResult> {
  const latenciesMs: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const body = 'x'.repeat(100);
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let sequence = 1; performance.now() < deadline; sequence++) {
        const begin = performance.now();
        try {
          const response = await fetch(`http://${leaderAddress}/propose?client=${runTag}-${client}&seq=${sequence}`, {
            method: 'POST',
            body,
          });
          await response.arrayBuffer();
          if (response.status === 200) latenciesMs.push(performance.now() - begin);
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return {
    ops: latenciesMs.length,
    seconds: (performance.now() - started) / 1000,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
    errors,
  };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string', default: '1,16,256' },
      mode: { type: 'string', default: 'leader,http' },
      seconds: { type: 'string', default: '5' },
      runs: { type: 'string', default: '3' },
    },
  });
  const clientCounts = values.clients!.split(',').map(Number);
  const seconds = Number(values.seconds);
  const runs = Number(values.runs);
  const modes = values.mode!.split(',');
  for (const mode of modes)
    if (mode !== 'leader' && mode !== 'http') throw new Error(`--mode: leader or http, not ${mode}`);
  process.stderr.write(
    `raft bench: 3 replica processes, loopback, fsync on; ${runs} runs x ${seconds}s per config; 100-byte commands\n` +
      '  mode leader: proposers inside the leader process (the replication path alone)\n' +
      '  mode http:   proposers in this process over HTTP/1.1 keep-alive to the leader (client-side CPU included)\n',
  );
  const cluster = await ProcessCluster.start(makeTempDir('bench-raft-'), 3);
  const rows: Record<string, string | number>[] = [];
  try {
    for (const mode of modes)
      for (const clients of clientCounts) {
        const results: RunResult[] = [];
        for (let run = 0; run < runs; run++) {
          const leader = await cluster.waitForLeader();
          process.stderr.write(`  ${mode} clients=${clients} run ${run + 1}/${runs} against ${leader.id}...\n`);
          results.push(
            mode === 'leader'
              ? await runInLeader(leader.address, clients, seconds)
              : await runOnce(leader.address, clients, seconds, `b${clients}r${run}`),
          );
        }
        const line = {
          bench: 'raft',
          mode,
          replicas: 3,
          clients,
          ops_per_s: round(median(results.map((result) => result.ops / result.seconds)), 1),
          p50_ms: round(median(results.map((result) => result.p50Ms))),
          p99_ms: round(median(results.map((result) => result.p99Ms))),
          errors: results.reduce((sum, result) => sum + result.errors, 0),
          runs,
          seconds_per_run: seconds,
        };
        process.stdout.write(`${JSON.stringify(line)}\n`);
        rows.push({
          mode,
          clients,
          'ops/s': line.ops_per_s,
          'p50 ms': line.p50_ms,
          'p99 ms': line.p99_ms,
          errors: line.errors,
        });
      }
  } finally {
    await cluster.stop();
  }
  process.stdout.write('\n');
  printTable(rows);
}
