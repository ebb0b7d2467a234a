// Idempotency-Key on a real single-voter master over real HTTP (src/http/idempotency.ts): a retry
// answers the first status and body and applies nothing; the key with another request is 422
// IDEMPOTENCY_KEY_REUSED; a malformed key is 400 and changes nothing; concurrent attempts apply
// once; operator writes and scheduler calls take keys too. Failover: test/master/idempotency-failover.test.ts.
import { request as httpRequest } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type * as Mesos from '../../src/protocol/mesos.ts';
import { agentId, frameworkId as toFrameworkId, offerId } from '../../src/state-machine/ids.ts';
import { agentFreeResources } from '../../src/state-machine/queries.ts';
import { errorOf, type KeyAnswer } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { registerAgent } from '../state-machine/support/fixtures.ts';
import { operatorCall, proposeOk } from './support/operator.ts';
import { frameworkInfo, SchedulerClient, schedulerPost } from './support/scheduler-client.ts';

let cluster: SingleMaster;
const A1 = agentId('idem-a1');

test.before(async () => {
  cluster = await startSingleMaster();
  await proposeOk(cluster, registerAgent(A1, { hostname: 'node1', address: { ip: '127.0.0.1', port: 5051 } }));
});
test.after(async () => {
  await cluster.stop();
});

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly body: unknown;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${cluster.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: text === '' ? null : JSON.parse(text) };
}

const appliedIndex = (): number => cluster.master.raft.status().applied;

test('the same key twice: the same status and body, applied once (the version does not move)', async () => {
  const headers = { 'idempotency-key': 'put-once-1' };
  const first = await call('PUT', '/api/v1/kv/idem/a', { value: 'one' }, headers);
  assert.is(first.status, 200);
  const indexAfterFirst = appliedIndex();
  const retry = await call('PUT', '/api/v1/kv/idem/a', { value: 'one' }, headers);
  assert.is(retry.status, first.status);
  assert.is(retry.text, first.text, 'byte for byte the first answer');
  assert.ok(appliedIndex() > indexAfterFirst, 'the retry went through Raft (its entry is in the log)');
  const read = await call('GET', '/api/v1/kv/idem/a');
  assert.equal(read.body, { key: 'a', value: 'one', version: (first.body as KeyAnswer).version });
  // Without a key the same PUT is a new write: the version moves (the control for the above).
  const unkeyed = await call('PUT', '/api/v1/kv/idem/a', { value: 'one' });
  assert.ok((unkeyed.body as KeyAnswer).version > (first.body as KeyAnswer).version);
});

test('a retried compare-and-set answers its first success, not 412 against its own write', async () => {
  const created = await call('PUT', '/api/v1/kv/idem/cas', { value: 'v1' }, { 'if-match': '0' });
  const version = String((created.body as KeyAnswer).version);
  const headers = { 'if-match': version, 'idempotency-key': 'cas-1' };
  const swapped = await call('PUT', '/api/v1/kv/idem/cas', { value: 'v2' }, headers);
  assert.is(swapped.status, 200);
  const retry = await call('PUT', '/api/v1/kv/idem/cas', { value: 'v2' }, headers);
  assert.is(retry.status, 200);
  assert.is(retry.text, swapped.text);
  // A first answer that was an error is the answer too.
  const stale = { 'if-match': version, 'idempotency-key': 'cas-2' };
  const refused = await call('PUT', '/api/v1/kv/idem/cas', { value: 'v3' }, stale);
  assert.is(refused.status, 412);
  const refusedAgain = await call('PUT', '/api/v1/kv/idem/cas', { value: 'v3' }, stale);
  assert.is(refusedAgain.status, 412);
  assert.is(refusedAgain.text, refused.text);
});

test('the same key with another body, method, path or If-Match is 422 IDEMPOTENCY_KEY_REUSED and applies nothing', async () => {
  const headers = { 'idempotency-key': 'reused-1' };
  const first = await call('PUT', '/api/v1/kv/idem/r', { value: 'first' }, headers);
  assert.is(first.status, 200);
  const others: [string, string, unknown, Record<string, string>][] = [
    ['PUT', '/api/v1/kv/idem/r', { value: 'second' }, headers],
    ['DELETE', '/api/v1/kv/idem/r', undefined, headers],
    ['PUT', '/api/v1/kv/idem/other', { value: 'first' }, headers],
    ['PUT', '/api/v1/kv/idem/r', { value: 'first' }, { ...headers, 'if-match': '1' }],
  ];
  for (const [method, path, body, withHeaders] of others) {
    const answer = await call(method, path, body, withHeaders);
    assert.is(answer.status, 422, `${method} ${path} ${JSON.stringify(withHeaders)}`);
    assert.is(errorOf(answer.body).code, 'IDEMPOTENCY_KEY_REUSED');
  }
  const read = await call('GET', '/api/v1/kv/idem/r');
  assert.equal(read.body, { key: 'r', value: 'first', version: (first.body as KeyAnswer).version });
  assert.is((await call('GET', '/api/v1/kv/idem/other')).status, 404);
});

test('two attempts in flight at once apply once and answer alike', async () => {
  const headers = { 'idempotency-key': 'concurrent-1' };
  const answers = await Promise.all(
    Array.from({ length: 4 }, () => call('PUT', '/api/v1/kv/idem/c', { value: 'same' }, headers)),
  );
  for (const answer of answers) {
    assert.is(answer.status, 200);
    assert.is(answer.text, answers[0]!.text);
  }
  const read = await call('GET', '/api/v1/kv/idem/c');
  assert.is((read.body as KeyAnswer).version, (answers[0]!.body as KeyAnswer).version);
});

test('a malformed key is 400 INVALID_IDEMPOTENCY_KEY and changes nothing', async () => {
  const bad = ['', ' ', 'x'.repeat(256), 'tab\there', '"unterminated', '"bad \\n escape"', '"inner " quote"'];
  for (const key of bad) {
    const answer = await call('PUT', '/api/v1/kv/idem/bad', { value: 'v' }, { 'idempotency-key': key });
    assert.is(answer.status, 400, JSON.stringify(key));
    assert.is(errorOf(answer.body).code, 'INVALID_IDEMPOTENCY_KEY', JSON.stringify(key));
  }
  const twice = await rawPut('/api/v1/kv/idem/bad', '{"value":"v"}', { 'idempotency-key': ['k1', 'k2'] });
  assert.is(twice.status, 400);
  assert.is(errorOf(JSON.parse(twice.text)).code, 'INVALID_IDEMPOTENCY_KEY');
  assert.match(errorOf(JSON.parse(twice.text)).message, /not 2/);
  assert.is((await call('GET', '/api/v1/kv/idem/bad')).status, 404);
  const longest = await call('PUT', '/api/v1/kv/idem/bad', { value: 'v' }, { 'idempotency-key': 'k'.repeat(255) });
  assert.is(longest.status, 200, '255 characters is allowed');
});

test("the draft's quoted form is the same key as the bare one; key order in the body does not matter", async () => {
  const bare = await call('PUT', '/api/v1/kv/idem/q', { value: 'q' }, { 'idempotency-key': 'quoted-"1"' });
  const quoted = await call('PUT', '/api/v1/kv/idem/q', '{ "value" : "q" }', {
    'idempotency-key': '"quoted-\\"1\\""',
  });
  assert.is(quoted.status, 200);
  assert.is(quoted.text, bare.text);
  const weights = (order: 'role-first' | 'weight-first') => ({
    type: 'UPDATE_WEIGHTS',
    update_weights: {
      weight_infos: [order === 'role-first' ? { role: 'idem-role', weight: 2 } : { weight: 2, role: 'idem-role' }],
    },
  });
  const headers = { 'idempotency-key': 'weights-1' };
  const first = await operatorCall(cluster, weights('role-first'), headers);
  assert.is(first.status, 200);
  const indexAfterFirst = appliedIndex();
  const retry = await operatorCall(cluster, weights('weight-first'), headers);
  assert.is(retry.status, 200, JSON.stringify(retry.body));
  assert.ok(appliedIndex() > indexAfterFirst);
  const other = await operatorCall(
    cluster,
    { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'idem-role', weight: 3 }] } },
    headers,
  );
  assert.is(other.status, 422);
  assert.is(errorOf(other.body).code, 'IDEMPOTENCY_KEY_REUSED');
});

test('a scheduler ACCEPT retried with its key launches once: no second launch, no TASK_LOST for the used offer', async () => {
  const client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'idem' }));
  try {
    const offer = await makeOffer(client);
    const accept = {
      framework_id: { value: client.frameworkId },
      type: 'ACCEPT',
      accept: { offer_ids: [offer.id], operations: [launch(offer, 'idem-t1')] },
    };
    const headers = { 'mesos-stream-id': client.streamId, 'idempotency-key': 'accept-1' };
    const first = await schedulerPost(cluster.url, accept, headers);
    assert.is(first.status, 202);
    const retry = await schedulerPost(cluster.url, accept, headers);
    assert.is(retry.status, 202);
    // Unkeyed, the same ACCEPT of a used offer is refused, and the task reported lost.
    assert.is(await client.maybeNextOf('UPDATE', 500), null, 'no update for the retried ACCEPT');
    const tasks = [...cluster.master.machine.state.tasks.values()].filter(
      (task) => task.frameworkId === client.frameworkId,
    );
    assert.equal(
      tasks.map((task) => task.id),
      ['idem-t1'],
    );
    const reused = await schedulerPost(
      cluster.url,
      { ...accept, accept: { ...accept.accept, offer_ids: [] } },
      headers,
    );
    assert.is(reused.status, 422);
    assert.is(errorOf(reused.body).code, 'IDEMPOTENCY_KEY_REUSED');
    const malformed = await schedulerPost(cluster.url, accept, { ...headers, 'idempotency-key': 'é' });
    assert.is(malformed.status, 400);
    assert.is(errorOf(malformed.body).code, 'INVALID_IDEMPOTENCY_KEY');
  } finally {
    await client.callOk('TEARDOWN');
    client.close();
  }
});

test('an ACKNOWLEDGE takes no key (it applies once by its uuid), but a malformed key is still 400', async () => {
  const client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'idem-ack' }));
  try {
    const acknowledge = (uuid: string) => ({
      framework_id: { value: client.frameworkId },
      type: 'ACKNOWLEDGE',
      acknowledge: { agent_id: { value: A1 }, task_id: { value: 'no-such-task' }, uuid },
    });
    const headers = { 'mesos-stream-id': client.streamId, 'idempotency-key': 'ack-1' };
    const first = await schedulerPost(cluster.url, acknowledge(Buffer.alloc(16, 1).toString('base64')), headers);
    assert.is(first.status, 202);
    // The key is not recorded for an acknowledgement: another one with it is no IDEMPOTENCY_KEY_REUSED.
    const other = await schedulerPost(cluster.url, acknowledge(Buffer.alloc(16, 2).toString('base64')), headers);
    assert.is(other.status, 202);
    const malformed = await schedulerPost(cluster.url, acknowledge(Buffer.alloc(16, 3).toString('base64')), {
      ...headers,
      'idempotency-key': 'é',
    });
    assert.is(malformed.status, 400);
    assert.is(errorOf(malformed.body).code, 'INVALID_IDEMPOTENCY_KEY');
  } finally {
    await client.callOk('TEARDOWN');
    client.close();
  }
});

async function makeOffer(client: SchedulerClient): Promise<Mesos.Offer> {
  const fromAllocator = await client.maybeNextOf('OFFERS', 1500);
  if (fromAllocator !== null) return fromAllocator.offers.offers[0]!;
  const agent = cluster.master.machine.state.agents.get(A1)!;
  await proposeOk(cluster, {
    type: 'create_offers',
    at: Date.now(),
    offers: [
      {
        offerId: offerId('idem-offer-1'),
        frameworkId: toFrameworkId(client.frameworkId),
        agentId: A1,
        role: '*',
        resources: agentFreeResources(agent),
      },
    ],
  });
  return (await client.nextOf('OFFERS')).offers.offers[0]!;
}

const launch = (offer: Mesos.Offer, id: string) => ({
  type: 'LAUNCH',
  launch: {
    task_infos: [
      {
        name: id,
        task_id: { value: id },
        agent_id: offer.agent_id,
        command: { value: 'sleep 100' },
        resources: [
          { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
          { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
        ],
      },
    ],
  },
});

/** node:http, because fetch folds a header sent twice into one line. */
function rawPut(path: string, body: string, headers: Record<string, string | string[]>): Promise<Answer> {
  const url = new URL(path, cluster.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method: 'PUT', headers: { 'content-type': 'application/json', ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text, body: null }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

test.run();
