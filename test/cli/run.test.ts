// `flotilla run` as a user runs it: a real process against a real master and agent.
// flotilla-test-timeout-seconds: 240
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMasterAndAgent, type MasterAndAgent } from '../frameworks/support/cluster.ts';
import { flotillaRun, statusLine } from './support/run-process.ts';

let cluster: MasterAndAgent;
test.before(async () => {
  cluster = await startMasterAndAgent();
});
test.after(async () => {
  await cluster?.stop();
});

test('flotilla run -- echo hi: prints the states and the output, exits 0 on TASK_FINISHED', async () => {
  const result = await flotillaRun(['--masters', cluster.masterAddress, '--', 'echo', 'hi']);
  const transcript = `${result.stdout}\n--- stderr\n${result.stderr}`;
  assert.is(result.status, 0, transcript);
  assert.match(result.stdout, statusLine('TASK_RUNNING'), transcript);
  assert.match(result.stdout, statusLine('TASK_FINISHED'), transcript);
  assert.match(result.stdout, /^hi$/m, transcript);
});

test("flotilla run -- sh -c 'exit 3': TASK_FAILED and a non-zero exit (masters from FLOTILLA_MASTERS)", async () => {
  const result = await flotillaRun(['--', 'sh', '-c', 'exit 3'], { FLOTILLA_MASTERS: cluster.masterAddress });
  const transcript = `${result.stdout}\n--- stderr\n${result.stderr}`;
  assert.is(result.status, 1, transcript);
  assert.match(result.stdout, statusLine('TASK_FAILED'), transcript);
  assert.not.match(result.stdout, /TASK_FINISHED/, transcript);
});

test('--no-shell runs argv as given; output on stderr is followed too', async () => {
  const result = await flotillaRun([
    '--masters',
    cluster.masterAddress,
    '--no-shell',
    '--',
    'sh',
    '-c',
    'echo out; echo err >&2',
  ]);
  const transcript = `${result.stdout}\n--- stderr\n${result.stderr}`;
  assert.is(result.status, 0, transcript);
  assert.match(result.stdout, /^out$/m, transcript);
  assert.match(result.stderr, /^err$/m, transcript);
});

test('--timeout-seconds kills a task that runs too long and exits 124', async () => {
  const result = await flotillaRun(['--masters', cluster.masterAddress, '--timeout-seconds', '3', '--', 'sleep 60']);
  const transcript = `${result.stdout}\n--- stderr\n${result.stderr}`;
  assert.is(result.status, 124, transcript);
  assert.match(result.stdout, /timed out after 3 s/, transcript);
});

test('bad flags and no command are usage errors (exit 2); no reachable master is exit 3', async () => {
  const noCommand = await flotillaRun(['--masters', cluster.masterAddress]);
  assert.is(noCommand.status, 2);
  assert.match(noCommand.stderr, /give a command after --/);
  const badMasters = await flotillaRun(['--masters', 'nope', '--', 'true']);
  assert.is(badMasters.status, 2);
  assert.match(badMasters.stderr, /--masters: "nope" is not host:port/);
  const badCpus = await flotillaRun(['--cpus', '0', '--', 'true']);
  assert.is(badCpus.status, 1);
  assert.match(badCpus.stderr, /--cpus must be a positive number/);
});

test.run();
