// `flotilla run` as a user runs it: a real process against a real master and agent.
// flotilla-test-timeout-seconds: 240
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMasterAndAgent, type MasterAndAgent } from '../frameworks/support/cluster.ts';
import { frameworkName } from '../../src/cli/run/task-runner.ts';
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

test('--json: JSON lines of messages, status updates and output, then how it ended', async () => {
  const result = await flotillaRun([
    '--masters',
    cluster.masterAddress,
    '--json',
    '--',
    "printf 'h\\303\\251llo\\n'; echo oops >&2",
  ]);
  const transcript = `${result.stdout}\n--- stderr\n${result.stderr}`;
  assert.is(result.status, 0, transcript);
  const events = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { event: string; [field: string]: unknown });
  const kinds = new Set(events.map((event) => event.event));
  for (const kind of ['message', 'status', 'stdout', 'stderr', 'exit'])
    assert.ok(kinds.has(kind), `${kind}: ${transcript}`);
  const states = events.filter((event) => event.event === 'status').map((event) => event.state);
  assert.ok(states.includes('TASK_RUNNING') && states.at(-1) === 'TASK_FINISHED', transcript);
  const text = (stream: string): string =>
    events
      .filter((event) => event.event === stream)
      .map((event) => event.data)
      .join('');
  assert.is(text('stdout'), 'héllo\n', 'whole UTF-8 characters');
  assert.is(text('stderr'), 'oops\n');
  const last = events.at(-1)!;
  assert.equal(last, { event: 'exit', task_id: last.task_id, state: 'TASK_FINISHED', exit_status: 0 }, transcript);
  const status = events.find((event) => event.event === 'status')!;
  assert.is((status.task_id as { value: string }).value, last.task_id, "the updates' TaskStatus names the task");

  const usage = await flotillaRun(['--masters', 'nope', '--json', '--', 'true']);
  assert.is(usage.status, 2);
  assert.is((JSON.parse(usage.stderr) as { error: { code: string } }).error.code, 'USAGE', usage.stderr);
});

test("the framework is named flotilla-run, with the task's name when --name gives one", () => {
  assert.is(frameworkName('flotilla-run'), 'flotilla-run');
  assert.is(frameworkName('backup'), 'flotilla-run backup');
});

test.run();
