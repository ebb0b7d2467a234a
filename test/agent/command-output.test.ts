// Reading a helper program's output (src/agent/command-output.ts) with real child processes,
// including the case execFile gets wrong: the event loop stalls past the timeout while the child
// exits 0, and the answer must still be the child's whole output, not an empty success.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CommandOutputError, readCommandOutput } from '../../src/agent/command-output.ts';

/** Longer than the timeouts below by far: the child exits during the stall on any machine. */
const stallMs = 1_500;
const shortTimeoutMs = 50;

/** Blocks the event loop, as hundreds of launches at load 30 did to the agent's. */
function stallEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy: no timer, no I/O callback runs meanwhile.
  }
}

async function failure(pending: Promise<unknown>): Promise<CommandOutputError> {
  try {
    await pending;
  } catch (error) {
    assert.instance(error, CommandOutputError);
    return error as CommandOutputError;
  }
  assert.unreachable('expected a CommandOutputError');
  throw new Error('unreachable');
}

test('the output and errors of a program that exits 0', async () => {
  const output = await readCommandOutput('sh', ['-c', 'echo out; echo err >&2'], 10_000);
  assert.equal(output, { stdout: 'out\n', stderr: 'err\n' });
});

test('a program that exited 0 while the event loop stalled past the timeout answered in full', async () => {
  // execFile's timer fires first here: it destroys the output streams, the SIGTERM finds the child
  // gone, and its callback reports success with stdout ''.
  const pending = readCommandOutput('sh', ['-c', 'echo root:x:0:0:root:/root:/bin/sh'], shortTimeoutMs);
  stallEventLoop(stallMs);
  assert.equal(await pending, { stdout: 'root:x:0:0:root:/root:/bin/sh\n', stderr: '' });
});

test('a program still running at the timeout is killed and refused', async () => {
  const error = await failure(readCommandOutput('sleep', ['30'], shortTimeoutMs));
  assert.match(error.message, `sleep did not finish within ${shortTimeoutMs} ms`);
  assert.is(error.exitCode, null);
});

test('a non-zero exit is refused with its status and stderr; a missing program too', async () => {
  const error = await failure(readCommandOutput('sh', ['-c', 'echo nope >&2; exit 3'], 10_000));
  assert.is(error.exitCode, 3);
  assert.match(error.message, 'sh exited with status 3: nope');
  const missing = await failure(readCommandOutput(`no-such-program-${process.pid}`, [], 10_000));
  assert.is(missing.exitCode, null);
  assert.match(missing.message, 'could not run');
});

test.run();
