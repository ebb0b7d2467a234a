// canonicalJson: sorted keys at every level, no whitespace, undefined members left out, numbers
// as JSON.stringify writes them, whatever the objects' own key order and however many kinds of
// object (key lists) it has seen before.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalJson } from '../../src/state-machine/canonical-json.ts';

test('keys in code-unit order at every level, undefined members left out, numbers as JSON writes them', () => {
  const value = {
    zeta: [3, -0, 1e21, 1.5e-7, 0.1 + 0.2, { b: null, a: true }],
    '\uffff': 'last',
    '\ud83d\ude00': 'a surrogate pair sorts before U+FFFF',
    alpha: 'x\u2028"\\',
    gone: undefined,
    '': 0,
  };
  assert.is(
    canonicalJson(value),
    '{"":0,"alpha":"x\u2028\\"\\\\","zeta":[3,0,1e+21,1.5e-7,0.30000000000000004,{"a":true,"b":null}],"\ud83d\ude00":"a surrogate pair sorts before U+FFFF","\uffff":"last"}',
  );
  assert.is(canonicalJson({}), '{}');
  assert.is(canonicalJson({ only: undefined }), '{}');
  assert.is(canonicalJson([]), '[]');
});

test('objects with the same keys in different orders, and one kind seen many times, write the same', () => {
  const written = new Set<string>();
  for (let round = 0; round < 3; round++) {
    written.add(canonicalJson({ b: 2, a: 1, c: { y: 1, x: 2 } }));
    written.add(canonicalJson({ c: { x: 2, y: 1 }, a: 1, b: 2 }));
    written.add(canonicalJson({ a: 1, c: { y: 1, x: 2 }, b: 2, d: undefined }));
  }
  assert.equal([...written], ['{"a":1,"b":2,"c":{"x":2,"y":1}}']);
});

test('past the bound on kinds of object kept, objects are still written in key order', () => {
  // Records keyed by user data (labels, environments): thousands of different key lists.
  for (let kind = 0; kind < 6000; kind++) canonicalJson({ [`label-${kind}`]: kind, [`first-${kind % 50}`]: 0 });
  assert.is(
    canonicalJson({ zz: 1, label: { b: 1, a: 2 }, aa: [{ d: 1, c: 2 }] }),
    '{"aa":[{"c":2,"d":1}],"label":{"a":2,"b":1},"zz":1}',
  );
  assert.is(canonicalJson({ 'first-1': 1, 'first-0': 0 }), '{"first-0":0,"first-1":1}');
});

test('refused: non-finite numbers, undefined array items, functions, nesting deeper than the bound', () => {
  assert.throws(() => canonicalJson({ a: Number.NaN }), /non-finite/);
  assert.throws(() => canonicalJson([undefined]), /cannot serialise a undefined/);
  assert.throws(() => canonicalJson({ f: () => 1 }), /cannot serialise a function/);
  let deep: unknown = 1;
  for (let depth = 0; depth < 40; depth++) deep = { d: deep };
  assert.throws(() => canonicalJson(deep), /nested too deeply/);
});

test.run();
