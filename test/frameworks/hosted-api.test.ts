// The built-in frameworks hosted by three real master processes (`--services hosted --jobs
// hosted`) and used through a follower's port, which forwards to the leader: a third-party
// Marathon client (marathon-node) creates, scales and destroys an app and follows its
// deployment on the server-sent event stream, through the follower; the Metronome API creates
// a job and runs it, through the follower. Then: a master started with --services=off and
// --jobs=off answers both APIs with 404 saying how to run the frameworks as their own
// processes; and with no leader (two of three masters killed) the survivor answers 503 with
// Retry-After in each framework's own shape. The CLI's services and jobs subcommands find the
// cluster through --masters / FLOTILLA_MASTERS like every other command, a follower first.
// flotilla-test-timeout-seconds: 600
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Marathon from 'marathon-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster } from '../e2e/support/cluster.ts';
import { flotilla, transcript } from '../cli/support/cli-process.ts';
import { startSingleMaster } from '../support/master.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { callApi, follower, hostBoth, waitForApi } from './support/hosted.ts';
import { jobSpec, type RunBody } from './support/jobs.ts';
import { waitForSteady } from './services/support/services.ts';

const agentResources = 'cpus:4;mem:4096;disk:1000;ports:[31000-31099]';
let cluster: E2eCluster;

test.before(async () => {
  cluster = await E2eCluster.start('hosted-api', [agentResources], [...hostBoth]);
});
test.after(async () => {
  await cluster?.stop();
});

test('marathon-node through a follower: ping, info, create, scale with events, destroy', async () => {
  const entry = await follower(cluster);
  const leader = await cluster.leader();
  await waitForApi(entry.address, '/v2/apps');
  const client = Marathon(`http://${entry.address}`);
  assert.is(await client.misc.ping(), 'pong');
  const info = await client.info.get();
  assert.is(info.name, 'marathon');
  assert.is(info.leader, leader.address, 'the leading master runs the framework');

  const created = await client.apps.create({ id: '/via/follower', cmd: 'sleep 600', cpus: 0.1, mem: 16, instances: 1 });
  assert.is(created.id, '/via/follower');
  await waitForSteady(entry.address, '/via/follower', 1, 120_000);

  const events = client.events.createEventSource({ eventType: ['deployment_success'] });
  const succeeded: string[] = [];
  events.addEventListener('deployment_success', (event) => {
    succeeded.push(String((JSON.parse(event.data) as { id: string }).id));
  });
  // The stream is open through the follower once the leader's first event reached it.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const scaled = await client.apps.update('/via/follower', { instances: 2 });
  await waitForSteady(entry.address, '/via/follower', 2, 120_000);
  await waitFor(() => succeeded.includes(scaled.deploymentId), {
    timeoutMs: 60_000,
    what: `deployment_success of ${scaled.deploymentId} on the event stream through ${entry.id}`,
    intervalMs: 100,
  });
  events.close();

  const apps = await client.apps.getList();
  assert.ok(apps.apps.some((app) => app.id === '/via/follower'));
  await client.apps.destroy('/via/follower');
  await waitFor(async () => (await callApi(entry.address, 'GET', '/v2/apps/via/follower')).status === 404, {
    timeoutMs: 60_000,
    what: '/via/follower to be gone',
    intervalMs: 200,
  });
  const missing = await callApi<{ message: string }>(entry.address, 'GET', '/v2/apps/via/follower');
  assert.type(missing.body.message, 'string', 'Marathon’s error shape comes back through the follower');
});

test('the Metronome API through a follower: create a job, run it, see it succeed', async () => {
  const entry = await follower(cluster);
  await waitForApi(entry.address, '/v1/jobs');
  const created = await callApi(entry.address, 'POST', '/v1/jobs', jobSpec('via-follower', 'true'));
  assert.is(created.status, 201, JSON.stringify(created.body));
  const listed = await callApi<{ id: string }[]>(entry.address, 'GET', '/v1/jobs');
  assert.ok(listed.body.some((job) => job.id === 'via-follower'));
  const started = await callApi<RunBody>(entry.address, 'POST', '/v1/jobs/via-follower/runs');
  assert.is(started.status, 201, JSON.stringify(started.body));
  await waitFor(
    async () => {
      const job = await callApi<{ history: { successCount: number } }>(
        entry.address,
        'GET',
        '/v1/jobs/via-follower?embed=history',
      );
      return job.body.history?.successCount === 1;
    },
    { timeoutMs: 120_000, what: 'the run of via-follower to succeed', intervalMs: 250 },
  );
  const duplicate = await callApi<{ code: string }>(entry.address, 'POST', '/v1/jobs', jobSpec('via-follower', 'true'));
  assert.is(duplicate.status, 409);
  assert.is(
    duplicate.body.code,
    'JOB_ALREADY_EXISTS',
    'the jobs framework’s error shape comes back through the follower',
  );
});

test('flotilla services and jobs find the cluster through --masters or FLOTILLA_MASTERS, any master', async () => {
  const entry = await follower(cluster);
  const everyMaster = cluster.masterList;
  const file = path.join(makeTempDir('hosted-cli-'), 'app.json');
  writeFileSync(file, JSON.stringify({ id: '/cli/hosted', cmd: 'sleep 600', cpus: 0.1, mem: 16, instances: 1 }));
  const deployed = await flotilla(['services', 'deploy', file, '--masters', entry.address]);
  assert.is(deployed.status, 0, transcript(deployed));
  assert.match(deployed.stdout, /^deployment [0-9a-f-]{36}$/m);
  await waitForSteady(entry.address, '/cli/hosted', 1, 120_000);
  const listed = await flotilla(['services', 'list', '--masters', entry.address]);
  assert.match(listed.stdout, /\/cli\/hosted\s+1\/1/, transcript(listed));
  // --masters before the subcommand means the same; --json prints the API's answer.
  const shown = await flotilla(['services', '--masters', everyMaster, 'show', '/cli/hosted', '--json']);
  assert.is((JSON.parse(shown.stdout) as { app: { id: string } }).app.id, '/cli/hosted', transcript(shown));
  const deleted = await flotilla(['services', 'delete', '/cli/hosted', '--force'], { FLOTILLA_MASTERS: everyMaster });
  assert.is(deleted.status, 0, transcript(deleted));

  const jobs = await flotilla(['jobs', 'list', '--masters', entry.address, '--timeout-seconds', '20']);
  assert.match(jobs.stdout, /via-follower/, transcript(jobs));
  const run = await flotilla(['jobs', 'run', 'via-follower', '--wait'], { FLOTILLA_MASTERS: everyMaster });
  assert.is(run.status, 0, transcript(run));
  assert.match(run.stdout, /SUCCESS/);
  const history = await flotilla(['jobs', 'history', 'via-follower', '--json', '--masters', everyMaster]);
  assert.is((JSON.parse(history.stdout) as { successCount: number }).successCount, 2, transcript(history));
  const refused = await flotilla(['jobs', 'show', 'no-such-job', '--masters', entry.address]);
  assert.is(refused.status, 1, transcript(refused));
  assert.match(refused.stderr, /404/);

  const nobody = await flotilla(['jobs', 'list', '--json', '--masters', '127.0.0.1:1']);
  assert.is(nobody.status, 3, transcript(nobody));
  assert.match(nobody.stderr, /"code":"NO_MASTER"/);
});

test('--services=off and --jobs=off: both APIs answer 404 saying how to run the framework itself', async () => {
  const master = await startSingleMaster({ services: 'off', jobs: 'off' });
  const address = master.url.replace('http://', '');
  try {
    const apps = await callApi<{ message: string }>(address, 'GET', '/v2/apps');
    assert.is(apps.status, 404);
    assert.match(apps.body.message, /--services=off/);
    assert.match(apps.body.message, /flotilla services --masters/);
    const created = await callApi(address, 'POST', '/v2/apps', { id: '/x', cmd: 'true' });
    assert.is(created.status, 404);
    const jobs = await callApi<{ code: string; message: string }>(address, 'GET', '/v1/jobs');
    assert.is(jobs.status, 404);
    assert.is(jobs.body.code, 'JOBS_NOT_HOSTED');
    assert.match(jobs.body.message, /flotilla jobs --masters/);
    const operator = await callApi(address, 'POST', '/api/v1', { type: 'GET_HEALTH' });
    assert.is(operator.status, 200, 'the master’s own APIs are unaffected');
  } finally {
    await master.stop();
  }
});

test('--services=off with the jobs framework hosted: /v2 answers 404, /ping and /v1/jobs the jobs framework', async () => {
  const master = await startSingleMaster({ services: 'off', jobs: 'hosted' });
  const address = master.url.replace('http://', '');
  try {
    assert.is((await callApi(address, 'GET', '/v2/apps')).status, 404);
    const ping = await callApi(address, 'GET', '/ping');
    assert.equal([ping.status, ping.body], [200, 'pong']);
    await waitForApi(address, '/v1/jobs');
  } finally {
    await master.stop();
  }
});

test('no leader: a master answers 503 with Retry-After in each framework’s shape', async () => {
  const leader = await cluster.leader();
  const survivor = await follower(cluster);
  for (const replica of cluster.masters.replicas)
    if (replica.id !== survivor.id && replica.child !== null) await cluster.masters.kill(replica, 'SIGKILL');
  // Leadership can have moved to the survivor after it was picked (CI once saw it answer as a
  // leader still loading its frameworks); alone it steps down, and then knows no leader.
  await waitFor(
    async () => {
      const status = await cluster.masters.status(survivor);
      return status !== null && status.role !== 'leader' && status.leader === '';
    },
    { timeoutMs: 60_000, what: `${survivor.id} alone to know no leader`, intervalMs: 200 },
  );
  const apps = await waitFor(
    async () => {
      const answer = await callApi<{ message: string }>(survivor.address, 'GET', '/v2/apps');
      return answer.status === 503 ? answer : null;
    },
    { timeoutMs: 60_000, what: `${survivor.id} to answer 503 once ${leader.id} is gone`, intervalMs: 200 },
  );
  assert.ok(apps.headers.get('retry-after') !== null, 'Retry-After');
  assert.type(apps.body.message, 'string');
  const jobs = await callApi<{ code: string }>(survivor.address, 'GET', '/v1/jobs');
  assert.is(jobs.status, 503);
  assert.ok(jobs.headers.get('retry-after') !== null, 'Retry-After');
  assert.is(jobs.body.code, 'JOBS_UNAVAILABLE');
});

test.run();
