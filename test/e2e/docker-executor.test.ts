// flotilla-test-timeout-seconds: 300
// A framework's executor in a Docker container, end to end on a real master, a real agent
// (--containerizers process,docker) and the real engine: the example framework's executor
// (written with the executor SDK) baked into a throw-away image the test builds itself
// (support/executor-image.ts). It subscribes from inside its container through
// MESOS_AGENT_ENDPOINT, runs two tasks, answers a framework message, has its sandbox at
// /mnt/mesos/sandbox and its resources plus its tasks' as Docker limits (following a kill), and
// SHUTDOWN removes its container; a container killed through the engine is the executor
// exiting (its task TASK_FAILED with a reason); a BRIDGE executor cannot reach an agent on
// loopback (the launch fails saying so); after the agent is SIGKILLed and restarted, the same
// container subscribes again, keeps its task, and its later exit is still seen. On an agent
// listening on every address, a BRIDGE executor subscribes through the bridge's gateway.
import type Docker from 'dockerode';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDockerClient } from '../../src/agent/containerizer/docker-client.ts';
import type { Offer } from '../../src/protocol/mesos.ts';
import { exampleTask } from '../../examples/executors/framework.ts';
import { AgentProcess } from '../agent/support/daemon-support.ts';
import { SchedulerClient } from '../http/support/scheduler-client.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { dockerUnavailableReason } from '../support/capabilities.ts';
import { type SingleMaster, startSingleMaster } from '../support/master.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { EventLog } from './support/event-log.ts';
import { buildExecutorImage, executorImagePaths } from './support/executor-image.ts';

const waitMs = 90_000;
const mebibyte = 1024 * 1024;
const scalar = (name: string, value: number) => ({ name, type: 'SCALAR' as const, scalar: { value } });
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const text = (data: string): string => Buffer.from(data, 'base64').toString('utf8');

interface Cluster {
  readonly docker: Docker;
  readonly image: string;
  readonly master: SingleMaster;
  readonly agent: AgentProcess;
  readonly client: SchedulerClient;
  readonly log: EventLog;
}

interface AgentExecutor {
  readonly executor_id: string;
  readonly state: string;
  readonly subscriptions: number;
}

async function agentExecutors(agent: AgentProcess): Promise<AgentExecutor[]> {
  const response = await fetch(agent.url('/api/v1'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'GET_STATE' }),
  });
  return ((await response.json()) as { get_state: { executors: AgentExecutor[] } }).get_state.executors;
}

async function subscribedExecutor(agent: AgentProcess, executorId: string): Promise<AgentExecutor> {
  return waitFor(
    async () =>
      (await agentExecutors(agent)).find((each) => each.executor_id === executorId && each.state === 'subscribed'),
    { timeoutMs: waitMs, what: `executor ${executorId} subscribed` },
  );
}

/** The containers (running or not) of one executor, found as the agent finds them: by label. */
async function executorContainers(cluster: Cluster, executorId: string): Promise<Docker.ContainerInfo[]> {
  return cluster.docker.listContainers({
    all: true,
    filters: {
      label: [`flotilla.framework_id=${cluster.client.frameworkId}`, `flotilla.task_id=executor/${executorId}`],
    },
  });
}

async function theContainer(cluster: Cluster, executorId: string): Promise<Docker.ContainerInspectInfo> {
  const containers = await executorContainers(cluster, executorId);
  assert.is(containers.length, 1, `one container for executor ${executorId}: ${JSON.stringify(containers)}`);
  return cluster.docker.getContainer(containers[0]!.Id).inspect();
}

/** The example executor, in the test image, on the host's network by default (the agent listens on loopback). */
function dockerTask(
  cluster: Cluster,
  offer: Offer,
  executorId: string,
  taskId: string,
  network: 'HOST' | 'BRIDGE' = 'HOST',
) {
  const task = exampleTask(offer, executorId, taskId, null);
  return {
    ...task,
    executor: {
      ...task.executor!,
      name: 'example executor in Docker',
      command: { shell: false, value: executorImagePaths.node, arguments: [executorImagePaths.executor] },
      resources: [scalar('cpus', 0.1), scalar('mem', 128)],
      container: {
        type: 'DOCKER',
        docker: {
          image: cluster.image,
          network,
          parameters: [{ key: 'label', value: 'purpose=flotilla-test' }],
        },
      },
    },
  };
}

async function accept(cluster: Cluster, offer: Offer, taskInfos: unknown[]): Promise<void> {
  cluster.log.used.add(offer.id.value);
  await cluster.client.callOk('ACCEPT', {
    accept: {
      offer_ids: [offer.id],
      operations: [{ type: 'LAUNCH', launch: { task_infos: taskInfos } }],
      filters: { refuse_seconds: 0 },
    },
  });
}

async function failureOf(cluster: Cluster, executorId: string) {
  const failure = await waitFor(
    () =>
      cluster.log.events.find((event) => event.type === 'FAILURE' && event.failure.executor_id?.value === executorId),
    { timeoutMs: waitMs, what: `FAILURE of executor ${executorId}` },
  );
  assert.ok(failure.type === 'FAILURE');
  return failure.failure;
}

const dockerExecutors = suite('framework executors in Docker');

/** `listenHost`: where the agent's HTTP API listens (loopback, or every address for bridged executors). */
async function startCluster(listenHost = '127.0.0.1'): Promise<Cluster> {
  const docker = createDockerClient();
  const image = await buildExecutorImage(docker, makeTempDir('executor-image-'));
  const master = await startSingleMaster();
  const port = await freePort();
  const name = `agent-${Math.random().toString(36).slice(2, 8)}`;
  const agent = new AgentProcess(name, master.url.slice('http://'.length), makeTempDir('agent-'), port, [
    '--containerizers',
    'process,docker',
    '--executor-recovery-timeout-ms',
    '60000',
    '--executor-idle-timeout-ms',
    '600000',
    // After the support's own --listen on loopback: the last one counts.
    '--listen',
    `${listenHost}:${port}`,
    // Off loopback the agent asks for credentials; this one lives for a few seconds of a test.
    ...(listenHost === '127.0.0.1' ? [] : ['--insecure-allow-anonymous']),
  ]);
  agent.launch();
  const client = await SchedulerClient.subscribe(master.url);
  return { docker, image, master, agent, client, log: new EventLog(client) };
}

/** Executors outlive their agent by design: their containers are removed here, by the framework's label. */
async function stopCluster(cluster: Cluster): Promise<void> {
  cluster.log.stop();
  const left = await cluster.docker.listContainers({
    all: true,
    filters: { label: [`flotilla.framework_id=${cluster.client.frameworkId}`] },
  });
  for (const container of left)
    await cluster.docker
      .getContainer(container.Id)
      .remove({ force: true })
      .catch(() => undefined);
  await cluster.agent.stop();
  await cluster.master.stop();
}

async function runsTwoTasksAndShutsDown(cluster: Cluster): Promise<void> {
  const { client, log, agent } = cluster;
  const offer = await log.offer();
  await accept(cluster, offer, [dockerTask(cluster, offer, 'dx-1', 'd1'), dockerTask(cluster, offer, 'dx-1', 'd2')]);
  const running = await log.status('d1', 'TASK_RUNNING');
  assert.is(running.message, 'running in executor dx-1');
  await log.status('d2', 'TASK_RUNNING');
  await subscribedExecutor(agent, 'dx-1');
  const inspected = await theContainer(cluster, 'dx-1');
  assert.is(inspected.State.Running, true);
  assert.is(inspected.HostConfig.NetworkMode, 'host');
  assert.is(inspected.Config.Labels['purpose'], 'flotilla-test', 'the docker parameter is honoured');
  const environment = new Map(
    inspected.Config.Env.map((each) => [each.split('=')[0], each.slice(each.indexOf('=') + 1)]),
  );
  assert.is(environment.get('MESOS_SANDBOX'), '/mnt/mesos/sandbox');
  assert.is(environment.get('MESOS_EXECUTOR_ID'), 'dx-1');
  assert.is(environment.get('MESOS_FRAMEWORK_ID'), client.frameworkId);
  assert.is(environment.get('MESOS_AGENT_ENDPOINT'), agent.url('').slice('http://'.length));
  assert.is(environment.get('FLOTILLA_LOG_LEVEL'), undefined, "the agent's own environment stays out of the image");
  const sandbox = inspected.Mounts.find((mount) => mount.Destination === '/mnt/mesos/sandbox');
  assert.ok(sandbox !== undefined && sandbox.Source === environment.get('MESOS_DIRECTORY'), 'the sandbox is mounted');
  // The executor's own 128 MB and 0.1 cpus, plus 16 MB and 0.1 cpus for each of its two tasks.
  const limits = async () => (await theContainer(cluster, 'dx-1')).HostConfig;
  await waitFor(async () => (await limits()).Memory === 160 * mebibyte, { timeoutMs: waitMs, what: 'a 160 MB limit' });
  assert.is((await limits()).NanoCpus, 0.3e9);

  await client.callOk('MESSAGE', {
    message: { agent_id: offer.agent_id, executor_id: { value: 'dx-1' }, data: base64('ping') },
  });
  const reply = await waitFor(() => log.events.find((event) => event.type === 'MESSAGE'), {
    timeoutMs: waitMs,
    what: "the executor's reply",
  });
  assert.ok(reply.type === 'MESSAGE');
  assert.is(text(reply.message.data), 'pong ping from dx-1 running 2 tasks');

  await client.callOk('KILL', { kill: { task_id: { value: 'd1' }, agent_id: offer.agent_id } });
  assert.is((await log.status('d1', 'TASK_KILLED')).source, 'SOURCE_EXECUTOR');
  await waitFor(async () => (await limits()).Memory === 144 * mebibyte, { timeoutMs: waitMs, what: 'a 144 MB limit' });

  await client.callOk('SHUTDOWN', { shutdown: { agent_id: offer.agent_id, executor_id: { value: 'dx-1' } } });
  assert.is((await log.status('d2', 'TASK_KILLED')).message, 'the executor was shut down');
  assert.is((await failureOf(cluster, 'dx-1')).status, 0, 'the executor exited 0 on SHUTDOWN');
  await waitFor(async () => (await executorContainers(cluster, 'dx-1')).length === 0, {
    timeoutMs: waitMs,
    what: "the executor's container to be removed",
  });
}

async function containerDeathIsExecutorDeath(cluster: Cluster): Promise<void> {
  const { log } = cluster;
  const offer = await log.offer();
  await accept(cluster, offer, [dockerTask(cluster, offer, 'dx-2', 'k1')]);
  await log.status('k1', 'TASK_RUNNING');
  const inspected = await theContainer(cluster, 'dx-2');
  await cluster.docker.getContainer(inspected.Id).kill({ signal: 'SIGKILL' });
  const failed = await log.status('k1', 'TASK_FAILED');
  assert.is(failed.reason, 'REASON_EXECUTOR_TERMINATED');
  assert.is(failed.source, 'SOURCE_AGENT');
  assert.is((await failureOf(cluster, 'dx-2')).status, 9, 'the wait status of a SIGKILL');
}

/** A bridged container cannot reach an agent on loopback: the launch fails and says why. */
async function bridgeToLoopbackFails(cluster: Cluster): Promise<void> {
  const offer = await cluster.log.offer();
  await accept(cluster, offer, [dockerTask(cluster, offer, 'dx-4', 'b1', 'BRIDGE')]);
  const failed = await cluster.log.status('b1', 'TASK_FAILED');
  assert.is(failed.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
  assert.match(failed.message ?? '', /a container off the host network cannot reach/);
  assert.is((await executorContainers(cluster, 'dx-4')).length, 0);
}

async function survivesAnAgentRestart(cluster: Cluster): Promise<void> {
  const { log, agent, client } = cluster;
  const offer = await log.offer();
  await accept(cluster, offer, [dockerTask(cluster, offer, 'dx-3', 'r1')]);
  await log.status('r1', 'TASK_RUNNING');
  await subscribedExecutor(agent, 'dx-3');
  const before = await theContainer(cluster, 'dx-3');
  await agent.stop('SIGKILL');
  assert.is((await theContainer(cluster, 'dx-3')).State.Running, true, 'the container outlives its agent');
  agent.launch();
  // The restarted agent re-attaches the container and waits ("disconnected") until it subscribes again.
  await subscribedExecutor(agent, 'dx-3');
  assert.is((await theContainer(cluster, 'dx-3')).Id, before.Id, 'the same container subscribed again');
  await client.callOk('KILL', { kill: { task_id: { value: 'r1' }, agent_id: offer.agent_id } });
  assert.is((await log.status('r1', 'TASK_KILLED')).source, 'SOURCE_EXECUTOR', 'the executor still had its task');
  // The restarted agent watches the container it re-attached: its end is the executor's.
  await cluster.docker.getContainer(before.Id).kill({ signal: 'SIGKILL' });
  assert.is((await failureOf(cluster, 'dx-3')).status, 9);
}

testUnless(
  dockerExecutors,
  await dockerUnavailableReason(),
  'an executor in a Docker container runs tasks, answers messages, dies with its container and survives an agent restart',
  async () => {
    const cluster = await startCluster();
    try {
      await runsTwoTasksAndShutsDown(cluster);
      await containerDeathIsExecutorDeath(cluster);
      await bridgeToLoopbackFails(cluster);
      await survivesAnAgentRestart(cluster);
    } catch (error) {
      console.error(cluster.agent.output.slice(-20_000));
      throw error;
    } finally {
      await stopCluster(cluster);
    }
  },
);

async function bridgeUnavailableReason(): Promise<string | undefined> {
  const noDocker = await dockerUnavailableReason();
  if (noDocker !== undefined) return noDocker;
  const networks = await createDockerClient().listNetworks();
  if (!networks.some((network) => network.Name === 'bridge'))
    return 'the Docker engine has no bridge network (started with --bridge=none; .ci/run gives it one)';
  return undefined;
}

testUnless(
  dockerExecutors,
  await bridgeUnavailableReason(),
  "a bridged executor reaches an agent listening on every address through the bridge's gateway",
  async () => {
    const cluster = await startCluster('0.0.0.0');
    try {
      const { log, client, docker } = cluster;
      const offer = await log.offer();
      await accept(cluster, offer, [dockerTask(cluster, offer, 'dx-5', 'n1', 'BRIDGE')]);
      await log.status('n1', 'TASK_RUNNING');
      const inspected = await theContainer(cluster, 'dx-5');
      assert.is(inspected.HostConfig.NetworkMode, 'bridge');
      const bridge = (await docker.getNetwork('bridge').inspect()) as { IPAM: { Config: { Gateway?: string }[] } };
      const gateway = bridge.IPAM.Config.find((config) => config.Gateway !== undefined)?.Gateway;
      assert.ok(
        inspected.Config.Env.includes(`MESOS_AGENT_ENDPOINT=${gateway}:${cluster.agent.port}`),
        `the endpoint is the gateway's: ${inspected.Config.Env.join(' ')}`,
      );
      await client.callOk('SHUTDOWN', { shutdown: { agent_id: offer.agent_id, executor_id: { value: 'dx-5' } } });
      await log.status('n1', 'TASK_KILLED');
      await waitFor(async () => (await executorContainers(cluster, 'dx-5')).length === 0, {
        timeoutMs: waitMs,
        what: "the bridged executor's container to be removed",
      });
    } catch (error) {
      console.error(cluster.agent.output.slice(-20_000));
      throw error;
    } finally {
      await stopCluster(cluster);
    }
  },
);

dockerExecutors.run();
