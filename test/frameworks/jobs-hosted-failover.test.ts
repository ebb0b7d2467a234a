// Issue 14's failover test with the jobs framework hosted by the masters: three real masters
// (`--jobs hosted`, with the hidden test flag --jobs-test-clock-file, so minute slots pass
// without minutes of wall time) and a real agent. A `* * * * *` schedule runs once in each of
// three slots while the leading master — and with it the framework's instance — is SIGKILLed
// during one: the next leader's instance reloads the job from the KV store and runs the slot
// that came due meanwhile, late, within startingDeadlineSeconds. Runs are counted from the
// history and from the tasks the agent ran (each appends a line to the runs file). The API is
// used through a follower's port, which forwards to whichever master leads. A second test cuts the
// leader off (SIGSTOP) instead, and lets it come back believing it still leads.
// flotilla-test-timeout-seconds: 500
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster } from '../e2e/support/cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { callApi, follower, waitForApi } from './support/hosted.ts';
import { type HistoryBody, jobSpec, type RunBody, TestClock } from './support/jobs.ts';

const agentResources = 'cpus:2;mem:2048;disk:1000;ports:[31000-31009]';
const waitTimeoutMs = 120_000;
const minuteMs = 60_000;
/** 2030-01-01T10:00:30Z: half a minute past a slot of `* * * * *`. */
const startMs = Date.UTC(2030, 0, 1, 10, 0, 30);

let cluster: E2eCluster;
let clock: TestClock;
test.before(async () => {
  // The hosted framework reads the clock file when its master starts: it must exist first.
  clock = new TestClock(path.join(makeTempDir('jobs-hosted-clock-'), 'clock'), startMs);
  cluster = await E2eCluster.start(
    'jobs-hosted',
    [agentResources],
    ['--jobs', 'hosted', '--jobs-test-clock-file', clock.file],
  );
});
test.after(async () => {
  await cluster?.stop();
});

function masterOutputs(error: Error): never {
  const outputs = cluster.masters.replicas.map((replica) => `--- ${replica.id}\n${replica.output.slice(-3000)}`);
  throw new Error(`${error.message}\n${outputs.join('\n')}`);
}

/** Masters that run but cannot answer (SIGSTOPped): the test talks to neither. */
let frozen: string[] = [];

/** Any live master that does not lead now: the API through its port. */
async function entry(): Promise<string> {
  return (await follower(cluster, frozen)).address;
}

async function history(jobId: string): Promise<HistoryBody | null> {
  const answer = await callApi<{ history: HistoryBody }>(await entry(), 'GET', `/v1/jobs/${jobId}?embed=history`);
  return answer.status === 200 ? answer.body.history : null;
}

async function waitForHistory(
  jobId: string,
  what: string,
  done: (history: HistoryBody) => boolean,
): Promise<HistoryBody> {
  return waitFor(
    async () => {
      const current = await history(jobId).catch(() => null);
      return current !== null && done(current) ? current : null;
    },
    { timeoutMs: waitTimeoutMs, what: `${jobId}: ${what}`, intervalMs: 200 },
  ).catch(masterOutputs);
}

/** The start of the minute after the clock's, plus `seconds`. */
function nextMinute(seconds = 5): number {
  return Math.floor(clock.nowMs / minuteMs) * minuteMs + minuteMs + seconds * 1000;
}

test('hosted: * * * * * runs once in each of three slots while the leading master is SIGKILLed during one', async () => {
  const address = await entry();
  await waitForApi(address, '/v1/jobs').catch(masterOutputs);
  const recorded = `echo "$MESOS_TASK_ID $$" >> '${cluster.runsFile}'; true`;
  const created = await callApi(
    address,
    'POST',
    '/v1/jobs',
    jobSpec('tick', recorded, { schedules: [{ id: 'every', cron: '* * * * *' }] }),
  );
  assert.is(created.status, 201, JSON.stringify(created.body));
  const firstSlot = nextMinute(0);
  clock.set(nextMinute());
  await waitForHistory('tick', 'one run', (current) => current.successCount === 1);

  const leader = await cluster.leader();
  await cluster.masters.kill(leader, 'SIGKILL');
  // The second slot comes due while no leader exists: the next leader's instance decides it late.
  clock.set(nextMinute());
  await waitForHistory('tick', 'the slot due during the failover to run', (current) => current.successCount === 2);
  cluster.masters.launch(leader);
  clock.set(nextMinute());
  const done = await waitForHistory('tick', 'the third slot', (current) => current.successCount === 3);

  assert.is(done.failureCount, 0);
  assert.equal(done.skippedSlots, []);
  const slots: string[] = [];
  for (const run of done.successfulFinishedRuns) {
    const answer = await callApi<RunBody>(await entry(), 'GET', `/v1/jobs/tick/runs/${run.id}`);
    assert.is(answer.status, 200, JSON.stringify(answer.body));
    assert.is(answer.body.trigger.kind, 'schedule');
    slots.push(answer.body.trigger.slotAt!);
  }
  const expected = [0, 1, 2].map((minutes) =>
    new Date(firstSlot + minutes * minuteMs).toISOString().replace('Z', '+0000'),
  );
  assert.equal(slots.sort(), expected, 'one run per slot: three runs, not two, not four');
  const ran = cluster
    .runs()
    .map((line) => line.taskId)
    .filter((taskId) => taskId.startsWith('tick_'));
  assert.is(ran.length, 3, `the agent ran three tasks: ${ran.join(', ')}`);
  assert.is(new Set(ran).size, 3);
});

/** The slots the job's successful runs were started for, and the tasks the agent ran for it. */
async function slotsAndTasks(jobId: string, done: HistoryBody): Promise<{ slots: string[]; tasks: string[] }> {
  const slots: string[] = [];
  for (const run of done.successfulFinishedRuns) {
    const answer = await callApi<RunBody>(await entry(), 'GET', `/v1/jobs/${jobId}/runs/${run.id}`);
    assert.is(answer.status, 200, JSON.stringify(answer.body));
    slots.push(answer.body.trigger.slotAt!);
  }
  const tasks = cluster
    .runs()
    .map((line) => line.taskId)
    .filter((taskId) => taskId.startsWith(`${jobId}_`));
  return { slots: slots.sort(), tasks };
}

function signal(pid: number | undefined, name: 'SIGSTOP' | 'SIGCONT'): void {
  assert.ok(pid !== undefined, 'the leader runs');
  process.kill(pid, name);
}

// A partition cuts the leader off while it still believes it leads: modelled by SIGSTOP, which
// freezes it (its Raft, its hosted instance and its timers) while the two others elect a leader
// whose instance decides the slot that comes due. On SIGCONT the old leader's instance wakes with
// a stale record and a clock past that slot: its decision must not commit (the KV write goes
// through a Raft it no longer leads, and the record's CAS is stale), so the slot still runs once.
test('hosted: a leader cut off (SIGSTOP) while a slot comes due, then back: one run per slot', async () => {
  const address = await entry();
  const recorded = `echo "$MESOS_TASK_ID $$" >> '${cluster.runsFile}'; true`;
  const job = jobSpec('cutoff', recorded, { schedules: [{ id: 'every', cron: '* * * * *' }] });
  const created = await callApi(address, 'POST', '/v1/jobs', job);
  assert.is(created.status, 201, JSON.stringify(created.body));
  const firstSlot = nextMinute(0);
  clock.set(nextMinute());
  await waitForHistory('cutoff', 'one run', (current) => current.successCount === 1);

  const leader = await cluster.leader();
  const pid = leader.child?.pid;
  signal(pid, 'SIGSTOP');
  frozen = [leader.id];
  try {
    clock.set(nextMinute());
    await waitForHistory('cutoff', 'the new leader to run the slot', (current) => current.successCount === 2);
  } finally {
    signal(pid, 'SIGCONT');
    frozen = [];
  }
  // Until the old leader knows it no longer leads, its instance may try to decide the slot again.
  await waitFor(
    async () => {
      const status = await cluster.masters.status(leader);
      return status !== null && status.role !== 'leader' && Boolean(status.leader) && status.leader !== leader.id;
    },
    { timeoutMs: waitTimeoutMs, what: `${leader.id} to learn it no longer leads`, intervalMs: 200 },
  ).catch(masterOutputs);
  clock.set(nextMinute());
  const done = await waitForHistory('cutoff', 'the third slot', (current) => current.successCount === 3);
  assert.is(done.failureCount, 0);
  const { slots, tasks } = await slotsAndTasks('cutoff', done);
  const expected = [0, 1, 2].map((minutes) =>
    new Date(firstSlot + minutes * minuteMs).toISOString().replace('Z', '+0000'),
  );
  assert.equal(slots, expected, 'one run per slot');
  assert.is(tasks.length, 3, `the agent ran three tasks: ${tasks.join(', ')}`);
});

test.run();
