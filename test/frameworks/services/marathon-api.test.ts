// The Marathon API through a real third-party Marathon client (marathon-node, npm), against the
// services framework running on a real master and a real agent process: shapes, status codes,
// error bodies, deployments (scale, lock, force, rollback, restart), versions, tasks, queue
// reasons, groups, server-sent events, and a standby instance answering by proxy.
// flotilla-test-timeout-seconds: 600
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Marathon from 'marathon-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ServicesDaemon } from '../../../src/frameworks/services/daemon.ts';
import { makeTempDir } from '../../support/tmp.ts';
import { waitFor } from '../../support/wait.ts';
import { type MasterAndAgent, startMasterAndAgent } from '../support/cluster.ts';
import { appView, marathon, startInProcess, waitForLeading, waitForSteady } from './support/services.ts';

let cluster: MasterAndAgent;
let services: ServicesDaemon;
let client: ReturnType<typeof Marathon>;

test.before(async () => {
  cluster = await startMasterAndAgent();
  services = await startInProcess(cluster.masterAddress);
  await waitForLeading(services.address);
  client = Marathon(`http://${services.address}`);
});
test.after(async () => {
  await services?.stop();
  await cluster?.stop();
});

const sleeper = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  cmd: 'sleep 600',
  cpus: 0.1,
  mem: 16,
  instances: 1,
  ...extra,
});

async function rejection(call: Promise<unknown>): Promise<{ statusCode: number; body: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    const failure = error as { statusCode: number; error: Record<string, unknown> };
    return { statusCode: failure.statusCode, body: failure.error };
  }
  throw new Error('the call succeeded');
}

test('ping, info and leader answer as Marathon does', async () => {
  assert.is(await client.misc.ping(), 'pong');
  const info = await client.info.get();
  assert.is(info.name, 'marathon');
  assert.is(info.elected, true);
  assert.is(info.leader, services.address);
  assert.type(info.frameworkId, 'string');
  assert.equal(await client.leader.get(), { leader: services.address });
  const ping = await fetch(`http://${services.address}/ping`);
  assert.is(ping.headers.get('content-type')?.split(';')[0], 'text/plain');
  assert.is(await ping.text(), 'pong');
});

test('a quiet event stream gets a blank line every 10 s; a filter holds for event_stream_attached too', async () => {
  const controller = new AbortController();
  const response = await fetch(`http://${services.address}/v2/events?event_type=deployment_success`, {
    headers: { accept: 'text/event-stream' },
    signal: controller.signal,
  });
  assert.is(response.status, 200, 'the headers come at once, before any event');
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let received = '';
  // A stream with no heartbeat would block the read: the deadline aborts it, and the read throws.
  const deadline = setTimeout(() => controller.abort(), 60_000);
  try {
    while (!received.includes('\r\n')) {
      const chunk = await reader.read();
      assert.is(chunk.done, false, `the stream ended after ${JSON.stringify(received)}`);
      received += new TextDecoder().decode(chunk.value);
    }
  } finally {
    clearTimeout(deadline);
    controller.abort();
  }
  assert.not.match(received, 'event_stream_attached', 'not asked for, not sent');
});

test('create answers 201 with the app; it runs; scale answers a deployment; events follow it', async () => {
  const created = await client.apps.create(sleeper('/api/web', { instances: 2, labels: { tier: 'front' } }));
  assert.is(created.id, '/api/web');
  assert.is(created.instances, 2);
  assert.equal((created.deployments as unknown[]).length, 1);
  await waitForSteady(services.address, '/api/web', 2);
  const events = client.events.createEventSource({ eventType: ['deployment_info', 'deployment_success'] });
  const seen: { type: string; data: Record<string, unknown> }[] = [];
  for (const type of ['deployment_info', 'deployment_success']) {
    events.addEventListener(type, (event) => seen.push({ type, data: JSON.parse(event.data) }));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const scaled = await client.apps.update('/api/web', { instances: 3 });
  assert.type(scaled.deploymentId, 'string');
  await waitForSteady(services.address, '/api/web', 3);
  await waitFor(
    () => seen.some((event) => event.type === 'deployment_success' && event.data.id === scaled.deploymentId),
    {
      timeoutMs: 30_000,
      what: 'deployment_success for the scale',
    },
  );
  const info = seen.find((event) => event.type === 'deployment_info')!;
  assert.equal((info.data.plan as { id: string }).id, scaled.deploymentId);
  events.close();
  const versions = await client.apps.getVersions('/api/web');
  assert.is(versions.versions.length, 2);
  assert.is((await client.apps.getVersion('/api/web', versions.versions[1]!)).instances, 2);
});

test('bad input answers 422 with details naming the field; an unknown app 404; a duplicate 409', async () => {
  const invalid = await rejection(client.apps.create({ id: '/api/bad', cmd: 'x', mem: -4 }));
  assert.is(invalid.statusCode, 422);
  assert.is(invalid.body.message, 'Object is not valid');
  assert.equal(
    (invalid.body.details as { path: string }[]).map((detail) => detail.path),
    ['/mem'],
  );
  const missing = await rejection(client.apps.getOne('/api/nothing'));
  assert.equal(missing, { statusCode: 404, body: { message: "App '/api/nothing' does not exist" } });
  const duplicate = await rejection(client.apps.create(sleeper('/api/web')));
  assert.is(duplicate.statusCode, 409);
  const syntax = await marathon(services.address, 'POST', '/v2/apps', '{"id": ');
  assert.is(syntax.status, 422, 'a JSON string is not an app object');
});

test('a deployment that cannot finish locks its app (409) until forced; /v2/queue says why; rollback restores', async () => {
  await client.apps.create(sleeper('/api/unique', { instances: 1, constraints: [['hostname', 'UNIQUE']] }));
  await waitForSteady(services.address, '/api/unique', 1);
  const stuck = await client.apps.update('/api/unique', { instances: 3 });
  const waiting = await waitFor(
    async () => {
      const queue = await client.queue.get();
      const item = queue.queue.find((entry) => (entry.app as { id: string }).id === '/api/unique');
      const summary = item?.processedOffersSummary as {
        rejectSummaryLastOffers: { reason: string; declined: number }[];
      };
      const constraint = summary?.rejectSummaryLastOffers.find((step) => step.reason === 'UnfulfilledConstraint');
      return constraint !== undefined && constraint.declined > 0 ? item : null;
    },
    { timeoutMs: 30_000, what: 'the queue to say UnfulfilledConstraint' },
  );
  assert.is(waiting.count, 2);
  const locked = await rejection(client.apps.update('/api/unique', { instances: 4 }));
  assert.is(locked.statusCode, 409);
  assert.equal(locked.body.deployments, [{ id: stuck.deploymentId }]);
  assert.match(String(locked.body.message), /locked by one or more deployments/);
  const deployments = await client.deployments.getList();
  const listed = deployments.find((deployment) => deployment.id === stuck.deploymentId)!;
  assert.equal(listed.affectedApps, ['/api/unique']);
  assert.equal(listed.currentActions, [{ action: 'ScaleApplication', app: '/api/unique', readinessCheckResults: [] }]);
  assert.is(listed.totalSteps, 1);
  const rollback = await client.deployments.destroy(stuck.deploymentId);
  assert.type(rollback?.deploymentId, 'string');
  const restored = await waitForSteady(services.address, '/api/unique', 1);
  assert.is(restored.instances, 1);
  const forced = await client.apps.update('/api/unique', { instances: 2 }, true);
  const cancelled = await marathon(services.address, 'DELETE', `/v2/deployments/${forced.deploymentId}?force=true`);
  assert.is(cancelled.status, 202);
  assert.is((await appView(services.address, '/api/unique'))?.deployments.length, 0);
});

test('restart replaces every task; kill with scale lowers the count; delete removes the app', async () => {
  const before = (await waitForSteady(services.address, '/api/web', 3)).tasks.map((task) => task.id);
  await client.apps.restart('/api/web');
  const after = await waitFor(
    async () => {
      const app = await waitForSteady(services.address, '/api/web', 3);
      return app.tasks.every((task) => !before.includes(task.id)) ? app : null;
    },
    { timeoutMs: 90_000, what: 'every /api/web task to be replaced' },
  );
  assert.is(after.tasks.length, 3);
  const killed = await client.apps.killTask('/api/web', after.tasks[0]!.id, true);
  assert.type(killed.deploymentId, 'string');
  await waitForSteady(services.address, '/api/web', 2);
  assert.is((await client.apps.getOne('/api/web')).app.instances, 2);
  const all = await client.tasks.getList();
  assert.ok(all.tasks.some((task) => task.appId === '/api/web' && task.slaveId !== undefined));
  const text = await marathon<string>(services.address, 'GET', '/v2/tasks', undefined);
  assert.is(text.status, 200);
});

test('groups nest apps by their ids; labels filter the app list', async () => {
  const root = await client.groups.getList();
  const api = (root.groups as { id: string; apps: { id: string }[] }[]).find((group) => group.id === '/api');
  assert.ok(api?.apps.some((app) => app.id === '/api/web'));
  const byLabel = await client.apps.getList({ label: 'tier==front' });
  assert.equal(
    byLabel.apps.map((app) => app.id),
    ['/api/web'],
  );
  const none = await client.apps.getList({ label: 'tier in (back, db)' });
  assert.equal(none.apps, []);
  const group = await marathon(services.address, 'GET', '/v2/groups/nope');
  assert.is(group.status, 404);
});

test('an app whose role is at its quota waits, and /v2/queue says so', async () => {
  const quota = await fetch(`http://${cluster.masterAddress}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      type: 'UPDATE_QUOTA',
      update_quota: { quota_configs: [{ role: 'limited', guarantees: {}, limits: { cpus: { value: 0.2 } } }] },
    }),
  });
  assert.is(quota.status, 200, await quota.text());
  const limited = await startInProcess(cluster.masterAddress, 'services-limited', 'limited');
  try {
    await waitForLeading(limited.address);
    const created = await marathon(
      limited.address,
      'POST',
      '/v2/apps',
      sleeper('/quota/app', { instances: 3, role: 'limited' }),
    );
    assert.is(created.status, 201, JSON.stringify(created.body));
    const reason = await waitFor(
      async () => {
        const queue = await marathon<{ queue: { count: number; processedOffersSummary: { quotaReached?: string } }[] }>(
          limited.address,
          'GET',
          '/v2/queue',
        );
        const item = queue.body.queue[0];
        return item?.count === 1 ? item.processedOffersSummary.quotaReached : null;
      },
      { timeoutMs: 60_000, what: 'the queue to say the quota is reached' },
    );
    assert.is(reason, 'role limited is at its quota: cpus 0.2 of 0.2');
    assert.is((await appView(limited.address, '/quota/app'))?.tasksRunning, 2);
    await marathon(limited.address, 'DELETE', '/v2/apps/quota/app?force=true');
  } finally {
    await limited.stop();
  }
});

test('a standby instance answers by proxy to the leader', async () => {
  const standby = await startInProcess(cluster.masterAddress);
  try {
    const info = await marathon<{ elected: boolean; leader: string }>(standby.address, 'GET', '/v2/info');
    assert.is(info.body.elected, false);
    assert.is(info.body.leader, services.address);
    const apps = await marathon<{ apps: { id: string }[] }>(standby.address, 'GET', '/v2/apps');
    assert.is(apps.status, 200);
    assert.ok(apps.body.apps.some((app) => app.id === '/api/web'));
  } finally {
    await standby.stop();
  }
});

const flotilla = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'flotilla.js');

/** The CLI as a child process (asynchronously: the framework under test runs in this process). */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const marathonAddress = args.includes('--api') ? [] : ['--api', services.address];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [flotilla, 'services', ...args, ...marathonAddress],
      { encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => resolve({ status: error === null ? 0 : (error.code as number), stdout, stderr }),
    );
  });
}

test('flotilla services deploy|list|show|scale|restart|delete talk to the Marathon API', async () => {
  const folder = makeTempDir('services-cli-');
  const file = path.join(folder, 'app.json');
  writeFileSync(file, JSON.stringify(sleeper('/cli/app')));
  const deployed = await cli('deploy', file);
  assert.is(deployed.status, 0, deployed.stderr);
  assert.match(deployed.stdout, /^deployment [0-9a-f-]{36}$/m);
  await waitForSteady(services.address, '/cli/app', 1);
  assert.match((await cli('list')).stdout, /\/cli\/app\s+1\/1/);
  assert.is((await cli('scale', '/cli/app', '2')).status, 0);
  await waitForSteady(services.address, '/cli/app', 2);
  const shown = await cli('show', 'cli/app');
  assert.match(shown.stdout, /instances 2, running 2/);
  const json = JSON.parse((await cli('show', '/cli/app', '--json')).stdout) as { app: { id: string } };
  assert.is(json.app.id, '/cli/app');
  assert.is((await cli('restart', '/cli/app')).status, 0);
  writeFileSync(file, JSON.stringify({ ...sleeper('/cli/app'), mem: -1 }));
  const refused = await cli('deploy', file);
  assert.is(refused.status, 1);
  assert.match(refused.stderr, /422: Object is not valid/);
  assert.match(refused.stderr, /\/mem/);
  assert.is((await cli('delete', '/cli/app', '--force')).status, 0);
  assert.is(await appView(services.address, '/cli/app'), null);
  const unreachable = await cli('list', '--api', '127.0.0.1:1');
  assert.is(unreachable.status, 1);
  assert.match(unreachable.stderr, /no services API answers at 127.0.0.1:1/);
});

test('PATCH changes only what it names, one app or many; an unknown app is 404, not created', async () => {
  const created = await marathon(services.address, 'POST', '/v2/apps', sleeper('/api/patch', { labels: { a: '1' } }));
  assert.is(created.status, 201);
  await waitForSteady(services.address, '/api/patch', 1);
  const one = await marathon<{ deploymentId: string }>(services.address, 'PATCH', '/v2/apps/api/patch', {
    instances: 2,
  });
  assert.is(one.status, 200);
  assert.is(one.headers.get('marathon-deployment-id'), one.body.deploymentId);
  await waitForSteady(services.address, '/api/patch', 2);
  const many = await marathon<{ deploymentId: string }>(services.address, 'PATCH', '/v2/apps', [
    { id: '/api/patch', instances: 1 },
  ]);
  assert.is(many.status, 200, JSON.stringify(many.body));
  const after = await waitForSteady(services.address, '/api/patch', 1);
  assert.is(after.instances, 1);
  const view = await marathon<{ app: { labels: Record<string, string>; cmd: string } }>(
    services.address,
    'GET',
    '/v2/apps/api/patch',
  );
  assert.equal([view.body.app.labels, view.body.app.cmd], [{ a: '1' }, 'sleep 600'], 'what PATCH did not name stays');
  const unknown = await marathon(services.address, 'PATCH', '/v2/apps/api/nothing', { instances: 1 });
  assert.equal([unknown.status, unknown.body], [404, { message: "App '/api/nothing' does not exist" }]);
  assert.is((await marathon(services.address, 'DELETE', '/v2/apps/api/patch?force=true')).status, 200);
});

test('delete stops the app: 404 at once, its tasks gone, app_terminated_event sent', async () => {
  const events = client.events.createEventSource({ eventType: 'app_terminated_event' });
  const terminated: string[] = [];
  events.addEventListener('app_terminated_event', (event) => terminated.push(JSON.parse(event.data).appId));
  await new Promise((resolve) => setTimeout(resolve, 500));
  await client.apps.destroy('/api/web');
  assert.is((await rejection(client.apps.getOne('/api/web'))).statusCode, 404);
  await waitFor(() => terminated.includes('/api/web'), { timeoutMs: 60_000, what: 'app_terminated_event' });
  events.close();
  const tasks = await client.tasks.getList();
  assert.not.ok(tasks.tasks.some((task) => task.appId === '/api/web'));
});

test.run();
