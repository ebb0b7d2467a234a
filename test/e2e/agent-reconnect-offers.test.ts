// After a leader failover the new leader offers an agent only once it has re-registered with it
// (Mesos: a "recovered" agent is not in the allocator until it re-registers). Before the fix the
// replicated state said ACTIVE, the new leader offered the agent at once, a task launched there
// reached no socket, and the agent, re-registering without it, had it end TASK_LOST.
// Made repeatable with SIGSTOP: three real masters, two real agents. (1) Both agents are frozen,
// so neither can re-register; (2) the leader is SIGKILLed and a new one elected; (3) a framework
// that launches on every offer subscribes to it; (4) the new leader's allocator passes both
// agents over (GET_ALLOCATION: AGENT_NOT_CONNECTED) and the framework, on the scheduler stream,
// has no offer; (5) the agents continue, re-register, and are offered: every task launched runs,
// none is TASK_LOST.
// flotilla-test-timeout-seconds: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentProcess } from '../agent/support/daemon-support.ts';
import { waitFor } from '../support/wait.ts';
import { E2eCluster } from './support/cluster.ts';
import { SlotFramework, tearDownFrameworks, waitForEveryCpuRunning } from './support/framework.ts';

const agentResources = 'cpus:2;mem:2048;disk:1000;ports:[31000-31009]';
const waitTimeoutMs = 120_000;

let cluster: E2eCluster;
test.before(async () => {
  cluster = await E2eCluster.start('reconnect', [agentResources, agentResources]);
});
test.after(async () => {
  await cluster?.stop();
});

/** The reasons the leader's last cycles gave for not offering each agent to the framework. */
async function skipReasons(frameworkId: string): Promise<Map<string, string>> {
  const report = await cluster.allocation();
  const framework = report.frameworks.find((each) => each.frameworkId === frameworkId);
  return new Map((framework?.lastSkipReasons ?? []).map((each) => [each.agentId, each.reason]));
}

function registeredWith(agent: AgentProcess, masterAddress: string): boolean {
  return agent.output
    .split('\n')
    .some((line) => line.includes('registered with the leader') && line.includes(`"master":"${masterAddress}"`));
}

test('a new leader offers no agent before it re-registered, and no task launched on its first offers is lost', async () => {
  const framework = new SlotFramework({
    name: 'reconnect',
    role: 'reconnect',
    cpus: 0.5,
    memMb: 32,
    masters: cluster.masterList,
    runsFile: cluster.runsFile,
    tasksPerOffer: 1000,
    acceptRefuseSeconds: 5,
  });
  const states: { taskId: string; state: string; reason: string | undefined }[] = [];
  framework.client.on('UPDATE', (event) => {
    const status = event.update.status;
    states.push({ taskId: status.task_id.value, state: status.state, reason: status.reason });
  });
  const views = await cluster.agentViews();
  const agentIds = cluster.agents.map((agent) => views.find((view) => view.hostname === agent.hostname)!.id);
  try {
    for (const agent of cluster.agents) agent.signal('SIGSTOP');
    const oldLeader = await cluster.leader();
    await cluster.masters.kill(oldLeader, 'SIGKILL');
    const newLeader = await cluster.leader(waitTimeoutMs, [oldLeader.id]);
    const frameworkId = await framework.subscribe();
    assert.is(framework.client.master, newLeader.address);

    await waitFor(
      async () => {
        const reasons = await skipReasons(frameworkId);
        return agentIds.every((id) => reasons.get(id) === 'AGENT_NOT_CONNECTED');
      },
      { timeoutMs: waitTimeoutMs, what: 'the new leader to pass both frozen agents over (AGENT_NOT_CONNECTED)' },
    );
    assert.equal(framework.offers, [], 'no offer names an agent that has not re-registered with the new leader');

    for (const agent of cluster.agents) agent.signal('SIGCONT');
    await waitForEveryCpuRunning(cluster, framework, waitTimeoutMs);
    assert.is(framework.running().length, 8, 'four tasks of 0.5 cpus on each agent');
    const lost = states.filter((each) => each.state !== 'TASK_RUNNING' && each.state !== 'TASK_STARTING');
    assert.equal(lost, [], 'every task launched on the new leader runs; none is lost');
    for (const offer of framework.offers) {
      const agent = cluster.agents[agentIds.indexOf(offer.agentId)];
      assert.ok(agent !== undefined, `offer ${offer.offerId} names a known agent`);
      assert.ok(registeredWith(agent, newLeader.address), `${agent.hostname} re-registered with ${newLeader.address}`);
    }
  } finally {
    for (const agent of cluster.agents) agent.signal('SIGCONT');
    await tearDownFrameworks(cluster, [framework]);
  }
});

test.run();
