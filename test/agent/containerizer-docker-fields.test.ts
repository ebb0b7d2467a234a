// The docker containerizer honours the task's Docker fields against a real engine (DOCKER_HOST,
// FLOTILLA_TEST_IMAGE): BRIDGE port mappings answer on their host port, volumes mount host paths
// from the allow-list (read-write or read-only) and sandbox folders, every supported parameter
// lands in the container's configuration, the task's user runs the container, and limits go
// into HostConfig. What the agent cannot honour fails the launch naming the field.
// flotilla-test-timeout-seconds: 300
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createDockerClient } from '../../src/agent/containerizer/docker-client.ts';
import { DockerContainerizer } from '../../src/agent/containerizer/docker.ts';
import { ContainerLaunchError, type ContainerSpec } from '../../src/agent/containerizer/types.ts';
import { prepareSandbox } from '../../src/agent/sandbox-owner.ts';
import type { TaskUser } from '../../src/agent/task-user.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { dockerUnavailableReason, rootUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const noDocker = await dockerUnavailableReason();
const image = process.env.FLOTILLA_TEST_IMAGE ?? 'flotilla-test:busybox';
const waitMs = 60_000;
const nobody: TaskUser = { name: 'nobody', uid: 65534, gid: 65534, groups: [65534] };
let taskCounter = 0;

async function bridgeUnavailableReason(): Promise<string | undefined> {
  if (noDocker !== undefined) return noDocker;
  const networks = await createDockerClient().listNetworks();
  if (!networks.some((network) => network.Name === 'bridge'))
    return 'the Docker engine has no bridge network (started with --bridge=none; .ci/run gives it one)';
  return undefined;
}
const noBridge = await bridgeUnavailableReason();

function makeSpec(command: string, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  taskCounter += 1;
  return {
    agentId: `docker-fields-${process.pid}`,
    frameworkId: 'fw-1',
    taskId: `task-${taskCounter}`,
    sandbox: makeTempDir('sandbox-'),
    command: { value: command, shell: true, arguments: [] },
    image,
    forcePullImage: false,
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
    ...overrides,
  };
}

function readIn(folder: string, name: string): string {
  const file = path.join(folder, name);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

async function launchError(containerizer: DockerContainerizer, spec: ContainerSpec): Promise<string> {
  try {
    const task = await containerizer.launch(spec);
    await task.kill(1_000);
  } catch (error) {
    assert.instance(error, ContainerLaunchError);
    return (error as Error).message;
  }
  assert.unreachable('the launch should have failed');
  return '';
}

const allowed = makeTempDir('allowed-');
chmodSync(allowed, 0o777);
const docker =
  noDocker === undefined ? new DockerContainerizer({ logger: silentLogger, volumeAllowlist: [allowed] }) : null;
function containerizer(): DockerContainerizer {
  if (docker === null) throw new Error('no Docker engine');
  return docker;
}

const ports = suite('docker fields: BRIDGE port mappings');

testUnless(ports, noBridge, 'a container port answers on its mapped host port', async () => {
  const hostPort = await freePort();
  const spec = makeSpec(
    'cd /mnt/mesos/sandbox && echo "hello from $PORT_8080" > index.html && exec httpd -f -p 8080 -h /mnt/mesos/sandbox',
    {
      network: 'BRIDGE',
      portMappings: [{ hostPort, containerPort: 8080, protocol: 'tcp' }],
      environment: { PORT_8080: String(hostPort) },
    },
  );
  const task = await containerizer().launch(spec);
  try {
    const body = await waitFor(
      async () => {
        const answer = await fetch(`http://127.0.0.1:${hostPort}/index.html`).catch(() => null);
        return answer?.status === 200 ? answer.text() : null;
      },
      { timeoutMs: waitMs, what: `httpd on host port ${hostPort}` },
    );
    assert.is(body, `hello from ${hostPort}\n`);
    const info = await createDockerClient()
      .getContainer(task.handle.containerId ?? '')
      .inspect();
    assert.equal(info.HostConfig.PortBindings, { '8080/tcp': [{ HostIp: '', HostPort: String(hostPort) }] });
  } finally {
    await task.kill(1_000);
  }
});

ports.run();

const volumes = suite('docker fields: volumes');

testUnless(volumes, noDocker, "an allow-listed host folder keeps one task's file for the next", async () => {
  const shared = path.join(allowed, `shared-${process.pid}`);
  mkdirSync(shared);
  const volume = { containerPath: '/shared', hostPath: shared, mode: 'RW' as const };
  const writer = makeSpec('echo "written by $MESOS_TASK_ID" > /shared/note', {
    volumes: [volume],
    environment: { MESOS_TASK_ID: 'writer' },
  });
  assert.equal(await (await containerizer().launch(writer)).exited, { kind: 'exited', code: 0 });
  const reader = makeSpec('cat /shared/note', { volumes: [{ ...volume, mode: 'RO' }] });
  assert.equal(await (await containerizer().launch(reader)).exited, { kind: 'exited', code: 0 });
  assert.is(readIn(reader.sandbox, 'stdout'), 'written by writer\n');
  const vandal = makeSpec('echo changed > /shared/note', { volumes: [{ ...volume, mode: 'RO' }] });
  const exit = await (await containerizer().launch(vandal)).exited;
  assert.is(exit.kind === 'exited' && exit.code !== 0, true, 'RO refuses the write');
  assert.match(readIn(vandal.sandbox, 'stderr'), /Read-only file system/);
  assert.is(readFileSync(path.join(shared, 'note'), 'utf8'), 'written by writer\n');
});

testUnless(
  volumes,
  noDocker,
  'a sandbox-relative host path is a sandbox folder; a relative container path is under the sandbox mount',
  async () => {
    const spec = makeSpec('echo cached > /cache/file && cat /mnt/mesos/sandbox/notes/x', {
      volumes: [
        { containerPath: '/cache', hostPath: 'cache/deep', mode: 'RW' },
        { containerPath: 'notes', hostPath: 'inputs', mode: 'RO' },
      ],
    });
    mkdirSync(path.join(spec.sandbox, 'inputs'));
    writeFileSync(path.join(spec.sandbox, 'inputs', 'x'), 'input\n');
    assert.equal(await (await containerizer().launch(spec)).exited, { kind: 'exited', code: 0 });
    assert.is(readIn(path.join(spec.sandbox, 'cache', 'deep'), 'file'), 'cached\n');
    assert.is(readIn(spec.sandbox, 'stdout'), 'input\n');
  },
);

testUnless(
  volumes,
  noDocker,
  'host paths outside the allow-list, missing, or escaping the sandbox fail the launch',
  async () => {
    const outside = makeTempDir('outside-');
    assert.match(
      await launchError(
        containerizer(),
        makeSpec('true', { volumes: [{ containerPath: '/x', hostPath: outside, mode: 'RO' }] }),
      ),
      `container.volumes[0].host_path: ${outside} is outside the agent's --docker-volume-allowlist (${allowed})`,
    );
    // A symbolic link inside the allow-list that points out of it is judged by its target.
    const link = path.join(allowed, `link-${process.pid}`);
    symlinkSync(outside, link);
    assert.match(
      await launchError(
        containerizer(),
        makeSpec('true', { volumes: [{ containerPath: '/x', hostPath: link, mode: 'RO' }] }),
      ),
      /is outside the agent's --docker-volume-allowlist/,
    );
    assert.match(
      await launchError(
        containerizer(),
        makeSpec('true', { volumes: [{ containerPath: '/x', hostPath: `${allowed}/missing`, mode: 'RO' }] }),
      ),
      `container.volumes[0].host_path: ${allowed}/missing does not exist on this agent`,
    );
    const escaping = makeSpec('true', { volumes: [{ containerPath: '/x', hostPath: 'up', mode: 'RO' }] });
    symlinkSync('/etc', path.join(escaping.sandbox, 'up'));
    assert.match(
      await launchError(containerizer(), escaping),
      'container.volumes[0].host_path: up does not stay inside the sandbox',
    );
    const noList = new DockerContainerizer({ logger: silentLogger });
    assert.match(
      await launchError(
        noList,
        makeSpec('true', { volumes: [{ containerPath: '/x', hostPath: allowed, mode: 'RO' }] }),
      ),
      /outside the agent's --docker-volume-allowlist \(none is set\)/,
    );
  },
);

volumes.run();

const settings = suite('docker fields: parameters, privileged, hostname, user, limits');

testUnless(settings, noDocker, 'every supported parameter lands in the container configuration', async () => {
  const spec = makeSpec('sleep 60', {
    network: 'BRIDGE',
    hostname: 'from-field',
    privileged: true,
    environment: { FROM_TASK: 'task', OVERRIDDEN: 'task' },
    parameters: [
      { key: 'label', value: 'team=web' },
      { key: 'env', value: 'OVERRIDDEN=parameter' },
      { key: 'user', value: '4242:4343' },
      { key: 'hostname', value: 'from-parameter' },
      { key: 'workdir', value: '/tmp' },
      { key: 'add-host', value: 'db.local:10.1.2.3' },
      { key: 'dns', value: '10.0.0.53' },
      { key: 'dns-search', value: 'example.org' },
      { key: 'cap-add', value: 'NET_ADMIN' },
      { key: 'cap-drop', value: 'chown' },
      { key: 'read-only', value: 'true' },
      { key: 'init', value: 'true' },
      { key: 'shm-size', value: '32m' },
      { key: 'ulimit', value: 'nofile=1024:2048' },
    ],
  });
  const task = await containerizer().launch(spec);
  try {
    const info = await createDockerClient()
      .getContainer(task.handle.containerId ?? '')
      .inspect();
    assert.is(info.Config.Labels.team, 'web');
    assert.is(info.Config.Labels['flotilla.task_id'], spec.taskId, "the agent's labels stay");
    assert.ok(info.Config.Env.includes('OVERRIDDEN=parameter') && info.Config.Env.includes('FROM_TASK=task'));
    assert.not.ok(info.Config.Env.includes('OVERRIDDEN=task'));
    assert.is(info.Config.User, '4242:4343');
    assert.is(
      info.Config.Hostname,
      'from-parameter',
      'a parameter comes after the field, as on the docker command line',
    );
    assert.is(info.Config.WorkingDir, '/tmp');
    const host = info.HostConfig;
    assert.equal(host.ExtraHosts, ['db.local:10.1.2.3']);
    assert.equal(host.Dns, ['10.0.0.53']);
    assert.equal(host.DnsSearch, ['example.org']);
    assert.equal(host.CapAdd, ['NET_ADMIN']);
    assert.equal(host.CapDrop, ['CHOWN']);
    assert.is(host.ReadonlyRootfs, true);
    assert.is(host.Init, true);
    assert.is(host.ShmSize, 32 * 1024 * 1024);
    assert.equal(host.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
    assert.is(host.Privileged, true);
  } finally {
    await task.kill(1_000);
  }
});

testUnless(settings, noDocker, 'a parameter the agent cannot honour fails the launch naming it', async () => {
  assert.match(
    await launchError(containerizer(), makeSpec('true', { parameters: [{ key: 'volume', value: '/:/host' }] })),
    'container.docker.parameters[0]: --volume is not accepted: use container.volumes',
  );
  assert.match(
    await launchError(
      containerizer(),
      makeSpec('true', { parameters: [{ key: 'label', value: 'flotilla.agent_id=x' }] }),
    ),
    /parameters\[0\]: labels starting with "flotilla\." are the agent's own/,
  );
});

testUnless(
  settings,
  rootUnavailableReason() ?? noDocker,
  "the task's user runs the container by number, and writes its sandbox",
  async () => {
    const spec = makeSpec('id -u; id -g; echo mine > owned', { user: nobody });
    prepareSandbox(spec.sandbox, nobody);
    const task = await containerizer().launch(spec);
    assert.equal(await task.exited, { kind: 'exited', code: 0 });
    assert.is(readIn(spec.sandbox, 'stdout'), '65534\n65534\n');
    assert.is(statSync(path.join(spec.sandbox, 'owned')).uid, 65534);
  },
);

testUnless(settings, noDocker, 'cpus and mem become NanoCpus, CpuShares and Memory', async () => {
  const task = await containerizer().launch(makeSpec('sleep 60', { cpus: 0.25, memMb: 48 }));
  try {
    const host = (
      await createDockerClient()
        .getContainer(task.handle.containerId ?? '')
        .inspect()
    ).HostConfig;
    assert.is(host.NanoCpus, 250_000_000);
    assert.is(host.CpuShares, 256);
    assert.is(host.Memory, 48 * 1024 * 1024);
  } finally {
    await task.kill(1_000);
  }
});

settings.run();
