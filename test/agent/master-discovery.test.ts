// The agent's discovery schedule (src/agent/master-discovery.ts), which the real agent's link and
// the simulated agents both follow: which master is dialled after each session's end, and after
// how long, with a pinned random source. No clock: the delays are the schedule's own numbers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Dial, discoveryLimits, MasterDiscovery, type SessionEnd } from '../../src/agent/master-discovery.ts';
import { backoffDelayMs } from '../../src/util/backoff.ts';

/** A random source that returns `draws` in turn, forever. */
function pinned(...draws: number[]): () => number {
  let next = 0;
  return () => draws[next++ % draws.length]!;
}

const masters = ['m1:1', 'm2:2', 'm3:3'];
const refused: SessionEnd = { kind: 'closed', registered: false };
const lostLeader: SessionEnd = { kind: 'closed', registered: true };

/** Registers with the master of the first dial, then loses it: the dial that follows. */
function afterLosing(discovery: MasterDiscovery): { lost: string; dial: Dial } {
  const lost = discovery.first().target;
  discovery.registered();
  return { lost, dial: discovery.next(lost, lostLeader) };
}

test('after losing the leader: the others at once after a jitter below reconnectJitterMaxMs, the lost one last', () => {
  const discovery = new MasterDiscovery(masters, null, pinned(0.5));
  const { lost, dial } = afterLosing(discovery);
  assert.is(dial.delayMs, Math.floor(0.5 * discoveryLimits.reconnectJitterMaxMs));
  const round = [dial.target];
  round.push(discovery.next(round.at(-1)!, refused).target);
  const third = discovery.next(round.at(-1)!, refused);
  round.push(third.target);
  assert.is(third.delayMs, 0, 'the rest of a round is dialled at once');
  assert.equal([...round].sort(), [...masters].sort());
  assert.is(round.at(-1), lost);
});

test('a redirect naming the leader just lost is not followed; one naming another master is, at once', () => {
  const discovery = new MasterDiscovery(masters, null, pinned(0.3, 0.7));
  const { lost, dial } = afterLosing(discovery);
  // A follower that has not noticed the leader's death yet names it.
  const stale = discovery.next(dial.target, { kind: 'redirect', leader: lost });
  assert.is.not(stale.target, lost);
  assert.is(stale.delayMs, 0);
  // Once elected, a follower names the new leader: dialled next, without waiting.
  const newLeader = masters.find((address) => address !== lost && address !== stale.target)!;
  const followed = discovery.next(stale.target, { kind: 'redirect', leader: newLeader });
  assert.equal(followed, { target: newLeader, delayMs: 0 });
});

test('rounds that find no leader back off: equal jitter from backoffBaseMs, doubling up to backoffMaxMs', () => {
  const draw = 0.25;
  const discovery = new MasterDiscovery(masters, null, pinned(draw));
  let dial = discovery.first();
  const roundDelays: number[] = [];
  for (let round = 0; round < 6; round++) {
    for (let position = 0; position < masters.length; position++) {
      dial = discovery.next(dial.target, refused);
      if (position < masters.length - 1) assert.is(dial.delayMs, 0);
    }
    roundDelays.push(dial.delayMs);
  }
  const policy = { baseMs: discoveryLimits.backoffBaseMs, maxMs: discoveryLimits.backoffMaxMs };
  assert.equal(
    roundDelays,
    [0, 1, 2, 3, 4, 5].map((failed) => backoffDelayMs(failed, policy, () => draw)),
  );
  assert.equal(roundDelays, [125, 250, 500, 1000, 1875, 1875]);
  // Registering resets the back-off: the next round that fails waits the first window again.
  discovery.registered();
  dial = discovery.next(dial.target, lostLeader);
  for (let position = 0; position < masters.length; position++) dial = discovery.next(dial.target, refused);
  assert.is(dial.delayMs, roundDelays[0]);
});

test('redirects in a row stop at maxRedirects, then the round goes on', () => {
  const discovery = new MasterDiscovery(['m1:1'], null, pinned(0.5));
  let dial = discovery.first();
  const hops = ['x:1', 'y:2'];
  for (let hop = 0; hop < discoveryLimits.maxRedirects; hop++) {
    dial = discovery.next(dial.target, { kind: 'redirect', leader: hops[hop % 2]! });
    assert.equal(dial, { target: hops[hop % 2]!, delayMs: 0 });
  }
  // One more is not followed: the round (m1 alone) found no leader, so it backs off.
  dial = discovery.next(dial.target, { kind: 'redirect', leader: hops[discoveryLimits.maxRedirects % 2]! });
  const policy = { baseMs: discoveryLimits.backoffBaseMs, maxMs: discoveryLimits.backoffMaxMs };
  assert.equal(dial, { target: 'm1:1', delayMs: backoffDelayMs(0, policy, () => 0.5) });
});

test("each handshake that timed out doubles the next one's limit, up to handshakeTimeoutMaxMs; registering resets it", () => {
  const discovery = new MasterDiscovery(masters, null, pinned(0.5));
  let dial = discovery.first();
  const limits = [discovery.handshakeTimeoutMs()];
  for (let timedOut = 0; timedOut < 5; timedOut++) {
    dial = discovery.next(dial.target, { kind: 'closed', registered: false, handshakeTimedOut: true });
    limits.push(discovery.handshakeTimeoutMs());
  }
  assert.equal(limits, [5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
  assert.is(discoveryLimits.handshakeTimeoutMaxMs, 60_000);
  // A refused dial (answered at once) is not a slow handshake.
  dial = discovery.next(dial.target, refused);
  assert.is(discovery.handshakeTimeoutMs(), 60_000);
  discovery.registered();
  assert.is(discovery.handshakeTimeoutMs(), discoveryLimits.handshakeTimeoutMs);
});

test.run();
