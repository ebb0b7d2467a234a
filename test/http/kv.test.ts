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

interface ListAnswer {
  readonly entries: { key: string; value: string; version: number }[];
  readonly next: string | null;
}

test('a namespace lists by prefix in key order, page by page, bounded, and refuses bad input', async () => {
  for (const key of ['cat/b', 'cat/a', 'cat/c', 'dog/a', 'category'])
    await call('PUT', `/api/v1/kv/pets/${key}`, { value: key });
  await call('PUT', '/api/v1/kv/other/cat/z', { value: 'elsewhere' });
  const first = (await call('GET', '/api/v1/kv/pets?prefix=cat/&limit=2')).body as ListAnswer;
  assert.equal(
    first.entries.map((entry) => entry.key),
    ['cat/a', 'cat/b'],
  );
  assert.is(first.entries[0]!.value, 'cat/a');
  assert.ok(first.entries[0]!.version > 0);
  assert.is(first.next, 'cat/b');
  const second = (await call('GET', `/api/v1/kv/pets?prefix=cat/&limit=2&after=${first.next}`)).body as ListAnswer;
  assert.equal(
    second.entries.map((entry) => entry.key),
    ['cat/c'],
  );
  assert.is(second.next, null, 'the last page says so');
  const all = (await call('GET', '/api/v1/kv/pets')).body as ListAnswer;
  assert.equal(
    all.entries.map((entry) => entry.key),
    ['cat/a', 'cat/b', 'cat/c', 'category', 'dog/a'],
  );
  assert.equal((await call('GET', '/api/v1/kv/empty-namespace')).body, { entries: [], next: null });
  const stale = (await call('GET', '/api/v1/kv/pets?prefix=dog/&stale=true')).body as ListAnswer;
  assert.is(stale.entries.length, 1);
  const bad: [string, string][] = [
    ['/api/v1/kv/pets?limit=0', 'BAD_REQUEST'],
    ['/api/v1/kv/pets?limit=1001', 'BAD_REQUEST'],
    ['/api/v1/kv/pets?limit=ten', 'BAD_REQUEST'],
    ['/api/v1/kv/pets?prefix=a%20b', 'INVALID_KEY'],
    [`/api/v1/kv/pets?after=${'k'.repeat(600)}`, 'INVALID_KEY'],
    ['/api/v1/kv/bad%20ns', 'INVALID_KEY'],
    ['/api/v1/kv/pets?stale=maybe', 'BAD_REQUEST'],
  ];
  for (const [path, code] of bad) {
    const result = await call('GET', path);
    assert.is(result.status, 400, path);
    assert.is(errorOf(result.body).code, code, path);
  }
});

test('a page stops near 1 MiB of values, with at least one entry', async () => {
  const big = 'x'.repeat(60_000);
  for (let index = 0; index < 20; index++)
    await call('PUT', `/api/v1/kv/big/k${String(index).padStart(2, '0')}`, { value: big });
  const page = (await call('GET', '/api/v1/kv/big?limit=1000')).body as ListAnswer;
  assert.is(page.entries.length, 17, '17 × 60,000 bytes fit in 1 MiB, 18 do not');
  assert.is(page.next, 'k16');
  const rest = (await call('GET', `/api/v1/kv/big?after=${page.next}`)).body as ListAnswer;
  assert.is(rest.entries.length, 3);
  assert.is(rest.next, null);
});

test('a stale read answers from local state', async () => {
  await call('PUT', '/api/v1/kv/app/s', { value: 'v' });
  assert.is(((await call('GET', '/api/v1/kv/app/s?stale=true')).body as KeyAnswer).value, 'v');
});

test.run();
