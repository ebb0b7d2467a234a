// The jobs framework's Metronome API end to end (issue 14, "Tests"): three real masters, a
// real agent, and `flotilla jobs` as its own process. A job started by POST runs and shows
// SUCCESS in history; bad specs answer 422 naming the field and change nothing; unknown jobs
// and runs answer 404; ON_FAILURE restarts a failing command until activeDeadlineSeconds;
// a dependent job runs after its parent succeeds and not after a failure.
// flotilla-test-timeout-seconds: 400
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster } from '../e2e/support/cluster.ts';
import { waitFor } from '../support/wait.ts';
import { type HistoryBody, JobsProcess, jobSpec, type RunBody } from './support/jobs.ts';

const agentResources = 'cpus:2;mem:2048;disk:1000;ports:[31000-31009]';
const waitTimeoutMs = 120_000;

let cluster: E2eCluster;
let jobs: JobsProcess;
test.before(async () => {
  cluster = await E2eCluster.start('jobs-api', [agentResources]);
  jobs = await JobsProcess.start(cluster.masterList);
});
test.after(async () => {
  await jobs?.kill();
  await cluster?.stop();
});

/** Appends "<task id> <pid>" to the runs file, then runs `then`. */
const recorded = (then: string): string => `echo "$MESOS_TASK_ID $$" >> '${cluster.runsFile}'; ${then}`;

function withOutput(error: Error): never {
  throw new Error(`${error.message}\njobs output:\n${jobs.output.slice(-4000)}`);
}

async function runStatus(jobId: string, runId: string, status: string): Promise<RunBody> {
  return waitFor(
    async () => {
      const run = await jobs.expect<RunBody>(200, 'GET', `/v1/jobs/${jobId}/runs/${runId}`);
      return run.status === status ? run : null;
    },
    { timeoutMs: waitTimeoutMs, what: `run ${runId} of ${jobId} to be ${status}`, intervalMs: 200 },
  ).catch(withOutput);
}

async function history(jobId: string): Promise<HistoryBody> {
  return (await jobs.expect<{ history: HistoryBody }>(200, 'GET', `/v1/jobs/${jobId}?embed=history`)).history;
}

test('a job started by POST runs once and shows SUCCESS in history', async () => {
  const created = await jobs.expect<Record<string, unknown>>(
    201,
    'POST',
    '/v1/jobs',
    jobSpec('hello', recorded('echo hi')),
  );
  assert.equal(created, {
    id: 'hello',
    labels: {},
    run: {
      cpus: 0.1,
      mem: 32,
      disk: 0,
      gpus: 0,
      cmd: created.run && (created.run as { cmd: string }).cmd,
      env: {},
      placement: { constraints: [] },
      artifacts: [],
      maxLaunchDelay: 3600,
      volumes: [],
      restart: { policy: 'NEVER' },
    },
  });
  const run = await jobs.expect<RunBody & { jobId: string; createdAt: string }>(201, 'POST', '/v1/jobs/hello/runs');
  assert.is(run.jobId, 'hello');
  assert.ok(['INITIAL', 'STARTING'].includes(run.status), run.status);
  assert.match(run.id, /^\d{14}[A-Za-z0-9]{5}$/);
  assert.match(run.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
  const finished = await runStatus('hello', run.id, 'SUCCESS');
  assert.is(finished.tasks.length, 1);
  assert.is(finished.tasks[0]!.status, 'TASK_FINISHED');
  const done = await history('hello');
  assert.is(done.successCount, 1);
  assert.is(done.failureCount, 0);
  assert.equal(
    done.successfulFinishedRuns.map((entry) => [entry.id, entry.tasks]),
    [[run.id, [finished.tasks[0]!.id]]],
  );
  assert.ok(done.lastSuccessAt !== null);
  assert.equal(await jobs.expect(200, 'GET', '/v1/jobs/hello/runs'), [], 'no active run is left');
  const lines = cluster.runs().filter((line) => line.taskId.startsWith('hello_'));
  assert.equal(
    lines.map((line) => line.taskId),
    [finished.tasks[0]!.id],
    'the agent ran the task exactly once',
  );
});

test('bad specs answer 422 naming the field, and change nothing', async () => {
  const cases: [unknown, string][] = [
    [{ id: 'no-cpus', run: { cmd: 'true', mem: 32, disk: 0 } }, '/run/cpus'],
    [jobSpec('small-mem', 'true', {}, { mem: 16 }), '/run/mem'],
    [jobSpec('Bad_Id', 'true'), '/id'],
    [{ id: 'no-run' }, '/run'],
    [jobSpec('both', 'true', {}, { args: ['true'] }), '/run'],
    [jobSpec('policy', 'true', {}, { restart: { policy: 'SOMETIMES' } }), '/run/restart/policy'],
    [jobSpec('unknown-field', 'true', { colour: 'red' }), '/colour'],
    [jobSpec('orphan', 'true', { dependencies: [{ id: 'no-such-parent' }] }), '/dependencies/0/id'],
    [jobSpec('bad-cron', 'true', { schedules: [{ id: 'every', cron: '* * *' }] }), '/schedules/0/cron'],
    [
      jobSpec('bad-zone', 'true', { schedules: [{ id: 'every', cron: '* * * * *', timezone: 'Mars/Olympus' }] }),
      '/schedules/0/timezone',
    ],
  ];
  for (const [body, path] of cases) {
    const answer = await jobs.api<{ message: string; details: { path: string; errors: string[] }[] }>(
      'POST',
      '/v1/jobs',
      body,
    );
    assert.is(answer.status, 422, `${JSON.stringify(body)} → ${JSON.stringify(answer.body)}`);
    assert.is(answer.body.message, 'Object is not valid');
    assert.ok(
      answer.body.details.some((detail) => detail.path === path && detail.errors.length > 0),
      `${path} named in ${JSON.stringify(answer.body.details)}`,
    );
  }
  const ids = (await jobs.expect<{ id: string }[]>(200, 'GET', '/v1/jobs')).map((job) => job.id);
  assert.not.ok(
    ids.some(
      (id) =>
        id !== 'hello' &&
        id !== 'parent' &&
        !id.startsWith('retry') &&
        !id.startsWith('child') &&
        !id.startsWith('flaky'),
    ),
    ids.join(','),
  );
  await jobs.expect(201, 'POST', '/v1/jobs', jobSpec('scheduled', 'true'));
  const badSchedule = await jobs.api<{ details: { path: string }[] }>('POST', '/v1/jobs/scheduled/schedules', {
    id: 'nightly',
    cron: '0 3 * * *',
    startingDeadlineSeconds: 5,
  });
  assert.is(badSchedule.status, 422);
  assert.equal(
    badSchedule.body.details.map((detail) => detail.path),
    ['/startingDeadlineSeconds'],
  );
  assert.equal(await jobs.expect(200, 'GET', '/v1/jobs/scheduled/schedules'), []);
});

test('an unknown job, run or schedule answers 404 in Metronome shape', async () => {
  assert.equal(await jobs.expect(404, 'GET', '/v1/jobs/nope'), {
    message: 'Job not found',
    id: 'nope',
    code: 'JOB_NOT_FOUND',
  });
  await jobs.expect(404, 'POST', '/v1/jobs/nope/runs');
  await jobs.expect(404, 'PUT', '/v1/jobs/nope', jobSpec('nope', 'true'));
  await jobs.expect(404, 'DELETE', '/v1/jobs/nope');
  await jobs.expect(404, 'GET', '/v1/jobs/nope/schedules');
  const run = await jobs.expect<{ message: string; jobSpec: string }>(
    404,
    'GET',
    '/v1/jobs/hello/runs/20990101000000abcde',
  );
  assert.is(run.message, 'Job Run not found');
  assert.is(run.jobSpec, 'hello');
  await jobs.expect(404, 'GET', '/v1/jobs/hello/schedules/nope');
  await jobs.expect(409, 'POST', '/v1/jobs', jobSpec('hello', 'true'));
});

test('ON_FAILURE restarts a failing command with back-off until activeDeadlineSeconds, then the run fails', async () => {
  const restart = { policy: 'ON_FAILURE', activeDeadlineSeconds: 6 };
  await jobs.expect(201, 'POST', '/v1/jobs', jobSpec('retry', recorded('exit 3'), {}, { restart }));
  const run = await jobs.expect<RunBody>(201, 'POST', '/v1/jobs/retry/runs');
  const failed = await runStatus('retry', run.id, 'FAILED');
  const attempts = (failed as unknown as { attempts: number }).attempts;
  assert.ok(attempts >= 2, `restarted at least once, made ${attempts} attempts`);
  assert.ok(
    failed.tasks.every((task) => task.status === 'TASK_FAILED'),
    JSON.stringify(failed.tasks),
  );
  const ran = cluster.runs().filter((line) => line.taskId.startsWith('retry_'));
  assert.is(ran.length, attempts, 'each attempt ran once on the agent');
  const retried = await history('retry');
  assert.is(retried.failureCount, 1);
  assert.equal(
    retried.failedFinishedRuns.map((entry) => entry.tasks),
    [failed.tasks.map((task) => task.id)],
    "the history entry lists the run's task ids (Metronome >= 0.6 JobRunInfo.tasks)",
  );

  await jobs.expect(201, 'POST', '/v1/jobs', jobSpec('retry-never', recorded('exit 3')));
  const once = await jobs.expect<RunBody>(201, 'POST', '/v1/jobs/retry-never/runs');
  const neverRetried = await runStatus('retry-never', once.id, 'FAILED');
  assert.is(neverRetried.tasks.length, 1, 'NEVER: one attempt');
});

test('a dependent job runs after its parent succeeds, and not after its parent fails', async () => {
  await jobs.expect(201, 'POST', '/v1/jobs', jobSpec('parent', recorded('true')));
  await jobs.expect(201, 'POST', '/v1/jobs', jobSpec('flaky', recorded('exit 1')));
  await jobs.expect(201, 'POST', '/v1/jobs', jobSpec('child', recorded('true'), { dependencies: [{ id: 'parent' }] }));
  await jobs.expect(
    201,
    'POST',
    '/v1/jobs',
    jobSpec('child-of-flaky', recorded('true'), { dependencies: [{ id: 'flaky' }] }),
  );
  // The parent of a job cannot be deleted while the job depends on it.
  await jobs.expect(409, 'DELETE', '/v1/jobs/flaky');

  const flaky = await jobs.expect<RunBody>(201, 'POST', '/v1/jobs/flaky/runs');
  await runStatus('flaky', flaky.id, 'FAILED');
  const parent = await jobs.expect<RunBody>(201, 'POST', '/v1/jobs/parent/runs');
  await runStatus('parent', parent.id, 'SUCCESS');
  const childRun = await waitFor(async () => (await history('child')).successfulFinishedRuns[0], {
    timeoutMs: waitTimeoutMs,
    what: 'the child to run after its parent succeeded',
    intervalMs: 200,
  }).catch(withOutput);
  const child = await jobs.expect<RunBody & { trigger: { kind: string; parents: Record<string, string> } }>(
    200,
    'GET',
    `/v1/jobs/child/runs/${childRun.id}`,
  );
  assert.equal(child.trigger, { kind: 'dependencies', parents: { parent: parent.id } });
  // The child's decision came in a tick after the flaky parent's failure was recorded: had the
  // failure released its dependant, that tick would have started it.
  const afterFailure = await jobs.expect<{ activeRuns: unknown[]; history: HistoryBody }>(
    200,
    'GET',
    '/v1/jobs/child-of-flaky?embed=activeRuns&embed=history',
  );
  assert.equal(afterFailure.activeRuns, []);
  assert.is(afterFailure.history.successCount + afterFailure.history.failureCount, 0);
  assert.is(cluster.runs().filter((line) => line.taskId.startsWith('child-of-flaky_')).length, 0);

  // Once the flaky parent succeeds, its dependant runs — once.
  await jobs.expect(200, 'PUT', '/v1/jobs/flaky', jobSpec('flaky', recorded('true')));
  const fixed = await jobs.expect<RunBody>(201, 'POST', '/v1/jobs/flaky/runs');
  await runStatus('flaky', fixed.id, 'SUCCESS');
  await waitFor(async () => (await history('child-of-flaky')).successCount === 1, {
    timeoutMs: waitTimeoutMs,
    what: 'child-of-flaky to run after flaky succeeded',
    intervalMs: 200,
  }).catch(withOutput);
  assert.is(cluster.runs().filter((line) => line.taskId.startsWith('child_')).length, 1, 'the child ran once');
});

test('flotilla jobs list, show, run --wait, history and delete talk to the API', async () => {
  const { execFileSync } = await import('node:child_process');
  const cli = (...args: string[]): string =>
    execFileSync(process.execPath, ['bin/flotilla.js', 'jobs', ...args, '--api', jobs.address], { encoding: 'utf8' });
  assert.match(cli('list'), /hello\s+-\s+-\s+0\s+1\s+0/);
  assert.match(cli('show', 'hello'), /hello\n {2}command: echo/);
  assert.match(cli('run', 'hello', '--wait'), /SUCCESS/);
  assert.match(cli('history', 'hello'), /2 succeeded, 0 failed/);
  assert.is(JSON.parse(cli('history', 'hello', '--json')).successCount, 2);
  assert.match(cli('delete', 'scheduled'), /deleted job scheduled/);
  await jobs.expect(404, 'GET', '/v1/jobs/scheduled');
});

test.run();
