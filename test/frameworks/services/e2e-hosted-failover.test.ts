// Issue 13's failover test with the services framework hosted by the masters (the default):
// the leading master is SIGKILLed mid-deployment, and the deployment continues on the new
// leader's own instance of the framework — which takes the lease over at once (it was held by
// a leader of an older term) and reloads apps, instances and the deployment from the KV store —
// and finishes with the right count. The API is used through a follower throughout (it
// forwards to the leader). The agents' own task lists are sampled the whole time: never more
// live tasks than asked for; and the runs file (each task appends its id when it starts) shows
// no task started twice and none extra.
// flotilla-test-timeout-seconds: 600
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentSampler } from '../../e2e/support/agent-sampler.ts';
import { E2eCluster } from '../../e2e/support/cluster.ts';
import type { ReplicaProcess } from '../../raft/support/process-cluster.ts';
import { waitFor } from '../../support/wait.ts';
import { callApi, follower, waitForApi } from '../support/hosted.ts';
import { type AppView, appView, slowApp } from './support/services.ts';

const agentResources = 'cpus:4;mem:4096;disk:1000;ports:[31000-31099]';
let cluster: E2eCluster;

test.before(async () => {
  cluster = await E2eCluster.start('services-hosted', [agentResources, agentResources], ['--services', 'hosted']);
});
test.after(async () => {
  await cluster?.stop();
});

async function healthySteady(address: string, id: string, count: number): Promise<AppView> {
  return waitFor(
    async () => {
      const view = await appView(address, id).catch(() => null);
      const done =
        view !== null && view.tasksHealthy === count && view.tasks.length === count && view.deployments.length === 0;
      return done ? view : null;
    },
    {
      timeoutMs: 240_000,
      what: `${id} to have ${count} healthy tasks and no deployment (via ${address})`,
      intervalMs: 250,
    },
  ).catch((error: Error) => {
    const outputs = cluster.masters.replicas.map((replica) => `--- ${replica.id}\n${replica.output.slice(-3000)}`);
    throw new Error(`${error.message}\n${outputs.join('\n')}`);
  });
}

function startedTasks(prefix: string): string[] {
  return cluster
    .runs()
    .filter((record) => record.taskId.startsWith(prefix))
    .map((record) => record.taskId);
}

/** The leader services a master runs now, by name (GET_RAFT). */
async function leaderServices(master: ReplicaProcess): Promise<{ name: string; running: boolean }[]> {
  const answer = await callApi<{ get_raft: { leader_services: { services: { name: string; running: boolean }[] } } }>(
    master.address,
    'POST',
    '/api/v1',
    { type: 'GET_RAFT' },
  );
  return answer.body.get_raft.leader_services.services;
}

test('the leading master is SIGKILLed mid-deployment: the new leader’s instance finishes it, with the right count', async () => {
  const entry = await follower(cluster);
  await waitForApi(entry.address, '/v2/apps');
  const created = await callApi(entry.address, 'POST', '/v2/apps', slowApp(cluster.runsFile, '/hosted/web', 2));
  assert.is(created.status, 201, JSON.stringify(created.body));
  await healthySteady(entry.address, '/hosted/web', 2);
  const leader = await cluster.leader();
  const running = await leaderServices(leader);
  assert.equal(
    running.at(-1),
    { name: 'services-framework', running: true },
    'the services framework runs on the leader, the last of its leader services',
  );
  assert.ok(
    running.findIndex((service) => service.name === 'learner-promoter') < running.length - 1,
    'after the learner promoter',
  );

  const sampler = new AgentSampler(cluster, 'hosted_web.');
  const scaled = await callApi<{ deploymentId: string }>(entry.address, 'PUT', '/v2/apps/hosted/web', { instances: 8 });
  assert.is(scaled.status, 200, JSON.stringify(scaled.body));
  const killedAtMs = performance.now();
  await cluster.masters.kill(leader, 'SIGKILL');
  const next = await cluster.leader(60_000, [leader.id]);
  const survivor = next.id === entry.id ? next : entry;
  await waitForApi(survivor.address, '/v2/apps');
  const leadingAgainMs = performance.now() - killedAtMs;
  const deployments = await callApi<{ id: string }[]>(survivor.address, 'GET', '/v2/deployments');
  const finished = await healthySteady(survivor.address, '/hosted/web', 8);
  await sampler.stop();

  console.log(`hosted services: the new leader's instance answered ${Math.round(leadingAgainMs)} ms after the SIGKILL`);
  assert.ok(
    deployments.body.some((deployment) => deployment.id === scaled.body.deploymentId) || finished.instances === 8,
    'the deployment was reloaded by the new instance (or had finished)',
  );
  const info = await callApi<{ leader: string; elected: boolean }>(survivor.address, 'GET', '/v2/info');
  assert.is(info.body.leader, next.address, 'the new leading master hosts the framework now');
  assert.ok((await leaderServices(next)).some((service) => service.name === 'services-framework' && service.running));
  assert.ok(sampler.samples > 5, `sampled the agents ${sampler.samples} times`);
  assert.ok(sampler.most <= 8, `the agents ran ${sampler.most} tasks of /hosted/web at once`);
  const started = startedTasks('hosted_web.');
  assert.is(new Set(started).size, started.length, 'no task started twice');
  assert.is(started.length, 8, 'exactly the 8 asked for ever started');
});

test.run();
