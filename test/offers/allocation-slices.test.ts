// A sliced allocation cycle reads whether an agent is connected live: an agent that re-registers
// between the slice that booked the agents and the one that allocates them had nothing booked.
// A new leader crashed its cycle on exactly that (a TypeError in the minimum's check).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultMaxSkipReasonsPerFramework } from '../../src/offers/limits.ts';
import { AllocationCycle, parseMinAllocatable } from '../../src/offers/allocator.ts';
import { offerId } from '../../src/state-machine/ids.ts';
import { cpus, mem, resources } from '../state-machine/support/fixtures.ts';
import { AllocatorWorld } from './support.ts';

test('an agent connected between booking and allocation is left for the next cycle, not crashed on', () => {
  const world = new AllocatorWorld();
  const early = world.agent('a1', resources(cpus(4), mem(4096)));
  const late = world.agent('a2', resources(cpus(4), mem(4096)));
  const framework = world.framework('f1');
  world.disconnected.add(late);
  let sequence = 0;
  const cycle = new AllocationCycle({
    state: world.state,
    hints: world.hints,
    nowMs: world.nowMs,
    config: {
      minAllocatable: parseMinAllocatable('cpus:0.01|mem:32'),
      maxSkipReasonsPerFramework: defaultMaxSkipReasonsPerFramework,
      newOfferId: () => offerId(`O${++sequence}`),
    },
    isConnected: (agent) => !world.disconnected.has(agent),
  });
  const agents = 2;
  assert.not.ok(cycle.runSlice(agents), 'the first slice only books the agents');
  world.disconnected.delete(late);
  assert.ok(cycle.runSlice(Number.MAX_SAFE_INTEGER));
  const result = cycle.result();
  assert.equal(
    result.offers.map((offer) => offer.agentId),
    [early],
    'only the agent booked as offerable is offered',
  );
  assert.is(result.skipReasons.get(framework)?.get(late), 'AGENT_NOT_CONNECTED');
});

test.run();
