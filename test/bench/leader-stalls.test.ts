// bench/peers/leader-stalls.ts: the followers' logged silences paired into leader stalls, and the
// chance each stall became an election under an election timer. A stall only one follower saw
// long elects nobody: the other, still in its stickiness lease, does not grant.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { electionChance, type FollowerSilence, pairStalls } from '../../bench/peers/leader-stalls.ts';

const silence = (endMs: number, node: string, ticks: number, term = 3): FollowerSilence => ({
  endMs,
  node,
  term,
  ticks,
  silenceMs: ticks * 30,
});

test('silences of two followers ending together are one stall; apart, in another term or of one node, two', () => {
  const stalls = pairStalls(
    [
      silence(1_000, 'm2', 12),
      silence(1_020, 'm3', 11),
      silence(5_000, 'm2', 9),
      silence(5_010, 'm2', 6),
      silence(9_000, 'm3', 13),
      silence(9_010, 'm2', 13, 4),
    ],
    2,
  );
  assert.equal(
    stalls.map((stall) => stall.ticks),
    [
      [12, 11],
      [9, 0],
      [6, 0],
      [13, 0],
      [13, 0],
    ],
  );
});

test('election chance: fixed elects when both followers reach the timeout; randomized by its draw', () => {
  const both = { endMs: 0, term: 1, ticks: [12, 11] };
  const one = { endMs: 0, term: 1, ticks: [13, 4] };
  assert.is(electionChance(both, 11, 11, 1), 1, 'fixed at 11: both past it');
  assert.is(electionChance(both, 12, 12, 1), 0, 'fixed at 12: the second follower is still in its lease');
  assert.is(electionChance(one, 10, 10, 1), 0, 'one follower alone elects nobody');
  // Randomized 10-19: the first fires with 3 chances in 10, the second with 2 in 10.
  assert.ok(Math.abs(electionChance(both, 10, 10, 10) - (1 - 0.7 * 0.8)) < 1e-9);
});

test.run();
