// A deployment survives failures mid-way and finishes with the right count, never running an
// extra instance: (1) the masters' leader is SIGKILLed just after the deployment starts (the
// framework follows the new leader through the SDK; its KV writes retry on it); (2) the
// framework process itself is SIGKILLed mid-deployment and started again: the new process waits
// out the old lease, reloads apps, instances and the deployment from the KV store, and goes on.
// Throughout, the agents' own task lists are sampled: never more live tasks than asked for; and
// the runs file (each task appends its id when it starts) shows no task started twice or extra.
// flotilla-test-timeout-seconds: 900
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster } from '../../e2e/support/cluster.ts';
import { AgentSampler } from '../../e2e/support/agent-sampler.ts';
import { waitFor } from '../../support/wait.ts';
import { appView, marathon, ServicesProcess, slowApp, waitForLeading, waitForSteady } from './support/services.ts';

const agentResources = 'cpus:4;mem:4096;disk:1000;ports:[31000-31099]';
let cluster: E2eCluster;
let services: ServicesProcess;

test.before(async () => {
  cluster = await E2eCluster.start('services-failover', [agentResources, agentResources]);
  services = await ServicesProcess.start(cluster.masterList, 'services-failover');
  await waitForLeading(services.address);
});
test.after(async () => {
  await services?.stop();
  await cluster?.stop();
});

function startedTasks(prefix: string): string[] {
  return cluster
    .runs()
    .filter((record) => record.taskId.startsWith(prefix))
    .map((record) => record.taskId);
}

async function healthySteady(id: string, count: number): Promise<void> {
  await waitFor(
    async () => {
      const view = await appView(services.address, id);
      return (
        view !== null && view.tasksHealthy === count && view.tasks.length === count && view.deployments.length === 0
      );
    },
    { timeoutMs: 240_000, what: `${id} to have ${count} healthy tasks and no deployment`, intervalMs: 250 },
  ).catch(async (error: Error) => {
    const view = await appView(services.address, id).catch(() => null);
    const queue = await marathon(services.address, 'GET', '/v2/queue').catch(() => null);
    throw new Error(
      `${error.message}\napp: ${JSON.stringify(view)}\nqueue: ${JSON.stringify(queue?.body)}\n${services.output.slice(-6000)}`,
    );
  });
}

test('the masters leader is SIGKILLed mid-deployment: the deployment finishes with the right count', async () => {
  await marathon(services.address, 'POST', '/v2/apps', slowApp(cluster.runsFile, '/fo/leader', 2));
  await healthySteady('/fo/leader', 2);
  const sampler = new AgentSampler(cluster, 'fo_leader.');
  const answer = await marathon<{ deploymentId: string }>(services.address, 'PUT', '/v2/apps/fo/leader', {
    instances: 8,
  });
  assert.is(answer.status, 200);
  const leader = await cluster.leader();
  await cluster.masters.kill(leader);
  await cluster.leader(60_000, [leader.id]);
  await healthySteady('/fo/leader', 8);
  await sampler.stop();
  assert.ok(sampler.samples > 5, `sampled the agents ${sampler.samples} times`);
  assert.ok(sampler.most <= 8, `the agents ran ${sampler.most} tasks of /fo/leader at once`);
  const started = startedTasks('fo_leader.');
  assert.is(new Set(started).size, started.length, 'no task started twice');
  assert.is(started.length, 8, 'exactly the 8 asked for ever started');
});

test('the framework process is SIGKILLed mid-deployment and restarted: it resumes from KV, no extra instance', async () => {
  await marathon(services.address, 'POST', '/v2/apps', slowApp(cluster.runsFile, '/fo/restart', 2));
  await healthySteady('/fo/restart', 2);
  const sampler = new AgentSampler(cluster, 'fo_restart.');
  const answer = await marathon<{ deploymentId: string }>(services.address, 'PUT', '/v2/apps/fo/restart', {
    instances: 8,
  });
  assert.is(answer.status, 200);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await services.stop('SIGKILL');
  services.launch();
  await waitForLeading(services.address, 90_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${services.output.slice(-3000)}`);
  });
  const deployments = await marathon<{ id: string }[]>(services.address, 'GET', '/v2/deployments');
  const app = await appView(services.address, '/fo/restart');
  assert.ok(
    deployments.body.some((deployment) => deployment.id === answer.body.deploymentId) || app?.deployments.length === 0,
    'the deployment was reloaded (or had already finished)',
  );
  assert.is(app?.instances, 8);
  await healthySteady('/fo/restart', 8);
  await sampler.stop();
  assert.ok(sampler.most <= 8, `the agents ran ${sampler.most} tasks of /fo/restart at once`);
  const started = startedTasks('fo_restart.');
  assert.is(new Set(started).size, started.length, 'no task started twice');
  assert.is(started.length, 8, 'exactly the 8 asked for ever started');
  await waitForSteady(services.address, '/fo/leader', 8);
});

test.run();
