// ExecutorInfo.container, from the scheduler's JSON to what the agent is told: a DOCKER
// container (or a MESOS one with an image) is read as a task's is and kept; what no agent could
// honour is a 400 naming the field; the state machine refuses the same when a launch bypassed
// the HTTP layer; the agent wire carries the container and reads an older checkpoint without
// one; and the agent's choice of MESOS_AGENT_ENDPOINT for a bridged container.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ContainerLaunchError } from '../../src/agent/containerizer/types.ts';
import { executorContainerizer, reachableAgentEndpoint } from '../../src/agent/executors/executor-container.ts';
import { HttpError } from '../../src/http/errors.ts';
import { parseTaskInfo } from '../../src/http/scheduler/parse-task.ts';
import { toWireExecutorInfo } from '../../src/master/agent-wire.ts';
import { parseExecutorInfo as parseWireExecutorInfo } from '../../src/protocol/agent.ts';
import { executorProblem } from '../../src/state-machine/executors.ts';
import type { ExecutorDefinition } from '../../src/state-machine/values.ts';
import { executorDefinition, mem, resources } from '../state-machine/support/fixtures.ts';

const scalar = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value } });

function taskWith(container: unknown, resources: unknown[] = [scalar('cpus', 0.1), scalar('mem', 32)]) {
  return {
    name: 't',
    task_id: { value: 't' },
    agent_id: { value: 'a1' },
    resources: [scalar('cpus', 0.1)],
    executor: {
      executor_id: { value: 'ex' },
      command: { shell: false, value: '/node', arguments: ['/executor.mjs'] },
      resources,
      container,
    },
  };
}

function executorOf(container: unknown, resources?: unknown[]): ExecutorDefinition {
  const executor = parseTaskInfo(taskWith(container, resources), 'task', { frameworkId: 'f', operation: 'LAUNCH' })
    .definition.executor;
  assert.ok(executor !== null);
  return executor;
}

function refused(container: unknown, fragment: string | RegExp, resources?: unknown[]): void {
  try {
    executorOf(container, resources);
  } catch (error) {
    assert.instance(error, HttpError);
    assert.is((error as HttpError).status, 400);
    assert.match((error as HttpError).message, fragment);
    return;
  }
  assert.unreachable(`expected a 400 mentioning ${String(fragment)}`);
}

test('a DOCKER executor container is read as a task container is, and carried to the agent', () => {
  const executor = executorOf(
    {
      type: 'DOCKER',
      docker: {
        image: 'example/executor:1',
        network: 'BRIDGE',
        force_pull_image: true,
        port_mappings: [{ host_port: 31_000, container_port: 8080 }],
        parameters: [{ key: 'env', value: 'MODE=test' }],
      },
      volumes: [{ container_path: 'data', host_path: 'data', mode: 'RW' }],
      hostname: 'exec',
    },
    [
      scalar('cpus', 0.1),
      scalar('mem', 32),
      { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31_000, end: 31_000 }] } },
    ],
  );
  assert.equal(executor.container, {
    type: 'DOCKER',
    image: 'example/executor:1',
    network: 'BRIDGE',
    forcePullImage: true,
    portMappings: [{ hostPort: 31_000, containerPort: 8080, protocol: 'tcp' }],
    volumes: [{ containerPath: 'data', hostPath: 'data', mode: 'RW' }],
    privileged: false,
    parameters: [{ key: 'env', value: 'MODE=test' }],
    hostname: 'exec',
  });
  const wire = toWireExecutorInfo(executor, undefined);
  assert.equal(wire.container, executor.container);
  // What the agent reads back is what the master sent; a checkpoint of protocol 3 has no container.
  assert.equal(parseWireExecutorInfo(JSON.parse(JSON.stringify(wire))).container, executor.container);
  const { container: _dropped, ...older } = JSON.parse(JSON.stringify(wire)) as Record<string, unknown>;
  assert.is(parseWireExecutorInfo(older).container, null);
  assert.is(executorContainerizer(wire), 'docker');
  assert.is(executorContainerizer({ ...wire, container: null }), 'process');
});

test('a MESOS executor container: with an image it runs in the image, without one the executor is a process', () => {
  const imaged = executorOf({ type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'busybox' } } } });
  assert.is(imaged.container?.image, 'busybox');
  assert.is(executorContainerizer(toWireExecutorInfo(imaged, undefined)), 'docker');
  const bare = executorOf({ type: 'MESOS' });
  assert.is(bare.container?.image, null);
  assert.is(executorContainerizer(toWireExecutorInfo(bare, undefined)), 'process');
});

test('executor containers no agent could run are refused with the field named', () => {
  refused({ type: 'DOCKER' }, /task\.executor\.container\.docker is required/);
  refused({ type: 'DOCKER', docker: { image: 'x', network: 'NONE' } }, /executor\.container\.docker\.network: NONE/);
  refused(
    {
      type: 'DOCKER',
      docker: { image: 'x', network: 'BRIDGE', port_mappings: [{ host_port: 31_000, container_port: 80 }] },
    },
    /executor\.container\.docker\.port_mappings\[0\]\.host_port: host port 31000 is not one of the executor's port resources/,
  );
  refused(
    { type: 'DOCKER', docker: { image: 'x', port_mappings: [{ host_port: 31_000, container_port: 80 }] } },
    /port mappings need BRIDGE networking, the executor has HOST/,
  );
  refused(
    { type: 'DOCKER', docker: { image: 'x' }, volumes: [{ container_path: '../up', host_path: 'a', mode: 'RO' }] },
    /executor\.container\.volumes\[0\]\.container_path: must not contain "\.\."/,
  );
  refused({ type: 'DOCKER', docker: { image: 'x', parameters: [{ key: 'pid', value: 'host' }] } }, /parameters\[0\]/);
  refused({ type: 'DOCKER', docker: { image: 'x', volume_driver: 'rexray' } }, /volume_driver/);
  refused({ type: 'MESOS', hostname: 'h' }, /executor\.container\.hostname/);
  refused({ type: 'DOCKER', docker: { image: 'x' }, hostname: 'h' }, /cannot set a hostname on HOST networking/);
  refused({ type: 'DOCKER', docker: { image: 'x' }, network_infos: [{}] }, /network_infos/);
});

test('the DEFAULT executor of a task group takes no image', () => {
  const definition = executorDefinition('g', resources(mem(32)), {
    type: 'DEFAULT',
    command: null,
    container: {
      type: 'DOCKER',
      image: 'busybox',
      network: 'HOST',
      forcePullImage: false,
      portMappings: [],
      volumes: [],
      privileged: false,
      parameters: [],
      hostname: null,
    },
  });
  const rejection = executorProblem(definition, 'LAUNCH_GROUP');
  assert.is(rejection?.code, 'INVALID_EXECUTOR');
  assert.match(rejection?.message ?? '', /the DEFAULT executor runs inside the agent; it takes no image/);
});

test('the state machine refuses what the HTTP layer refuses (a launch that bypassed it)', () => {
  const docker = {
    type: 'DOCKER' as const,
    image: null,
    network: 'HOST' as const,
    forcePullImage: false,
    portMappings: [],
    volumes: [],
    privileged: false,
    parameters: [],
    hostname: null,
  };
  assert.match(
    executorProblem(executorDefinition('e', resources(mem(32)), { container: docker }), 'LAUNCH')?.message ?? '',
    /container\.docker\.image: a DOCKER container needs an image/,
  );
  assert.match(
    executorProblem(
      executorDefinition('e', resources(mem(32)), { container: { ...docker, image: 'x', network: 'NONE' } }),
      'LAUNCH',
    )?.message ?? '',
    /container\.docker\.network: NONE/,
  );
  assert.is(
    executorProblem(executorDefinition('e', resources(mem(32)), { container: { ...docker, image: 'x' } }), 'LAUNCH'),
    null,
  );
});

test('MESOS_AGENT_ENDPOINT: HOST shares the agent address; BRIDGE goes through the gateway, never to loopback', () => {
  assert.is(reachableAgentEndpoint('127.0.0.1:5055', 'HOST', null), '127.0.0.1:5055');
  assert.is(reachableAgentEndpoint('0.0.0.0:5055', 'BRIDGE', '172.17.0.1'), '172.17.0.1:5055');
  assert.is(reachableAgentEndpoint('10.1.2.3:5055', 'BRIDGE', '172.17.0.1'), '10.1.2.3:5055');
  assert.throws(
    () => reachableAgentEndpoint('127.0.0.1:5055', 'BRIDGE', '172.17.0.1'),
    (error: unknown) => error instanceof ContainerLaunchError && /cannot reach/.test(error.message),
  );
  assert.throws(() => reachableAgentEndpoint('localhost:5055', 'BRIDGE', '172.17.0.1'), /--listen/);
});

test.run();
