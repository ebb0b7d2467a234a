// The key-value store: versions are Raft indexes, compare-and-set with expectedVersion (0 means
// "only if absent"), namespaces are separate.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { kvKey } from '../../src/state-machine/state.ts';
import { Harness } from './support/fixtures.ts';

const put = (key: string, value: string, expectedVersion: number | null = null, namespace = 'jobs') =>
  ({ type: 'kv_put', namespace, key, value, expectedVersion }) as const;
const del = (key: string, expectedVersion: number | null = null, namespace = 'jobs') =>
  ({ type: 'kv_delete', namespace, key, expectedVersion }) as const;

test('a put answers the new version, which is the index of the write and grows with every write', () => {
  const harness = new Harness();
  harness.ok({ type: 'noop' });
  assert.equal(harness.ok(put('cron/nightly', 'a')), { ok: true, version: 2 });
  assert.equal(harness.ok(put('cron/nightly', 'b')), { ok: true, version: 3 });
  const entry = harness.state.kv.get(kvKey('jobs', 'cron/nightly'));
  assert.equal(entry, { namespace: 'jobs', key: 'cron/nightly', value: 'b', version: 3, createIndex: 2 });
});

test('compare-and-set: expectedVersion 0 creates only if absent; n writes only at version n', () => {
  const harness = new Harness();
  assert.equal(harness.ok(put('leader', 'x', 0)), { ok: true, version: 1 });
  harness.rejects(put('leader', 'y', 0), 'VERSION_MISMATCH');
  harness.rejects(put('leader', 'y', 7), 'VERSION_MISMATCH');
  assert.equal(harness.ok(put('leader', 'y', 1)), { ok: true, version: 4 });
});

test('delete: answers the deleted version; absent keys delete fine unless a version is expected', () => {
  const harness = new Harness([put('k', 'v')]);
  harness.rejects(del('k', 5), 'VERSION_MISMATCH');
  assert.equal(harness.ok(del('k', 1)), { ok: true, version: 1 });
  assert.equal(harness.ok(del('k')), { ok: true, version: null });
  assert.equal(harness.ok(del('k', 0)), { ok: true, version: null });
  harness.rejects(del('k', 1), 'VERSION_MISMATCH');
  assert.is(harness.state.kv.size, 0);
});

test('namespaces are separate; a deleted key starts over at a new version', () => {
  const harness = new Harness([put('k', 'one', null, 'a'), put('k', 'two', null, 'b'), del('k', null, 'a')]);
  assert.equal(harness.ok(put('k', 'again', 0, 'a')), { ok: true, version: 4 });
  assert.is(harness.state.kv.size, 2);
});

test.run();
