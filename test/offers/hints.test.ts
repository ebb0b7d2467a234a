// The allocator's in-memory hints: filters from DECLINE's refuse_seconds, SUPPRESS and REVIVE,
// and the allocation settings made from the master's options (validated in test/master/config).
import { maxRefuseSeconds } from '../../src/offers/limits.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocationSettings } from '../../src/master/allocation-loop.ts';
import { parseMinAllocatable } from '../../src/offers/allocator.ts';
import { AllocationHints } from '../../src/offers/hints.ts';

const now = 1_700_000_000_000;

test('refuse: a filter lasts refuse_seconds; zero or negative makes none; a shorter one never shortens a longer', () => {
  const hints = new AllocationHints();
  hints.refuse('f1', ['a1'], 5, now);
  hints.refuse('f1', ['a2'], 0, now);
  hints.refuse('f1', ['a3'], -1, now);
  hints.refuse('f1', ['a4'], Number.NaN, now);
  assert.ok(hints.isFiltered('f1', 'a1', now + 4_999));
  assert.not.ok(hints.isFiltered('f1', 'a1', now + 5_000));
  assert.not.ok(hints.isFiltered('f1', 'a2', now));
  assert.not.ok(hints.isFiltered('f1', 'a3', now));
  assert.not.ok(hints.isFiltered('f1', 'a4', now));
  assert.not.ok(hints.isFiltered('f2', 'a1', now), 'filters are per framework');
  hints.refuse('f1', ['a1'], 1, now);
  assert.ok(hints.isFiltered('f1', 'a1', now + 4_000));
  assert.equal(hints.filtersOf('f1', now), [{ agentId: 'a1', expiresAtMs: now + 5_000 }]);
  assert.is(hints.nextExpiryMs(now), now + 5_000);
  hints.prune(now + 5_000);
  assert.equal(hints.filtersOf('f1', now), []);
});

test('prune: the agents whose filters lapsed since the last call, by expiry time; generation on widening only', () => {
  const hints = new AllocationHints();
  const start = hints.generation;
  hints.refuse('f1', ['a1', 'a2'], 5, now);
  hints.refuse('f2', ['a3'], 10, now);
  hints.refuse('f1', ['a2'], 20, now);
  assert.is(hints.generation, start, 'DECLINE only narrows: no new generation');
  assert.equal(hints.prune(now + 4_999), []);
  assert.is(hints.nextExpiryMs(now + 4_999), now + 5_000);
  assert.equal(hints.prune(now + 5_000), ['a1'], 'a2 was extended to 20 s');
  assert.is(hints.nextExpiryMs(now + 5_000), now + 10_000, 'the stale entry of a2 is skipped');
  assert.equal(hints.prune(now + 10_000), ['a3']);
  assert.ok(hints.isFiltered('f1', 'a2', now + 10_000));
  assert.equal(hints.prune(now + 25_000), ['a2']);
  assert.is(hints.nextExpiryMs(now + 25_000), null);
  assert.equal(hints.filtersOf('f1', now), []);
  hints.revive('f1', []);
  hints.setSuppressedRoles('f1', ['a']);
  assert.is(hints.generation, start + 2, 'REVIVE and SUBSCRIBE suppressed roles may widen');
});

test('prune: a filter extended many times (its index compacted on the way) lapses once', () => {
  const hints = new AllocationHints();
  for (let round = 1; round <= 3_000; round += 1) hints.refuse('f1', ['a1', 'a2'], round, now);
  assert.equal(hints.prune(now + 2_999_999), []);
  assert.equal(hints.prune(now + 3_000_000).sort(), ['a1', 'a2']);
  assert.is(hints.nextExpiryMs(now), null);
});

test('refuse: refuse_seconds is capped at a year', () => {
  const hints = new AllocationHints();
  hints.refuse('f1', ['a1'], 1e12, now);
  assert.is(hints.filtersOf('f1', now)[0]?.expiresAtMs, now + maxRefuseSeconds * 1000);
});

test('suppress, setSuppressedRoles and revive', () => {
  const hints = new AllocationHints();
  hints.suppress('f1', [], ['a', 'b']);
  assert.equal(hints.suppressedRoles('f1'), ['a', 'b'], "no roles named: all of the framework's");
  hints.refuse('f1', ['a1'], 60, now);
  hints.revive('f1', ['a']);
  assert.equal(hints.suppressedRoles('f1'), ['b']);
  assert.not.ok(hints.isFiltered('f1', 'a1', now), 'REVIVE clears every filter');
  hints.setSuppressedRoles('f1', ['c']);
  assert.ok(hints.isSuppressed('f1', 'c'));
  assert.not.ok(hints.isSuppressed('f1', 'b'));
  hints.revive('f1', []);
  assert.equal(hints.suppressedRoles('f1'), []);
  hints.suppress('f1', ['x'], []);
  hints.forget('f1');
  assert.equal(hints.suppressedRoles('f1'), []);
});

test('allocation settings: the options as the loop takes them, Mesos min allocatable syntax', () => {
  const settings = allocationSettings({
    allocationBatchMs: 50,
    offerTimeoutMs: 60_000,
    minAllocatableResources: 'cpus:0.01|mem:32',
  });
  assert.is(settings.batchMs, 50);
  assert.is(settings.offerTimeoutMs, 60_000);
  assert.equal(settings.minAllocatable, [new Map([['cpus', 10]]), new Map([['mem', 32_000]])]);
  assert.equal(parseMinAllocatable('cpus:1;mem:128|gpus:1'), [
    new Map([
      ['cpus', 1000],
      ['mem', 128_000],
    ]),
    new Map([['gpus', 1000]]),
  ]);
  assert.equal(parseMinAllocatable(''), []);
  assert.throws(() => parseMinAllocatable('cpus=1'), /not name:amount/);
});

test.run();
