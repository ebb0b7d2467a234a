// The agent's discovery order (src/agent/master-discovery.ts): after the leader's socket closed, the
// other masters are dialled first and the lost leader last, whatever the shuffle and the zones.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { afterLeaderLoss, discoveryLimits, orderMasters } from '../../src/agent/master-discovery.ts';
import { propertySeed } from '../state-machine/support/seed.ts';

const seed = propertySeed();
console.log(`master-link-order.test.ts seed ${seed} (replay: FLOTILLA_SEED=${seed})`);

test('the lost leader is dialled last, the others keep their (zone) order', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: 65_535 }), { minLength: 1, maxLength: 7 }),
      fc.nat(),
      fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 8, maxLength: 8 }),
      (ports, pick, draws) => {
        const masters = ports.map((port) => `127.0.0.1:${port}`);
        const zones = new Map(masters.map((address, position) => [address, position % 2 === 0 ? 'a' : 'b']));
        let next = 0;
        const ordered = orderMasters(masters, zones, 'a', () => draws[next++ % draws.length]!);
        const lost = masters[pick % masters.length]!;
        const round = afterLeaderLoss(ordered, lost);
        assert.equal([...round].sort(), [...masters].sort(), 'every master once');
        assert.is(round.at(-1), lost);
        assert.equal(
          round.slice(0, -1),
          ordered.filter((address) => address !== lost),
        );
      },
    ),
    { seed, numRuns: 200 },
  );
  // A master not in the list (a redirect's leader, since forgotten) changes nothing.
  assert.equal(afterLeaderLoss(['a:1', 'b:2'], 'c:3'), ['a:1', 'b:2']);
  assert.ok(discoveryLimits.reconnectJitterMaxMs > 0 && discoveryLimits.reconnectJitterMaxMs <= 1_000);
});

test.run();
