// `npm run bench -- services --quick` runs to the end (three real masters, simulated agents,
// the framework): every instance asked for is launched and running, and the benchmark prints
// its JSON line. The full run's figures are in the README; this keeps the benchmark working.
// flotilla-test-timeout-seconds: 600
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('the services benchmark in quick mode runs every instance and reports', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'services', '--quick'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 500_000,
    env: { ...process.env, FLOTILLA_LOG_LEVEL: 'warn' },
  });
  assert.is(run.status, 0, `exit ${run.status}\n${run.stderr.slice(-3000)}`);
  const line = run.stdout.split('\n').find((text) => text.startsWith('{"bench":"services"'));
  assert.ok(line !== undefined, run.stdout);
  const result = JSON.parse(line!) as Record<string, number>;
  assert.is(result.apps, 20);
  assert.is(result.launches, result.apps! * result.instances!, 'every instance launched once, none twice');
  assert.ok(result.all_running_ms! > 0);
  assert.ok(result.get_apps_embed_tasks_bytes! > 0);
});

test.run();
