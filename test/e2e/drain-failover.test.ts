// A drain survives the leader's death (Mesos maintenance.md: the drain is in the registry, so a
// failed-over master finishes it): three real masters, one real agent. A task that ignores
// SIGTERM runs with a 600 s kill grace period; DRAIN_AGENT caps it at 20 s; the leader is
// SIGKILLed while the task is still dying. The agent re-registers with the new leader, the task
// ends TASK_KILLED (within the cap: a 600 s grace would outlast the wait), and the new leader,
// which never saw DRAIN_AGENT, makes the agent DRAINED with the drain's config intact.
// flotilla-test-timeout-seconds: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SchedulerClient } from '../../src/frameworks/sdk/client.ts';
import { matchOffer } from '../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../src/frameworks/sdk/task-info.ts';
import type { TaskStatus } from '../../src/protocol/mesos.ts';
import type * as Operator from '../../src/protocol/operator.ts';
import { newClient } from '../frameworks/support/cluster.ts';
import { waitFor } from '../support/wait.ts';
import { E2eCluster } from './support/cluster.ts';

const capNanoseconds = 20_000_000_000;

let cluster: E2eCluster;
test.before(async () => {
  cluster = await E2eCluster.start('drain-failover', ['cpus:1;mem:512;disk:100;ports:[31000-31009]']);
});
test.after(async () => {
  await cluster?.stop();
});

function launchOnce(client: SchedulerClient, taskId: string, updates: TaskStatus[]): void {
  let launched = false;
  client.on('OFFERS', (event) => {
    for (const offer of event.offers.offers) {
      const match = launched ? null : matchOffer(offer, { cpus: 0.25, memMb: 32 });
      if (match === null) {
        void client.decline([offer.id], { refuse_seconds: 1 }).catch(() => undefined);
        continue;
      }
      launched = true;
      const command = "trap 'echo TERM ignored' TERM; while true; do sleep 0.2; done";
      const info = buildTaskInfo(offer, match, {
        name: taskId,
        taskId,
        command: { kind: 'shell', line: command },
        killGracePeriodSeconds: 600,
      });
      void client.launch(offer, [info]).catch(() => undefined);
    }
  });
  client.on('UPDATE', (event) => {
    if (event.update.status.task_id.value === taskId) updates.push(event.update.status);
  });
}

async function theAgent(): Promise<Operator.Agent | undefined> {
  const answer = await cluster.operator<{ get_agents: Operator.GetAgents }>({ type: 'GET_AGENTS' });
  return answer.get_agents.agents.find((agent) => agent.agent_info.hostname === cluster.agents[0]!.hostname);
}

test('a drain begun by a leader that dies is finished by the next one', async () => {
  const updates: TaskStatus[] = [];
  const client = newClient(cluster.masterList);
  launchOnce(client, 'dying-slowly', updates);
  const states = () => updates.map((status) => status.state);
  try {
    await client.subscribe();
    await waitFor(() => states().includes('TASK_RUNNING'), {
      timeoutMs: 60_000,
      what: 'the task to run',
      intervalMs: 100,
    });
    const agentId = (await theAgent())!.agent_info.id.value;
    await cluster.operator({
      type: 'DRAIN_AGENT',
      drain_agent: { agent_id: { value: agentId }, max_grace_period: { nanoseconds: capNanoseconds } },
    });
    const first = await cluster.leader();
    await waitFor(() => states().includes('TASK_KILLING'), {
      timeoutMs: 30_000,
      what: `the task to be killing (seen ${states().join(', ')})`,
      intervalMs: 50,
    });
    await cluster.masters.kill(first);
    const second = await cluster.leader(60_000, [first.id]);
    assert.is.not(second.id, first.id);
    const drained = await waitFor(
      async () => {
        const agent = await theAgent();
        return agent?.drain_info?.state === 'DRAINED' ? agent : null;
      },
      { timeoutMs: 120_000, what: 'the new leader to make the agent DRAINED', intervalMs: 250 },
    );
    assert.is(drained.deactivated, true);
    assert.equal(drained.drain_info?.config, { max_grace_period: { nanoseconds: capNanoseconds }, mark_gone: false });
    await waitFor(() => states().includes('TASK_KILLED'), {
      timeoutMs: 60_000,
      what: `the framework to hear TASK_KILLED (seen ${states().join(', ')})`,
      intervalMs: 100,
    });
    assert.ok(states().indexOf('TASK_KILLING') < states().indexOf('TASK_KILLED'), states().join(', '));
  } finally {
    await client.teardown().catch(() => client.close());
  }
});

test.run();
