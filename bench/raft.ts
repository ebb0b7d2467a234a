// Replicated write throughput and latency of three real replica processes on loopback, with
// real fsync (SQLite WAL, synchronous=FULL), through the test fixture's HTTP API
// (test/raft/fixtures/replica.ts). For each number of concurrent proposers, `runs` runs of
// `seconds` each; the reported figures are medians over runs.
import { parseArgs } from 'node:util';
import { makeTempDir } from '../test/support/tmp.ts';
import { ProcessCluster } from '../test/raft/support/process-cluster.ts';
import { median, percentile, printTable, round } from './_report.ts';

interface RunResult { ops: number; seconds: number; latenciesMs: number[]; errors: number }

async function runOnce(leaderAddress: string, clients: number, seconds: number, runTag: string): Promise<RunResult> {
  const latenciesMs: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const body = 'x'.repeat(100);
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    for (let sequence = 1; performance.now() < deadline; sequence++) {
      const begin = performance.now();
      try {
        const response = await fetch(`http://${leaderAddress}/propose?client=${runTag}-${client}&seq=${sequence}`, { method: 'POST', body });
        await response.arrayBuffer();
        if (response.status === 200) latenciesMs.push(performance.now() - begin);
        else errors++;
      } catch {
        errors++;
      }
    }
  }));
  return { ops: latenciesMs.length, seconds: (performance.now() - started) / 1000, latenciesMs, errors };
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    clients: { type: 'string', default: '1,16,256' }, seconds: { type: 'string', default: '5' }, runs: { type: 'string', default: '3' },
  } });
  const clientCounts = values.clients!.split(',').map(Number);
  const seconds = Number(values.seconds);
  const runs = Number(values.runs);
  process.stderr.write(`raft bench: 3 replica processes, loopback, fsync on; ${runs} runs x ${seconds}s per config; 100-byte commands\n`);
  const cluster = await ProcessCluster.start(makeTempDir('bench-raft-'), 3);
  const rows: Record<string, string | number>[] = [];
  try {
    for (const clients of clientCounts) {
      const results: RunResult[] = [];
      for (let run = 0; run < runs; run++) {
        const leader = await cluster.waitForLeader();
        process.stderr.write(`  clients=${clients} run ${run + 1}/${runs} against ${leader.id}...\r`);
        results.push(await runOnce(leader.address, clients, seconds, `b${clients}r${run}`));
      }
      const line = {
        bench: 'raft', replicas: 3, clients,
        ops_per_s: round(median(results.map((result) => result.ops / result.seconds)), 1),
        p50_ms: round(median(results.map((result) => percentile(result.latenciesMs, 0.5)))),
        p99_ms: round(median(results.map((result) => percentile(result.latenciesMs, 0.99)))),
        errors: results.reduce((sum, result) => sum + result.errors, 0),
        runs, seconds_per_run: seconds,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      rows.push({ clients, 'ops/s': line.ops_per_s, 'p50 ms': line.p50_ms, 'p99 ms': line.p99_ms, errors: line.errors });
    }
  } finally {
    await cluster.stop();
  }
  process.stdout.write('\n');
  printTable(rows);
}
