// Every TaskInfo / ContainerInfo / DockerInfo / Volume field the scheduler API reads: the ones
// agents honour arrive in the task definition, the ones no agent can honour are refused with a
// 400 naming the field (one case per field), and the refusal reaches a real framework over HTTP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DockerParameterKey } from '../../src/protocol/docker-parameters.ts';
import { HttpError } from '../../src/http/errors.ts';
import { parseFrameworkInfo } from '../../src/http/scheduler/parse-framework.ts';
import { parseTaskInfo } from '../../src/http/scheduler/parse-task.ts';
import type { TaskDefinition } from '../../src/state-machine/values.ts';
import * as fixtures from '../state-machine/support/fixtures.ts';
import { startSingleMaster } from '../support/master.ts';
import { frameworkInfo, SchedulerClient } from './support/scheduler-client.ts';

type Json = Record<string, unknown>;

const resources = [
  { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
  { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31001 }] } },
];

function taskInfo(overrides: Json = {}): Json {
  return {
    name: 'web',
    task_id: { value: 'web-1' },
    agent_id: { value: 'a1' },
    resources,
    command: { value: 'httpd -f' },
    ...overrides,
  };
}

function dockerTask(docker: Json, container: Json = {}): Json {
  return taskInfo({ container: { type: 'DOCKER', docker: { image: 'busybox', ...docker }, ...container } });
}

function parsed(task: Json): TaskDefinition {
  return parseTaskInfo(task, 'task').definition;
}

function refused(task: Json, field: string, why: string | RegExp): void {
  try {
    parseTaskInfo(task, 'task');
  } catch (error) {
    assert.instance(error, HttpError);
    assert.is((error as HttpError).status, 400);
    assert.is((error as HttpError).code, 'INVALID_BODY');
    const message = (error as HttpError).message;
    assert.ok(message.startsWith(`task.${field}`), `"${message}" should name task.${field}`);
    assert.match(message, why);
    return;
  }
  assert.unreachable(`task.${field} should have been refused`);
}

test('honoured: port mappings, volumes, privileged, parameters, hostname and the user reach the definition', () => {
  const definition = parsed(
    dockerTask(
      {
        network: 'BRIDGE',
        port_mappings: [
          { host_port: 31000, container_port: 80 },
          { host_port: '31001', container_port: 53, protocol: 'UDP' },
        ],
        privileged: true,
        parameters: [
          { key: 'label', value: 'team=web' },
          { key: 'env', value: 'MODE=blue' },
        ],
        force_pull_image: true,
      },
      {
        hostname: 'web-1',
        volumes: [
          { container_path: '/data', host_path: '/srv/data', mode: 'RO' },
          { container_path: 'cache', host_path: 'cache', mode: 'RW' },
        ],
      },
    ),
  );
  assert.equal(definition.container, {
    type: 'DOCKER',
    image: 'busybox',
    network: 'BRIDGE',
    forcePullImage: true,
    portMappings: [
      { hostPort: 31000, containerPort: 80, protocol: 'tcp' },
      { hostPort: 31001, containerPort: 53, protocol: 'udp' },
    ],
    volumes: [
      { containerPath: '/data', hostPath: '/srv/data', mode: 'RO' },
      { containerPath: 'cache', hostPath: 'cache', mode: 'RW' },
    ],
    privileged: true,
    parameters: [
      { key: 'label', value: 'team=web' },
      { key: 'env', value: 'MODE=blue' },
    ],
    hostname: 'web-1',
  });
  assert.is(parsed(taskInfo({ command: { value: 'id -u', user: 'nobody' } })).command?.user, 'nobody');
});

test('honoured: every supported docker parameter with a valid value', () => {
  const values: Record<DockerParameterKey, string> = {
    label: 'a.b/c=d',
    env: 'A_B=c=d',
    user: '65534:65534',
    hostname: 'box.local',
    workdir: '/tmp',
    'add-host': 'db.local:10.0.0.5',
    dns: '10.0.0.53',
    'dns-search': 'example.org',
    'cap-add': 'NET_ADMIN',
    'cap-drop': 'cap_chown',
    'read-only': 'true',
    init: 'false',
    'shm-size': '64m',
    ulimit: 'nofile=1024:2048',
  };
  for (const [key, value] of Object.entries(values)) {
    const definition = parsed(dockerTask({ network: 'BRIDGE', parameters: [{ key, value }] }));
    assert.equal(definition.container?.parameters, [{ key, value }], key);
  }
});

test('honoured: FrameworkInfo.user; "" means none', () => {
  assert.is(parseFrameworkInfo({ name: 'f', user: 'nobody' }, 'info').user, 'nobody');
  assert.is(parseFrameworkInfo({ name: 'f', user: '' }, 'info').user, null);
  assert.is(parseFrameworkInfo({ name: 'f' }, 'info').user, null);
});

test('refused: TaskInfo fields no Flotilla agent acts on', () => {
  refused(taskInfo({ check: { type: 'COMMAND' } }), 'check', /health_check/);
  refused(taskInfo({ max_completion_time: { nanoseconds: 1 } }), 'max_completion_time', /deadline/);
  refused(taskInfo({ limits: { cpus: { value: 2 } } }), 'limits', /resources/);
  refused(taskInfo({ data: 'aGk=' }), 'data', /only a framework's executor reads TaskInfo.data/);
  refused(taskInfo({ executor: { executor_id: { value: 'e' } } }), 'executor', /not both/);
  refused(taskInfo({ command: { value: 'x', user: '-rf' } }), 'command.user', /must match/);
});

test('honoured: CommandInfo.uris with mesos.proto defaults (executable false, extract true, cache false)', () => {
  const uris = [
    { value: 'http://files.example/app.tar.gz' },
    { value: 'https://files.example/run.sh', executable: true, extract: false, cache: true, output_file: 'bin/run' },
    { value: 'file:///opt/data.txt' },
    { value: '/opt/other.zip', extract: false },
  ];
  const definition = parsed(taskInfo({ command: { value: 'x', uris } }));
  assert.equal(definition.command?.uris, [
    { value: 'http://files.example/app.tar.gz', executable: false, extract: true, cache: false, outputFile: null },
    { value: 'https://files.example/run.sh', executable: true, extract: false, cache: true, outputFile: 'bin/run' },
    { value: 'file:///opt/data.txt', executable: false, extract: true, cache: false, outputFile: null },
    { value: '/opt/other.zip', executable: false, extract: false, cache: false, outputFile: null },
  ]);
  assert.not.ok('uris' in (parsed(taskInfo()).command ?? {}), 'no uris: the member is absent, as in older entries');
});

test('refused: URIs the agent cannot fetch, with INVALID_URI naming the entry', () => {
  const cases: [Json, string, RegExp][] = [
    [{ value: '' }, 'uris[0].value', /empty/],
    [{ value: 'hdfs://namenode/x' }, 'uris[0].value', /scheme hdfs/],
    [{ value: 'ftp://host/x' }, 'uris[0].value', /scheme ftp/],
    [{ value: 'relative/path' }, 'uris[0].value', /absolute local path/],
    [{ value: 'file://otherhost/x' }, 'uris[0].value', /another host/],
    [{ value: 'http://x/a', output_file: '../escape' }, 'uris[0].output_file', /inside the sandbox/],
    [{ value: 'http://x/a', output_file: 'a/../../escape' }, 'uris[0].output_file', /inside the sandbox/],
    [{ value: 'http://x/a', output_file: '/etc/passwd' }, 'uris[0].output_file', /relative/],
    [{ value: 'http://x/a', executable: 'yes' }, 'uris[0].executable', /true or false/],
  ];
  for (const [uri, field, why] of cases) {
    try {
      parseTaskInfo(taskInfo({ command: { value: 'x', uris: [uri] } }), 'task');
      assert.unreachable(`${JSON.stringify(uri)} should be refused`);
    } catch (error) {
      assert.instance(error, HttpError);
      assert.is((error as HttpError).status, 400);
      const message = (error as HttpError).message;
      assert.ok(message.startsWith(`task.command.${field}`), `"${message}" should name task.command.${field}`);
      assert.match(message, why);
      if (field !== 'uris[0].executable') assert.is((error as HttpError).code, 'INVALID_URI', message);
    }
  }
  const docker = { type: 'DOCKER', docker: { image: 'busybox' } };
  const noValue = taskInfo({ container: docker, command: { shell: false, uris: [{ value: 'http://x/a' }] } });
  assert.throws(() => parseTaskInfo(noValue, 'task'), /uris need a command value/);
  const many = Array.from({ length: 65 }, (_, index) => ({ value: `http://x/${index}` }));
  assert.throws(() => parseTaskInfo(taskInfo({ command: { value: 'x', uris: many } }), 'task'), /at most 64/);
});

test('refused: health check options the agent does not follow', () => {
  const check = (health: Json): Json => taskInfo({ health_check: health });
  refused(check({ type: 'HTTP', http: { port: 80, scheme: 'https' } }), 'health_check.http.scheme', /plain http/);
  refused(check({ type: 'HTTP', http: { port: 80, protocol: 'IPv6' } }), 'health_check.http.protocol', /IPv4/);
  refused(check({ type: 'TCP', tcp: { port: 80, protocol: 'IPv6' } }), 'health_check.tcp.protocol', /IPv4/);
  refused(check({ type: 'COMMAND', command: { value: 'x', shell: false } }), 'health_check.command.shell', /shell/);
  refused(
    check({ type: 'COMMAND', command: { value: 'x', arguments: ['x'] } }),
    'health_check.command.arguments',
    /shell/,
  );
  refused(
    check({ type: 'COMMAND', command: { value: 'x', user: 'root' } }),
    'health_check.command.user',
    /task's user/,
  );
  refused(
    check({ type: 'COMMAND', command: { value: 'x', environment: { variables: [{ name: 'A', value: '1' }] } } }),
    'health_check.command.environment',
    /task's environment/,
  );
  const accepted = parsed(check({ type: 'HTTP', http: { port: 80, scheme: 'http', protocol: 'IPv4' } }));
  assert.is(accepted.healthCheck?.port, 80);
});

test('refused: ContainerInfo fields no Flotilla agent acts on', () => {
  refused(dockerTask({}, { network_infos: [{ name: 'cni' }] }), 'container.network_infos', /CNI/);
  refused(dockerTask({}, { linux_info: { share_pid_namespace: true } }), 'container.linux_info', /cap-add/);
  refused(dockerTask({}, { rlimit_info: { rlimits: [] } }), 'container.rlimit_info', /ulimit/);
  refused(dockerTask({}, { tty_info: {} }), 'container.tty_info', /TTY/);
  refused(dockerTask({ network: 'HOST' }, { hostname: 'web' }), 'container.hostname', /HOST networking/);
  refused(dockerTask({ network: 'BRIDGE' }, { hostname: 'not a host!' }), 'container.hostname', /must match/);
});

test('refused: a MESOS container with Docker-only fields', () => {
  const mesos = (extra: Json): Json => taskInfo({ container: { type: 'MESOS', ...extra } });
  const volume = { container_path: '/d', host_path: '/srv', mode: 'RW' };
  refused(mesos({ volumes: [volume] }), 'container.volumes', /DOCKER container/);
  refused(mesos({ hostname: 'web' }), 'container.hostname', /DOCKER container/);
  refused(mesos({ docker: { image: 'busybox' } }), 'container.docker', /use type DOCKER/);
  refused(
    mesos({ mesos: { image: { type: 'DOCKER', docker: { name: 'x', config: { type: 'VALUE' } } } } }),
    'container.mesos.image.docker.config',
    /credentials/,
  );
  refused(
    mesos({ mesos: { image: { type: 'DOCKER', docker: { name: 'x', credential: { principal: 'p' } } } } }),
    'container.mesos.image.docker.credential',
    /credentials/,
  );
  refused(mesos({ mesos: { image: { type: 'APPC', appc: { name: 'x' } } } }), 'container.mesos.image', /DOCKER images/);
});

test('refused: DockerInfo fields and values no agent can honour', () => {
  refused(dockerTask({ network: 'USER' }), 'container.docker.network', /HOST, BRIDGE, NONE/);
  refused(dockerTask({ volume_driver: 'flocker' }), 'container.docker.volume_driver', /volume drivers/);
  refused(dockerTask({ privileged: 'yes' }), 'container.docker.privileged', /true or false/);
  refused(dockerTask({ image: undefined }), 'container.docker.image', /required/);
});

test('refused: port mappings outside BRIDGE, outside the task ports, doubled, or of another protocol', () => {
  const mapping = (extra: Json): Json => ({ host_port: 31000, container_port: 80, ...extra });
  refused(
    dockerTask({ network: 'HOST', port_mappings: [mapping({})] }),
    'container.docker.port_mappings',
    /need BRIDGE networking, the task has HOST/,
  );
  refused(
    dockerTask({ network: 'BRIDGE', port_mappings: [mapping({ host_port: 32000 })] }),
    'container.docker.port_mappings[0].host_port',
    /32000 is not one of the task's port resources/,
  );
  refused(
    dockerTask({ network: 'BRIDGE', port_mappings: [mapping({}), mapping({ container_port: 81 })] }),
    'container.docker.port_mappings[1].host_port',
    /mapped twice/,
  );
  refused(
    dockerTask({ network: 'BRIDGE', port_mappings: [mapping({ protocol: 'sctp' })] }),
    'container.docker.port_mappings[0].protocol',
    /tcp or udp/,
  );
  refused(
    dockerTask({ network: 'BRIDGE', port_mappings: [mapping({ container_port: 0 })] }),
    'container.docker.port_mappings[0].container_port',
    /port from 1 to 65535/,
  );
  refused(
    dockerTask({ network: 'BRIDGE', port_mappings: [{ container_port: 80 }] }),
    'container.docker.port_mappings[0].host_port',
    /port from 1/,
  );
});

test('refused: volumes that are not host paths, lack a mode, or climb out of the sandbox', () => {
  const volume = (extra: Json): Json => dockerTask({}, { volumes: [{ container_path: '/d', mode: 'RW', ...extra }] });
  refused(volume({ host_path: '/srv', image: { type: 'DOCKER' } }), 'container.volumes[0].image', /host paths only/);
  refused(
    volume({ source: { type: 'DOCKER_VOLUME', docker_volume: { name: 'v' } } }),
    'container.volumes[0].source',
    /host_path only/,
  );
  refused(volume({}), 'container.volumes[0].host_path', /required/);
  refused(volume({ host_path: '/srv', mode: undefined }), 'container.volumes[0].mode', /required/);
  refused(volume({ host_path: '/srv', mode: 'RX' }), 'container.volumes[0].mode', /RW, RO/);
  refused(volume({ host_path: 'data/../../etc' }), 'container.volumes[0].host_path', /must not contain "\.\."/);
  refused(volume({ host_path: 'data', container_path: '../x' }), 'container.volumes[0].container_path', /\.\./);
  refused(volume({ host_path: '/srv:/etc' }), 'container.volumes[0].host_path', /must not contain ":"/);
  refused(
    dockerTask(
      {},
      {
        volumes: [
          { container_path: '/d', host_path: 'a', mode: 'RW' },
          { container_path: '/d', host_path: 'b', mode: 'RO' },
        ],
      },
    ),
    'container.volumes[1].container_path',
    /mounted twice/,
  );
});

test('refused: docker parameters the agent cannot express or allow, each with its reason', () => {
  const parameter = (key: string, value: string, network = 'BRIDGE'): Json =>
    dockerTask({ network, parameters: [{ key, value }] });
  const field = 'container.docker.parameters[0]';
  const reasons: [string, string, RegExp][] = [
    ['volume', '/:/host', /container.volumes/],
    ['publish', '80:80', /port_mappings/],
    ['network', 'host', /docker.network/],
    ['privileged', 'true', /docker.privileged/],
    ['memory', '1g', /resources/],
    ['cpus', '2', /resources/],
    ['name', 'web', /names its containers/],
    ['restart', 'always', /container's life/],
    ['entrypoint', '/bin/sh', /entrypoint/],
    ['log-driver', 'none', /logs/],
    ['pid', 'host', /host namespaces/],
    ['device', '/dev/sda', /not supported by Flotilla agents \(supported: label, env/],
    ['env', 'HOME', /NAME=VALUE/],
    ['env', '1X=y', /not an environment variable name/],
    ['label', 'flotilla.task_id=forged', /agent's own/],
    ['user', 'root; rm', /not a valid user/],
    ['hostname', 'web', /HOST networking/],
    ['workdir', 'relative', /not a valid workdir/],
    ['add-host', 'db.local', /HOST:IP/],
    ['dns', 'resolver', /not an IP address/],
    ['cap-add', 'NET ADMIN', /not a Linux capability/],
    ['read-only', 'yes', /true or false/],
    ['shm-size', 'lots', /size such as/],
    ['ulimit', 'files=1', /NAME=SOFT/],
    ['ulimit', 'nofile=10:5', /soft limit is above/],
  ];
  for (const [key, value, why] of reasons) {
    refused(parameter(key, value, key === 'hostname' ? 'HOST' : 'BRIDGE'), field, why);
  }
  refused(dockerTask({ parameters: [{ key: 'label' }] }), `${field}.value`, /required/);
});

test('over HTTP: a refused field answers 400 INVALID_BODY naming it, and launches nothing', async () => {
  const cluster = await startSingleMaster();
  let client: SchedulerClient | null = null;
  try {
    client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'fields' }));
    const answer = await client.call('ACCEPT', {
      accept: {
        offer_ids: [{ value: 'no-such-offer' }],
        operations: [{ type: 'LAUNCH', launch: { task_infos: [dockerTask({}, { tty_info: {} })] } }],
      },
    });
    assert.is(answer.status, 400);
    const error = (answer.body as { error: { code: string; message: string } }).error;
    assert.is(error.code, 'INVALID_BODY');
    assert.match(error.message, 'accept.operations[0].launch.task_infos[0].container.tty_info');
    assert.is(cluster.master.facade.state().tasks.size, 0);
  } finally {
    client?.close();
    await cluster.stop();
  }
});

test('GET_FRAMEWORKS and GET_TASKS show the user and every container field back in Mesos JSON', async () => {
  const cluster = await startSingleMaster();
  let client: SchedulerClient | null = null;
  try {
    const registered = await cluster.master.facade.submit(
      fixtures.registerAgent(fixtures.A1, {
        resources: fixtures.resources(fixtures.cpus(4), fixtures.mem(256), fixtures.ports(31000, 31001)),
      }),
    );
    assert.ok(registered.result.ok);
    client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'shown', user: 'nobody' }));
    const offer = (await client.nextOf('OFFERS', () => true, 30_000)).offers.offers[0];
    const docker = {
      network: 'BRIDGE',
      port_mappings: [{ host_port: 31000, container_port: 80, protocol: 'tcp' }],
      privileged: true,
      parameters: [{ key: 'label', value: 'team=web' }],
      force_pull_image: true,
    };
    const container = { hostname: 'web-1', volumes: [{ container_path: '/data', host_path: '/srv/data', mode: 'RO' }] };
    await client.callOk('ACCEPT', {
      accept: {
        offer_ids: [offer?.id],
        operations: [
          { type: 'LAUNCH', launch: { task_infos: [{ ...dockerTask(docker, container), agent_id: offer?.agent_id }] } },
        ],
      },
    });
    const operator = async (type: string): Promise<Json> => {
      const response = await fetch(`${cluster.url}/api/v1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type }),
      });
      return (await response.json()) as Json;
    };
    const frameworks = (await operator('GET_FRAMEWORKS')) as {
      get_frameworks: { frameworks: { framework_info: Json }[] };
    };
    assert.is(frameworks.get_frameworks.frameworks[0]?.framework_info.user, 'nobody');
    const tasks = (await operator('GET_TASKS')) as { get_tasks: { tasks: Json[] } };
    const shown = tasks.get_tasks.tasks[0];
    assert.is(shown?.user, 'nobody', "the framework's user, resolved at launch");
    assert.equal(shown?.container, {
      type: 'DOCKER',
      docker: { image: 'busybox', ...docker },
      ...container,
    });
  } finally {
    client?.close();
    await cluster.stop();
  }
});

test.run();
