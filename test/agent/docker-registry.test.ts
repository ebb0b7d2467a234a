// Image pulls from a real registry (Debian's docker-registry on loopback, started here): the test
// image is pushed to it and removed from the engine, so a task that names it must pull it. The
// containerizer pulls a missing image, pulls a present one again only with force_pull_image, and
// reports the pull as progress; through a real master and agent, the pull shows in the task's
// TASK_STARTING message.
// flotilla-test-timeout-seconds: 300
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDockerClient } from '../../src/agent/containerizer/docker-client.ts';
import { DockerContainerizer } from '../../src/agent/containerizer/docker.ts';
import type { ContainerSpec } from '../../src/agent/containerizer/types.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { frameworkInfo, SchedulerClient } from '../http/support/scheduler-client.ts';
import { dockerRegistryUnavailableReason, dockerUnavailableReason } from '../support/capabilities.ts';
import { startSingleMaster } from '../support/master.ts';
import { pushTestImage, type Registry, startRegistry } from '../support/registry.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { AgentProcess } from './support/daemon-support.ts';
import { followToEnd, lastOf, launchOnNextOffer, scalar } from './support/scheduler-tasks.ts';

const unavailable = (await dockerUnavailableReason()) ?? dockerRegistryUnavailableReason();
const testImage = process.env.FLOTILLA_TEST_IMAGE ?? 'flotilla-test:busybox';

function makeSpec(image: string, forcePullImage: boolean): ContainerSpec {
  return {
    agentId: `registry-${process.pid}`,
    frameworkId: 'fw-1',
    taskId: `pulled-${Math.random().toString(36).slice(2, 8)}`,
    sandbox: makeTempDir('sandbox-'),
    command: { value: 'echo from the registry', shell: true, arguments: [] },
    image,
    forcePullImage,
    network: 'NONE',
    portMappings: [],
    volumes: [],
    persistentVolumes: [],
    privileged: false,
    parameters: [],
    hostname: null,
    user: null,
    environment: {},
    cpus: null,
    memMb: null,
  };
}

async function withRegistry(body: (registry: Registry) => Promise<void>): Promise<void> {
  const registry = await startRegistry();
  try {
    await body(registry);
  } finally {
    await registry.stop();
  }
}

const pulls = suite('docker images from a registry');

testUnless(pulls, unavailable, 'a missing image is pulled; a present one only with force_pull_image', async () => {
  await withRegistry(async (registry) => {
    const docker = createDockerClient();
    const reference = await pushTestImage(docker, registry, testImage, 'flotilla/pull-test');
    const containerizer = new DockerContainerizer({ logger: silentLogger });
    const run = async (forcePull: boolean): Promise<string[]> => {
      const progress: string[] = [];
      const task = await containerizer.launch(makeSpec(reference, forcePull), (message) => progress.push(message));
      assert.equal(await task.exited, { kind: 'exited', code: 0 });
      return progress;
    };
    const first = await run(false);
    assert.is(first[0], `pulling image ${reference}`);
    assert.ok(
      first.some((line) => /^pulling image .*: \d+ of \d+ layers, [\d.]+ of [\d.]+ MB$/.test(line)),
      first.join('\n'),
    );
    assert.equal(await run(false), [], 'present: no pull');
    assert.is((await run(true))[0], `pulling image ${reference} (force_pull_image)`);
    await docker.getImage(reference).remove();
  });
});

testUnless(
  pulls,
  unavailable,
  'through a master and an agent: TASK_STARTING says the image is being pulled',
  async () => {
    await withRegistry(async (registry) => {
      const docker = createDockerClient();
      const reference = await pushTestImage(docker, registry, testImage, 'flotilla/daemon-pull');
      const cluster = await startSingleMaster();
      const agent = await AgentProcess.start(cluster.url.slice('http://'.length), [
        '--containerizers',
        'process,docker',
      ]);
      let client: SchedulerClient | null = null;
      try {
        client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'pulls' }));
        await launchOnNextOffer(client, (agentId) => [
          {
            name: 'pulled',
            task_id: { value: 'pulled' },
            agent_id: agentId,
            resources: [scalar('cpus', 0.1), scalar('mem', 16)],
            command: { value: 'echo pulled and ran' },
            container: { type: 'DOCKER', docker: { image: reference, network: 'NONE' } },
          },
        ]);
        const statuses = (await followToEnd(client, ['pulled'])).get('pulled') ?? [];
        assert.is(lastOf(statuses).state, 'TASK_FINISHED', JSON.stringify(statuses));
        const starting = statuses.filter((status) => status.state === 'TASK_STARTING').map((status) => status.message);
        assert.ok(starting.includes(`pulling image ${reference}`), JSON.stringify(starting));
      } finally {
        client?.close();
        await agent.stop();
        await cluster.stop();
        await docker
          .getImage(reference)
          .remove()
          .catch(() => undefined);
      }
    });
  },
);

pulls.run();
