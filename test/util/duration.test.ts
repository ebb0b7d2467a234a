// Mesos' duration syntax (src/util/duration.ts): what --registry_max_agent_age accepts, and that a
// parsed value shows back as it was written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMesosDuration, showMesosDuration } from '../../src/util/duration.ts';

const dayMs = 24 * 60 * 60 * 1000;
const maxMs = 365 * dayMs;

test('every Mesos unit, whole and fractional', () => {
  const cases: [string, number][] = [
    ['2weeks', 14 * dayMs],
    ['1days', dayMs],
    ['1.5hrs', 90 * 60 * 1000],
    ['10mins', 600_000],
    ['30secs', 30_000],
    ['500ms', 500],
    ['1500us', 2],
    ['2000000ns', 2],
    [' 3days ', 3 * dayMs],
  ];
  for (const [text, milliseconds] of cases) assert.is(parseMesosDuration(text, maxMs), milliseconds, text);
});

test('refused: no unit, an unknown unit, a space, a sign, longer than the maximum', () => {
  for (const text of ['10', 'mins', '10 mins', '10minutes', '10m', '-1days', '1e3secs', '', '53weeks']) {
    assert.throws(() => parseMesosDuration(text, maxMs), /duration|longer than/, text);
  }
});

test('shown in the largest unit that divides it, so defaults read as written', () => {
  for (const text of ['2weeks', '3days', '5hrs', '10mins', '30secs', '1500ms', '0ms']) {
    assert.is(showMesosDuration(parseMesosDuration(text, maxMs)), text);
  }
  assert.is(showMesosDuration(90 * 60 * 1000), '90mins');
});

test.run();
