// Schedules end to end (issue 14, "Guarantees" and "Tests"): three real masters, a real agent
// and `flotilla jobs` as its own process, whose clock is a file this test steps, so minute
// slots pass without minutes of wall time. Each slot runs at most once and is never silently
// skipped: across a SIGKILL of the masters' leader (the slot due while no leader exists runs
// late, within startingDeadlineSeconds), across a SIGKILL and restart of the framework itself,
// under FORBID (the overlapping slot is recorded as skipped, with the reason), and past the
// starting deadline (recorded as skipped). Runs are counted from the history and from the
// tasks the agent actually ran (each appends a line to the runs file).
// flotilla-test-timeout-seconds: 500
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster } from '../e2e/support/cluster.ts';
import { waitFor } from '../support/wait.ts';
import { type HistoryBody, JobsProcess, jobSpec, type RunBody, TestClock } from './support/jobs.ts';

const agentResources = 'cpus:2;mem:2048;disk:1000;ports:[31000-31009]';
const waitTimeoutMs = 120_000;
const minuteMs = 60_000;
/** 2030-01-01T10:00:30Z: half a minute past a slot of `* * * * *`. */
const startMs = Date.UTC(2030, 0, 1, 10, 0, 30);

let cluster: E2eCluster;
let clock: TestClock;
let jobs: JobsProcess;
test.before(async () => {
  cluster = await E2eCluster.start('jobs-schedule', [agentResources]);
  clock = new TestClock(path.join(cluster.root, 'clock'), startMs);
  jobs = await JobsProcess.start(cluster.masterList, ['--test-clock-file', clock.file]);
});
test.after(async () => {
  await jobs?.kill();
  await cluster?.stop();
});

const recorded = (then: string): string => `echo "$MESOS_TASK_ID $$" >> '${cluster.runsFile}'; ${then}`;

function withOutput(error: Error): never {
  throw new Error(`${error.message}\njobs output:\n${jobs.output.slice(-5000)}`);
}

async function history(jobId: string): Promise<HistoryBody> {
  return (await jobs.expect<{ history: HistoryBody }>(200, 'GET', `/v1/jobs/${jobId}?embed=history`)).history;
}

async function waitForHistory(
  jobId: string,
  what: string,
  done: (history: HistoryBody) => boolean,
): Promise<HistoryBody> {
  return waitFor(
    async () => {
      const current = await history(jobId);
      return done(current) ? current : null;
    },
    { timeoutMs: waitTimeoutMs, what: `${jobId}: ${what}`, intervalMs: 200 },
  ).catch(withOutput);
}

/** The start of the minute after the clock's, plus `seconds`. */
function nextMinute(seconds = 5): number {
  return Math.floor(clock.nowMs / minuteMs) * minuteMs + minuteMs + seconds * 1000;
}

async function createScheduled(id: string, cmd: string, schedule: Record<string, unknown>): Promise<void> {
  await jobs.expect(201, 'POST', '/v1/jobs', jobSpec(id, cmd, { schedules: [{ id: 'every', ...schedule }] }));
}

/** The slot each finished run was started for, from the runs themselves. */
async function slotsOfRuns(jobId: string, runIds: readonly string[]): Promise<string[]> {
  const slots: string[] = [];
  for (const runId of runIds) {
    const run = await jobs.expect<RunBody>(200, 'GET', `/v1/jobs/${jobId}/runs/${runId}`);
    assert.is(run.trigger.kind, 'schedule');
    slots.push(run.trigger.slotAt!);
  }
  return slots.sort();
}

const tasksRun = (jobId: string): string[] =>
  cluster
    .runs()
    .map((line) => line.taskId)
    .filter((taskId) => taskId.startsWith(`${jobId}_`));

test('* * * * * runs once in each of three minute slots while the leader is SIGKILLed during one', async () => {
  await createScheduled('tick', recorded('true'), { cron: '* * * * *' });
  const firstSlot = nextMinute(0);
  clock.set(nextMinute());
  await waitForHistory('tick', 'one run', (current) => current.successCount === 1);

  const leader = await cluster.leader();
  await cluster.masters.kill(leader, 'SIGKILL');
  // The second slot comes due while no leader exists: decided late, once a new leader serves.
  clock.set(nextMinute());
  await waitForHistory('tick', 'the slot due during the failover to run', (current) => current.successCount === 2);
  cluster.masters.launch(leader);
  clock.set(nextMinute());
  const done = await waitForHistory('tick', 'the third slot', (current) => current.successCount === 3);

  assert.is(done.failureCount, 0);
  assert.equal(done.skippedSlots, []);
  const slots = await slotsOfRuns(
    'tick',
    done.successfulFinishedRuns.map((run) => run.id),
  );
  const expected = [0, 1, 2].map((minutes) =>
    new Date(firstSlot + minutes * minuteMs).toISOString().replace('Z', '+0000'),
  );
  assert.equal(slots, expected, 'one run per slot: three runs, not two, not four');
  const ran = tasksRun('tick');
  assert.is(ran.length, 3, `the agent ran three tasks: ${ran.join(', ')}`);
  assert.is(new Set(ran).size, 3);
  await jobs.expect(200, 'DELETE', '/v1/jobs/tick');
});

test('a SIGKILL and restart of the framework mid-run loses no run and repeats none', async () => {
  await createScheduled('tock', recorded('sleep 3'), { cron: '* * * * *' });
  clock.set(nextMinute());
  const running = await waitFor(
    async () => {
      const runs = await jobs.expect<RunBody[]>(200, 'GET', '/v1/jobs/tock/runs');
      return runs.find((run) => run.status === 'ACTIVE');
    },
    { timeoutMs: waitTimeoutMs, what: 'the first run of tock to be ACTIVE', intervalMs: 100 },
  ).catch(withOutput);
  await jobs.kill('SIGKILL');
  // While the framework is down its task finishes, and the next slot comes due.
  clock.set(nextMinute());
  await jobs.launch();
  const done = await waitForHistory('tock', 'both slots to finish', (current) => current.successCount === 2);
  assert.ok(
    done.successfulFinishedRuns.some((run) => run.id === running.id),
    'the run cut off by the kill finished',
  );
  assert.is(done.failureCount, 0);
  const ran = tasksRun('tock');
  assert.is(ran.length, 2, `two slots, two tasks on the agent: ${ran.join(', ')}`);
  assert.is(new Set(ran).size, 2);
  await jobs.expect(200, 'DELETE', '/v1/jobs/tock');
});

test('FORBID skips a slot that overlaps an active run and records why', async () => {
  await createScheduled('long', recorded('sleep 600'), { cron: '* * * * *', concurrencyPolicy: 'FORBID' });
  const firstSlot = nextMinute(0);
  clock.set(nextMinute());
  const first = await waitFor(
    async () => (await jobs.expect<RunBody[]>(200, 'GET', '/v1/jobs/long/runs')).find((run) => run.status === 'ACTIVE'),
    { timeoutMs: waitTimeoutMs, what: 'the first run of long to be ACTIVE', intervalMs: 100 },
  ).catch(withOutput);
  clock.set(nextMinute());
  const skipped = await waitForHistory(
    'long',
    'the overlapping slot to be skipped',
    (current) => current.skippedSlots.length > 0,
  );
  assert.equal(skipped.skippedSlots, [
    {
      scheduleId: 'every',
      firstSlotAt: new Date(firstSlot + minuteMs).toISOString().replace('Z', '+0000'),
      lastSlotAt: new Date(firstSlot + minuteMs).toISOString().replace('Z', '+0000'),
      count: 1,
      reason: 'CONCURRENCY_FORBID',
      recordedAt: new Date(clock.nowMs).toISOString().replace('Z', '+0000'),
    },
  ]);
  const active = await jobs.expect<RunBody[]>(200, 'GET', '/v1/jobs/long/runs');
  assert.equal(
    active.map((run) => run.id),
    [first.id],
    'no second run',
  );
  const stopped = await jobs.expect<RunBody>(200, 'POST', `/v1/jobs/long/runs/${first.id}/actions/stop`);
  assert.is(stopped.id, first.id);
  await waitForHistory('long', 'the stopped run to fail', (current) => current.failureCount === 1);
  clock.set(nextMinute());
  await waitFor(
    async () =>
      (await jobs.expect<RunBody[]>(200, 'GET', '/v1/jobs/long/runs')).some(
        (run) => run.id !== first.id && run.status === 'ACTIVE',
      ),
    { timeoutMs: waitTimeoutMs, what: 'the next slot to run once the first run was stopped', intervalMs: 100 },
  ).catch(withOutput);
  assert.is((await jobs.api('DELETE', '/v1/jobs/long')).status, 409, 'a job with active runs is kept');
  await jobs.expect(200, 'DELETE', '/v1/jobs/long?stopCurrentJobRuns=true');
  assert.is(tasksRun('long').length, 2);
});

test('slots past startingDeadlineSeconds are recorded as skipped, not run', async () => {
  await createScheduled('hourly', recorded('true'), { cron: '0 * * * *', startingDeadlineSeconds: 60 });
  const created = clock.nowMs;
  // Three and a half hours pass with no decision (as if no leader existed): every slot is stale.
  clock.set(created + 3.5 * 3600_000);
  const done = await waitForHistory(
    'hourly',
    'the stale slots to be recorded',
    (current) => current.skippedSlots.length > 0,
  );
  assert.is(done.skippedSlots.length, 1);
  const entry = done.skippedSlots[0]!;
  assert.is(entry.reason, 'STARTING_DEADLINE_PASSED');
  assert.is(entry.count, 3, 'three hourly slots passed');
  assert.is(done.successCount + done.failureCount, 0);
  assert.equal(await jobs.expect(200, 'GET', '/v1/jobs/hourly/runs'), []);
  assert.is(tasksRun('hourly').length, 0);
  const schedule = await jobs.expect<{ nextRunAt: string }>(200, 'GET', '/v1/jobs/hourly/schedules/every');
  assert.ok(Date.parse(schedule.nextRunAt.replace('+0000', 'Z')) > clock.nowMs, schedule.nextRunAt);
});

test.run();
