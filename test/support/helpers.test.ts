// The helpers other tests lean on: bounded waiting (for a condition, a promise, a child's exit),
// temporary folders, skip lines.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseTestOutput } from '../../scripts/test-summary.ts';
import { makeTempDir } from './tmp.ts';
import { exitOf, stopChild } from './child-exit.ts';
import { waitFor, withTimeout } from './wait.ts';

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

waiting('withTimeout fails naming what was awaited when the promise never settles', async () => {
  const error = await withTimeout(new Promise(() => undefined), 20, 'the socket to open').catch((caught) => caught);
  assert.instance(error, Error);
  assert.match((error as Error).message, /timed out after 20 ms waiting for the socket to open/);
  assert.is(await withTimeout(Promise.resolve('opened'), 1_000, 'the socket to open'), 'opened');
});

waiting.run();

const exits = suite('exitOf and stopChild');

/** A node child that ignores SIGTERM (as a master stuck in its shutdown would), once it says so. */
async function stubbornChild(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1_000); console.log('ignoring SIGTERM');"],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  await waitFor(() => output.includes('ignoring SIGTERM'), { timeoutMs: 60_000, what: 'the stubborn child to start' });
  return child;
}

exits('exitOf fails naming the child that did not exit, and leaves it running', async () => {
  const child = await stubbornChild();
  try {
    const error = await exitOf(child, { timeoutMs: 50, what: 'the stubborn child' }).catch((caught) => caught);
    assert.match((error as Error).message, /timed out after 50 ms waiting for the stubborn child \(pid \d+\) to exit/);
    assert.is(child.exitCode, null);
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(await exitOf(child, { timeoutMs: 30_000, what: 'the SIGKILLed child' }), {
    code: null,
    signal: 'SIGKILL',
  });
});

exits('stopChild SIGKILLs a child that ignores SIGTERM and fails naming it', async () => {
  const child = await stubbornChild();
  const error = await stopChild(child, 'SIGTERM', { timeoutMs: 200, what: 'the stubborn child' }).catch(
    (caught) => caught,
  );
  assert.match((error as Error).message, /waiting for the stubborn child after SIGTERM \(pid \d+\) to exit/);
  assert.is(child.signalCode, 'SIGKILL', 'no process is left behind');
});

exits('stopChild on a child that already ended answers its exit at once', async () => {
  const child = spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
  await exitOf(child, { timeoutMs: 60_000, what: 'the child that exits 3' });
  assert.equal(await stopChild(child, 'SIGTERM', { timeoutMs: 1, what: 'the ended child' }), { code: 3, signal: null });
});

exits.run();

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
