// Offers are replicated, so a new leader inherits the old leader's outstanding offers. It must
// rescind them all when its term begins (src/master/inherited-offers.ts): a framework accepting
// one for an agent that had not re-registered with the new leader yet had its task launched to no
// socket, and the agent, re-registering without it, had it end TASK_LOST (REASON_RECONCILIATION).
// Three real masters, two real agents: (1) a framework holds an offer of each agent, unanswered;
// (2) both agents are frozen (SIGSTOP), so neither can re-register, and the leader is SIGKILLed;
// (3) the framework, reconnected to the new leader, hears RESCIND for every offer it holds, and
// the new leader counts no resource offered; (4) an ACCEPT of an old offer launches nothing
// (TASK_LOST or TASK_DROPPED, REASON_INVALID_OFFERS, as Mesos answers an invalid offer); (5) the
// agents continue and every task launched on the new leader's offers runs: none is lost.
// flotilla-test-timeout-seconds: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/wait.ts';
import { E2eCluster } from './support/cluster.ts';
import { SlotFramework, tearDownFrameworks, waitForEveryCpuRunning } from './support/framework.ts';

const agentResources = 'cpus:2;mem:2048;disk:1000;ports:[31000-31009]';
const waitTimeoutMs = 120_000;

let cluster: E2eCluster;
test.before(async () => {
  cluster = await E2eCluster.start('offers-failover', [agentResources, agentResources]);
});
test.after(async () => {
  await cluster?.stop();
});

test("a new leader rescinds the old leader's offers before any ACCEPT, and no task is lost", async () => {
  const framework = new SlotFramework({
    name: 'inherited',
    role: 'inherited',
    cpus: 0.5,
    memMb: 32,
    masters: cluster.masterList,
    runsFile: cluster.runsFile,
    tasksPerOffer: 1000,
    acceptRefuseSeconds: 5,
  });
  framework.mode = 'hold';
  const rescinded = new Set<string>();
  framework.client.on('RESCIND', (event) => rescinded.add(event.rescind.offer_id.value));
  const states: { taskId: string; state: string; reason: string | undefined }[] = [];
  framework.client.on('UPDATE', (event) => {
    const status = event.update.status;
    states.push({ taskId: status.task_id.value, state: status.state, reason: status.reason });
  });
  try {
    await framework.subscribe();
    await waitFor(() => new Set(framework.held.map((offer) => offer.agent_id.value)).size === 2, {
      timeoutMs: waitTimeoutMs,
      what: 'an offer of each agent held by the framework',
    });
    const oldOffers = [...framework.held];
    for (const agent of cluster.agents) agent.signal('SIGSTOP');
    const oldLeader = await cluster.leader();
    await cluster.masters.kill(oldLeader, 'SIGKILL');
    const newLeader = await cluster.leader(waitTimeoutMs, [oldLeader.id]);

    await waitFor(() => oldOffers.every((offer) => rescinded.has(offer.id.value)), {
      timeoutMs: waitTimeoutMs,
      what: `RESCIND of the ${oldOffers.length} offers held (${rescinded.size} heard)`,
    });
    assert.is(framework.client.master, newLeader.address);
    // Before the fix the new leader re-sent them on SUBSCRIBED, as if still valid.
    const oldIds = new Set(oldOffers.map((offer) => offer.id.value));
    const timesOffered = framework.offers.filter((offer) => oldIds.has(offer.offerId)).length;
    assert.is(timesOffered, oldIds.size, 'no offer of the old leader is offered again by the new one');
    for (const view of await cluster.agentViews()) {
      assert.is(view.offered.cpus ?? 0, 0, `${view.hostname}: nothing offered while it has not re-registered`);
    }

    // A framework that missed the RESCIND and accepts an old offer anyway: nothing is launched.
    const stale = oldOffers[0]!;
    const task = framework.taskFrom(stale);
    assert.ok(task !== null, 'the old offer fits a task');
    await framework.launch(stale, [task]).catch(() => undefined);
    const refused = await framework.waitForState(task.task_id.value, ['TASK_LOST', 'TASK_DROPPED'], waitTimeoutMs);
    assert.is(refused.reason, 'REASON_INVALID_OFFERS');

    framework.held.splice(0);
    framework.resume();
    for (const agent of cluster.agents) agent.signal('SIGCONT');
    await waitForEveryCpuRunning(cluster, framework, waitTimeoutMs);
    assert.is(framework.running().length, 8, 'four tasks of 0.5 cpus on each agent');
    const lost = states.filter(
      (each) => each.taskId !== task.task_id.value && each.state !== 'TASK_RUNNING' && each.state !== 'TASK_STARTING',
    );
    assert.equal(lost, [], 'every task launched on the new leader runs; none is lost');
  } finally {
    for (const agent of cluster.agents) agent.signal('SIGCONT');
    await tearDownFrameworks(cluster, [framework]);
  }
});

test.run();
