// GET_ALLOCATION's per-framework dominant share counts outstanding offers, as DRF does (Mesos'
// allocator charges an offer to its framework until it is used or declined). e2e/sharing saw
// shares 0.5 and 1 with 4 + 4 of 8 slots running (CI, 2026-12-07): here is how, in the same
// cluster and with the same framework behaviour, without a clock. Once every cpu runs a task, what
// is left of each agent (mem, disk, ports) still meets the default minimum (mem:32), so it is
// offered; both agents' leftovers go to one framework in one cycle, and until it declines them it
// holds all of the cluster's disk and ports: a dominant share of 1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultMaxSkipReasonsPerFramework } from '../../src/offers/limits.ts';
import { buildAllocationReport } from '../../src/offers/report.ts';
import { defaultMinAllocatable, parseMinAllocatable } from '../../src/offers/allocator.ts';
import { offerId, taskId, type FrameworkId } from '../../src/state-machine/ids.ts';
import { contains } from '../../src/state-machine/resources.ts';
import { cpus, disk, mem, ports, resources, taskDefinition } from '../state-machine/support/fixtures.ts';
import { AllocatorWorld } from './support.ts';

// e2e/sharing's agents (cpus:2;mem:2048;disk:1000;ports:[31000-31009]) and tasks (0.5 cpus, 32 MB).
const agentResources = resources(cpus(2), mem(2048), disk(1000), ports(31000, 31009));
const task = resources(cpus(0.5), mem(32));
/** The e2e framework's refuse_seconds when it declines an offer that holds no task. */
const declineRefuseSeconds = 5;

function sharesOf(world: AllocatorWorld, frameworks: readonly FrameworkId[]): { share: number; offers: number }[] {
  const report = buildAllocationReport({
    state: world.state,
    hints: world.hints,
    nowMs: world.nowMs,
    config: {
      minAllocatable: world.minAllocatable,
      maxSkipReasonsPerFramework: defaultMaxSkipReasonsPerFramework,
      newOfferId: () => offerId('unused'),
    },
    lastCycle: null,
  });
  return frameworks.map((id) => {
    const entry = report.frameworks.find((each) => each.frameworkId === id)!;
    return { share: entry.dominantShare, offers: entry.outstandingOffers };
  });
}

let taskSequence = 0;

/** The e2e SlotFramework: one task from every offer that fits one (refuse 0 on the rest), else a decline. */
function answerOffers(world: AllocatorWorld, framework: FrameworkId): void {
  for (const offer of world.offersOf(framework)) {
    if (!contains(offer.resources, task)) continue;
    taskSequence += 1;
    world.ok({
      type: 'accept_offers',
      at: world.nowMs,
      frameworkId: framework,
      offerIds: [offer.id],
      operations: [{ type: 'LAUNCH', tasks: [taskDefinition(taskId(`t${taskSequence}`), task)] }],
    });
  }
  world.decline(framework, declineRefuseSeconds);
}

function liveTasksOf(world: AllocatorWorld, framework: FrameworkId): number {
  return [...world.state.tasks.values()].filter((each) => each.frameworkId === framework).length;
}

test("a full cluster: both agents' leftovers go to one framework, whose share reads 1 until it declines them", () => {
  const world = new AllocatorWorld();
  world.minAllocatable = parseMinAllocatable(defaultMinAllocatable);
  world.agent('a1', agentResources, { address: { ip: '10.0.0.1', port: 5051 } });
  world.agent('a2', agentResources, { address: { ip: '10.0.0.2', port: 5051 } });
  const frameworks = [world.framework('fair-a', ['fair']), world.framework('fair-b', ['fair'])];
  for (let round = 0; round < 4; round += 1) {
    world.cycle();
    for (const framework of frameworks) answerOffers(world, framework);
  }
  assert.equal(
    frameworks.map((framework) => liveTasksOf(world, framework)),
    [4, 4],
  );
  assert.equal(sharesOf(world, frameworks), [
    { share: 0.5, offers: 0 },
    { share: 0.5, offers: 0 },
  ]);

  // The cycle after the last launches: no cpus left anywhere, yet both leftovers are offered.
  const leftovers = world.cycle().offers;
  assert.equal(
    leftovers.map((offer) => [offer.frameworkId, offer.agentId, offer.resources.some((each) => each.name === 'cpus')]),
    [
      [frameworks[0], 'a1', false],
      [frameworks[0], 'a2', false],
    ],
  );
  assert.equal(sharesOf(world, frameworks), [
    { share: 1, offers: 2 },
    { share: 0.5, offers: 0 },
  ]);

  // Declined (refused for 5 s): the next cycle offers them to the other framework.
  world.decline(frameworks[0]!, declineRefuseSeconds);
  world.cycle();
  assert.equal(sharesOf(world, frameworks), [
    { share: 0.5, offers: 0 },
    { share: 1, offers: 2 },
  ]);

  // With no offer outstanding the shares are what the tasks hold: a half each.
  world.decline(frameworks[1]!, declineRefuseSeconds);
  assert.equal(sharesOf(world, frameworks), [
    { share: 0.5, offers: 0 },
    { share: 0.5, offers: 0 },
  ]);
});

test.run();
