// `npm run bench -- launch --quick` (three master processes, 100 simulated agents, 1,000 tasks)
// and `launch --real-agent --quick` (one real agent process running 20 `true` tasks) run to the
// end and print their JSON line. The full runs' figures are in the README; this keeps the
// benchmark working. Nothing here is asserted on time.
// flotilla-test-timeout-seconds: 900
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function runBench(args: string[]): Record<string, unknown> & { failuresByCause?: Record<string, number> } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'launch', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 900_000,
  });
  assert.is(run.status, 0, `exit ${run.status}\n${run.stderr.slice(-3000)}`);
  const lines = run.stdout.split('\n').filter((text) => text.startsWith('{"bench":"launch"'));
  assert.is(lines.length, 1, run.stdout);
  const causes = run.stdout.split('\n').find((text) => text.startsWith('{"failures_by_cause"'));
  const failuresByCause =
    causes === undefined
      ? undefined
      : (JSON.parse(causes) as { failures_by_cause: Record<string, number> }).failures_by_cause;
  return { ...(JSON.parse(lines[0]!) as Record<string, unknown>), failuresByCause };
}

test('the launch benchmark in quick mode launches every task on simulated agents', () => {
  const line = runBench(['--quick']);
  assert.is(line.variant, 'simulated-agents');
  assert.is(line.masters, 3);
  assert.is(line.agents, 100);
  assert.is(line.tasks, 1_000);
  assert.is(line.running, 1_000, 'every task reported running');
  assert.ok((line.accepts as number) >= 100, 'at most tasks/agents tasks per offer');
  assert.ok(Number.isFinite(line.tasks_per_second));
  const causes = Object.values(line.failuresByCause ?? {});
  assert.ok(line.failuresByCause !== undefined, 'the failures by cause follow the result line');
  assert.is(
    causes.reduce((sum, count) => sum + count, 0),
    line.failures,
    'every failure has its cause',
  );
});

test('the launch benchmark with a real agent in quick mode finishes every task', () => {
  const line = runBench(['--real-agent', '--quick']);
  assert.is(line.variant, 'real-agent');
  assert.is(line.tasks, 20);
  assert.is(line.runs, 1);
  assert.ok(Number.isFinite(line.tasksPerSecond));
});

test.run();
