// Persistent volumes on the agent, with the real containerizers: a volume's data lives under the
// agent's work dir; a process task sees it through a link at its container path, a Docker task
// through a bind mount under /mnt/mesos/sandbox; a file one task writes is read by the next;
// a RO volume is read-only in Docker and refused for a process task; the master's `volumes`
// list deletes the data of every other volume and keeps the listed ones.
// flotilla-test-timeout-seconds: 240
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DockerContainerizer } from '../../src/agent/containerizer/docker.ts';
import { ProcessContainerizer } from '../../src/agent/containerizer/process.ts';
import { ContainerLaunchError, type ContainerSpec } from '../../src/agent/containerizer/types.ts';
import { persistentMounts, prepareVolumes, reconcileVolumes, volumePath } from '../../src/agent/persistent-volumes.ts';
import { prepareSandbox } from '../../src/agent/sandbox-owner.ts';
import type { WireResource } from '../../src/protocol/agent.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { dockerUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';

const noDocker = await dockerUnavailableReason();
const image = process.env.FLOTILLA_TEST_IMAGE ?? 'flotilla-test:busybox';
let taskCounter = 0;

const volumeResource = (id: string, containerPath: string, mode: 'RW' | 'RO' = 'RW'): WireResource => ({
  name: 'disk',
  role: 'db',
  type: 'SCALAR',
  scalar: 10,
  disk: { persistenceId: id, principal: null, containerPath, mode },
});

function makeSpec(
  workDir: string,
  command: string,
  resources: readonly WireResource[],
  docker: boolean,
): ContainerSpec {
  taskCounter += 1;
  const sandbox = makeTempDir('sandbox-');
  prepareSandbox(sandbox, null);
  return {
    agentId: `volumes-${process.pid}`,
    frameworkId: 'fw-1',
    taskId: `volume-task-${taskCounter}`,
    sandbox,
    command: { value: command, shell: true, arguments: [] },
    image: docker ? image : null,
    forcePullImage: false,
    network: docker ? 'NONE' : 'HOST',
    portMappings: [],
    volumes: [],
    persistentVolumes: persistentMounts(workDir, resources),
    privileged: false,
    parameters: [],
    hostname: null,
    user: null,
    environment: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cpus: null,
    memMb: null,
  };
}

const readIn = (folder: string, name: string): string => {
  const file = path.join(folder, name);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};

const processTasks = suite('persistent volumes: process tasks');
const processContainerizer = new ProcessContainerizer({
  logger: silentLogger,
  cgroups: 'off',
  recoverPollIntervalMs: 50,
});

processTasks('a link at the container path; the next task reads what the first wrote', async () => {
  const workDir = makeTempDir('agent-work-');
  const resources = [volumeResource('v1', 'state/data')];
  const writer = makeSpec(workDir, 'echo kept > state/data/note', resources, false);
  prepareVolumes(writer.sandbox, writer.persistentVolumes, null, true);
  assert.equal(await (await processContainerizer.launch(writer)).exited, { kind: 'exited', code: 0 });
  const host = volumePath(workDir, 'db', 'v1');
  assert.is(readIn(host, 'note'), 'kept\n', 'the data is in the work dir, not the sandbox');
  assert.is(realpathSync(path.join(writer.sandbox, 'state', 'data')), realpathSync(host));
  const reader = makeSpec(workDir, 'cat state/data/note', resources, false);
  prepareVolumes(reader.sandbox, reader.persistentVolumes, null, true);
  assert.equal(await (await processContainerizer.launch(reader)).exited, { kind: 'exited', code: 0 });
  assert.is(readIn(reader.sandbox, 'stdout'), 'kept\n');
});

processTasks('a process task is refused a RO volume, and a container path already taken in its sandbox', () => {
  const workDir = makeTempDir('agent-work-');
  const readOnly = makeSpec(workDir, 'true', [volumeResource('v1', 'data', 'RO')], false);
  assert.throws(
    () => prepareVolumes(readOnly.sandbox, readOnly.persistentVolumes, null, true),
    (error: unknown) => error instanceof ContainerLaunchError && /read-only/.test(error.message),
  );
  const taken = makeSpec(workDir, 'true', [volumeResource('v2', 'stdout')], false);
  assert.throws(
    () => prepareVolumes(taken.sandbox, taken.persistentVolumes, null, true),
    (error: unknown) => error instanceof ContainerLaunchError && /exists/.test(error.message),
  );
  assert.throws(
    () => volumePath(workDir, 'db', '..'),
    (error: unknown) => error instanceof ContainerLaunchError,
  );
});

processTasks('the master list deletes every other volume, with its data, and keeps the listed ones', () => {
  const workDir = makeTempDir('agent-work-');
  assert.equal(reconcileVolumes(workDir, []), [], 'an agent that never had a volume has nothing to delete');
  for (const [role, id] of [
    ['db', 'keep'],
    ['db', 'drop'],
    ['a/b', 'drop-too'],
  ] as const) {
    mkdirSync(volumePath(workDir, role, id), { recursive: true });
    writeFileSync(path.join(volumePath(workDir, role, id), 'file'), id);
  }
  const deleted = reconcileVolumes(workDir, [
    { role: 'db', persistenceId: 'keep' },
    { role: 'web', persistenceId: 'new' },
  ]);
  assert.equal(deleted.sort(), [volumePath(workDir, 'a/b', 'drop-too'), volumePath(workDir, 'db', 'drop')].sort());
  assert.is(readIn(volumePath(workDir, 'db', 'keep'), 'file'), 'keep');
  assert.ok(existsSync(volumePath(workDir, 'web', 'new')), 'a listed volume is made');
  assert.equal(reconcileVolumes(workDir, []).length, 2);
});

processTasks.run();

const dockerTasks = suite('persistent volumes: Docker tasks');
const docker = noDocker === undefined ? new DockerContainerizer({ logger: silentLogger, volumeAllowlist: [] }) : null;

testUnless(dockerTasks, noDocker, 'a bind under the sandbox mount; RW for the writer, RO for the reader', async () => {
  if (docker === null) throw new Error('no Docker engine');
  const workDir = makeTempDir('agent-work-');
  const writer = makeSpec(
    workDir,
    'echo from-docker > /mnt/mesos/sandbox/data/note',
    [volumeResource('d1', 'data')],
    true,
  );
  prepareVolumes(writer.sandbox, writer.persistentVolumes, null, false);
  assert.equal(await (await docker.launch(writer)).exited, { kind: 'exited', code: 0 });
  assert.is(readIn(volumePath(workDir, 'db', 'd1'), 'note'), 'from-docker\n');
  const reader = makeSpec(
    workDir,
    'cat data/note && echo changed > data/note',
    [volumeResource('d1', 'data', 'RO')],
    true,
  );
  prepareVolumes(reader.sandbox, reader.persistentVolumes, null, false);
  const exit = await (await docker.launch(reader)).exited;
  assert.ok(exit.kind === 'exited' && exit.code !== 0, 'RO refuses the write');
  assert.is(readIn(reader.sandbox, 'stdout'), 'from-docker\n');
  assert.match(readIn(reader.sandbox, 'stderr'), /Read-only file system/);
  assert.is(readIn(volumePath(workDir, 'db', 'd1'), 'note'), 'from-docker\n');
});

dockerTasks.run();
