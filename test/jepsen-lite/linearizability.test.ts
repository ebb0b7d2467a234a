// The linearizability checker on histories whose answer is known, including the tricky ones
// with indeterminate (info) operations: an info write may have happened at any moment after
// its call, or never; it can never have happened before its call.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLinearizable } from './checker/linearizability.ts';
import { checkRegister } from './checker/register-checker.ts';
import { HistoryBuilder } from './support/history-builder.ts';

const register = suite('register linearizability');

function verdict(history: HistoryBuilder): string {
  const result = checkRegister(history.operations);
  return result.valid === true ? 'valid' : result.valid === false ? 'invalid' : 'unknown';
}

register('sequential write then read', () => {
  assert.is(verdict(new HistoryBuilder().write(0, 1, 'a', 5).read(2, 3, 'a', 5)), 'valid');
});

register('a read concurrent with a write may see either value', () => {
  assert.is(verdict(new HistoryBuilder().write(0, 10, 'a', 5).read(1, 2, null).read(3, 4, 'a', 5)), 'valid');
});

register('a stale read after the write returned is not linearizable', () => {
  assert.is(verdict(new HistoryBuilder().write(0, 1, 'a', 5).read(2, 3, null)), 'invalid');
});

register('two readers that see two concurrent writes in opposite orders', () => {
  const history = new HistoryBuilder()
    .write(0, 20, 'x', 5)
    .write(0, 20, 'y', 6)
    .read(1, 5, 'x', 5)
    .read(6, 10, 'y', 6)
    .read(1, 5, 'y', 6)
    .read(6, 10, 'x', 5);
  assert.is(verdict(history), 'invalid');
});

register('read-read inversion: a later read sees the older value', () => {
  const history = new HistoryBuilder().write(0, 1, 'a', 5).write(2, 20, 'b', 7).read(3, 4, 'b', 7).read(5, 6, 'a', 5);
  assert.is(verdict(history), 'invalid');
});

register('an info write that is never seen can be taken as never applied', () => {
  assert.is(verdict(new HistoryBuilder().write(0, null, 'a').read(1, 2, null).read(50, 51, null)), 'valid');
});

register('an info write seen long after the client gave up did take effect', () => {
  assert.is(verdict(new HistoryBuilder().write(0, null, 'a').read(1, 2, null).read(50, 51, 'a', 9)), 'valid');
});

register('an info write cannot take effect before it was invoked', () => {
  assert.is(verdict(new HistoryBuilder().read(0, 1, 'a', 9).write(2, null, 'a')), 'invalid');
});

register('an info write cannot be undone: seen, then absent again', () => {
  assert.is(verdict(new HistoryBuilder().write(0, null, 'a').read(5, 6, 'a', 9).read(7, 8, null)), 'invalid');
});

register('an info cas applies only if its comparison held', () => {
  // Nothing ever held "z", so cas(z → b) cannot have produced the b that was read.
  assert.is(
    verdict(new HistoryBuilder().write(0, 1, 'a', 3).cas(2, null, 'z', 'b', 'info').read(10, 11, 'b', 8)),
    'invalid',
  );
  assert.is(
    verdict(new HistoryBuilder().write(0, 1, 'a', 3).cas(2, null, 'a', 'b', 'info').read(10, 11, 'b', 8)),
    'valid',
  );
});

register('a chain of info operations: an unseen info write enables an info cas that was seen', () => {
  const history = new HistoryBuilder().write(0, null, 'a').cas(1, null, 'a', 'b', 'info').read(10, 11, 'b', 8);
  assert.is(verdict(history), 'valid');
});

register('a 412 is an observation: the key must not have been at the expected value', () => {
  assert.is(verdict(new HistoryBuilder().write(0, 1, 'a', 3).cas(2, 3, 'a', 'b', 'mismatch')), 'invalid');
  // With a write of c concurrent with the cas, the 412 is explained.
  assert.is(
    verdict(new HistoryBuilder().write(0, 1, 'a', 3).write(2, 4, 'c', 4).cas(2, 3, 'a', 'b', 'mismatch')),
    'valid',
  );
});

register('a 412 explained only by an indeterminate write is valid', () => {
  assert.is(
    verdict(new HistoryBuilder().write(0, 1, 'a', 3).write(2, null, 'c').cas(5, 6, 'a', 'b', 'mismatch')),
    'valid',
  );
});

register('a cas that succeeded from a value the key never held is invalid', () => {
  assert.is(verdict(new HistoryBuilder().write(0, 1, 'a', 3).cas(2, 3, 'q', 'b', 'ok', 4)), 'invalid');
  assert.is(verdict(new HistoryBuilder().cas(0, 1, null, 'b', 'ok', 4).read(2, 3, 'b', 4)), 'valid');
});

register('versions must grow in the order of the writes', () => {
  // b was acknowledged with a lower version than a, yet written after a returned.
  assert.is(verdict(new HistoryBuilder().write(0, 1, 'a', 10).write(2, 3, 'b', 5)), 'invalid');
  assert.is(verdict(new HistoryBuilder().write(0, 1, 'a', 5).write(2, 3, 'b', 10)), 'valid');
});

register('a failed write that became visible is reported as such', () => {
  const result = checkRegister(new HistoryBuilder().failedWrite(0, 1, 'a').read(2, 3, 'a', 4).operations);
  assert.is(result.valid, false);
  assert.ok(result.anomalies.some((anomaly) => anomaly.type === 'failed-write-visible'));
});

register('one value at two versions (a write applied twice) is reported', () => {
  const result = checkRegister(
    new HistoryBuilder().write(0, 1, 'a', 4).read(2, 3, 'a', 4).read(4, 5, 'a', 6).operations,
  );
  assert.is(result.valid, false);
  assert.ok(result.anomalies.some((anomaly) => anomaly.type === 'value-with-two-versions'));
});

register('keys are checked independently', () => {
  const history = new HistoryBuilder().write(0, 1, 'a', 3, 'k1').read(2, 3, null, 0, 'k2').read(2, 3, 'a', 3, 'k1');
  const result = checkRegister(history.operations);
  assert.is(result.valid, true);
  assert.is(result.keys.length, 2);
});

register('the anomaly names the operation that could not be placed', () => {
  const result = checkRegister(new HistoryBuilder().write(0, 1, 'a', 5).read(2, 3, null).operations);
  const anomaly = result.anomalies.find((candidate) => candidate.type === 'non-linearizable');
  assert.ok(anomaly);
  assert.is((anomaly!.details as { blocking: number }).blocking, 2);
});

const search = suite('search bounds');

register('a search that runs out of budget answers unknown, never valid', () => {
  // Many concurrent writes and reads in one window: the search has a lot of orders to try.
  const history = new HistoryBuilder();
  for (let index = 0; index < 14; index++) history.write(0, 100, `v${index}`, index + 1);
  for (let index = 0; index < 14; index++) history.read(0, 100, `v${13 - index}`, 14 - index);
  history.read(101, 102, 'nonexistent-but-written-later', 99).write(0, 100, 'nonexistent-but-written-later', 99);
  const result = checkRegister(history.operations, { limits: { maxSteps: 50, deadlineMs: 10_000 } });
  assert.is(result.valid, 'unknown');
});

search('the generic search: no operations is linearizable; one impossible read is not', () => {
  const model = {
    init: 0,
    step: (state: number, input: number, output: number | undefined) =>
      output === undefined || output === state + input ? state + input : undefined,
    stateKey: String,
  };
  assert.is(checkLinearizable(model, []).verdict, 'linearizable');
  assert.is(
    checkLinearizable(model, [{ id: 1, callNs: 0, returnNs: 1, input: 2, output: 3 }]).verdict,
    'not-linearizable',
  );
  const concurrent = [
    { id: 1, callNs: 0, returnNs: 10, input: 1, output: 3 },
    { id: 2, callNs: 0, returnNs: 10, input: 2, output: 2 },
  ];
  const result = checkLinearizable(model, concurrent);
  assert.is(result.verdict, 'linearizable');
  assert.equal(result.verdict === 'linearizable' ? result.linearization : [], [2, 1]);
});

search('info operations at the end may be left out; known ones may not', () => {
  const model = {
    init: 0,
    step: (state: number, input: number, output: number | undefined) =>
      output === undefined || output === state + input ? state + input : undefined,
    stateKey: String,
  };
  const result = checkLinearizable(model, [
    { id: 1, callNs: 0, returnNs: Infinity, input: 5, output: undefined },
    { id: 2, callNs: 1, returnNs: 2, input: 1, output: 1 },
  ]);
  assert.is(result.verdict, 'linearizable');
});

register.run();
search.run();
