// The docker containerizer against a real engine (DOCKER_HOST, FLOTILLA_TEST_IMAGE): output in
// the sandbox, exit codes, a missing image, kill with a grace period, recovery by a fresh
// instance after the launching process is gone, orphan removal by label, limits in HostConfig.
// flotilla-test-timeout-seconds: 300
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDockerClient, engineStatus } from '../../src/agent/containerizer/docker-client.ts';
import { DockerContainerizer } from '../../src/agent/containerizer/docker.ts';
import {
  ContainerLaunchError,
  type ContainerCommand,
  type ContainerHandle,
  type ContainerSpec,
} from '../../src/agent/containerizer/types.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { dockerUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const noDocker = await dockerUnavailableReason();
const image = process.env.FLOTILLA_TEST_IMAGE ?? 'flotilla-test:busybox';
const waitMs = 60_000;
const agentId = `docker-test-${process.pid}`;
let taskCounter = 0;

function shell(value: string): ContainerCommand {
  return { value, shell: true, arguments: [] };
}

function makeSpec(command: ContainerCommand | null, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  taskCounter += 1;
  return {
    agentId,
    frameworkId: 'fw-1',
    taskId: `task-${taskCounter}`,
    sandbox: makeTempDir('sandbox-'),
    command,
    image,
    network: 'NONE',
    environment: { GREETING: 'hello' },
    cpus: null,
    memMb: null,
    forcePullImage: false,
    portMappings: [],
    volumes: [],
    persistentVolumes: [],
    privileged: false,
    parameters: [],
    hostname: null,
    user: null,
    ...overrides,
  };
}

function sandboxFile(spec: ContainerSpec, name: string): string {
  try {
    return readFileSync(path.join(spec.sandbox, name), 'utf8');
  } catch {
    return '';
  }
}

async function containerGone(id: string): Promise<boolean> {
  try {
    await createDockerClient().getContainer(id).inspect();
    return false;
  } catch (error) {
    return engineStatus(error) === 404;
  }
}

const containerizer = noDocker === undefined ? new DockerContainerizer({ logger: silentLogger }) : null;
function docker(): DockerContainerizer {
  if (containerizer === null) throw new Error('no Docker engine');
  return containerizer;
}

const running = suite('docker containerizer: running tasks');

testUnless(
  running,
  noDocker,
  'echo runs to exit 0, its output in the sandbox files, then the container is removed',
  async () => {
    const spec = makeSpec(shell('echo "$GREETING from $MESOS_SANDBOX in $(pwd)"; echo oops >&2'));
    const task = await docker().launch(spec);
    assert.equal(await task.exited, { kind: 'exited', code: 0 });
    assert.is(sandboxFile(spec, 'stdout'), 'hello from /mnt/mesos/sandbox in /mnt/mesos/sandbox\n');
    assert.is(sandboxFile(spec, 'stderr'), 'oops\n');
    assert.ok(await containerGone(task.handle.containerId ?? ''));
  },
);

testUnless(
  running,
  noDocker,
  'an exit code is reported; shell=false passes value and arguments as the command',
  async () => {
    assert.equal(await (await docker().launch(makeSpec(shell('exit 3')))).exited, { kind: 'exited', code: 3 });
    const spec = makeSpec({ value: 'echo', shell: false, arguments: ['a  b', '$GREETING'] });
    assert.equal(await (await docker().launch(spec)).exited, { kind: 'exited', code: 0 });
    assert.is(sandboxFile(spec, 'stdout'), 'a  b $GREETING\n');
  },
);

testUnless(
  running,
  noDocker,
  'an image the engine lacks is pulled; a registry that cannot be reached fails the launch with its reason',
  async () => {
    // Port 1 on loopback: nothing listens, so the pull fails at once, without any network.
    const missing = '127.0.0.1:1/flotilla-test/no-such-image:never';
    const progress: string[] = [];
    try {
      await docker().launch(makeSpec(shell('true'), { image: missing }), (message) => progress.push(message));
      assert.unreachable('launch should have failed');
    } catch (error) {
      assert.instance(error, ContainerLaunchError);
      assert.match((error as Error).message, `could not pull image "${missing}"`);
      assert.match((error as Error).message, /connection refused/);
    }
    assert.equal(progress, [`pulling image ${missing}`]);
  },
);

testUnless(running, noDocker, 'BRIDGE on an engine without a bridge network is a clear launch error', async () => {
  const networks = await createDockerClient().listNetworks();
  if (networks.some((network) => network.Name === 'bridge')) return; // This engine has one: nothing to check.
  try {
    await docker().launch(makeSpec(shell('true'), { network: 'BRIDGE' }));
    assert.unreachable('launch should have failed');
  } catch (error) {
    assert.instance(error, ContainerLaunchError);
    assert.match((error as Error).message, /no "bridge" network.*use HOST or NONE/);
  }
});

testUnless(
  running,
  noDocker,
  'limits go into HostConfig; usage and check commands work inside the container',
  async () => {
    const spec = makeSpec(shell('echo ready; while :; do :; done'), { memMb: 64, cpus: 0.5, network: 'HOST' });
    const task = await docker().launch(spec);
    const info = await createDockerClient()
      .getContainer(task.handle.containerId ?? '')
      .inspect();
    assert.is(info.HostConfig.Memory, 64 * 1024 * 1024);
    assert.is(info.HostConfig.NanoCpus, 500_000_000);
    assert.is(info.HostConfig.NetworkMode, 'host');
    assert.is(info.Config.Labels['flotilla.task_id'], spec.taskId);
    const usage = await waitFor(
      async () => {
        const sample = await task.usage();
        return sample !== null && sample.cpusUserTimeSecs + sample.cpusSystemTimeSecs > 0 ? sample : null;
      },
      { timeoutMs: waitMs, what: 'CPU time in the container usage' },
    );
    assert.is(usage.memLimitBytes, 64 * 1024 * 1024);
    assert.is(await task.runCheckCommand('test -e /mnt/mesos/sandbox/stdout', 20_000), 0);
    assert.is(await task.runCheckCommand('exit 2', 20_000), 2);
    await task.kill(1_000);
    assert.is(await task.usage(), null);
  },
);

running.run();

const killing = suite('docker containerizer: kill with a grace period');

testUnless(killing, noDocker, 'a task that traps TERM and exits late ends with its own status', async () => {
  const spec = makeSpec(
    shell('trap "echo cleaning; sleep 0.3; exit 0" TERM; echo ready; while :; do sleep 0.05; done'),
  );
  const task = await docker().launch(spec);
  await waitFor(() => sandboxFile(spec, 'stdout').includes('ready'), { timeoutMs: waitMs, what: 'the task to start' });
  assert.equal(await task.kill(20_000), { kind: 'exited', code: 0 });
  assert.match(sandboxFile(spec, 'stdout'), /cleaning/);
});

testUnless(killing, noDocker, 'a task that ignores TERM is killed with SIGKILL after the grace period', async () => {
  const spec = makeSpec(shell('trap "" TERM; echo ready; while :; do sleep 0.05; done'));
  const task = await docker().launch(spec);
  await waitFor(() => sandboxFile(spec, 'stdout').includes('ready'), { timeoutMs: waitMs, what: 'the task to start' });
  assert.equal(await task.kill(500), { kind: 'signalled', signal: 'SIGKILL' });
  assert.ok(await containerGone(task.handle.containerId ?? ''));
});

killing.run();

/** Launches in another Node process that exits at once, as an agent that stops would. */
function launchFromAnotherProcess(spec: ContainerSpec): ContainerHandle {
  const program = path.join(makeTempDir(), 'launch.mts');
  writeFileSync(
    program,
    `
    import { DockerContainerizer } from ${JSON.stringify(path.join(repoRoot, 'src/agent/containerizer/docker.ts'))};
    import { silentLogger } from ${JSON.stringify(path.join(repoRoot, 'src/util/logger.ts'))};
    const spec = JSON.parse(process.argv[2] ?? '{}');
    const task = await new DockerContainerizer({ logger: silentLogger }).launch(spec);
    process.stdout.write(JSON.stringify(task.handle));
    process.exit(0);
  `,
  );
  const result = spawnSync(process.execPath, ['--import', 'tsx', program, JSON.stringify(spec)], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as ContainerHandle;
}

const recovery = suite('docker containerizer: recovery and orphans');

testUnless(
  recovery,
  noDocker,
  'a fresh instance re-attaches by container id, copies the output and learns the exit code',
  async () => {
    const spec = makeSpec(shell('echo started; while [ ! -e go ]; do sleep 0.05; done; echo finishing; exit 5'));
    const handle = launchFromAnotherProcess(spec);
    assert.is(handle.kind, 'docker');
    const task = await new DockerContainerizer({ logger: silentLogger }).recover(handle, spec);
    assert.ok(task !== null);
    writeFileSync(path.join(spec.sandbox, 'go'), '');
    assert.equal(await task.exited, { kind: 'exited', code: 5 });
    assert.match(sandboxFile(spec, 'stdout'), /finishing/);
    assert.ok(await containerGone(handle.containerId ?? ''));
  },
);

testUnless(
  recovery,
  noDocker,
  'a container that ended while no agent watched is recovered with its exit code; an unknown id is not',
  async () => {
    const spec = makeSpec(shell('exit 7'));
    const handle = launchFromAnotherProcess(spec);
    await waitFor(
      async () =>
        !(
          await createDockerClient()
            .getContainer(handle.containerId ?? '')
            .inspect()
        ).State.Running,
      { timeoutMs: waitMs, what: 'the container to stop' },
    );
    const task = await docker().recover(handle, spec);
    assert.ok(task !== null);
    assert.equal(await task.exited, { kind: 'exited', code: 7 });
    assert.is(
      await docker().recover(
        { kind: 'docker', pid: null, startTime: null, containerId: 'f'.repeat(64), user: null },
        spec,
      ),
      null,
    );
    assert.is(
      await docker().recover({ kind: 'process', pid: 1, startTime: '1', containerId: null, user: null }, spec),
      null,
    );
  },
);

testUnless(
  recovery,
  noDocker,
  'removeOrphans removes a labelled container of an unknown task and keeps a known one',
  async () => {
    const orphanAgent = `${agentId}-orphans`;
    const known = await docker().launch(
      makeSpec(shell('sleep 60'), { agentId: orphanAgent, frameworkId: 'fw', taskId: 'known' }),
    );
    const unknown = await docker().launch(
      makeSpec(shell('sleep 60'), { agentId: orphanAgent, frameworkId: 'fw', taskId: 'unknown' }),
    );
    const removed = await docker().removeOrphans(orphanAgent, new Set(['fw/known']));
    assert.equal(removed, [unknown.handle.containerId]);
    await unknown.exited;
    assert.ok(await containerGone(unknown.handle.containerId ?? ''));
    assert.ok(
      (
        await createDockerClient()
          .getContainer(known.handle.containerId ?? '')
          .inspect()
      ).State.Running,
    );
    await known.kill(1_000);
  },
);

recovery.run();
