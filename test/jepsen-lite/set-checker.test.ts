// The set checker on small histories: lost acknowledged adds, unexpected elements, failed adds
// that appear anyway, indeterminate adds that were recovered, and masters that disagree.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkSet } from './checker/set-checker.ts';
import { HistoryBuilder } from './support/history-builder.ts';

const set = suite('set checker');

set('every acknowledged add in the final read is valid', () => {
  const history = new HistoryBuilder()
    .addElement(0, 1, 'e0', 'ok')
    .addElement(0, 2, 'e1', 'ok')
    .finalRead(10, 11, ['e0', 'e1']);
  const result = checkSet(history.operations);
  assert.is(result.valid, true);
  assert.is(result.lost.length, 0);
});

set('an acknowledged add missing from the final read is lost', () => {
  const history = new HistoryBuilder()
    .addElement(0, 1, 'e0', 'ok')
    .addElement(0, 2, 'e1', 'ok')
    .finalRead(10, 11, ['e1']);
  const result = checkSet(history.operations);
  assert.is(result.valid, false);
  assert.equal(result.lost, ['e0']);
  assert.ok(result.anomalies.some((anomaly) => anomaly.type === 'lost'));
});

set('indeterminate adds may or may not be there; those there are recovered', () => {
  const history = new HistoryBuilder()
    .addElement(0, null, 'e0', 'info')
    .addElement(0, null, 'e1', 'info')
    .finalRead(10, 11, ['e1']);
  const result = checkSet(history.operations);
  assert.is(result.valid, true);
  assert.equal(result.recovered, ['e1']);
});

set('an element nobody added is unexpected', () => {
  const result = checkSet(new HistoryBuilder().addElement(0, 1, 'e0', 'ok').finalRead(10, 11, ['e0', 'e9']).operations);
  assert.is(result.valid, false);
  assert.equal(result.unexpected, ['e9']);
});

set('an add that answered a definite failure must not be there', () => {
  const result = checkSet(new HistoryBuilder().addElement(0, 1, 'e0', 'fail').finalRead(10, 11, ['e0']).operations);
  assert.is(result.valid, false);
  assert.equal(result.failedPresent, ['e0']);
});

set('masters that disagree on a bucket are reported, and an element twice is a duplicate', () => {
  const history = new HistoryBuilder()
    .addElement(0, 1, 'e0', 'ok')
    .addElement(0, 1, 'e1', 'ok')
    .finalRead(10, 11, ['e0', 'e1'])
    .finalRead(10, 11, ['e0']);
  const result = checkSet(history.operations);
  assert.is(result.valid, false);
  assert.ok(result.anomalies.some((anomaly) => anomaly.type === 'divergent-final-reads'));
  const twice = checkSet(new HistoryBuilder().addElement(0, 1, 'e0', 'ok').finalRead(10, 11, ['e0', 'e0']).operations);
  assert.equal(twice.duplicates, ['e0']);
  assert.is(twice.valid, false);
});

set('a bucket without any final read leaves the verdict unknown, never valid', () => {
  const history = new HistoryBuilder()
    .addElement(0, 1, 'e0', 'ok', 'b0')
    .addElement(0, 1, 'e1', 'ok', 'b1')
    .finalRead(10, 11, ['e0'], 'b0');
  const result = checkSet(history.operations);
  assert.is(result.valid, 'unknown');
  assert.equal(result.bucketsUnread, ['b1']);
});

set.run();
