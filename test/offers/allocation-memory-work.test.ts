// The incremental cycle's plan looks only at the agents written since the last cycle
// (allocation-memory.ts, the allocation book's agent journal), not at every agent: counted in
// agents compared per plan, on a real state machine. incremental.test.ts checks that the offers
// stay those of a full recomputation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AllocationMemory } from '../../src/offers/allocation-memory.ts';
import { AllocationCycle } from '../../src/offers/allocator.ts';
import { defaultMaxSkipReasonsPerFramework } from '../../src/offers/limits.ts';
import { offerId, taskId, type FrameworkId } from '../../src/state-machine/ids.ts';
import { cpus, mem, resources, taskDefinition } from '../state-machine/support/fixtures.ts';
import { AllocatorWorld } from './support.ts';

const agentCount = 300;

class Driver {
  readonly world = new AllocatorWorld();
  readonly memory = new AllocationMemory();
  #offerSequence = 0;

  /** One cycle as the allocation loop runs it: planned, run, remembered, its offers applied. */
  cycle(): { readonly full: boolean; readonly compared: number; readonly offers: number } {
    const { world } = this;
    const cycle = new AllocationCycle({
      state: world.state,
      hints: world.hints,
      nowMs: world.nowMs,
      config: {
        minAllocatable: world.minAllocatable,
        maxSkipReasonsPerFramework: defaultMaxSkipReasonsPerFramework,
        newOfferId: () => {
          this.#offerSequence += 1;
          return offerId(`O${this.#offerSequence}`);
        },
      },
      incremental: { memory: this.memory, releasedAgentIds: world.hints.prune(world.nowMs) },
    });
    cycle.runSlice(Number.MAX_SAFE_INTEGER);
    const { offers } = cycle.result();
    this.memory.remember(cycle.outcome(), cycle.full);
    if (offers.length > 0) world.ok({ type: 'create_offers', at: world.nowMs, offers });
    return { full: cycle.full, compared: cycle.full ? agentCount : this.memory.agentsCompared, offers: offers.length };
  }

  /** Accepts the framework's first outstanding offer with one small task; the other offers stay. */
  launchOnFirstOffer(framework: FrameworkId, name: string): void {
    const offer = this.world.offersOf(framework)[0]!;
    this.world.ok({
      type: 'accept_offers',
      at: this.world.nowMs,
      frameworkId: framework,
      offerIds: [offer.id],
      operations: [{ type: 'LAUNCH', tasks: [taskDefinition(taskId(name), resources(cpus(0.5), mem(64)))] }],
    });
  }
}

test('a cycle after one launch compares only the agent launched on, not all agents', () => {
  const driver = new Driver();
  for (let index = 0; index < agentCount; index += 1)
    driver.world.agent(`a${String(index).padStart(4, '0')}`, resources(cpus(4), mem(4096)));
  const framework = driver.world.framework('f');
  const first = driver.cycle();
  assert.ok(first.full, 'the first cycle visits every agent');
  assert.is(first.offers, agentCount);
  // Every agent was written since the first cycle was set up (its offer applied): all compared.
  assert.equal(driver.cycle(), { full: false, compared: agentCount, offers: 0 });
  assert.equal(driver.cycle(), { full: false, compared: 0, offers: 0 }, 'nothing written: nothing compared');
  driver.launchOnFirstOffer(framework, 't1');
  const afterLaunch = driver.cycle();
  assert.is(afterLaunch.full, false);
  assert.is(afterLaunch.compared, 1, 'only the agent the task was launched on');
  assert.is(afterLaunch.offers, 1, 'its remaining resources offered again');
  // That offer applied wrote the agent once more; then the cycle is quiet again.
  assert.equal(driver.cycle(), { full: false, compared: 1, offers: 0 });
  assert.equal(driver.cycle(), { full: false, compared: 0, offers: 0 });
});

test('a revisited agent is compared again though nothing wrote it', () => {
  const driver = new Driver();
  for (let index = 0; index < 20; index += 1) driver.world.agent(`a${index}`, resources(cpus(4), mem(4096)));
  driver.world.framework('f');
  driver.cycle();
  driver.cycle();
  const agent = driver.world.state.agents.keys().next().value!;
  driver.memory.revisit(agent);
  assert.is(driver.cycle().compared, 1);
  assert.is(driver.cycle().compared, 0, 'visited once, then remembered again');
});

test.run();
