// An app with `container.docker.image`, end to end on a real Docker engine: three real masters
// host the services framework, a real agent runs `--containerizers process,docker`. The app is
// the test image's busybox httpd in `container/bridge` networking with a port mapping (container
// port 8080 to a host port from the offer) and a sandbox volume mounted at /data, checked by a
// MESOS_HTTP health check. The test reads the page through the host port the task reports (the
// mapping works), finds the file the container wrote in /data in the container's bind mount (the
// volume works), and sees the task healthy in /v2/apps. Then the app is deleted and its
// container goes.
// flotilla-test-timeout-seconds: 600
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createDockerClient } from '../../../src/agent/containerizer/docker-client.ts';
import { E2eCluster } from '../../e2e/support/cluster.ts';
import { dockerUnavailableReason } from '../../support/capabilities.ts';
import { testUnless } from '../../support/skip.ts';
import { waitFor } from '../../support/wait.ts';
import { callApi, waitForApi } from '../support/hosted.ts';
import { type AppView, waitForSteady } from './support/services.ts';

const whyNot = await dockerUnavailableReason();
const image = process.env.FLOTILLA_TEST_IMAGE ?? '';
let cluster: E2eCluster | undefined;

test.after(async () => {
  await cluster?.stop();
});

const app = {
  id: '/docker/web',
  cmd: 'echo hello-from-volume > /data/index.html && exec httpd -f -p 8080 -h /data',
  cpus: 0.1,
  mem: 32,
  instances: 1,
  container: {
    type: 'DOCKER',
    docker: { image },
    portMappings: [{ containerPort: 8080, hostPort: 0, name: 'http' }],
    volumes: [{ containerPath: '/data', hostPath: 'data', mode: 'RW' }],
  },
  networks: [{ mode: 'container/bridge' }],
  healthChecks: [
    {
      protocol: 'MESOS_HTTP',
      portIndex: 0,
      path: '/index.html',
      gracePeriodSeconds: 120,
      intervalSeconds: 2,
      delaySeconds: 0,
      maxConsecutiveFailures: 3,
    },
  ],
};

testUnless(
  test,
  whyNot,
  'container.docker.image with a port mapping and a volume runs, healthy, on Docker',
  async () => {
    cluster = await E2eCluster.start('services-docker', [], ['--services', 'hosted']);
    await cluster.addAgent('cpus:2;mem:1024;disk:1000;ports:[31000-31099]', ['--containerizers', 'process,docker']);
    const leader = await cluster.leader();
    await waitForApi(leader.address, '/v2/apps');
    const created = await callApi<Record<string, unknown>>(leader.address, 'POST', '/v2/apps', app);
    assert.is(created.status, 201, JSON.stringify(created.body));
    const steady = await waitForSteady(leader.address, app.id, 1, 240_000);
    const view = await waitFor(
      async () => {
        const answer = await callApi<{ app: AppView & { tasks: { ports: number[] }[] } }>(
          leader.address,
          'GET',
          `/v2/apps${app.id}`,
        );
        return answer.body.app.tasksHealthy === 1 ? answer.body.app : null;
      },
      { timeoutMs: 120_000, what: `${app.id} healthy by its MESOS_HTTP check`, intervalMs: 500 },
    );
    const task = view.tasks[0];
    assert.ok(task !== undefined && task.ports.length === 1, JSON.stringify(view.tasks));
    assert.ok(task.ports[0]! >= 31000 && task.ports[0]! <= 31099, 'the host port comes from the offer');
    const page = await fetch(`http://127.0.0.1:${task.ports[0]}/index.html`, { signal: AbortSignal.timeout(10_000) });
    assert.is((await page.text()).trim(), 'hello-from-volume', 'the host port reaches the container port');

    const docker = createDockerClient();
    const containers = await docker.listContainers({ filters: { label: [`flotilla.task_id=${steady.tasks[0]?.id}`] } });
    assert.is(containers.length, 1, 'one container for the task');
    const mount = containers[0]?.Mounts.find((each) => each.Destination === '/data');
    assert.ok(mount?.Source.endsWith('/data') === true, JSON.stringify(containers[0]?.Mounts));
    const imageName = containers[0]?.Image ?? '';
    assert.ok(imageName === image || imageName.startsWith('sha256:'), imageName);

    assert.is((await callApi(leader.address, 'DELETE', `/v2/apps${app.id}`)).status, 200);
    await waitFor(
      async () =>
        (await docker.listContainers({ filters: { label: [`flotilla.task_id=${steady.tasks[0]?.id}`] } })).length === 0,
      { timeoutMs: 120_000, what: 'the container to go with the app', intervalMs: 500 },
    );
  },
);

test.run();
