// Writes the KV client retried with their Idempotency-Key after an indeterminate answer
// (client/kv-client.ts, checker/retries.ts): one invoke and one completion for all attempts,
// taking effect once, anywhere between the two. The checkers accept exactly that, and still
// flag what a key that was not honoured leaves behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkRegister } from './checker/register-checker.ts';
import { retriedWrites } from './checker/retries.ts';
import { checkSet } from './checker/set-checker.ts';
import type { Operation } from './history/operations.ts';
import { HistoryBuilder } from './support/history-builder.ts';
import { SetWorkload } from './workloads/set.ts';

const register = suite('register checker, retried writes');

register('a retried write took effect at its first attempt: read before its completion, then overwritten', () => {
  // w1 is sent at 0, times out, is sent again and answered at 100 with the version of its first
  // application (5). Meanwhile a read saw it and another write replaced it.
  const history = new HistoryBuilder()
    .write(0, 100, 'w1', 5)
    .retried(2)
    .read(10, 11, 'w1', 5)
    .write(20, 30, 'w2', 7)
    .read(40, 41, 'w2', 7);
  const result = checkRegister(history.operations);
  assert.is(result.valid, true, JSON.stringify(result.anomalies));
});

register('a retried write whose key was not honoured shows its value at two versions: invalid', () => {
  // The retry applied w1 a second time (version 9) after w2 had replaced it.
  const history = new HistoryBuilder()
    .write(0, 100, 'w1', 9)
    .retried(1)
    .read(10, 11, 'w1', 5)
    .write(20, 30, 'w2', 7)
    .read(110, 111, 'w1', 9);
  const result = checkRegister(history.operations);
  assert.is(result.valid, false);
  assert.ok(
    result.anomalies.some((anomaly) => anomaly.type === 'value-with-two-versions'),
    JSON.stringify(result.anomalies),
  );
});

register('a retried cas answered 412 is an observation like any other, and never took effect', () => {
  const observed = new HistoryBuilder()
    .write(0, 1, 'a', 3)
    .cas(5, 50, 'z', 'c1', 'mismatch')
    .retried(1)
    .read(60, 61, 'a', 3);
  assert.is(checkRegister(observed.operations).valid, true);
  // Its value read afterwards means an attempt did apply: a 412 was not final for the key.
  const applied = new HistoryBuilder()
    .write(0, 1, 'a', 3)
    .cas(5, 50, 'a', 'c1', 'mismatch')
    .retried(1)
    .read(60, 61, 'c1', 4);
  const result = checkRegister(applied.operations);
  assert.is(result.valid, false);
  assert.ok(result.anomalies.some((anomaly) => anomaly.type === 'failed-write-visible'));
});

register('retried writes are counted by how they ended', () => {
  const history = new HistoryBuilder()
    .write(0, 10, 'w1', 5)
    .retried(2)
    .write(0, null, 'w2')
    .retried(3)
    .cas(0, 10, 'x', 'c1', 'mismatch')
    .retried(1)
    .write(0, 10, 'w3', 6);
  assert.equal(retriedWrites(history.operations), { ok: 1, fail: 1, info: 1, unknownAttempts: 6 });
});

const set = suite('set checker, retried adds');

set('a retried add that was acknowledged must be in the final read', () => {
  const kept = new HistoryBuilder().addElement(0, 50, 'e0', 'ok').retried(1).finalRead(60, 61, ['e0']);
  assert.is(checkSet(kept.operations).valid, true);
  const lost = new HistoryBuilder().addElement(0, 50, 'e0', 'ok').retried(1).finalRead(60, 61, []);
  const result = checkSet(lost.operations);
  assert.is(result.valid, false);
  assert.equal(result.lost, ['e0']);
});

set('a retried add that failed must not be there; one still unknown may be', () => {
  const failed = new HistoryBuilder().addElement(0, 50, 'e0', 'fail').retried(1).finalRead(60, 61, ['e0']);
  assert.equal(checkSet(failed.operations).failedPresent, ['e0']);
  const unknown = new HistoryBuilder().addElement(0, null, 'e0', 'info').retried(4).finalRead(60, 61, ['e0']);
  const result = checkSet(unknown.operations);
  assert.is(result.valid, true);
  assert.equal(result.recovered, ['e0']);
});

set('an add that finds its element already there after a 412 is invalid: the 412 was not final', () => {
  const history = new HistoryBuilder().addElement(0, 50, 'e0', 'ok').finalRead(60, 61, ['e0']);
  const found: Operation = { ...history.operations[0]!, output: { version: 3, attempts: 2, alreadyPresent: true } };
  const check = new SetWorkload().check([found, history.operations[1]!]);
  assert.is(check.valid, false);
  assert.ok(check.anomalies.some((anomaly) => anomaly.type === 'failed-attempt-applied'));
});

register.run();
set.run();
