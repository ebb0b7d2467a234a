// The frameworks' KV client (src/frameworks/kv/client.ts) on a real master, through a real proxy
// that breaks calls the way a network or a failover does (test/support/http-fault-proxy.ts): a
// compare-and-set whose answer was lost is sent again with its Idempotency-Key and applied once;
// a 412 is a result, not an error; list pages through a namespace by prefix; an aborted client
// cuts off what it has in flight and refuses every call.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KvClient, KvError } from '../../src/frameworks/kv/client.ts';
import { parseMasterAddress } from '../../src/frameworks/sdk/masters.ts';
import { kvKey } from '../../src/state-machine/state.ts';
import { HttpFaultProxy } from '../support/http-fault-proxy.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';

let master: SingleMaster;
let proxy: HttpFaultProxy;
test.before(async () => {
  master = await startSingleMaster();
  proxy = await HttpFaultProxy.start(master.url.replace('http://', ''));
});
test.after(async () => {
  await proxy?.close();
  await master?.stop();
});

const namespace = 'frameworks-kv-test';

function client(signal?: AbortSignal): KvClient {
  return new KvClient({
    masters: [parseMasterAddress(proxy.address)],
    namespace,
    requestDeadlineMs: 10_000,
    ...(signal === undefined ? {} : { signal }),
  });
}

const versionOf = (key: string) => master.master.facade.state().kv.get(kvKey(namespace, key))?.version;

test('a compare-and-set whose answer was lost is sent again with its key: applied once, reported won', async () => {
  const kv = client();
  const created = await kv.put('lease', 'first', 0);
  assert.ok(created.ok);
  const name = `PUT /api/v1/kv/${namespace}/lease`;
  proxy.faults.set(name, ['forward-then-cut', 'answer-503']);
  const swapped = await kv.put('lease', 'second', created.ok ? created.version : -1);
  assert.ok(swapped.ok, 'the first attempt applied; its retries answered its result');
  assert.is(swapped.ok ? swapped.version : -1, versionOf('lease'));
  const keys = proxy.keysOf(name).slice(-3);
  assert.is(keys.length, 3);
  assert.ok(keys[0] !== null && keys.every((key) => key === keys[0]), `one key for every attempt: ${keys.join(', ')}`);
  assert.equal(await kv.get('lease'), { value: 'second', version: versionOf('lease') });
});

test('a version mismatch is a result; an absent key reads null', async () => {
  const kv = client();
  assert.equal(await kv.put('lease', 'third', 1), { ok: false });
  assert.equal(await kv.delete('lease', 1), { ok: false });
  assert.is((await kv.get('lease'))?.value, 'second', 'nothing changed');
  assert.is(await kv.get('never-written'), null);
});

test('list pages through the keys of a prefix in key order; listAll reads them all', async () => {
  const kv = client();
  for (let index = 0; index < 25; index++)
    await kv.put(`jobs/job-${String(index).padStart(2, '0')}`, `v${index}`, null);
  await kv.put('other/x', 'not listed', null);
  const first = await kv.list('jobs/', null, 10);
  assert.equal(
    first.entries.map((entry) => entry.key),
    Array.from({ length: 10 }, (_, index) => `jobs/job-${String(index).padStart(2, '0')}`),
  );
  assert.is(first.next, 'jobs/job-09');
  const second = await kv.list('jobs/', first.next, 10);
  assert.is(second.entries[0]?.key, 'jobs/job-10');
  const seen: string[] = [];
  await kv.listAll('jobs/', (entries) => {
    for (const entry of entries) seen.push(`${entry.key}=${entry.value}@${entry.version}`);
  });
  assert.is(seen.length, 25);
  assert.is(seen[24], `jobs/job-24=v24@${versionOf('jobs/job-24')}`);
});

test('an aborted client cuts off the call in flight and refuses every later one', async () => {
  const abort = new AbortController();
  const kv = client(abort.signal);
  const name = `PUT /api/v1/kv/${namespace}/cut`;
  // 503s keep the write retrying until the abort ends it.
  proxy.faults.set(
    name,
    Array.from({ length: 50 }, () => 'answer-503' as const),
  );
  const pending = kv.put('cut', 'never', null).then(
    () => null,
    (error: unknown) => error,
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  abort.abort();
  const error = await pending;
  assert.instance(error, KvError);
  assert.is((error as KvError).code, 'CLOSED');
  assert.is(versionOf('cut'), undefined, 'nothing was written');
  const later = await kv.get('lease').catch((caught: unknown) => caught);
  assert.is((later as KvError).code, 'CLOSED');
  proxy.faults.set(name, []);
});

test.run();
