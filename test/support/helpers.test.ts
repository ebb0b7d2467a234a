// The helpers other tests lean on: bounded waiting, temporary folders, skip lines.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTestOutput } from '../../scripts/test-summary.ts';
import { makeTempDir } from './tmp.ts';
import { waitFor } from './wait.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Runs a small TypeScript program in a fresh process, as the runner would. */
function runProgram(source: string): { stdout: string; status: number | null } {
  const file = path.join(makeTempDir(), 'program.ts');
  writeFileSync(file, source);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { stdout: result.stdout, status: result.status };
}

const waiting = suite('waitFor');

waiting('returns the first truthy value', async () => {
  let calls = 0;
  const value = await waitFor(() => (++calls >= 3 ? `ready after ${calls}` : undefined), {
    timeoutMs: 1_000,
    intervalMs: 1,
    what: 'three calls',
  });
  assert.is(value, 'ready after 3');
});

waiting('a timeout names what was awaited and the last error', async () => {
  try {
    await waitFor(
      () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 30, intervalMs: 5, what: 'the leader m1' },
    );
    assert.unreachable('waitFor should have thrown');
  } catch (error) {
    assert.instance(error, Error);
    assert.match((error as Error).message, /timed out after 30 ms waiting for the leader m1 .*connection refused/);
  }
});

waiting('a wait without a sane bound is refused', async () => {
  try {
    await waitFor(() => true, { timeoutMs: 0, what: 'nothing' });
    assert.unreachable('waitFor should have thrown');
  } catch (error) {
    assert.match((error as Error).message, /timeoutMs must be in/);
  }
});

waiting.run();

const temporary = suite('makeTempDir and skip lines, in a child process');

temporary('temporary folders are fresh and removed at exit', () => {
  const { stdout, status } = runProgram(
    `import { makeTempDir } from ${JSON.stringify(path.join(repoRoot, 'test/support/tmp.ts'))};
     const first = makeTempDir(); const second = makeTempDir();
     console.log(JSON.stringify([first, second]));`,
  );
  assert.is(status, 0);
  const folders = JSON.parse(stdout) as string[];
  assert.is(folders.length, 2);
  assert.is.not(folders[0], folders[1]);
  for (const folder of folders) assert.not.ok(existsSync(folder), `${folder} should be gone`);
});

temporary('skipTest and testUnless print lines the runner counts, and register nothing', () => {
  const { stdout, status } = runProgram(
    `import { suite } from ${JSON.stringify(import.meta.resolve('uvu'))};
     import { skipTest, testUnless } from ${JSON.stringify(path.join(repoRoot, 'test/support/skip.ts'))};
     const group = suite('group');
     skipTest(group, 'needs docker', 'no Docker engine');
     testUnless(group, 'not root', 'needs a namespace', () => { throw new Error('must not run'); });
     testUnless(group, undefined, 'runs here', () => {});
     group.run();`,
  );
  assert.is(status, 0);
  const summary = parseTestOutput(stdout);
  assert.equal(
    { passed: summary.passed, failed: summary.failed, skipped: summary.skipped },
    { passed: 1, failed: 0, skipped: 2 },
  );
  assert.equal(summary.skipReasons, ['needs docker: no Docker engine', 'needs a namespace: not root']);
});

temporary.run();
