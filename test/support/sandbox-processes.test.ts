// The sweep test teardowns use to end tasks their SIGKILLed agents left running.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { killProcessesWorkingUnder, processesWorkingUnder } from './sandbox-processes.ts';
import { makeTempDir } from './tmp.ts';
import { waitFor } from './wait.ts';

test('finds and ends a process by its working directory, whatever it runs, and only that one', async () => {
  const workDir = makeTempDir('sweep-');
  const sandbox = path.join(workDir, 'frameworks', 'f1', 'tasks', 't1');
  mkdirSync(sandbox, { recursive: true });
  const outside = makeTempDir('sweep-outside-');
  // A shell that runs sleep as its child, like a task's wrapper, and one elsewhere.
  const task = spawn('/bin/sh', ['-c', 'sleep 60; true'], { cwd: sandbox, stdio: 'ignore' });
  const bystander = spawn('sleep', ['60'], { cwd: outside, stdio: 'ignore' });
  try {
    await waitFor(() => processesWorkingUnder(workDir).length === 2, { timeoutMs: 10_000, what: 'sh and its sleep' });
    assert.ok(processesWorkingUnder(workDir).includes(task.pid!));
    assert.not.ok(processesWorkingUnder(workDir).includes(bystander.pid!));
    // A directory that is only a prefix of the name is not "under" it.
    assert.equal(processesWorkingUnder(workDir.slice(0, -1)), []);
    assert.is(killProcessesWorkingUnder(workDir), 2);
    await waitFor(() => processesWorkingUnder(workDir).length === 0, { timeoutMs: 10_000, what: 'the sweep' });
    assert.is(bystander.exitCode, null, 'the process outside the directory still runs');
  } finally {
    task.kill('SIGKILL');
    bystander.kill('SIGKILL');
  }
});

test.run();
