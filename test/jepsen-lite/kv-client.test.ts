// The jepsen-lite KV client retries an indeterminate write with its Idempotency-Key until a
// definite answer or its deadline (client/kv-client.ts), on a real master behind a real proxy
// that cuts answers (test/support/http-fault-proxy.ts): the write applies once and the
// operation ends ok; a 412 recorded under the key is final; a write that is still unknown ends
// info; without keys, an unknown answer ends the write at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SeededRandom } from '../../src/raft/random.ts';
import { kvKey } from '../../src/state-machine/state.ts';
import { HttpFaultProxy } from '../support/http-fault-proxy.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import type { AddressBook } from './client/endpoint.ts';
import { defaultKvClientLimits, KvClient, type KvClientOptions, kvPath } from './client/kv-client.ts';

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

const namespace = 'kv-client-test';
const limits = { ...defaultKvClientLimits, operationDeadlineMs: 3_000, retryPauseMs: 20 };

function client(options: Partial<KvClientOptions> = {}, name = 'c0'): KvClient {
  const [host, port] = proxy.address.split(':') as [string, string];
  const book: AddressBook = {
    nodeAt: () => 'm1',
    endpoint: () => ({ kind: 'tcp', host, port: Number(port) }),
  };
  return new KvClient(book, () => ['m1'], new SeededRandom(1), { limits, staleReads: false, ...options }, name);
}

const putName = (key: string) => `PUT ${kvPath(namespace, key)}`;
const versionOf = (key: string) => master.master.facade.state().kv.get(kvKey(namespace, key))?.version;

test('an answer lost, then a 503: the write is retried with its key, applied once, and ends ok', async () => {
  proxy.faults.set(putName('a'), ['forward-then-cut', 'answer-503']);
  const outcome = await client().write(namespace, 'a', 'v1', null);
  assert.is(outcome.type, 'ok');
  assert.is(outcome.unknownAttempts, 1);
  const version = outcome.type === 'ok' ? outcome.value.version : -1;
  assert.is(versionOf('a'), version, 'the first attempt applied; the retry answered its version');
  const keys = proxy.keysOf(putName('a'));
  assert.is(keys.length, 3);
  assert.ok(keys[0] === 'c0.1' && keys.every((key) => key === keys[0]), keys.join(', '));
});

test('a compare-and-set whose 412 was lost answers the 412 again: a definite failure', async () => {
  await client({}, 'setup').write(namespace, 'b', 'first', null);
  const before = versionOf('b');
  proxy.faults.set(putName('b'), ['forward-then-cut']);
  const outcome = await client({}, 'c1').write(namespace, 'b', 'second', 12345);
  assert.equal(outcome, { type: 'fail', error: 'VERSION_MISMATCH', node: 'm1', unknownAttempts: 1 });
  assert.is(versionOf('b'), before);
});

test('still unknown at the deadline: info, never fail', async () => {
  // More 503s than the write may try (maxAttemptsAfterUnknown) before its deadline.
  const refusals = Array.from(
    { length: defaultKvClientLimits.maxAttemptsAfterUnknown + 1 },
    () => 'answer-503' as const,
  );
  proxy.faults.set(putName('c'), ['forward-then-cut', ...refusals]);
  const outcome = await client({}, 'c2').write(namespace, 'c', 'v', null);
  assert.is(outcome.type, 'info');
  assert.is(outcome.unknownAttempts, 1);
  assert.ok(versionOf('c') !== undefined, 'the first attempt did apply');
  proxy.faults.set(putName('c'), []);
});

test('without keys, an unknown answer ends the write at once (and sends no key)', async () => {
  proxy.faults.set(putName('d'), ['forward-then-cut']);
  const outcome = await client({ withoutIdempotencyKeys: true }, 'c3').write(namespace, 'd', 'v', null);
  assert.is(outcome.type, 'info');
  assert.equal(proxy.keysOf(putName('d')), [null]);
});

test.run();
