// Profiling aid (not a benchmark): where the three masters spend CPU, on-CPU samples only. A V8
// .cpuprofile (profile.ts) samples wall time: on a machine whose run queue is longer than its
// cores, a master preempted inside writev (waking the peer it wrote to) is charged the time it
// waited, so socket writes look several times their cost. `perf record -e cpu-clock` samples a
// thread only while it runs; masters run with --perf-basic-prof so JIT frames have names.
// Writes one perf report per master (self time by symbol, then by shared object). Usage:
//   npx tsx bench/peers/oncpu-profile.ts <clients> <seconds> <out-dir> [master flags]
// Needs `perf` (linux-perf) and perf_event_paranoid <= 2 for one's own processes.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../../test/support/tmp.ts';
import { FlotillaSystem } from './flotilla.ts';
import { benchValue, runRound } from './load.ts';

const [clientsText = '16', secondsText = '5', outDirectory = '/tmp/flotilla-oncpu', ...masterFlags] =
  process.argv.slice(2);
mkdirSync(outDirectory, { recursive: true });
const system = new FlotillaSystem(makeTempDir('oncpu-peers-'), masterFlags, ['--perf-basic-prof']);

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', () => {});
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

await system.start();
try {
  await runRound((client) => system.openClient(client), 16, 2, benchValue(0));
  const views = await system.waitHealthy(30_000);
  const recordings = views.map((view) => {
    const role = view.leader ? 'leader' : `follower-m${view.index + 1}`;
    const file = path.join(outDirectory, `${role}.perf.data`);
    const pid = String(system.member(view.index).pid!);
    // -g without frame pointers in JIT code gives short stacks: self time by symbol is the figure.
    const recorder = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '499', '-p', pid, '-o', file], {
      stdio: 'ignore',
    });
    return { role, file, recorder };
  });
  const result = await runRound(
    (client) => system.openClient(client),
    Number(clientsText),
    Number(secondsText),
    benchValue(1),
  );
  for (const recording of recordings) recording.recorder.kill('SIGINT');
  await Promise.all(recordings.map(({ recorder }) => new Promise((resolve) => recorder.on('close', resolve))));
  process.stdout.write(
    `${JSON.stringify({ clients: Number(clientsText), writes: result.ops, errors: result.errors, opsPerSecond: result.ops / result.seconds, p99Ms: result.p99Ms })}\n`,
  );
  for (const { role, file } of recordings) {
    const bySymbol = await run('perf', ['report', '-i', file, '--stdio', '--sort', 'sym', '--percent-limit', '0.3']);
    const byObject = await run('perf', ['report', '-i', file, '--stdio', '--sort', 'dso']);
    writeFileSync(path.join(outDirectory, `${role}.txt`), `${byObject}\n${bySymbol}`);
  }
} finally {
  await system.stop();
}
