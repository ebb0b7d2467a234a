// The scheduler API's pure conversions: Mesos TaskInfo/Resource/FrameworkInfo JSON in (with
// mesos.proto's defaults), MasterInfo out, and the leader's failover decisions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../src/http/errors.ts';
import { masterInfo, packedIpv4 } from '../../src/master/scheduler/events.ts';
import { parseSchedulerCall } from '../../src/http/scheduler/parse-call.ts';
import { parseFrameworkInfo } from '../../src/http/scheduler/parse-framework.ts';
import { parseResources } from '../../src/http/scheduler/parse-resources.ts';
import { parseTaskInfo } from '../../src/http/scheduler/parse-task.ts';
import { failoverCommands } from '../../src/master/scheduler/framework-failover.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { encodeCommand } from '../../src/state-machine/codec.ts';
import { F1, F2, subscribe } from '../state-machine/support/fixtures.ts';

function invalid(run: () => unknown, fragment: string): void {
  try {
    run();
  } catch (error) {
    assert.instance(error, HttpError);
    assert.is((error as HttpError).status, 400);
    assert.match((error as HttpError).message, fragment);
    return;
  }
  assert.unreachable(`expected a 400 mentioning ${fragment}`);
}

test('resources: reservations stack, deprecated role, ranges; SET is refused', () => {
  const resources = parseResources(
    {
      resources: [
        {
          name: 'cpus',
          type: 'SCALAR',
          scalar: { value: 1.5 },
          reservations: [
            { type: 'DYNAMIC', role: 'eng' },
            { type: 'DYNAMIC', role: 'eng/web' },
          ],
        },
        { name: 'mem', type: 'SCALAR', scalar: { value: 64 }, role: 'ops' },
        {
          name: 'ports',
          type: 'RANGES',
          ranges: {
            range: [
              { begin: 31000, end: 31001 },
              { begin: '31002', end: 31005 },
            ],
          },
        },
      ],
    },
    'resources',
    'resources',
  );
  assert.equal(resources, [
    { name: 'cpus', role: 'eng/web', type: 'SCALAR', scalar: 1.5 },
    { name: 'mem', role: 'ops', type: 'SCALAR', scalar: 64 },
    { name: 'ports', role: '*', type: 'RANGES', ranges: [{ begin: 31000, end: 31005 }] },
  ]);
  invalid(
    () => parseResources({ resources: [{ name: 'x', type: 'SET', set: { item: ['a'] } }] }, 'resources', 'resources'),
    'SCALAR or RANGES',
  );
  invalid(
    () =>
      parseResources(
        { resources: [{ name: 'cpus', type: 'RANGES', ranges: { range: [] } }] },
        'resources',
        'resources',
      ),
    'must be of type SCALAR',
  );
});

test('TaskInfo: shell default, environment, docker container, health check defaults in ms, kill policy, labels', () => {
  const { definition, agentId } = parseTaskInfo(
    {
      name: 'web',
      task_id: { value: 'web-1' },
      agent_id: { value: 'a1' },
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }],
      command: { value: 'echo hi', environment: { variables: [{ name: 'A', value: '1' }] }, user: 'nobody' },
      container: { type: 'DOCKER', docker: { image: 'busybox', network: 'BRIDGE' } },
      health_check: { type: 'HTTP', http: { port: 8080, path: '/health' }, interval_seconds: 2.5 },
      kill_policy: { grace_period: { nanoseconds: 3_000_000_000 } },
      labels: { labels: [{ key: 'team', value: 'core' }] },
    },
    'task',
  );
  assert.is(agentId, 'a1');
  assert.equal(definition.command, {
    value: 'echo hi',
    shell: true,
    arguments: [],
    environment: { A: '1' },
    user: 'nobody',
  });
  assert.equal(definition.container, {
    type: 'DOCKER',
    image: 'busybox',
    network: 'BRIDGE',
    forcePullImage: false,
    portMappings: [],
    volumes: [],
    privileged: false,
    parameters: [],
    hostname: null,
  });
  assert.equal(definition.healthCheck, {
    type: 'HTTP',
    command: null,
    port: 8080,
    path: '/health',
    delayMs: 15_000,
    intervalMs: 2500,
    timeoutMs: 20_000,
    consecutiveFailures: 3,
    gracePeriodMs: 10_000,
  });
  assert.is(definition.killGracePeriodMs, 3000);
  assert.equal(definition.labels, { team: 'core' });
});

test('TaskInfo: MESOS container with a docker image, argv command; custom executors and URIs are refused', () => {
  const { definition } = parseTaskInfo(
    {
      name: 'x',
      task_id: { value: 'x' },
      agent_id: { value: 'a1' },
      resources: [{ name: 'mem', type: 'SCALAR', scalar: { value: 32 } }],
      command: { shell: false, value: '/bin/echo', arguments: ['echo', 'hi'] },
      container: { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: 'alpine' }, cached: false } } },
    },
    'task',
  );
  assert.equal(definition.container, {
    type: 'MESOS',
    image: 'alpine',
    network: 'HOST',
    forcePullImage: true,
    portMappings: [],
    volumes: [],
    privileged: false,
    parameters: [],
    hostname: null,
  });
  assert.equal(definition.command?.arguments, ['echo', 'hi']);
  assert.is(definition.command?.shell, false);
  const base = { name: 'x', task_id: { value: 'x' }, agent_id: { value: 'a1' }, resources: [] };
  invalid(() => parseTaskInfo({ ...base, executor: { executor_id: { value: 'e' } } }, 'task'), 'executor');
  invalid(
    () => parseTaskInfo({ ...base, command: { value: 'x', uris: [{ value: 's3://b/x' }] } }, 'task'),
    'scheme s3',
  );
});

test('FrameworkInfo: role or MULTI_ROLE roles, failover seconds to ms, unknown capabilities dropped', () => {
  assert.equal(parseFrameworkInfo({ name: 'a', user: 'u', failover_timeout: 1.5 }, 'info').roles, ['*']);
  assert.is(parseFrameworkInfo({ name: 'a', failover_timeout: 1.5 }, 'info').failoverTimeoutMs, 1500);
  const multi = parseFrameworkInfo(
    { name: 'a', roles: ['b', 'a', 'a'], capabilities: [{ type: 'MULTI_ROLE' }, { type: 'FUTURE_THING' }] },
    'info',
  );
  assert.equal([multi.roles, multi.capabilities], [['a', 'b'], ['MULTI_ROLE']]);
  invalid(() => parseFrameworkInfo({ name: 'a', roles: ['x'] }, 'info'), 'MULTI_ROLE');
});

test('calls: LAUNCH_GROUP launches its tasks together; ACKNOWLEDGE needs a 16-byte uuid', () => {
  const task = (id: string) => ({
    name: id,
    task_id: { value: id },
    agent_id: { value: 'a1' },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
    command: { value: 'true' },
  });
  const call = parseSchedulerCall({
    type: 'ACCEPT',
    framework_id: { value: 'f' },
    accept: {
      offer_ids: [{ value: 'o1' }],
      operations: [
        {
          type: 'LAUNCH_GROUP',
          launch_group: {
            executor: { executor_id: { value: 'group' }, type: 'DEFAULT' },
            task_group: { tasks: [task('a'), task('b')] },
          },
        },
      ],
    },
  });
  assert.is(call.type, 'ACCEPT');
  if (call.type !== 'ACCEPT') return;
  assert.equal(call.offerIds, ['o1']);
  assert.equal(
    call.operations.map((operation) =>
      operation.type === 'LAUNCH_GROUP' ? [operation.executor.id, ...operation.tasks.map((each) => each.id)] : [],
    ),
    [['group', 'a', 'b']],
  );
  invalid(
    () =>
      parseSchedulerCall({
        type: 'ACKNOWLEDGE',
        framework_id: { value: 'f' },
        acknowledge: { agent_id: { value: 'a' }, task_id: { value: 't' }, uuid: 'AAAA' },
      }),
    'uuid',
  );
});

test('MasterInfo: ip packed as Mesos packs in_addr', () => {
  assert.is(packedIpv4('127.0.0.1'), 16777343);
  assert.is(packedIpv4('10.0.0.2'), 33554442);
  const info = masterInfo('m1', '127.0.0.1:5050');
  assert.equal(
    [info.port, info.hostname, info.pid, info.address],
    [5050, '127.0.0.1', 'master@127.0.0.1:5050', { hostname: '127.0.0.1', ip: '127.0.0.1', port: 5050 }],
  );
});

test('failover: a disconnected framework past its timeout is torn down; one without a stream after the grace is disconnected', () => {
  const machine = new ClusterStateMachine();
  let index = 0;
  const apply = (command: Parameters<typeof encodeCommand>[0]) => machine.apply(encodeCommand(command), ++index);
  apply(subscribe(F1, { failoverTimeoutMs: 1000 }, 1000));
  apply(subscribe(F2, {}, 1000));
  apply({ type: 'disconnect_framework', at: 2000, frameworkId: F1 });
  const decide = (nowMs: number, hasStream: boolean) =>
    failoverCommands(machine.state, { nowMs, electedAtMs: 0, graceMs: 500, hasStream: () => hasStream }).map(
      (command) => command.type,
    );
  assert.equal(decide(2999, true), []);
  assert.equal(decide(3000, true), ['teardown_framework']);
  assert.equal(decide(1499, false), []);
  assert.equal(decide(3000, false), ['teardown_framework', 'disconnect_framework']);
});

test.run();
