// `npm run bench -- scale --quick` runs to the end: three master processes, 200 simulated agents in
// a child process, 2,000 tasks launched through the scheduler API, GET_STATE, a follower's snapshot
// restore and the leader's SIGKILL, one JSON line printed. The full run's figures are in the
// README; this keeps the benchmark working. Nothing here is asserted on time.
// flotilla-test-timeout-seconds: 1200
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

interface ScaleLine {
  bench: string;
  masters: number;
  agents: number;
  tasks: number;
  running: number;
  get_state_bytes: number;
  snapshot_restore_ms: number;
  snapshots_seen: number;
  agents_reregistered_ms: number;
  leader_rss_max_mib: number;
  leader_event_loop_delay_max_ms: number;
  leader_event_loop_delay_max_ms_by_phase: Record<string, number>;
  leader_changes_by_phase: { register: number; launch: number; reads_and_restore: number };
}

test('the scale benchmark in quick mode runs every step and reports', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'scale', '--quick'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 1_200_000,
  });
  assert.is(run.status, 0, `exit ${run.status}\n${run.stderr.slice(-3000)}`);
  const lines = run.stdout
    .split('\n')
    .filter((text) => text.startsWith('{"bench":"scale"'))
    .map((text) => JSON.parse(text) as ScaleLine);
  assert.is(lines.length, 1, run.stdout);
  const line = lines[0]!;
  assert.is(line.masters, 3);
  assert.is(line.agents, 200);
  assert.is(line.tasks, 2_000);
  assert.is(line.running, 2_000, 'every task reported running');
  assert.ok(line.get_state_bytes > 2_000 * 20, 'GET_STATE holds the tasks');
  assert.ok(Number.isFinite(line.snapshot_restore_ms), 'a follower restored a snapshot');
  assert.ok(line.agents_reregistered_ms > 0, 'the agents registered again after the SIGKILL');
  assert.ok(line.leader_rss_max_mib > 0, "the leader's memory was read from its /metrics");
  assert.ok(Number.isFinite(line.leader_event_loop_delay_max_ms));
  assert.ok('launch' in line.leader_event_loop_delay_max_ms_by_phase, 'the launch phase was sampled');
  // Counted, not asserted to be zero: a loaded machine may elect; the full run's figure is the finding.
  const changes = Object.values(line.leader_changes_by_phase);
  assert.is(changes.length, 3, 'leader changes counted for each phase before the SIGKILL');
  assert.ok(changes.every((count) => Number.isInteger(count) && count >= 0));
});

test.run();
