// Quota and reservations end to end (issue 6, "quota and reservations are honoured"): three
// real masters, two agents of cpus:2 (and, for the reservation, a third whose cpus are
// statically reserved by its --resources flag). Frameworks are greedy: they launch as many
// 0.25-cpu `sleep` tasks as every offer holds. Waits end on what the allocator reports
// (GET_ALLOCATION's skip reasons), never on elapsed time.
// flotilla-test-timeout-seconds: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/wait.ts';
import { E2eCluster } from './support/cluster.ts';
import { reservationRole, SlotFramework, tearDownFrameworks } from './support/framework.ts';

const agentResources = 'cpus:2;mem:2048;disk:1000;ports:[31000-31009]';
/** All its cpus and mem reserved for "resv"; disk and ports alone are not allocatable. */
const reservedAgentResources = 'cpus(resv):1;mem(resv):256;disk:100;ports:[31100-31109]';
const taskCpus = 0.25;
const taskMemMb = 32;
const waitTimeoutMs = 120_000;

let cluster: E2eCluster;
test.before(async () => {
  cluster = await E2eCluster.start('quota', [agentResources, agentResources]);
});
test.after(async () => {
  await cluster?.stop();
});

function greedy(name: string, role: string): SlotFramework {
  return new SlotFramework({
    name,
    role,
    cpus: taskCpus,
    memMb: taskMemMb,
    masters: cluster.masterList,
    runsFile: cluster.runsFile,
    tasksPerOffer: 1000,
    acceptRefuseSeconds: 5,
  });
}

async function skipReasonsOf(framework: SlotFramework): Promise<{ agentId: string; reason: string }[]> {
  const report = await cluster.allocation();
  return [
    ...(report.frameworks.find((entry) => entry.frameworkId === framework.client.frameworkId)?.lastSkipReasons ?? []),
  ];
}

function tearDownAll(frameworks: readonly SlotFramework[]): Promise<void> {
  return tearDownFrameworks(cluster, frameworks);
}

const cpusOf = (resources: readonly { name: string; scalar?: { value: number } }[]): number =>
  resources
    .filter((resource) => resource.name === 'cpus')
    .reduce((total, resource) => total + (resource.scalar?.value ?? 0), 0);

test('a quota guarantee is held for its role against a framework that came first; its limit is never exceeded', async () => {
  // Guarantee 1 cpu (4 slots), limit 1.5 cpus and 192 MB (6 slots) for role "q".
  await cluster.updateQuota('q', { cpus: 1 }, { cpus: 1.5, mem: 6 * taskMemMb });
  const hog = greedy('hog', 'hog');
  const quotaFramework = greedy('quota-q', 'q');
  try {
    await hog.subscribe();
    // The hog takes all it is offered: 12 of the 16 slots. The other 4 are the guarantee's
    // headroom, held although no framework of "q" exists yet (Mesos 1.9 quota). It has seen
    // the allocator pass them over once it got an offer with no cpus in it while full.
    let offersWhenFull: number | null = null;
    await waitFor(
      () => {
        if (offersWhenFull === null && hog.running().length >= 12) offersWhenFull = hog.offers.length;
        return (
          offersWhenFull !== null && hog.offers.slice(offersWhenFull).some((offer) => cpusOf(offer.resources) === 0)
        );
      },
      {
        timeoutMs: waitTimeoutMs,
        what: `the hog to fill all but the guarantee (running ${hog.running().length}, max ${hog.maxLive})`,
        intervalMs: 200,
      },
    );
    assert.ok(hog.maxLive <= 12, `the hog never held more than 12 slots (it held ${hog.maxLive})`);
    const free = (await cluster.agentViews()).reduce(
      (total, agent) => total + (agent.total.cpus ?? 0) - (agent.allocated.cpus ?? 0),
      0,
    );
    assert.is(free, 1, 'one cpu stays free for role q');

    await quotaFramework.subscribe();
    await waitFor(() => quotaFramework.running().length >= 4, {
      timeoutMs: waitTimeoutMs,
      what: `q to get its guarantee (running ${quotaFramework.running().length})`,
    });
    assert.ok(hog.maxLive <= 12, `the hog never held more than 12 slots (it held ${hog.maxLive})`);

    // With the hog gone 3 cpus are free; q may grow to its limit and no further.
    await hog.teardown();
    await waitFor(
      async () => {
        if (quotaFramework.running().length < 6) return false;
        return (await skipReasonsOf(quotaFramework)).some((entry) => entry.reason === 'QUOTA_LIMIT');
      },
      {
        timeoutMs: waitTimeoutMs,
        what: `q to reach its limit and be passed over for it (running ${quotaFramework.running().length})`,
        intervalMs: 250,
      },
    );
    assert.is(quotaFramework.running().length, 6);
    assert.ok(
      quotaFramework.maxLive <= 6,
      `q never held more than its limit of 6 slots (it held ${quotaFramework.maxLive})`,
    );
    const allocated = (await cluster.agentViews()).reduce((total, agent) => total + (agent.allocated.cpus ?? 0), 0);
    assert.is(allocated, 1.5, "the cluster runs q's 1.5 cpus and nothing else");
    const report = await cluster.allocation();
    const q = report.roles.find((entry) => entry.role === 'q');
    assert.equal(q?.guarantees, { cpus: 1 });
    assert.is(q?.allocated.cpus, 1.5);
  } finally {
    await tearDownAll([hog, quotaFramework]);
    await cluster.updateQuota('q', {}, {});
  }
});

test("resources reserved by an agent's --resources flag are offered to their role only", async () => {
  const reservedAgent = await cluster.addAgent(reservedAgentResources);
  const agentId = (await cluster.agentViews()).find((view) => view.hostname === reservedAgent.hostname)!.id;
  const other = greedy('plain', 'plain');
  const owner = greedy('owner', 'resv');
  try {
    await other.subscribe();
    // The allocator has considered the reserved agent for "plain" and passed it over.
    const passedOver = await waitFor(
      async () => (await skipReasonsOf(other)).find((entry) => entry.agentId === agentId),
      {
        timeoutMs: waitTimeoutMs,
        what: "a skip reason for the reserved agent in plain's allocation report",
        intervalMs: 250,
      },
    );
    assert.ok(['RESERVED_FOR_OTHER_ROLES', 'BELOW_MIN_ALLOCATABLE'].includes(passedOver.reason), passedOver.reason);

    await owner.subscribe();
    const onReservedAgent = (): string[] => owner.running().filter((id) => owner.launched().get(id) === agentId);
    await waitFor(() => onReservedAgent().length >= 4, {
      timeoutMs: waitTimeoutMs,
      what: `resv's framework to run 4 tasks on the reserved cpus (running there: ${onReservedAgent().length})`,
      intervalMs: 200,
    });
    const ownerReserved = owner.offers
      .filter((offer) => offer.agentId === agentId)
      .flatMap((offer) => offer.resources)
      .filter((resource) => reservationRole(resource) === 'resv');
    assert.ok(cpusOf(ownerReserved) >= 1, 'the owner was offered the reserved cpu');

    const leaked = other.offers.filter(
      (offer) => offer.agentId === agentId || offer.resources.some((resource) => reservationRole(resource) !== '*'),
    );
    assert.equal(leaked, [], 'plain was never offered anything of the reserved agent');
    const view = (await cluster.agentViews()).find((agent) => agent.id === agentId)!;
    assert.is(view.allocated.cpus, 1);
  } finally {
    await tearDownAll([other, owner]);
  }
});

test.run();
