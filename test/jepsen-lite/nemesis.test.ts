// Partition shapes and the seeded schedule: pure functions, checked on their definitions.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bridge, isolate, majoritiesRing, majorityMinority } from './nemesis/partitions.ts';
import { nemesisNames, planSchedule } from './nemesis/schedule.ts';
import type { Grudge } from './net/faults.ts';

const shapes = suite('partition shapes');
const five = ['m1', 'm2', 'm3', 'm4', 'm5'];

/** Who each node hears (itself included). */
function heard(grudge: Grudge, nodes: readonly string[]): Map<string, Set<string>> {
  return new Map(nodes.map((node) => [node, new Set(nodes.filter((other) => !grudge.get(node)?.has(other)))]));
}

shapes('isolate: one node hears only itself, the others all but it', () => {
  const hears = heard(isolate(five, 'm3'), five);
  assert.equal([...hears.get('m3')!], ['m3']);
  assert.equal([...hears.get('m1')!].sort(), ['m1', 'm2', 'm4', 'm5']);
});

shapes('majority/minority: two sides, the smaller first', () => {
  const hears = heard(majorityMinority(five), five);
  assert.equal([...hears.get('m1')!].sort(), ['m1', 'm2']);
  assert.equal([...hears.get('m5')!].sort(), ['m3', 'm4', 'm5']);
});

shapes('bridge: the middle node hears both halves, the halves not each other', () => {
  const hears = heard(bridge(five), five);
  assert.equal([...hears.get('m3')!].sort(), five);
  assert.equal([...hears.get('m1')!].sort(), ['m1', 'm2', 'm3']);
  assert.equal([...hears.get('m5')!].sort(), ['m3', 'm4', 'm5']);
});

shapes('majorities ring: every node hears a majority, and no two the same one (five nodes)', () => {
  const hears = heard(majoritiesRing(five), five);
  const majorities = new Set<string>();
  for (const node of five) {
    assert.is(hears.get(node)!.size, 3, `${node} hears ${[...hears.get(node)!]}`);
    majorities.add([...hears.get(node)!].sort().join(','));
  }
  assert.is(majorities.size, 5);
  const three = heard(majoritiesRing(['a', 'b', 'c']), ['a', 'b', 'c']);
  for (const node of ['a', 'b', 'c']) assert.is(three.get(node)!.size, 2);
});

const schedule = suite('fault schedule');

schedule('the same seed gives the same schedule; faults end before the quiet period', () => {
  for (const nemesis of nemesisNames) {
    const first = planSchedule({ nemesis, seed: 42, timeMs: 120_000, quietMs: 10_000 });
    const again = planSchedule({ nemesis, seed: 42, timeMs: 120_000, quietMs: 10_000 });
    assert.equal(first, again);
    for (const fault of first)
      assert.ok(fault.atMs + fault.durationMs <= 110_000, `${nemesis}: a fault runs into the quiet period`);
    if (nemesis === 'none') assert.is(first.length, 0);
    else assert.ok(first.length >= 5, `${nemesis}: only ${first.length} faults in 120 s`);
  }
});

schedule('all mixes every kind of fault', () => {
  const kinds = new Set(
    planSchedule({ nemesis: 'all', seed: 7, timeMs: 600_000, quietMs: 10_000 }).map((fault) => fault.plan.kind),
  );
  assert.equal([...kinds].sort(), ['kill', 'kill-leader', 'latency', 'membership', 'partition', 'pause', 'restart']);
});

shapes.run();
schedule.run();
