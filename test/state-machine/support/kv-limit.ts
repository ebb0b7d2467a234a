// KV_LIMIT_EXCEEDED needs a full store: filled directly (100,000 puts through the machine would
// take too long), then the rejection goes through the pure apply, checked for no change.
import * as assert from 'uvu/assert';
import { apply } from '../../../src/state-machine/apply.ts';
import { stateHash } from '../../../src/state-machine/hash.ts';
import { maxKvEntries } from '../../../src/state-machine/limits.ts';
import { emptyState, kvKey } from '../../../src/state-machine/state.ts';

export function kvLimitCase(): void {
  const state = emptyState();
  for (let entry = 0; entry < maxKvEntries; entry += 1) {
    const key = `k${entry}`;
    state.kv.set(kvKey('n', key), { namespace: 'n', key, value: '', version: 1, createIndex: 1 });
  }
  const before = stateHash(state);
  const result = apply(
    state,
    { type: 'kv_put', namespace: 'n', key: 'one-more', value: 'v', expectedVersion: null },
    2,
  );
  assert.equal(result.ok ? 'ok' : result.code, 'KV_LIMIT_EXCEEDED');
  assert.is(stateHash(state), before);
  assert.equal(apply(state, { type: 'kv_put', namespace: 'n', key: 'k7', value: 'v', expectedVersion: 1 }, 3), {
    ok: true,
    version: 3,
  });
}
