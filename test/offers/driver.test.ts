// The allocation driver in a real single master (Raft with one voter, SQLite, HTTP): offers
// follow events within the batching window, time out into rescinds, filters and suppression
// shape them, and GET_ALLOCATION explains them.
// flotilla-test-timeout-seconds: 120
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type MasterOptionValues, masterConfig } from '../../src/master/config.ts';
import { Master } from '../../src/master/daemon.ts';
import type { AllocationReport } from '../../src/offers/control.ts';
import { agentId, frameworkId } from '../../src/state-machine/ids.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { agentInfo, cpus, frameworkInfo, mem, resources } from '../state-machine/support/fixtures.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

async function startMaster(extra: Partial<MasterOptionValues> = {}): Promise<{ master: Master; url: string }> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const master = await Master.start(
    masterConfig({
      id: 'm1',
      listen: { host: '127.0.0.1', port },
      peers: { m1: address },
      dataDir: makeTempDir('allocator-'),
      tickMs: 10,
      // The built-in frameworks would take the offers these tests count.
      services: 'off',
      jobs: 'off',
      ...extra,
    }),
    // Agents are proposed into the state here, with no socket: every one counts as connected.
    { logger: silentLogger, agentConnected: () => true },
  );
  await waitFor(() => master.leadership.view().state === 'leading', {
    timeoutMs: 10_000,
    what: 'm1 to lead with its leader services running',
  });
  return { master, url: `http://${address}` };
}

const A1 = agentId('a1');
const F1 = frameworkId('f1');

async function registerAgentAndFramework(master: Master, roles = ['*']): Promise<void> {
  const agent = await master.facade.submit({
    type: 'register_agent',
    at: 0,
    agentId: A1,
    info: agentInfo({ resources: resources(cpus(4), mem(4096)) }),
  });
  assert.ok(agent.result.ok);
  const framework = await master.facade.submit({
    type: 'subscribe_framework',
    at: 0,
    frameworkId: F1,
    info: frameworkInfo({ roles }),
  });
  assert.ok(framework.result.ok);
}

const offersOf = (master: Master) => [...master.facade.state().offers.values()];

async function getAllocation(url: string): Promise<AllocationReport> {
  const response = await fetch(`${url}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'GET_ALLOCATION' }),
  });
  assert.is(response.status, 200);
  const body = (await response.json()) as { type: string; get_allocation: AllocationReport };
  assert.is(body.type, 'GET_ALLOCATION');
  return body.get_allocation;
}

test('offers follow an agent and a framework within the batching window, one create_offers each time', async () => {
  const { master } = await startMaster({ allocationBatchMs: 20 });
  try {
    await registerAgentAndFramework(master);
    const [offer] = await waitFor(() => offersOf(master).length === 1 && offersOf(master), {
      timeoutMs: 10_000,
      what: 'an offer',
    });
    assert.is(offer!.frameworkId, F1);
    assert.is(offer!.agentId, A1);
    assert.equal(offer!.resources, resources(cpus(4), mem(4096)), 'the whole free agent');
    // Declining frees the resources: that event brings the next offer (no filter given).
    await master.facade.submit({ type: 'decline_offers', at: 0, frameworkId: F1, offerIds: [offer!.id] });
    await waitFor(() => offersOf(master).some((next) => next.id !== offer!.id), {
      timeoutMs: 10_000,
      what: 'a new offer after DECLINE',
    });
  } finally {
    await master.stop();
  }
});

test('an offer older than the offer timeout is rescinded (and offered again)', async () => {
  const { master } = await startMaster({ allocationBatchMs: 10, offerTimeoutMs: 300 });
  try {
    await registerAgentAndFramework(master);
    const first = await waitFor(() => offersOf(master)[0], { timeoutMs: 10_000, what: 'an offer' });
    await waitFor(() => !master.facade.state().offers.has(first.id), {
      timeoutMs: 10_000,
      what: 'the offer to be rescinded',
    });
    await waitFor(() => offersOf(master).length === 1, { timeoutMs: 10_000, what: 'a new offer after the rescind' });
  } finally {
    await master.stop();
  }
});

test('REVIVE clears a filter; GET_ALLOCATION reports filters, suppression and reasons', async () => {
  const { master, url } = await startMaster({ allocationBatchMs: 10 });
  try {
    await registerAgentAndFramework(master, ['web']);
    const offer = await waitFor(() => offersOf(master)[0], { timeoutMs: 10_000, what: 'an offer' });
    master.facade.allocation.refuse(F1, [A1], 3600);
    await master.facade.submit({ type: 'decline_offers', at: 0, frameworkId: F1, offerIds: [offer.id] });
    await waitFor(
      () => master.facade.allocation.report().frameworks[0]?.lastSkipReasons.some((skip) => skip.reason === 'FILTERED'),
      { timeoutMs: 10_000, what: 'a cycle that skipped the filtered agent' },
    );
    assert.is(offersOf(master).length, 0, 'no offer while the filter lasts');
    const filtered = await getAllocation(url);
    assert.equal(
      filtered.frameworks[0]!.filters.map((filter) => filter.agentId),
      ['a1'],
    );
    assert.ok(filtered.frameworks[0]!.filters[0]!.expiresAtMs > Date.now() + 3_000_000);
    assert.equal(filtered.frameworks[0]!.lastSkipReasons, [{ agentId: 'a1', reason: 'FILTERED' }]);
    assert.equal(
      filtered.roles.map((role) => role.role),
      ['web'],
    );

    master.facade.allocation.suppress(F1, []);
    master.facade.allocation.revive(F1, ['other-role']); // clears filters, leaves "web" suppressed
    await waitFor(
      async () =>
        (await getAllocation(url)).frameworks[0]?.lastSkipReasons.some((skip) => skip.reason === 'SUPPRESSED'),
      { timeoutMs: 10_000, what: 'a cycle that skipped the suppressed role' },
    );
    const suppressed = await getAllocation(url);
    assert.equal(suppressed.frameworks[0]!.suppressedRoles, ['web']);
    assert.equal(suppressed.frameworks[0]!.filters, []);
    assert.is(offersOf(master).length, 0);

    master.facade.allocation.revive(F1, []);
    await waitFor(() => offersOf(master).length === 1, { timeoutMs: 10_000, what: 'an offer after REVIVE' });
    const revived = await getAllocation(url);
    assert.equal(revived.frameworks[0]!.suppressedRoles, []);
    assert.is(revived.frameworks[0]!.outstandingOffers, 1);
    assert.is(revived.frameworks[0]!.dominantShare, 1);
    assert.is(revived.offersMadeLastCycle, 1);
  } finally {
    await master.stop();
  }
});

test.run();
