// The read-side commands and the task commands against a real three-master cluster and a real
// agent, with bin/flotilla.js as a child process: status, agents, frameworks, tasks (and
// --watch, across a leader failover), logs (and --follow), kill; a follower address; no master.
// flotilla-test-timeout-seconds: 900
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster } from '../e2e/support/cluster.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { type CliResult, flotilla, parseJson, startFlotilla, transcript } from './support/cli-process.ts';

let cluster: E2eCluster;
let masters: string;

test.before(async () => {
  cluster = await E2eCluster.start('cli', ['cpus:2;mem:2048;disk:1000;ports:[31000-31099]']);
  masters = cluster.masterList;
});
test.after(async () => {
  await cluster?.stop();
});

function expectStatus(result: CliResult, status: number): void {
  assert.is(result.status, status, transcript(result));
}

/** The task id `flotilla run` announces ("launching task <id> on agent …"). */
function launchedTaskId(output: string): string | null {
  return /launching task (\S+) on agent/.exec(output)?.[1] ?? null;
}

test('status: the leader, three masters with terms and indexes, one agent — as a table and as JSON', async () => {
  const leader = await cluster.leader();
  const text = await flotilla(['status', '--masters', masters]);
  expectStatus(text, 0);
  assert.match(text.stdout, new RegExp(`^leader\\s+${leader.id} at ${leader.address}, term \\d+`, 'm'));
  assert.match(text.stdout, /^ID\s+ADDRESS\s+ROLE\s+MEMBER\s+TERM\s+COMMIT\s+APPLIED\s+LAG\s+ZONE$/m);
  for (const replica of cluster.masters.replicas)
    assert.match(text.stdout, new RegExp(`^${replica.id}\\s+${replica.address}\\s+(leader|follower)\\s+voter`, 'm'));
  assert.match(text.stdout, /^agents\s+1 active$/m);
  assert.not.ok(text.stdout.includes('\u001b['), 'no colour codes when stdout is not a terminal');

  const json = parseJson<{
    leader: { id: string; address: string; term: number };
    masters: { id: string; role: string; term: number; commit_index: number; lag: number }[];
    agents: Record<string, number>;
  }>(await flotilla(['status', '--json', '--masters', masters]));
  assert.is(json.leader.id, leader.id);
  assert.is(json.leader.address, leader.address);
  assert.is(json.masters.length, 3);
  assert.is(json.masters.filter((row) => row.role === 'leader').length, 1);
  assert.ok(json.masters.every((row) => row.term === json.leader.term && row.commit_index > 0 && row.lag >= 0));
  assert.is(json.agents.ACTIVE, 1);
});

test('any master works: given only a follower, a read and a write reach the leader', async () => {
  const leader = await cluster.leader();
  const follower = cluster.masters.replicas.find((replica) => replica.id !== leader.id)!;
  const status = parseJson<{ leader: { id: string } }>(
    await flotilla(['status', '--json', '--masters', follower.address]),
  );
  assert.is(status.leader.id, leader.id);
  const put = await flotilla(['kv', 'put', 'cli', 'via-follower', 'yes', '--masters', follower.address]);
  expectStatus(put, 0);
  const stored = (await (await fetch(`http://${leader.address}/api/v1/kv/cli/via-follower`)).json()) as {
    value: string;
  };
  assert.is(stored.value, 'yes');
});

test('with no master up, the error says what went wrong and what to do, and the exit status is 3', async () => {
  const nobody = `127.0.0.1:${await freePort()}`;
  const text = await flotilla(['agents', '--masters', nobody]);
  expectStatus(text, 3);
  assert.match(text.stderr, new RegExp(`no master answers at ${nobody.replace(/\./g, '\\.')}`));
  assert.match(text.stderr, /is the cluster running\? Start one with `npm start`/);
  const json = await flotilla(['status', '--json'], { FLOTILLA_MASTERS: nobody });
  expectStatus(json, 3);
  assert.is((JSON.parse(json.stderr) as { error: { code: string } }).error.code, 'NO_MASTER');
  const malformed = await flotilla(['agents', '--masters', 'not-an-address']);
  expectStatus(malformed, 2);
  assert.match(malformed.stderr, /--masters: "not-an-address" is not host:port/);
});

test('agents: a table and JSON with state, address and resources', async () => {
  const agent = cluster.agents[0]!;
  const text = await flotilla(['agents', '--masters', masters]);
  expectStatus(text, 0);
  assert.match(text.stdout, /^ID\s+HOSTNAME\s+ADDRESS\s+STATE\s+ZONE\s+CPUS\s+MEM\s+DISK\s+ATTRIBUTES$/m);
  assert.match(
    text.stdout,
    new RegExp(`${agent.hostname}\\s+127\\.0\\.0\\.1:${agent.port}\\s+ACTIVE\\s+-\\s+0/2\\s+0/2048`),
  );
  const rows = parseJson<{ hostname: string; address: string; state: string; total: Record<string, number> }[]>(
    await flotilla(['agents', '--json', '--masters', masters]),
  );
  assert.equal(
    rows.map((row) => [row.hostname, row.address, row.state, row.total.cpus]),
    [[agent.hostname, `127.0.0.1:${agent.port}`, 'ACTIVE', 2]],
  );
});

test('a finished task: tasks (filters, table, JSON), frameworks --all, logs of stdout and stderr', async () => {
  const run = await flotilla(['run', '--masters', masters, '--', 'echo out-line; echo err-line >&2']);
  expectStatus(run, 0);
  const taskId = launchedTaskId(run.stdout)!;
  assert.ok(taskId, transcript(run));

  const rows = parseJson<{ id: string; state: string; framework_id: string; started: string }[]>(
    await flotilla(['tasks', '--json', '--masters', masters]),
  );
  const row = rows.find((candidate) => candidate.id === taskId);
  assert.is(row?.state, 'TASK_FINISHED');
  assert.ok(row?.started, 'a start time');
  const table = await flotilla(['tasks', '--state', 'finished', '--masters', masters]);
  expectStatus(table, 0);
  assert.match(table.stdout, /^ID\s+NAME\s+STATE\s+FRAMEWORK\s+AGENT\s+CPUS\s+MEM\s+STARTED$/m);
  assert.match(
    table.stdout,
    new RegExp(
      `^${taskId.replace(/\./g, '\\.')}\\s+flotilla-run\\s+TASK_FINISHED\\s+${row!.framework_id.slice(0, 8)}\\s+` +
        `${cluster.agents[0]!.hostname}\\s+0\\.1\\s+32\\s+${row!.started}$`,
      'm',
    ),
  );
  const running = parseJson<unknown[]>(
    await flotilla(['tasks', '--json', '--state', 'running', '--framework', row!.framework_id, '--masters', masters]),
  );
  assert.equal(running, []);
  const byShortId = parseJson<{ id: string }[]>(
    await flotilla(['tasks', '--json', '--framework', row!.framework_id.slice(0, 8), '--masters', masters]),
  );
  assert.equal(
    byShortId.map((task) => task.id),
    [taskId],
    'the short id the table shows works as --framework',
  );
  const typo = await flotilla(['tasks', '--state', 'finnished', '--masters', masters]);
  expectStatus(typo, 2);
  assert.match(typo.stderr, /"finnished" is not a task state; use one of staging, starting, running/);

  const frameworks = await flotilla(['frameworks', '--all', '--masters', masters]);
  expectStatus(frameworks, 0);
  assert.match(frameworks.stdout, new RegExp(`^${row!.framework_id}\\s+flotilla-run\\s+COMPLETED`, 'm'));
  const active = await flotilla(['frameworks', '--masters', masters]);
  assert.match(active.stdout, /completed framework\(s\) not shown: --all lists them/);

  const stdout = await flotilla(['logs', taskId, '--masters', masters]);
  expectStatus(stdout, 0);
  assert.is(stdout.stdout, 'out-line\n');
  const stderr = await flotilla(['logs', taskId, '--stderr', '--masters', masters]);
  assert.is(stderr.stdout, 'err-line\n');
  const json = await flotilla(['logs', taskId, '--json', '--masters', masters]);
  assert.equal(JSON.parse(json.stdout), { task_id: taskId, file: 'stdout', offset: 0, data: 'out-line\n' });
  const missing = await flotilla(['logs', 'no-such-task', '--masters', masters]);
  expectStatus(missing, 1);
  assert.match(missing.stderr, /no task no-such-task/);
});

test('logs --follow prints what the task writes as it writes it, and ends once it has ended', async () => {
  // The task writes "two" only once the test has seen "one" and lets it go: no sleep to outrun.
  const gate = path.join(makeTempDir('logs-follow-'), 'go');
  const script = `echo one; while [ ! -e ${gate} ]; do sleep 0.1; done; echo two`;
  const run = startFlotilla(['run', '--no-output', '--masters', masters, '--', script]);
  await run.waitForOutput(/TASK_RUNNING/, 'the task to run');
  const taskId = launchedTaskId(run.stdout())!;
  const follow = startFlotilla(['logs', taskId, '--follow', '--masters', masters]);
  await follow.waitForOutput(/^one$/m, '"one" before the task ends');
  assert.not.match(follow.stdout(), /two/);
  writeFileSync(gate, '');
  const ended = await follow.done;
  expectStatus(ended, 0);
  assert.is(ended.stdout, 'one\ntwo\n');
  expectStatus(await run.done, 0);
});

test('tasks --watch prints a task launched after it started', async () => {
  const watch = startFlotilla(['tasks', '--watch', '--masters', masters]);
  await watch.waitForOutput(/watching task changes on/, 'the watch to subscribe');
  const run = await flotilla(['run', '--name', 'watched', '--masters', masters, '--', 'true']);
  expectStatus(run, 0);
  const taskId = launchedTaskId(run.stdout)!;
  const escaped = taskId.replace(/\./g, '\\.');
  await watch.waitForOutput(new RegExp(`TASK_STAGING ${escaped} framework=`), 'the new task');
  await watch.waitForOutput(new RegExp(`TASK_FINISHED ${escaped} framework=`), 'its end');
  watch.child.kill('SIGTERM');
  expectStatus(await watch.done, 0);
});

test('kill: KILL_TASK ends a running task; its connected scheduler hears TASK_KILLED and keeps its stream', async () => {
  const run = startFlotilla(['run', '--name', 'victim', '--masters', masters, '--', 'sleep 300']);
  await run.waitForOutput(/TASK_RUNNING/, 'the task to run');
  const taskId = launchedTaskId(run.stdout())!;
  const killed = await flotilla(['kill', taskId, '--json', '--masters', masters]);
  expectStatus(killed, 0);
  assert.is(parseJson<{ state: string }>(killed).state, 'TASK_KILLED');
  // `flotilla run` kept its stream, heard TASK_KILLED and ended: not finished, status 1.
  const ended = await run.done;
  expectStatus(ended, 1);
  assert.match(ended.stdout, /TASK_KILLED/);
  assert.not.match(ended.stdout, /Framework failed over/);
  const again = await flotilla(['kill', taskId, '--masters', masters]);
  expectStatus(again, 1);
  assert.match(again.stderr, /has already ended: TASK_KILLED/);
});

test('kill: a task whose scheduler has gone (framework disconnected) is killed too', async () => {
  const run = startFlotilla(['run', '--name', 'orphan', '--masters', masters, '--', 'sleep 300']);
  await run.waitForOutput(/TASK_RUNNING/, 'the task to run');
  const taskId = launchedTaskId(run.stdout())!;
  const frameworkId = /subscribed as framework (\S+)/.exec(run.stdout())![1]!;
  run.child.kill('SIGKILL');
  await run.done;
  await waitFor(
    async () => {
      const rows = parseJson<{ id: string; state: string }[]>(
        await flotilla(['frameworks', '--json', '--masters', masters]),
      );
      return rows.find((row) => row.id === frameworkId)?.state === 'DISCONNECTED';
    },
    { timeoutMs: 60_000, what: `framework ${frameworkId} to be disconnected`, intervalMs: 500 },
  );
  const killed = await flotilla(['kill', taskId, '--masters', masters]);
  expectStatus(killed, 0);
  assert.match(
    killed.stdout,
    new RegExp(`task ${taskId.replace(/\./g, '\\.')} \\(framework ${frameworkId}\\) is TASK_KILLED`),
  );
});

test('tasks --watch follows the new leader when the leader dies', async () => {
  const watch = startFlotilla(['tasks', '--watch', '--masters', masters]);
  await watch.waitForOutput(/watching task changes on/, 'the watch to subscribe');
  const leader = await cluster.leader();
  await cluster.masters.kill(leader);
  const next = await cluster.leader(60_000, [leader.id]);
  await waitFor(() => /resubscribed on/.test(watch.stderr()), {
    timeoutMs: 60_000,
    what: `the watch to resubscribe after ${leader.id} died (stderr: ${watch.stderr()})`,
    intervalMs: 200,
  });
  assert.match(watch.stderr(), new RegExp(`resubscribed on ${next.address}`));
  const run = await flotilla(['run', '--name', 'after-failover', '--masters', masters, '--', 'true']);
  expectStatus(run, 0);
  const escaped = launchedTaskId(run.stdout)!.replace(/\./g, '\\.');
  await watch.waitForOutput(new RegExp(`TASK_FINISHED ${escaped} framework=`), 'the task launched after the failover');
  watch.child.kill('SIGTERM');
  expectStatus(await watch.done, 0);
});

test.run();
