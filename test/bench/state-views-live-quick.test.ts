// `npm run bench -- state-views --live --quick` runs to the end: 300 tasks launched on a live
// three-master cluster with simulated agents, then GET_STATE and GET_TASKS read from its leader,
// each answered in full (a body that stalls fails its read). Nothing here is asserted on time.
// flotilla-test-timeout-seconds: 1200
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the state-views benchmark in live quick mode reads GET_STATE and GET_TASKS from a live leader', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'state-views', '--live', '--quick'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 1_100_000,
  });
  assert.is(run.status, 0, `exit ${run.status}\n${run.stderr.slice(-3000)}`);
  const lines = run.stdout
    .split('\n')
    .filter((text) => text.startsWith('{"bench":"state-views"'))
    .map((text) => JSON.parse(text) as { way: string; tasks: number; bytes: number; failed: number; runs: number });
  assert.equal(
    lines.map((line) => line.way),
    ['GET_STATE live', 'GET_TASKS live'],
  );
  for (const line of lines) {
    assert.is(line.tasks, 300, line.way);
    assert.is(line.failed, 0, `${line.way}: every read answered`);
    // Each task's JSON holds at least its id: a cut-off answer is shorter.
    assert.ok(line.bytes > 300 * 20, `${line.way}: ${line.bytes} bytes`);
  }
  assert.ok(lines[0]!.bytes > lines[1]!.bytes, 'GET_STATE holds GET_TASKS and more');
});

test.run();
