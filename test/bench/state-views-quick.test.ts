// `npm run bench -- state-views --quick` runs to the end: GET_STATE (sliced, the bytes handed to the
// socket, and one go) and the operator SUBSCRIBED record over 2,000 running tasks, each way's JSON
// line printed, the sliced answer and its bytes as long as the one-go one. The full run's figures are in the README; this keeps the
// benchmark working. Nothing here is asserted on time.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the state-views benchmark in quick mode measures every way and reports', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'state-views', '--quick'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.is(run.status, 0, `exit ${run.status}\n${run.stderr.slice(-3000)}`);
  const lines = run.stdout
    .split('\n')
    .filter((text) => text.startsWith('{"bench":"state-views"'))
    .map((text) => JSON.parse(text) as { way: string; tasks: number; bytes: number; ms: number });
  assert.equal(
    lines.map((line) => line.way),
    ['GET_STATE sliced', 'GET_STATE body', 'GET_STATE one go', 'SUBSCRIBED sliced'],
  );
  for (const line of lines) assert.is(line.tasks, 2_000, line.way);
  assert.is(lines[0]!.bytes, lines[2]!.bytes, 'the sliced answer is as long as the one-go answer');
  assert.is(lines[1]!.bytes, lines[2]!.bytes, 'the bytes handed to the socket are the whole answer');
  assert.ok(lines[3]!.bytes > lines[0]!.bytes, 'SUBSCRIBED wraps the same state');
});

test.run();
