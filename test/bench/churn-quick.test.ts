// `npm run bench -- churn --quick` runs to the end: three master processes with a history limit of
// 100 completed tasks per framework, simulated agents that finish every task at once, 3,000 short
// tasks launched and acknowledged through the scheduler API, a sample every 1,000. Checks the JSON
// lines' shape, and that the leader's GET_STATE never held more completed tasks of one framework
// than the limit while holding it full. The full run's figures are in the README. Nothing here is
// asserted on time.
// flotilla-test-timeout-seconds: 1200
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChurnSample } from '../../bench/churn.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const limit = 100;

interface SummaryLine {
  setup: { masters: number; tasks: number; every: number; max_completed_tasks_per_framework: number };
  finished: number;
  agents_reported_finished: number;
  ratio_last_to_first_full: Record<string, number | null> | null;
  idempotency_table: Record<string, number> | null;
  calls_per_finished_task: Record<string, number>;
  cpu_ms_per_finished_task: { masters: Record<string, number>; bench: number; fleet: number };
  load_average: number[];
}

test('the churn benchmark in quick mode samples every 1,000 tasks and keeps history bounded', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'churn', '--quick'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 1_200_000,
  });
  assert.is(run.status, 0, `exit ${run.status}\n${run.stderr.slice(-3000)}`);
  const lines = run.stdout
    .split('\n')
    .filter((text) => text.startsWith('{"bench":"churn"'))
    .map((text) => JSON.parse(text) as Record<string, unknown>);
  const samples = lines.filter((line) => 'sample' in line) as unknown as ChurnSample[];
  const summaries = lines.filter((line) => 'setup' in line) as unknown as SummaryLine[];
  assert.is(samples.length, 3, run.stdout);
  assert.is(summaries.length, 1, run.stdout);
  samples.forEach((sample, position) => {
    assert.is(sample.sample, position + 1);
    assert.ok(sample.finished >= (position + 1) * 1_000, `sample ${sample.sample} after ${sample.finished} finished`);
    assert.ok(sample.leader_rss_mib > 0, "the leader's memory was read from its /metrics");
    assert.ok(sample.snapshot_bytes > 0, 'the leader has taken a snapshot');
    // Its newest snapshot file, taken apart: the Idempotency-Key table (the keyed ACCEPTs) and the state.
    const file = sample.snapshot_file;
    assert.ok(file !== null, 'the snapshot file was read');
    assert.ok(file.idempotency_keys > 0 && file.idempotency_bytes > 0, JSON.stringify(file));
    assert.ok(file.state_bytes + file.idempotency_bytes < file.bytes, 'the envelope header is the rest');
    assert.ok((file.state_rows.tasks ?? 0) > 0, JSON.stringify(file.state_rows));
    assert.ok(Number.isFinite(sample.get_state_ms) && sample.get_state_bytes > 0);
    // Bounded: never more completed tasks of one framework than the limit; and full once 1,000 finished.
    assert.ok(sample.completed_tasks_max_per_framework <= limit, JSON.stringify(sample));
    assert.is(sample.completed_tasks_max_per_framework, limit, 'history filled');
    assert.ok(sample.history_full);
    assert.ok(sample.tasks_in_state < 3_000, `the leader holds ${sample.tasks_in_state} tasks, not all of history`);
  });
  const summary = summaries[0]!;
  assert.is(summary.setup.masters, 3);
  assert.is(summary.setup.tasks, 3_000);
  assert.is(summary.setup.every, 1_000);
  assert.is(summary.setup.max_completed_tasks_per_framework, limit);
  assert.is(summary.finished, 3_000);
  assert.ok(summary.agents_reported_finished >= 3_000, 'every task finished on a simulated agent');
  assert.ok(summary.ratio_last_to_first_full !== null, 'ratios once history was full');
  // Every finished task's terminal update was acknowledged (its earlier ones with it, mostly).
  assert.ok((summary.calls_per_finished_task.ACKNOWLEDGE ?? 0) >= 1, JSON.stringify(summary.calls_per_finished_task));
  // Offers that came while the window was full were held, not declined (each DECLINE a call and a
  // Raft entry, and the agent refused for a second when its room was wanted).
  assert.is(summary.calls_per_finished_task.DECLINE, undefined, JSON.stringify(summary.calls_per_finished_task));
  assert.is(Object.keys(summary.cpu_ms_per_finished_task.masters).length, 3);
  assert.ok(summary.cpu_ms_per_finished_task.fleet > 0, "the fleet's CPU was read");
  assert.ok((summary.idempotency_table?.keys ?? 0) > 0, JSON.stringify(summary.idempotency_table));
  for (const name of ['leader_rss', 'snapshot_bytes', 'snapshot_state_bytes', 'get_state_ms', 'get_state_bytes']) {
    assert.ok(Number.isFinite(summary.ratio_last_to_first_full![name]), name);
  }
  assert.is(summary.load_average.length, 3);
});

test.run();
