// DRF end to end (issue 6, "two frameworks share fairly"): three real masters, two real agents
// of cpus:2 each, and frameworks that keep launching `sleep` tasks of 0.5 cpus (8 slots in
// all) or 0.25 cpus (16 slots) from every offer they get until the cluster is full. Fair
// shares are what the steady state holds; nothing here measures time.
// flotilla-test-timeout-seconds: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AllocationReport } from '../../src/offers/control.ts';
import { waitFor } from '../support/wait.ts';
import { E2eCluster } from './support/cluster.ts';
import { SlotFramework, tearDownFrameworks, type SlotFrameworkOptions } from './support/framework.ts';

// mem is plentiful, so cpus is every framework's dominant resource and slots measure shares.
const agentResources = 'cpus:2;mem:2048;disk:1000;ports:[31000-31009]';
const fillTimeoutMs = 120_000;

let cluster: E2eCluster;
test.before(async () => {
  cluster = await E2eCluster.start('sharing', [agentResources, agentResources]);
});
test.after(async () => {
  await cluster?.stop();
});

function framework(name: string, role: string, cpus: number): SlotFramework {
  const options: SlotFrameworkOptions = {
    name,
    role,
    cpus,
    memMb: 32,
    masters: cluster.masterList,
    runsFile: cluster.runsFile,
    tasksPerOffer: 1,
    acceptRefuseSeconds: 0,
  };
  return new SlotFramework(options);
}

/** Until every cpu of the cluster runs a task of `frameworks` (their RUNNING updates arrived). */
async function waitUntilFull(frameworks: readonly SlotFramework[], slots: number): Promise<void> {
  const counts = (): string => frameworks.map((one) => `${one.options.name}=${one.running().length}`).join(', ');
  await waitFor(
    async () => {
      if (frameworks.reduce((total, one) => total + one.running().length, 0) < slots) return false;
      const agents = await cluster.agentViews();
      return agents.every((agent) => agent.allocated.cpus === agent.total.cpus);
    },
    { timeoutMs: fillTimeoutMs, what: `the cluster to fill (${counts()} of ${slots} slots)`, intervalMs: 250 },
  );
}

/** Teardown kills the tasks; the next test starts from an empty cluster. */
function tearDownAll(frameworks: readonly SlotFramework[]): Promise<void> {
  return tearDownFrameworks(cluster, frameworks);
}

test('two frameworks with equal weights each hold about half of the cluster once it is full', async () => {
  const first = framework('fair-a', 'fair', 0.5);
  const second = framework('fair-b', 'fair', 0.5);
  try {
    // Both start at once. Without preemption (as in Mesos) a framework that started alone
    // would keep what it took; which one the allocator serves first is its choice.
    await Promise.all([first.subscribe(), second.subscribe()]);
    await waitUntilFull([first, second], 8);
    const [a, b] = [first.running().length, second.running().length];
    assert.is(a + b, 8, `running ${a} + ${b}`);
    assert.ok(a >= 3 && a <= 5 && b >= 3 && b <= 5, `each framework holds 3 to 5 of the 8 slots: ${a} and ${b}`);
    // The allocator's own account agrees: dominant shares of about a half each, read while neither
    // framework holds an offer. A share counts outstanding offers (DRF, as Mesos), and a full
    // cluster's leftovers (mem, disk, ports: above the default minimum, mem:32) are still offered,
    // both agents' to one framework in one cycle, until it declines them: meanwhile it holds all of
    // the cluster's disk and ports, a share of 1 (CI, 2026-12-07: 0.5 and 1 with 4 + 4 running;
    // test/offers/allocation-report.test.ts). Declined with a 5 s filter, they come back every few
    // seconds for a round trip, so a report with no offer out comes soon.
    const entries = (report: AllocationReport) =>
      [first, second].map((one) => report.frameworks.find((entry) => entry.frameworkId === one.client.frameworkId));
    const report = await waitFor(
      async () => {
        const candidate = await cluster.allocation();
        return entries(candidate).every((entry) => entry?.outstandingOffers === 0) ? candidate : null;
      },
      { timeoutMs: fillTimeoutMs, what: 'an allocation report with no offer outstanding to either framework' },
    );
    const shares = entries(report).map((entry) => entry?.dominantShare ?? -1);
    // The whole report and the agents' books say what each framework was counted as holding.
    const detail = async (): Promise<string> =>
      `dominant shares ${shares.join(', ')}; running ${a} + ${b}; ` +
      `report ${JSON.stringify({ roles: report.roles, frameworks: report.frameworks })}; ` +
      `agents ${JSON.stringify(await cluster.agentViews())}`;
    for (const share of shares)
      if (!(share >= 0.375 - 1e-9 && share <= 0.625 + 1e-9)) assert.unreachable(await detail());
    assert.ok(first.maxLive <= 8 && second.maxLive <= 8, 'no framework ever held more than the cluster has');
  } finally {
    await tearDownAll([first, second]);
  }
});

test('UPDATE_WEIGHTS a=2, b=1: one framework per role, the cluster splits near 2:1', async () => {
  await cluster.updateWeights({ 'weight-a': 2, 'weight-b': 1 });
  const weights = await cluster.operator<{ get_weights: { weight_infos: { role: string; weight: number }[] } }>({
    type: 'GET_WEIGHTS',
  });
  assert.equal(
    weights.get_weights.weight_infos
      .filter((info) => info.role.startsWith('weight-'))
      .sort((x, y) => x.role.localeCompare(y.role)),
    [
      { role: 'weight-a', weight: 2 },
      { role: 'weight-b', weight: 1 },
    ],
  );
  const heavy = framework('weighted-a', 'weight-a', 0.25);
  const light = framework('weighted-b', 'weight-b', 0.25);
  try {
    await Promise.all([light.subscribe(), heavy.subscribe()]);
    await waitUntilFull([heavy, light], 16);
    const [a, b] = [heavy.running().length, light.running().length];
    assert.is(a + b, 16);
    // 2:1 of 16 is 10.7 : 5.3; equal weights would give 8 : 8.
    assert.ok(a >= 10 && a <= 12, `weight-a holds 10 to 12 of 16 slots, weight-b the rest: ${a} and ${b}`);
    const report = await cluster.allocation();
    const role = (name: string) => report.roles.find((entry) => entry.role === name);
    assert.is(role('weight-a')?.weight, 2);
    assert.is(role('weight-b')?.weight, 1);
  } finally {
    await tearDownAll([heavy, light]);
    await cluster.updateWeights({ 'weight-a': 1, 'weight-b': 1 });
  }
});

test.run();
