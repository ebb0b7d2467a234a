// Docker tasks through a real agent (--containerizers process,docker) and a real master, when a
// Docker engine with the test image is reachable (DOCKER_HOST, FLOTILLA_TEST_IMAGE): output in the
// sandbox, a missing image, and (through the HTTP scheduler API, as a framework sends them) a
// BRIDGE task answering on its mapped host port with PORT0/PORT_<port>, a volume that carries a
// file from one task to the next, a task run as nobody, and limits seen by `docker inspect`.
// flotilla-test-timeout-seconds: 300
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDockerClient } from '../../src/agent/containerizer/docker-client.ts';
import { frameworkInfo, SchedulerClient } from '../http/support/scheduler-client.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { dockerUnavailableReason, rootUnavailableReason } from '../support/capabilities.ts';
import { startSingleMaster } from '../support/master.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import {
  AgentProcess,
  commandTask,
  launchTasks,
  RestartableMaster,
  statesOf,
  subscribeFramework,
  waitForAgent,
  waitForTaskState,
} from './support/daemon-support.ts';
import { followToEnd, type Json, lastOf, launchOnNextOffer, portRange, scalar } from './support/scheduler-tasks.ts';

async function bridgeUnavailableReason(): Promise<string | undefined> {
  const noDocker = await dockerUnavailableReason();
  if (noDocker !== undefined) return noDocker;
  const networks = await createDockerClient().listNetworks();
  if (!networks.some((network) => network.Name === 'bridge'))
    return 'the Docker engine has no bridge network (started with --bridge=none; .ci/run gives it one)';
  return undefined;
}

const docker = suite('agent daemon: docker');

testUnless(
  docker,
  await dockerUnavailableReason(),
  'a Docker task runs to TASK_FINISHED with its output in the sandbox; a missing image fails',
  async () => {
    const master = await RestartableMaster.start();
    const agent = await AgentProcess.start(master.address, ['--containerizers', 'process,docker']);
    try {
      const agentId = await waitForAgent(() => master.state(), agent.hostname);
      const framework = await subscribeFramework((command) => master.facade.submit(command));
      const image = process.env.FLOTILLA_TEST_IMAGE ?? '';
      await launchTasks(() => master.facade, framework, agentId, [
        commandTask('boxed', 'echo "in a box $MESOS_TASK_ID"', {
          container: {
            type: 'DOCKER',
            image,
            network: 'NONE',
            forcePullImage: false,
            portMappings: [],
            volumes: [],
            privileged: false,
            parameters: [],
            hostname: null,
          },
        }),
        commandTask('noimage', 'true', {
          container: {
            type: 'DOCKER',
            // Port 1 on loopback: no registry answers, so the pull fails at once, with no network needed.
            image: '127.0.0.1:1/flotilla-no-such-image:never',
            network: 'NONE',
            forcePullImage: false,
            portMappings: [],
            volumes: [],
            privileged: false,
            parameters: [],
            hostname: null,
          },
        }),
      ]);
      const task = await waitForTaskState(() => master.state(), framework, 'boxed', 'TASK_FINISHED', 120_000);
      assert.equal(statesOf(task), ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
      const stdout = path.join(agent.workDir, 'frameworks', framework, 'tasks', 'boxed', 'stdout');
      assert.match(readFileSync(stdout, 'utf8'), /in a box boxed/);
      const missing = await waitForTaskState(() => master.state(), framework, 'noimage', 'TASK_FAILED', 120_000);
      assert.is(missing.statuses.at(-1)?.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
      assert.match(missing.statuses.at(-1)?.message ?? '', 'could not pull image "127.0.0.1:1/flotilla-no-such-image');
    } finally {
      await agent.stop();
      await master.stop();
    }
  },
);

async function inspectTaskContainer(taskId: string): Promise<Docker.ContainerInspectInfo> {
  const engine = createDockerClient();
  const [found] = await engine.listContainers({ filters: { label: [`flotilla.task_id=${taskId}`] } });
  if (found === undefined) throw new Error(`no running container for ${taskId}`);
  return engine.getContainer(found.Id).inspect();
}

function dockerTask(
  id: string,
  agentId: unknown,
  command: string,
  docker: Json,
  container: Json = {},
  more: Json[] = [],
): Json {
  return {
    name: id,
    task_id: { value: id },
    agent_id: agentId,
    resources: [scalar('cpus', 0.25), scalar('mem', 48), ...more],
    command: { value: command },
    container: { type: 'DOCKER', docker: { image: process.env.FLOTILLA_TEST_IMAGE, ...docker }, ...container },
  };
}

testUnless(
  docker,
  (await bridgeUnavailableReason()) ?? rootUnavailableReason(),
  'over the scheduler API: a mapped port answers, a volume carries a file, nobody runs a task, limits are set, a MESOS image runs',
  async () => {
    const webPort = await freePort();
    const shared = makeTempDir('volumes-');
    chmodSync(shared, 0o777);
    const cluster = await startSingleMaster();
    const agent = await AgentProcess.start(cluster.url.slice('http://'.length), [
      '--containerizers',
      'process,docker',
      '--docker-volume-allowlist',
      shared,
      '--resources',
      `cpus:4;mem:4096;disk:10000;ports:[${webPort}-${webPort}]`,
    ]);
    chmodSync(agent.workDir, 0o755);
    let client: SchedulerClient | null = null;
    try {
      client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'docker-fields', user: 'nobody' }));
      const volume = { container_path: '/shared', host_path: shared, mode: 'RW' };
      await launchOnNextOffer(client, (agentId) => [
        {
          ...dockerTask(
            'web',
            agentId,
            'cd /mnt/mesos/sandbox && echo "$PORT0 $PORT_8080 $(id -u)" > index.html && exec httpd -f -p 8080 -h .',
            { network: 'BRIDGE', port_mappings: [{ host_port: webPort, container_port: 8080, protocol: 'tcp' }] },
            {},
            [portRange(webPort, webPort)],
          ),
          // Mesos' port for a BRIDGE check is the container's; the agent probes its mapped host port.
          health_check: {
            type: 'HTTP',
            http: { port: 8080, path: '/index.html' },
            delay_seconds: 0,
            interval_seconds: 1,
          },
        },
        dockerTask(
          'writer',
          agentId,
          'echo "from $MESOS_TASK_ID as $(id -u)" > /shared/note',
          {},
          { volumes: [volume] },
        ),
        {
          // A MESOS container with an image runs in that image (the test image has no /usr; the host has).
          ...dockerTask('mesos-image', agentId, 'test ! -e /usr', {}),
          container: {
            type: 'MESOS',
            mesos: { image: { type: 'DOCKER', docker: { name: process.env.FLOTILLA_TEST_IMAGE } } },
          },
        },
      ]);
      const body = await waitFor(
        async () => {
          const answer = await fetch(`http://127.0.0.1:${webPort}/index.html`).catch(() => null);
          return answer?.status === 200 ? answer.text() : null;
        },
        { timeoutMs: 60_000, what: `the web task on host port ${webPort}` },
      );
      assert.is(body, `${webPort} ${webPort} 65534\n`, 'PORT0 and PORT_8080 name the host port; the task is nobody');
      await waitFor(
        () =>
          [...cluster.master.facade.state().tasks.values()].some(
            (task) => task.id === 'web' && task.statuses.some((status) => status.healthy === true),
          ),
        { timeoutMs: 60_000, what: 'the web task reported healthy' },
      );
      const web = await inspectTaskContainer('web');
      assert.is(web.Config.User, '65534:65534');
      assert.is(web.HostConfig.NanoCpus, 250_000_000);
      assert.is(web.HostConfig.CpuShares, 256);
      assert.is(web.HostConfig.Memory, 48 * 1024 * 1024);
      const first = await followToEnd(client, ['writer', 'mesos-image']);
      assert.is(lastOf(first.get('writer')).state, 'TASK_FINISHED');
      assert.is(lastOf(first.get('mesos-image')).state, 'TASK_FINISHED', JSON.stringify(first.get('mesos-image')));
      await launchOnNextOffer(client, (agentId) => [
        dockerTask('reader', agentId, 'cat /shared/note', {}, { volumes: [{ ...volume, mode: 'RO' }] }),
      ]);
      assert.is(lastOf((await followToEnd(client, ['reader'])).get('reader')).state, 'TASK_FINISHED');
      const readerOut = path.join(agent.workDir, 'frameworks', client.frameworkId, 'tasks', 'reader', 'stdout');
      assert.is(readFileSync(readerOut, 'utf8'), 'from writer as 65534\n');
      await client.callOk('KILL', { kill: { task_id: { value: 'web' } } });
      assert.is(lastOf((await followToEnd(client, ['web'])).get('web')).state, 'TASK_KILLED');
    } finally {
      client?.close();
      await agent.stop();
      await cluster.stop();
    }
  },
);

docker.run();
