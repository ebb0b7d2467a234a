// Failover time of three real `flotilla master` processes on loopback: SIGKILL the leader, then
// measure (a) time until another master reports itself leader, (b) time until the first KV write
// through the new leader succeeds. Repeated `runs` times (the killed master is restarted between
// runs); medians and maxima are reported.
//
//   npm run bench -- failover [--runs 10] [--timing lan|wan]
import { parseArgs } from 'node:util';
import { makeTempDir } from '../test/support/tmp.ts';
import { ProcessCluster } from '../test/raft/support/process-cluster.ts';
import { median, printTable, round } from './_report.ts';

async function writeOnce(address: string, value: string): Promise<boolean> {
  try {
    const response = await fetch(`http://${address}/api/v1/kv/bench/failover`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
      redirect: 'manual',
      signal: AbortSignal.timeout(2000),
    });
    return response.status === 200;
  } catch {
    return false;
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { runs: { type: 'string', default: '10' }, timing: { type: 'string', default: 'lan' } },
  });
  const runs = Number(values.runs);
  process.stderr.write(
    `failover bench: 3 masters (timing ${values.timing}), loopback; ${runs} SIGKILLs of the leader\n`,
  );
  const cluster = await ProcessCluster.start(makeTempDir('bench-failover-'), 3, ['--timing', values.timing!], 'master');
  const electionMs: number[] = [];
  const writeMs: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const leader = await cluster.waitForLeader(20_000);
      while (!(await writeOnce(leader.address, `warm-${run}`))) await new Promise((resolve) => setTimeout(resolve, 20));
      const killedAt = performance.now();
      await cluster.kill(leader, 'SIGKILL');
      const next = await cluster.waitForLeader(20_000, [leader.id]);
      electionMs.push(performance.now() - killedAt);
      while (!(await writeOnce(next.address, `after-${run}`))) await new Promise((resolve) => setTimeout(resolve, 5));
      writeMs.push(performance.now() - killedAt);
      process.stderr.write(
        `  run ${run + 1}/${runs}: new leader ${next.id} after ${round(electionMs.at(-1)!, 0)} ms, first write after ${round(writeMs.at(-1)!, 0)} ms\n`,
      );
      cluster.launch(leader);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  } finally {
    await cluster.stop();
  }
  const line = {
    bench: 'failover',
    masters: 3,
    timing: values.timing,
    runs,
    new_leader_p50_ms: round(median(electionMs), 0),
    new_leader_max_ms: round(Math.max(...electionMs), 0),
    first_write_p50_ms: round(median(writeMs), 0),
    first_write_max_ms: round(Math.max(...writeMs), 0),
  };
  process.stdout.write(`${JSON.stringify(line)}\n\n`);
  printTable([
    { measure: 'SIGKILL → new leader', 'median ms': line.new_leader_p50_ms, 'max ms': line.new_leader_max_ms },
    { measure: 'SIGKILL → first write', 'median ms': line.first_write_p50_ms, 'max ms': line.first_write_max_ms },
  ]);
}
