// What a task is given from its spec alone: the PORT variables (with BRIDGE mappings, as Marathon
// sets them for bridged tasks), which containerizer runs it, and the port its health check probes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { containerizerFor, hostSideHealthCheck, taskEnvironment } from '../../src/agent/task-environment.ts';
import type { WireContainer, WireTaskSpec } from '../../src/protocol/agent.ts';
import { wireTaskSpec } from './support/wire-task-spec.ts';

const docker: WireContainer = {
  type: 'DOCKER',
  image: 'busybox',
  network: 'BRIDGE',
  forcePullImage: false,
  portMappings: [
    { hostPort: 31005, containerPort: 80, protocol: 'tcp' },
    { hostPort: 31001, containerPort: 53, protocol: 'udp' },
  ],
  volumes: [],
  privileged: false,
  parameters: [],
  hostname: null,
};

function spec(overrides: Partial<WireTaskSpec> = {}): WireTaskSpec {
  return wireTaskSpec('t1', {
    resources: [
      {
        name: 'ports',
        role: '*',
        type: 'RANGES',
        ranges: [
          { begin: 31000, end: 31001 },
          { begin: 31005, end: 31005 },
        ],
      },
    ],
    command: { value: 'true', shell: true, arguments: [], environment: { PORT_80: 'mine' } },
    container: docker,
    ...overrides,
  });
}

test('BRIDGE mappings: PORT0… are the host ports in mapping order, then the other ports; PORT_<container port>', () => {
  const environment = taskEnvironment('a1', 'f1', spec(), '/sandbox');
  assert.is(environment.PORT0, '31005');
  assert.is(environment.PORT1, '31001');
  assert.is(environment.PORT2, '31000');
  assert.is(environment.PORT, '31005');
  assert.is(environment.PORTS, '31005,31001,31000');
  assert.is(environment.PORT_53, '31001');
  assert.is(environment.PORT_80, 'mine', "the task's own environment wins");
});

test('without mappings, PORT0… follow the port resources', () => {
  const environment = taskEnvironment('a1', 'f1', spec({ container: null }), '/sandbox');
  assert.equal([environment.PORT0, environment.PORT1, environment.PORT2], ['31000', '31001', '31005']);
  assert.is(environment.PORT_53, undefined);
});

test('DOCKER and MESOS-with-image tasks go to the docker containerizer, the others to process', () => {
  assert.is(containerizerFor(spec()), 'docker');
  assert.is(
    containerizerFor(spec({ container: { ...docker, type: 'MESOS', network: 'HOST', portMappings: [] } })),
    'docker',
  );
  assert.is(
    containerizerFor(spec({ container: { ...docker, type: 'MESOS', image: null, portMappings: [] } })),
    'process',
  );
  assert.is(containerizerFor(spec({ container: null })), 'process');
});

test('a BRIDGE check on a mapped container port probes its host port; others are probed as given', () => {
  const check = {
    type: 'HTTP' as const,
    command: null,
    port: 80,
    path: '/',
    delayMs: 0,
    intervalMs: 1000,
    timeoutMs: 1000,
    consecutiveFailures: 3,
    gracePeriodMs: 0,
  };
  assert.is(hostSideHealthCheck(spec({ healthCheck: check }))?.port, 31005);
  assert.is(hostSideHealthCheck(spec({ healthCheck: { ...check, port: 31001 } }))?.port, 31001);
  assert.is(
    hostSideHealthCheck(spec({ healthCheck: check, container: { ...docker, network: 'HOST', portMappings: [] } }))
      ?.port,
    80,
  );
  assert.is(hostSideHealthCheck(spec()), null);
});

test.run();
