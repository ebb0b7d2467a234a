// The key-value API on a real (single-voter) master: versions, compare-and-set, validation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorOf, type KeyAnswer } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';

let cluster: SingleMaster;
test.before(async () => {
  cluster = await startSingleMaster();
});
test.after(async () => {
  await cluster.stop();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${cluster.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

test('put, get and delete a key; versions grow with every write', async () => {
  const first = await call('PUT', '/api/v1/kv/app/config/db', { value: 'a' });
  assert.is(first.status, 200);
  assert.is((first.body as KeyAnswer).key, 'config/db');
  const second = await call('PUT', '/api/v1/kv/app/config/db', { value: 'b' });
  const secondVersion = (second.body as KeyAnswer).version;
  assert.ok(secondVersion > (first.body as KeyAnswer).version);
  const read = await call('GET', '/api/v1/kv/app/config/db');
  assert.equal(read.body, { key: 'config/db', value: 'b', version: secondVersion });
  assert.is((await call('DELETE', '/api/v1/kv/app/config/db')).status, 200);
  const gone = await call('GET', '/api/v1/kv/app/config/db');
  assert.is(gone.status, 404);
  assert.is(errorOf(gone.body).code, 'KEY_NOT_FOUND');
});

test('If-Match makes a compare-and-set; 0 means only if absent', async () => {
  const created = await call('PUT', '/api/v1/kv/app/lock', { value: 'owner-1' }, { 'if-match': '0' });
  assert.is(created.status, 200);
  const again = await call('PUT', '/api/v1/kv/app/lock', { value: 'owner-2' }, { 'if-match': '0' });
  assert.is(again.status, 412);
  assert.is(errorOf(again.body).code, 'VERSION_MISMATCH');
  const createdVersion = String((created.body as KeyAnswer).version);
  const swapped = await call('PUT', '/api/v1/kv/app/lock', { value: 'owner-2' }, { 'if-match': createdVersion });
  assert.is(swapped.status, 200);
  const stale = await call('DELETE', '/api/v1/kv/app/lock', undefined, { 'if-match': createdVersion });
  assert.is(stale.status, 412);
  assert.is(((await call('GET', '/api/v1/kv/app/lock')).body as KeyAnswer).value, 'owner-2');
});

test('bad input is a 4xx with a stable code and changes nothing', async () => {
  const cases: [string, string, unknown, Record<string, string>, number, string][] = [
    ['PUT', '/api/v1/kv/app/k', { value: 5 }, {}, 400, 'INVALID_BODY'],
    ['PUT', '/api/v1/kv/app/k', {}, {}, 400, 'INVALID_BODY'],
    ['PUT', '/api/v1/kv/app/k', '{"value":', {}, 400, 'BAD_REQUEST'],
    ['PUT', '/api/v1/kv/app/k', { value: 'x' }, { 'if-match': 'abc' }, 400, 'INVALID_VERSION'],
    ['PUT', '/api/v1/kv/bad%20ns/k', { value: 'x' }, {}, 400, 'INVALID_KEY'],
    ['PUT', `/api/v1/kv/app/${'k'.repeat(600)}`, { value: 'x' }, {}, 400, 'INVALID_KEY'],
    ['PUT', '/api/v1/kv/app/k', { value: 'x'.repeat(70_000) }, {}, 400, 'INVALID_BODY'],
    ['GET', '/api/v1/kv/app/k?stale=maybe', undefined, {}, 400, 'BAD_REQUEST'],
  ];
  for (const [method, path, body, headers, status, code] of cases) {
    const result = await call(method, path, body, headers);
    assert.is(result.status, status, `${method} ${path.slice(0, 40)}: ${JSON.stringify(result.body)}`);
    assert.is(errorOf(result.body).code, code, `${method} ${path.slice(0, 40)}`);
  }
  const textBody = await fetch(`${cluster.url}/api/v1/kv/app/k`, {
    method: 'PUT',
    headers: { 'content-type': 'text/plain' },
    body: 'x',
  });
  assert.is(textBody.status, 415);
  assert.is((await call('GET', '/api/v1/kv/app/k')).status, 404);
});

test('a stale read answers from local state', async () => {
  await call('PUT', '/api/v1/kv/app/s', { value: 'v' });
  assert.is(((await call('GET', '/api/v1/kv/app/s?stale=true')).body as KeyAnswer).value, 'v');
});

test.run();
