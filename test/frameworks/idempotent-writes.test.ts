// Idempotency-Key on the frameworks' compatibility APIs (src/frameworks/hosting/remembered-requests.ts),
// on three real masters hosting both frameworks, through followers (which forward to the leader):
// a repeat of a keyed write is answered the first answer (Idempotent-Replayed: true) and changes
// nothing; the same key with another body is 422 and changes nothing; a client that sends no key
// sees Marathon's and Metronome's answers as before (409 for a second create). Across a leader
// failover: the leader is SIGKILLed after a keyed POST landed, and the retry on the new leader
// gets 201 again, not 409; and a POST whose leader is SIGKILLed while it is in flight, retried
// with the same key until it is answered, ends 201 with exactly one app made.
// flotilla-test-timeout-seconds: 400
import { randomUUID } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster } from '../e2e/support/cluster.ts';
import { waitFor } from '../support/wait.ts';
import { type ApiAnswer, follower, hostBoth, waitForApi } from './support/hosted.ts';
import { jobSpec } from './support/jobs.ts';

const requestTimeoutMs = 30_000;
const retryDeadlineMs = 120_000;

let cluster: E2eCluster;
test.before(async () => {
  cluster = await E2eCluster.start('idempotent-writes', [], [...hostBoth]);
});
test.after(async () => {
  await cluster?.stop();
});

async function keyedCall<Body = Record<string, unknown>>(
  address: string,
  method: string,
  route: string,
  body: unknown,
  key: string | null,
): Promise<ApiAnswer<Body> & { text: string }> {
  const response = await fetch(`http://${address}${route}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(key === null ? {} : { 'idempotency-key': key }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text === '' ? null : JSON.parse(text)) as Body,
    headers: response.headers,
    text,
  };
}

/** A follower whose forwarded APIs answer (the leader's hosted frameworks have loaded their state). */
async function entry(excluding: readonly string[] = []): Promise<string> {
  const address = (await follower(cluster, excluding)).address;
  await waitForApi(address, '/v1/jobs');
  await waitForApi(address, '/v2/apps');
  return address;
}

function app(id: string, instances = 0): Record<string, unknown> {
  return { id, cmd: 'sleep 1000', cpus: 0.1, mem: 32, instances };
}

test('Metronome: a repeated keyed write is replayed, another body with the key is 422, no key is as before', async () => {
  const address = await entry();
  const key = randomUUID();
  const first = await keyedCall(address, 'POST', '/v1/jobs', jobSpec('keyed-job', 'true'), key);
  assert.is(first.status, 201, first.text);
  assert.is(first.headers.get('idempotent-replayed'), null);
  const again = await keyedCall(address, 'POST', '/v1/jobs', jobSpec('keyed-job', 'true'), key);
  assert.is(again.status, 201, again.text);
  assert.is(again.text, first.text, 'the first answer, byte for byte');
  assert.is(again.headers.get('idempotent-replayed'), 'true');

  const other = await keyedCall(address, 'POST', '/v1/jobs', jobSpec('keyed-job-2', 'true'), key);
  assert.is(other.status, 422, other.text);
  assert.is(other.body.code, 'JOB_IDEMPOTENCY_KEY_REUSED');
  assert.is((await keyedCall(address, 'GET', '/v1/jobs/keyed-job-2', undefined, null)).status, 404, 'nothing made');

  const unkeyed = await keyedCall(address, 'POST', '/v1/jobs', jobSpec('keyed-job', 'true'), null);
  assert.is(unkeyed.status, 409, 'without a key, Metronome answers a second create 409');
  const malformed = await keyedCall(address, 'POST', '/v1/jobs', jobSpec('keyed-job-3', 'true'), '"open');
  assert.is(malformed.status, 400, malformed.text);
  assert.is(malformed.body.code, 'JOB_INVALID_IDEMPOTENCY_KEY');

  const runKey = randomUUID();
  const run = await keyedCall(address, 'POST', '/v1/jobs/keyed-job/runs', undefined, runKey);
  assert.is(run.status, 201, run.text);
  const runAgain = await keyedCall(address, 'POST', '/v1/jobs/keyed-job/runs', undefined, runKey);
  assert.is(runAgain.status, 201, runAgain.text);
  assert.is(runAgain.body.id, run.body.id, 'the same run, not a second one');
  const history = await keyedCall<{ activeRuns: unknown[]; history: { successCount: number; failureCount: number } }>(
    address,
    'GET',
    '/v1/jobs/keyed-job?embed=activeRuns&embed=history',
    undefined,
    null,
  );
  const runs = history.body.activeRuns.length + history.body.history.successCount + history.body.history.failureCount;
  assert.is(runs, 1, 'one run started by two keyed POSTs');
});

test('Marathon: a repeated keyed write is replayed with its headers, another body is 422, no key is 409', async () => {
  const address = await entry();
  const key = randomUUID();
  const first = await keyedCall(address, 'POST', '/v2/apps', app('/keyed/web'), key);
  assert.is(first.status, 201, first.text);
  const again = await keyedCall(address, 'POST', '/v2/apps', app('/keyed/web'), key);
  assert.is(again.status, 201, again.text);
  assert.is(again.text, first.text);
  assert.is(again.headers.get('marathon-deployment-id'), first.headers.get('marathon-deployment-id'));
  assert.is(again.headers.get('location'), '/v2/apps/keyed/web');
  assert.is(again.headers.get('idempotent-replayed'), 'true');

  const other = await keyedCall(address, 'POST', '/v2/apps', app('/keyed/other'), key);
  assert.is(other.status, 422, other.text);
  assert.equal(Object.keys(other.body), ['message'], "Marathon's error shape");
  assert.is((await keyedCall(address, 'GET', '/v2/apps/keyed/other', undefined, null)).status, 404, 'nothing made');
  assert.is((await keyedCall(address, 'POST', '/v2/apps', app('/keyed/web'), null)).status, 409);

  // Marathon answers 409 to a PUT while the app's create deployment runs (under load it can
  // outlive the calls above): wait for it, as a Marathon client would.
  await waitFor(
    async () => {
      const web = await keyedCall<{ app: { deployments: unknown[] } }>(
        address,
        'GET',
        '/v2/apps/keyed/web',
        undefined,
        null,
      );
      return web.status === 200 && web.body.app.deployments.length === 0;
    },
    { timeoutMs: 60_000, what: 'the create deployment of /keyed/web to finish' },
  );
  const scaleKey = randomUUID();
  const scaled = await keyedCall(address, 'PUT', '/v2/apps/keyed/web', { instances: 0, cmd: 'sleep 999' }, scaleKey);
  assert.is(scaled.status, 200, scaled.text);
  const scaledAgain = await keyedCall(
    address,
    'PUT',
    '/v2/apps/keyed/web',
    { instances: 0, cmd: 'sleep 999' },
    scaleKey,
  );
  assert.is(scaledAgain.text, scaled.text, 'the same deployment and version, not a new one');
  const versions = await keyedCall<{ versions: string[] }>(
    address,
    'GET',
    '/v2/apps/keyed/web/versions',
    undefined,
    null,
  );
  assert.is(versions.body.versions.length, 2, 'created, then changed once');
});

test('failover: a keyed POST that landed is answered again by the new leader, and one in flight ends 201 once', async () => {
  const jobKey = randomUUID();
  const appKey = randomUUID();
  const before = await entry();
  const job = await keyedCall(before, 'POST', '/v1/jobs', jobSpec('failover-job', 'true'), jobKey);
  assert.is(job.status, 201, job.text);
  const created = await keyedCall(before, 'POST', '/v2/apps', app('/failover/landed'), appKey);
  assert.is(created.status, 201, created.text);

  const leader = await cluster.leader();
  const inFlightKey = randomUUID();
  const inFlight = keyedCall(leader.address, 'POST', '/v2/apps', app('/failover/in-flight'), inFlightKey).catch(
    (error: Error) => error,
  );
  await cluster.masters.kill(leader, 'SIGKILL');
  const firstAttempt = await inFlight;
  console.log(
    `in-flight POST on the killed leader: ${firstAttempt instanceof Error ? firstAttempt.message : firstAttempt.status}`,
  );

  const after = await entry([leader.id]);
  const jobAgain = await keyedCall(after, 'POST', '/v1/jobs', jobSpec('failover-job', 'true'), jobKey);
  assert.is(jobAgain.status, 201, jobAgain.text);
  assert.is(jobAgain.text, job.text);
  const appAgain = await keyedCall(after, 'POST', '/v2/apps', app('/failover/landed'), appKey);
  assert.is(appAgain.status, 201, appAgain.text);
  assert.is(appAgain.text, created.text);

  // The client's retry loop: the same key until an answer that is not "retry".
  let final: Awaited<ReturnType<typeof keyedCall>> | null = null;
  await waitFor(
    async () => {
      const answer = await keyedCall(after, 'POST', '/v2/apps', app('/failover/in-flight'), inFlightKey).catch(
        () => null,
      );
      if (answer === null || answer.status === 503) return false;
      final = answer;
      return true;
    },
    { timeoutMs: retryDeadlineMs, what: 'the retried POST to be answered', intervalMs: 250 },
  );
  assert.is(final!.status, 201, final!.text);
  const listed = await keyedCall<{ apps: { id: string }[] }>(after, 'GET', '/v2/apps?id=/failover/', undefined, null);
  assert.equal(listed.body.apps.map((one) => one.id).sort(), ['/failover/in-flight', '/failover/landed']);
});

test.run();
