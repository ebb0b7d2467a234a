// App definitions as Marathon reads them: defaults filled (app.raml), bad input answered with
// details naming the field, unsupported features refused rather than dropped, partial updates
// keeping what they do not mention, and a scale-only change told from a configuration change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isScaleOnlyChange } from '../../../src/frameworks/services/app-definition.ts';
import { commandInfoUris } from '../../../src/frameworks/services/app-fetch.ts';
import { parseApp } from '../../../src/frameworks/services/app-parse.ts';
import { mergedSpec } from '../../../src/frameworks/services/api/app-input.ts';
import { MarathonApiError } from '../../../src/frameworks/services/api-error.ts';
import { appIdOfTask, newTaskId, parseAppId } from '../../../src/frameworks/services/path-id.ts';
import { assignServicePorts, stampVersion } from '../../../src/frameworks/services/versioning.ts';

const context = { role: '*' };

function parsed(input: unknown) {
  const outcome = parseApp(input, context);
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.details));
  return outcome.spec;
}

function problemPaths(input: unknown): string[] {
  const outcome = parseApp(input, context);
  assert.is(outcome.ok, false, `expected ${JSON.stringify(input)} to be refused`);
  return outcome.ok ? [] : outcome.details.map((detail) => detail.path);
}

test('defaults follow Marathon (app.raml, backoff.md, unreachable since 1.5.1)', () => {
  const spec = parsed({ id: 'web', cmd: 'sleep 1' });
  assert.is(spec.id, '/web');
  assert.is(spec.instances, 1);
  assert.is(spec.cpus, 1);
  assert.is(spec.mem, 128);
  assert.is(spec.disk, 0);
  assert.is(spec.backoffSeconds, 1);
  assert.is(spec.backoffFactor, 1.15);
  assert.is(spec.maxLaunchDelaySeconds, 300);
  assert.equal(spec.upgradeStrategy, { minimumHealthCapacity: 1, maximumOverCapacity: 1 });
  assert.is(spec.killSelection, 'YOUNGEST_FIRST');
  assert.equal(spec.unreachableStrategy, { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 });
  assert.equal(
    spec.portDefinitions.map((definition) => definition.port),
    [0],
    'one dynamic port by default',
  );
  assert.equal(spec.networks, [{ mode: 'host' }]);
});

test('health checks take Marathon defaults; MESOS_HTTP keeps its port index', () => {
  const spec = parsed({ id: '/a', cmd: 'x', healthChecks: [{ protocol: 'MESOS_HTTP', path: '/health' }] });
  const check = spec.healthChecks[0]!;
  assert.equal(
    [check.gracePeriodSeconds, check.intervalSeconds, check.timeoutSeconds, check.maxConsecutiveFailures],
    [300, 60, 20, 3],
  );
  assert.is(check.portIndex, 0);
  assert.is(check.path, '/health');
});

test('bad definitions name the field', () => {
  assert.equal(problemPaths({ id: '/a', cmd: 'x', upgradeStrategy: { minimumHealthCapacity: 1.5 } }), [
    '/upgradeStrategy/minimumHealthCapacity',
  ]);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', cpus: 'lots' }), ['/cpus']);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', instances: -1 }), ['/instances']);
  assert.equal(problemPaths({ id: 'Bad_Id', cmd: 'x' }), ['/id']);
  assert.equal(problemPaths({ id: '/a' }), ['/']);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', constraints: [['hostname', 'SOMETIMES']] }), ['/constraints(0)']);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', constraints: [['rack', 'MAX_PER', 'many']] }), ['/constraints(0)']);
  const arity = parseApp({ id: '/a', cmd: 'x', constraints: [['zone', 'GROUP_BY', '2', 'extra']] }, context);
  assert.equal(arity.ok ? [] : arity.details, [
    { path: '/constraints(0)', errors: ['Each constraint must have either 2 or 3 fields'] },
  ]);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', fetch: [{ uri: 'hdfs://x/y' }] }), ['/fetch(0)/uri']);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', fetch: [{ uri: 'http://x/y', outputFile: '../y' }] }), [
    '/fetch(0)/outputFile',
  ]);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', uris: ['ftp://x/y'] }), ['/uris(0)/uri']);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', uris: ['http://x/a'], fetch: [{ uri: 'http://x/b' }] }), ['/fetch']);
  const image = { type: 'DOCKER', docker: { image: 'busybox' } };
  assert.equal(problemPaths({ id: '/a', container: image, fetch: [{ uri: 'http://x/y' }] }), ['/fetch']);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', role: 'other' }), ['/role']);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', healthChecks: [{}, {}] }), ['/healthChecks']);
  assert.equal(problemPaths({ id: '/a', cmd: 'x', ports: [1], portDefinitions: [{ port: 2 }] }), ['/']);
  const echoed = parsed({ id: '/a', cmd: 'x', ports: [0, 9000], portDefinitions: [{ port: 0 }, { port: 9000 }] });
  assert.equal(
    echoed.portDefinitions.map((definition) => definition.port),
    [0, 9000],
    'ports beside the same portDefinitions (a GET echoed back by PUT) are accepted, as by Marathon',
  );
  const typeError = parseApp({ id: '/a', cmd: 'x', mem: true }, context);
  assert.is(!typeError.ok && typeError.typeError, true, 'a wrong JSON type is "Invalid JSON"');
  const valueError = parseApp({ id: '/a', cmd: 'x', mem: -5 }, context);
  assert.is(!valueError.ok && valueError.typeError, false, 'a wrong value is "Object is not valid"');
});

test('fetch and legacy uris become CommandInfo.uris with Marathon defaults (extract true, executable and cache false)', () => {
  const fetched = parsed({
    id: '/a',
    cmd: './run',
    fetch: [
      { uri: 'https://files.example/run', executable: true, outputFile: 'bin/run' },
      { uri: 'http://files.example/site.tgz', cache: true },
      { uri: '/opt/data.zip', extract: false },
    ],
  });
  assert.equal(fetched.fetch, [
    { uri: 'https://files.example/run', executable: true, extract: true, cache: false, outputFile: 'bin/run' },
    { uri: 'http://files.example/site.tgz', executable: false, extract: true, cache: true },
    { uri: '/opt/data.zip', executable: false, extract: false, cache: false },
  ]);
  assert.equal(commandInfoUris(fetched.fetch), [
    { value: 'https://files.example/run', executable: true, extract: true, cache: false, output_file: 'bin/run' },
    { value: 'http://files.example/site.tgz', executable: false, extract: true, cache: true },
    { value: '/opt/data.zip', executable: false, extract: false, cache: false },
  ]);
  const legacy = parsed({ id: '/b', cmd: 'x', uris: ['http://files.example/a.tar.gz', 'file:///opt/b'] });
  assert.equal(legacy.uris, ['http://files.example/a.tar.gz', 'file:///opt/b']);
  assert.equal(
    legacy.fetch.map((item) => [item.uri, item.extract, item.executable]),
    [
      ['http://files.example/a.tar.gz', true, false],
      ['file:///opt/b', true, false],
    ],
  );
  assert.equal(parsed({ id: '/c', cmd: 'x' }).fetch, []);
});

test('Docker with legacy BRIDGE networking becomes container/bridge with its port mappings', () => {
  const spec = parsed({
    id: '/d',
    container: {
      type: 'DOCKER',
      docker: { image: 'nginx', network: 'BRIDGE', portMappings: [{ containerPort: 80, hostPort: 0 }] },
    },
  });
  assert.equal(spec.networks, [{ mode: 'container/bridge' }]);
  assert.equal(
    spec.container?.portMappings.map((mapping) => mapping.containerPort),
    [80],
  );
  assert.equal(spec.portDefinitions, []);
});

test('a partial update keeps what it does not mention; a scale is not a configuration change', () => {
  const first = stampVersion(parsed({ id: '/a', cmd: 'sleep 9', instances: 2, labels: { a: 'b' } }), null, 'v1');
  const scaled = mergedSpec(first, { instances: 5 }, '*');
  assert.is(scaled.instances, 5);
  assert.equal(scaled.labels, { a: 'b' });
  assert.is(isScaleOnlyChange(first, scaled), true);
  const second = stampVersion(scaled, first, 'v2');
  assert.is(second.versionInfo.lastConfigChangeAt, 'v1');
  const changed = mergedSpec(second, { cmd: 'sleep 10' }, '*');
  assert.is(isScaleOnlyChange(second, changed), false);
  assert.is(stampVersion(changed, second, 'v3').versionInfo.lastConfigChangeAt, 'v3');
  assert.throws(
    () => mergedSpec(first, { cpus: -1 }, '*'),
    (error: unknown) => error instanceof MarathonApiError,
  );
});

test('service ports are unique across apps and kept across updates', () => {
  const used = new Set<number>([10_000]);
  const spec = assignServicePorts(
    parsed({ id: '/a', cmd: 'x', portDefinitions: [{ port: 0 }, { port: 0 }] }),
    null,
    used,
  );
  assert.equal(
    spec.portDefinitions.map((definition) => definition.port),
    [10_001, 10_002],
  );
  const app = stampVersion(spec, null, 'v1');
  const again = assignServicePorts(parsed({ id: '/a', cmd: 'x', portDefinitions: [{ port: 0 }] }), app, new Set());
  assert.equal(
    again.portDefinitions.map((definition) => definition.port),
    [10_001],
  );
});

test('app ids are Marathon paths; task ids name their app', () => {
  assert.equal(parseAppId('team/web'), { id: '/team/web' });
  assert.ok('error' in parseAppId('/team/Web'));
  assert.ok('error' in parseAppId('/-web'));
  const taskId = newTaskId('/team/web-1' as never);
  assert.ok(taskId.startsWith('team_web-1.'));
  assert.is(appIdOfTask(taskId), '/team/web-1');
});

test.run();
