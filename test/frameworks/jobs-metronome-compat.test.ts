// The jobs framework hosted by three real masters, through a follower's port (which forwards to
// the leader), for what Metronome clients send beyond /v1/jobs: its v0 API (POST and PUT
// /v0/scheduled-jobs, a job together with its schedules, used by Metronome's UI and several
// clients), and the JobSpec run fields that reach the task — a Docker image with its volumes and
// `docker run` parameters, run for real on an agent with the docker containerizer — or are
// refused with a 422 naming the field when Flotilla's agents cannot honour them (an artifact URI
// no agent fetches); an artifact (a script served by a local HTTP server) fetched and run;
// schedules' CRUD and embeds as Metronome answers them; a run that cannot be placed says why and
// fails after maxLaunchDelay; DELETE of a job with an active run; and the CLI (`flotilla jobs
// add FILE|list|show|run --wait|history|delete`) through the masters, as users run it.
// flotilla-test-timeout-seconds: 400
import { createServer } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster } from '../e2e/support/cluster.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { dockerUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { waitFor } from '../support/wait.ts';
import { callApi, follower, waitForApi } from './support/hosted.ts';
import { type HistoryBody, jobSpec } from './support/jobs.ts';

const noDocker = await dockerUnavailableReason();
const image = process.env.FLOTILLA_TEST_IMAGE ?? 'flotilla-test:busybox';
const waitTimeoutMs = 120_000;

let cluster: E2eCluster;
test.before(async () => {
  cluster = await E2eCluster.start('jobs-compat', [], ['--jobs', 'hosted']);
  const containerizers = noDocker === undefined ? ['--containerizers', 'process,docker'] : [];
  await cluster.addAgent('cpus:2;mem:1024;disk:400;ports:[31000-31009]', containerizers);
});
test.after(async () => {
  await cluster?.stop();
});

async function entry(): Promise<string> {
  const address = (await follower(cluster)).address;
  await waitForApi(address, '/v1/jobs');
  return address;
}

interface ProblemBody {
  readonly message: string;
  readonly code: string;
  readonly details?: readonly { path: string; errors: readonly string[] }[];
}

function paths(body: ProblemBody): string[] {
  return (body.details ?? []).map((detail) => detail.path);
}

test('v0: POST /v0/scheduled-jobs creates a job with its schedules; PUT replaces both', async () => {
  const address = await entry();
  const schedule = { id: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin' };
  const created = await callApi<Record<string, unknown>>(
    address,
    'POST',
    '/v0/scheduled-jobs',
    jobSpec('v0-job', 'true', { schedules: [schedule] }),
  );
  assert.is(created.status, 201, JSON.stringify(created.body));
  const schedules = created.body.schedules as Record<string, unknown>[];
  assert.is(schedules.length, 1);
  assert.equal(
    { ...schedules[0], nextRunAt: undefined },
    {
      ...schedule,
      startingDeadlineSeconds: 900,
      concurrencyPolicy: 'ALLOW',
      enabled: true,
      nextRunAt: undefined,
    },
  );
  assert.match(String(schedules[0]!.nextRunAt), /^\d{4}-\d\d-\d\dT0[12]:00:00\.000\+0000$/);
  const again = await callApi(address, 'POST', '/v0/scheduled-jobs', jobSpec('v0-job', 'true'));
  assert.is(again.status, 409, JSON.stringify(again.body));

  const replaced = await callApi<Record<string, unknown>>(
    address,
    'PUT',
    '/v0/scheduled-jobs/v0-job',
    jobSpec('ignored-body-id', 'echo replaced', {
      description: 'replaced',
      schedules: [{ id: 'hourly', cron: '15 * * * *' }],
    }),
  );
  assert.is(replaced.status, 200, JSON.stringify(replaced.body));
  assert.is(replaced.body.id, 'v0-job', 'the path names the job, as Metronome copies it into the spec');
  const shown = await callApi<{ run: { cmd: string }; description: string; schedules: { id: string }[] }>(
    address,
    'GET',
    '/v1/jobs/v0-job?embed=schedules',
  );
  assert.is(shown.status, 200);
  assert.is(shown.body.run.cmd, 'echo replaced');
  assert.is(shown.body.description, 'replaced');
  assert.equal(
    shown.body.schedules.map((one) => one.id),
    ['hourly'],
  );

  const bad = await callApi<ProblemBody>(address, 'PUT', '/v0/scheduled-jobs/v0-job', {
    ...jobSpec('v0-job', 'true'),
    schedules: [{ id: 'broken', cron: '61 * * * *' }],
  });
  assert.is(bad.status, 422, JSON.stringify(bad.body));
  assert.is(bad.body.message, 'Object is not valid');
  assert.equal(paths(bad.body), ['/schedules/0/cron']);
  const unchanged = await callApi<{ schedules: { id: string }[] }>(address, 'GET', '/v1/jobs/v0-job?embed=schedules');
  assert.equal(
    unchanged.body.schedules.map((one) => one.id),
    ['hourly'],
    'a refused PUT changes nothing',
  );

  const dropped = await callApi(address, 'PUT', '/v0/scheduled-jobs/v0-job', jobSpec('v0-job', 'true'));
  assert.is(dropped.status, 200, JSON.stringify(dropped.body));
  const none = await callApi<{ schedules: unknown[] }>(address, 'GET', '/v1/jobs/v0-job/schedules');
  assert.equal(none.body, [], 'a v0 PUT without schedules leaves none');

  const unknown = await callApi<ProblemBody>(address, 'PUT', '/v0/scheduled-jobs/no-such-job', jobSpec('x', 'true'));
  assert.is(unknown.status, 404, JSON.stringify(unknown.body));
  assert.equal(
    { message: unknown.body.message, code: unknown.body.code },
    {
      message: 'Job not found',
      code: 'JOB_NOT_FOUND',
    },
  );
});

test('run fields agents cannot honour answer 422 naming the field, and make no job', async () => {
  const address = await entry();
  const cases: { run: Record<string, unknown>; path: string }[] = [
    { run: { artifacts: [{ uri: 'hdfs://namenode/tool.tgz' }] }, path: '/run/artifacts/0/uri' },
    { run: { volumes: [{ containerPath: '/data', hostPath: 'data', mode: 'RW' }] }, path: '/run/volumes' },
    {
      run: { docker: { image, parameters: [{ key: 'volume', value: '/:/host' }] } },
      path: '/run/docker/parameters/0',
    },
    {
      run: { docker: { image }, volumes: [{ containerPath: '/data', hostPath: 'a:b', mode: 'RW' }] },
      path: '/run/volumes/0/hostPath',
    },
    { run: { docker: { image }, volumes: [{ containerPath: '/data', mode: 'RW' }] }, path: '/run/volumes/0/hostPath' },
  ];
  for (const [index, one] of cases.entries()) {
    const answer = await callApi<ProblemBody>(
      address,
      'POST',
      '/v1/jobs',
      jobSpec(`refused-${index}`, 'true', {}, one.run),
    );
    assert.is(answer.status, 422, `${one.path}: ${JSON.stringify(answer.body)}`);
    assert.ok(paths(answer.body).includes(one.path), `${one.path} named: ${JSON.stringify(answer.body)}`);
    const shown = await callApi(address, 'GET', `/v1/jobs/refused-${index}`);
    assert.is(shown.status, 404, 'no job was made');
  }
});

testUnless(test, noDocker, 'a Docker job gets its volume and docker parameters, and succeeds', async () => {
  const address = await entry();
  // SUCCESS only if the volume is mounted at /data and the --env parameter reached the container.
  const cmd = 'test -d /data && echo ok > /data/ok && test "$FROM_PARAMETER" = yes';
  const created = await callApi(
    address,
    'POST',
    '/v1/jobs',
    jobSpec(
      'docker-job',
      cmd,
      {},
      {
        docker: { image, parameters: [{ key: 'env', value: 'FROM_PARAMETER=yes' }] },
        volumes: [{ containerPath: '/data', hostPath: 'shared', mode: 'RW' }],
      },
    ),
  );
  assert.is(created.status, 201, JSON.stringify(created.body));
  const run = await callApi<{ id: string }>(address, 'POST', '/v1/jobs/docker-job/runs');
  assert.is(run.status, 201, JSON.stringify(run.body));
  const history = await waitFor(
    async () => {
      const answer = await callApi<{ history: HistoryBody }>(await entry(), 'GET', '/v1/jobs/docker-job?embed=history');
      const current = answer.status === 200 ? answer.body.history : null;
      return current !== null && current.successCount + current.failureCount > 0 ? current : null;
    },
    { timeoutMs: waitTimeoutMs, what: 'the Docker run to finish', intervalMs: 250 },
  );
  const finished = await callApi(address, 'GET', `/v1/jobs/docker-job/runs/${run.body.id}`);
  assert.is(history.successCount, 1, `the run succeeded: ${JSON.stringify(finished.body)}`);
  assert.equal(
    history.successfulFinishedRuns.map((one) => one.id),
    [run.body.id],
  );
});

test('a job runs the script its artifact fetched (executable, from a local HTTP server)', async () => {
  const port = await freePort();
  const server = createServer((request, response) => {
    if (request.url !== '/tool.sh') return void response.writeHead(404).end();
    response.writeHead(200).end('#!/bin/sh\necho "fetched and ran"\n');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  try {
    const address = await entry();
    const artifacts = [{ uri: `http://127.0.0.1:${port}/tool.sh`, executable: true }];
    const cmd = 'test "$(./tool.sh)" = "fetched and ran"';
    const created = await callApi(address, 'POST', '/v1/jobs', jobSpec('artifact-job', cmd, {}, { artifacts }));
    assert.is(created.status, 201, JSON.stringify(created.body));
    const run = await callApi<{ id: string }>(address, 'POST', '/v1/jobs/artifact-job/runs');
    assert.is(run.status, 201, JSON.stringify(run.body));
    const history = await waitFor(
      async () => {
        const answer = await callApi<{ history: HistoryBody }>(
          await entry(),
          'GET',
          '/v1/jobs/artifact-job?embed=history',
        );
        const current = answer.status === 200 ? answer.body.history : null;
        return current !== null && current.successCount + current.failureCount > 0 ? current : null;
      },
      { timeoutMs: waitTimeoutMs, what: 'the artifact run to finish', intervalMs: 250 },
    );
    const finished = await callApi(address, 'GET', `/v1/jobs/artifact-job/runs/${run.body.id}`);
    assert.is(history.successCount, 1, `the run succeeded: ${JSON.stringify(finished.body)}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('schedules: POST 201, a second 409, PUT by path id, nextRunAt, DELETE; embeds; DELETE with active runs', async () => {
  const address = await entry();
  assert.is((await callApi(address, 'POST', '/v1/jobs', jobSpec('sched', 'true'))).status, 201);
  const schedule = { id: 'daily', cron: '30 4 * * *', timezone: 'America/New_York', startingDeadlineSeconds: 120 };
  const created = await callApi<Record<string, unknown>>(address, 'POST', '/v1/jobs/sched/schedules', schedule);
  assert.is(created.status, 201, JSON.stringify(created.body));
  assert.equal(Object.keys(created.body).sort(), [
    'concurrencyPolicy',
    'cron',
    'enabled',
    'id',
    'nextRunAt',
    'startingDeadlineSeconds',
    'timezone',
  ]);
  // 04:30 in New York is 09:30 or 08:30 UTC (daylight saving).
  assert.match(String(created.body.nextRunAt), /T0[89]:30:00\.000\+0000$/);
  const second = await callApi(address, 'POST', '/v1/jobs/sched/schedules', { id: 'other', cron: '* * * * *' });
  assert.is(second.status, 409, 'Metronome allows one schedule per job');
  const replaced = await callApi<Record<string, unknown>>(address, 'PUT', '/v1/jobs/sched/schedules/daily', {
    id: 'ignored',
    cron: '0 5 * * 1',
    enabled: false,
  });
  assert.is(replaced.status, 200, JSON.stringify(replaced.body));
  assert.equal([replaced.body.id, replaced.body.cron, replaced.body.enabled], ['daily', '0 5 * * 1', false]);
  assert.is(replaced.body.nextRunAt, null, 'a disabled schedule has no next run');
  const missing = await callApi(address, 'PUT', '/v1/jobs/sched/schedules/nope', { id: 'nope', cron: '* * * * *' });
  assert.is(missing.status, 404);
  const badCron = await callApi<ProblemBody>(address, 'PUT', '/v1/jobs/sched/schedules/daily', { cron: '* * * *' });
  assert.is(badCron.status, 422);
  assert.equal(paths(badCron.body), ['/cron']);

  const info = await callApi<Record<string, unknown>>(address, 'GET', '/v1/jobs/sched?embed=historySummary');
  assert.equal(info.body.historySummary, {
    successCount: 0,
    failureCount: 0,
    lastSuccessAt: null,
    lastFailureAt: null,
  });
  assert.is(info.body.schedules, undefined, 'embeds not asked for are left out');
  const list = await callApi<Record<string, unknown>[]>(address, 'GET', '/v1/jobs?embed=schedules&embed=activeRuns');
  const listed = list.body.find((job) => job.id === 'sched')!;
  assert.equal(Object.keys(listed).sort(), ['activeRuns', 'id', 'labels', 'run', 'schedules']);
  const badEmbed = await callApi<ProblemBody>(address, 'GET', '/v1/jobs?embed=everything');
  assert.is(badEmbed.status, 400);
  assert.is((await callApi(address, 'DELETE', '/v1/jobs/sched/schedules/daily')).status, 200);
  assert.is((await callApi(address, 'GET', '/v1/jobs/sched/schedules/daily')).status, 404);
});

test("a finished run is Metronome's JobRun: id, jobId, status, createdAt, completedAt, tasks with their times", async () => {
  const address = await entry();
  assert.is((await callApi(address, 'POST', '/v1/jobs', jobSpec('shape', 'true'))).status, 201);
  const started = await callApi<Record<string, unknown>>(address, 'POST', '/v1/jobs/shape/runs');
  assert.is(started.status, 201);
  assert.is(started.body.completedAt, null);
  assert.equal(started.body.tasks, []);
  const timePattern = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;
  const finished = await waitFor(
    async () => {
      const answer = await callApi<Record<string, unknown>>(
        await entry(),
        'GET',
        `/v1/jobs/shape/runs/${started.body.id}`,
      );
      return answer.body.status === 'SUCCESS' ? answer.body : null;
    },
    { timeoutMs: waitTimeoutMs, what: 'the run to succeed', intervalMs: 250 },
  );
  for (const field of ['id', 'jobId', 'status', 'createdAt', 'completedAt', 'tasks'])
    assert.ok(field in finished, `the run has ${field}`);
  assert.is(finished.jobId, 'shape');
  assert.match(String(finished.createdAt), timePattern);
  assert.match(String(finished.completedAt), timePattern);
  const tasks = finished.tasks as Record<string, unknown>[];
  assert.is(tasks.length, 1);
  assert.is(tasks[0]!.status, 'TASK_FINISHED');
  assert.match(String(tasks[0]!.id), new RegExp(`^shape_${String(started.body.id)}\\.1$`));
  assert.match(String(tasks[0]!.startedAt), timePattern);
  assert.match(String(tasks[0]!.completedAt), timePattern);
  const history = await callApi<{ history: HistoryBody }>(address, 'GET', '/v1/jobs/shape?embed=history');
  const entry0 = history.body.history.successfulFinishedRuns[0]!;
  assert.equal(Object.keys(entry0), ['id', 'createdAt', 'finishedAt', 'tasks'], "Metronome's JobRunInfo");
  assert.equal(
    [entry0.id, entry0.createdAt, entry0.finishedAt, entry0.tasks],
    [started.body.id, finished.createdAt, finished.completedAt, [tasks[0]!.id]],
  );
  assert.is(history.body.history.lastSuccessAt, finished.completedAt);
});

test('a run that cannot be placed says why (InsufficientCpus) and fails after maxLaunchDelay', async () => {
  const address = await entry();
  const huge = jobSpec('huge', 'true', {}, { cpus: 64, maxLaunchDelay: 600 });
  assert.is((await callApi(address, 'POST', '/v1/jobs', huge)).status, 201);
  const run = await callApi<{ id: string; status: string }>(address, 'POST', '/v1/jobs/huge/runs');
  assert.is(run.status, 201);
  assert.match(run.body.status, /^(INITIAL|STARTING)$/);
  const waiting = await waitFor(
    async () => {
      const answer = await callApi<{ placement?: { unusedOffers: Record<string, number> } }>(
        await entry(),
        'GET',
        `/v1/jobs/huge/runs/${run.body.id}`,
      );
      return (answer.body.placement?.unusedOffers.InsufficientCpus ?? 0) > 0 ? answer.body : null;
    },
    { timeoutMs: waitTimeoutMs, what: 'the run to say why it waits', intervalMs: 250 },
  );
  assert.ok(waiting.placement !== undefined);
  const { execFileSync } = await import('node:child_process');
  const shown = execFileSync(
    process.execPath,
    ['bin/flotilla.js', 'jobs', 'show', 'huge', '--masters', cluster.masterList],
    { encoding: 'utf8' },
  );
  assert.match(shown, /waiting: \d+ offers did not fit \(InsufficientCpus ×\d+/, shown);
  const kept = await callApi(address, 'DELETE', '/v1/jobs/huge');
  assert.is(kept.status, 409, 'a job with an active run is not deleted without stopCurrentJobRuns');
  assert.is((await callApi(address, 'DELETE', '/v1/jobs/huge?stopCurrentJobRuns=true')).status, 200);
  assert.is((await callApi(address, 'GET', '/v1/jobs/huge')).status, 404);

  const quick = jobSpec('huge-quick', 'true', {}, { cpus: 64, maxLaunchDelay: 2 });
  assert.is((await callApi(address, 'POST', '/v1/jobs', quick)).status, 201);
  const doomed = await callApi<{ id: string }>(address, 'POST', '/v1/jobs/huge-quick/runs');
  const failed = await waitFor(
    async () => {
      const answer = await callApi<{ status: string; reason?: string; completedAt: string | null }>(
        await entry(),
        'GET',
        `/v1/jobs/huge-quick/runs/${doomed.body.id}`,
      );
      return answer.body.status === 'FAILED' ? answer.body : null;
    },
    { timeoutMs: waitTimeoutMs, what: 'the unplaceable run to fail after maxLaunchDelay', intervalMs: 250 },
  );
  assert.match(String(failed.reason), /not launched within maxLaunchDelay 2 s/);
  assert.ok(failed.completedAt !== null);
});

test('flotilla jobs add FILE, list, show, run --wait, history and delete through the masters', async () => {
  const { execFileSync } = await import('node:child_process');
  const { writeFileSync } = await import('node:fs');
  const path = await import('node:path');
  const masters = cluster.masterList;
  const cli = (...args: string[]): string =>
    execFileSync(process.execPath, ['bin/flotilla.js', 'jobs', ...args, '--masters', masters], { encoding: 'utf8' });
  const file = path.join(cluster.root, 'cli-job.json');
  writeFileSync(
    file,
    JSON.stringify(jobSpec('cli-job', 'echo from-cli', { schedules: [{ id: 'weekly', cron: '0 6 * * 0' }] })),
  );
  assert.match(cli('add', file), /created job cli-job/);
  assert.match(cli('list'), /cli-job\s+0 6 \* \* 0/);
  assert.match(cli('show', 'cli-job'), /schedule weekly: 0 6 \* \* 0 UTC ALLOW; next run \d{4}-/);
  assert.match(cli('run', 'cli-job', '--wait'), /SUCCESS/);
  assert.match(cli('history', 'cli-job'), /1 succeeded, 0 failed/);
  assert.match(cli('delete', 'cli-job'), /deleted job cli-job/);
  assert.is((await callApi(await entry(), 'GET', '/v1/jobs/cli-job')).status, 404);
});

test.run();
