// The master's and the agent's option schemas (src/master/config.ts, src/agent/config.ts): every
// option is in --help, in GET_FLAGS, and parses from its text back to the same text; a bad value
// names its flag (exit code 2 from the real command); values given in code are checked as flags
// are; and an option may have other spellings (Mesos' underscores), one at a time.
import { ThrowawayCa } from '../support/throwaway-ca.ts';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agentConfig, agentOptions, parseAgentFlags } from '../../src/agent/config.ts';
import { startAgentDaemon } from '../../src/agent/daemon.ts';
import { addSchemaOptions, givenOptions } from '../../src/cli/options.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { masterConfig, masterOptions, parseMasterFlags, reregisterTimeoutMs } from '../../src/master/config.ts';
import { lanBeacon } from '../../src/raft/timing.ts';
import { wholeOption } from '../../src/util/option-kinds.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { checkSchema, OptionError, type OptionSchema, parseOptions } from '../../src/util/options.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const configFolder = makeTempDir('config-');
const secretFile = path.join(configFolder, 'secret');
writeFileSync(secretFile, 'a-secret-of-twenty-characters\n');
const credentialsFile = path.join(configFolder, 'credentials.json');
writeFileSync(
  credentialsFile,
  JSON.stringify({ credentials: [{ principal: 'ops', secret: 'ops-secret-0123456789' }] }),
);
const aclsFile = path.join(configFolder, 'acls.json');
writeFileSync(
  aclsFile,
  JSON.stringify({ permissive: false, view_flags: [{ principals: { type: 'ANY' }, flags: { type: 'ANY' } }] }),
);

/** Real PEM files for --tls-*, which are read and checked at start (test/support/throwaway-ca.ts). */
const certificateAuthority = ThrowawayCa.create();
const tlsFiles = certificateAuthority.issue('m1');

/** A valid text for every option of both schemas that has no default (a new option needs one here). */
const samples: Record<string, string> = {
  'tls-cert': tlsFiles.certFile,
  'tls-key': tlsFiles.keyFile,
  'tls-ca': certificateAuthority.caFile,
  'tls-require-client-cert': 'true',
  id: 'm1',
  listen: '127.0.0.1:5050',
  peers: 'm1=127.0.0.1:5050,m2=127.0.0.1:5051',
  'data-dir': '/var/lib/flotilla',
  zone: 'dc1',
  'preferred-leader-zones': 'dc1,dc2',
  'cluster-secret-file': secretFile,
  'tick-ms': '20',
  'election-ticks': '12',
  'heartbeat-ticks': '2',
  'election-timer': 'randomized',
  'agent-reregistration-grace-ms': '30000',
  join: 'true',
  'enable-profiling': 'true',
  'raft-beacon': 'off',
  masters: '127.0.0.1:5050,127.0.0.1:5051',
  'work-dir': '/var/lib/flotilla-agent',
  resources: 'cpus:4;mem(web):512;ports:[31000-31009]',
  attributes: 'rack:r1;zone:dc1',
  hostname: 'agent-1',
  'no-switch-user': 'false',
  'no-root-tasks': 'true',
  'docker-volume-allowlist': '/tmp',
  'jobs-test-clock-file': '/tmp/clock',
  credentials: credentialsFile,
  'frameworks-principal': 'ops',
  acls: aclsFile,
  'insecure-allow-anonymous': 'false',
  'rate-limits': '{"limits":[{"principal":"ops","qps":10,"capacity":100}],"aggregate_default_qps":5}',
};

function sampleOf(schema: OptionSchema, key: string): string {
  const spec = schema[key]!;
  const text = samples[spec.flag] ?? spec.defaultText;
  if (text === undefined || text === null) throw new Error(`no sample value for --${spec.flag}: add one to this test`);
  return text;
}

const sampleFlags = (schema: OptionSchema): Record<string, string> =>
  Object.fromEntries(Object.keys(schema).map((key) => [key, sampleOf(schema, key)]));

function helpOf(name: string): string {
  const command = buildProgram().commands.find((candidate) => candidate.name() === name);
  if (command === undefined) throw new Error(`no command ${name}`);
  return command.helpInformation();
}

const schemas = [
  { name: 'master', schema: masterOptions as OptionSchema, parse: parseMasterFlags },
  { name: 'agent', schema: agentOptions as OptionSchema, parse: parseAgentFlags },
];

for (const { name, schema, parse } of schemas) {
  test(`${name}: every option is in --help, in GET_FLAGS, and parses back to its text`, () => {
    // --help wraps long descriptions: compare with runs of white space as one space.
    const help = helpOf(name).replace(/\s+/g, ' ');
    const config = parse(sampleFlags(schema));
    for (const [key, spec] of Object.entries(schema)) {
      const line = spec.placeholder === null ? `--${spec.flag}` : `--${spec.flag} ${spec.placeholder}`;
      // A flag for tests only is parsed and in GET_FLAGS, but not offered to operators.
      assert.is(
        help.includes(line),
        spec.hidden !== true,
        `--help ${spec.hidden === true ? 'hides' : 'shows'} ${line}`,
      );
      if (spec.hidden !== true)
        assert.ok(help.includes(spec.description.slice(0, 30)), `--help describes --${spec.flag}`);
      const sample = sampleOf(schema, key);
      assert.is(config.flags[spec.flag.replaceAll('-', '_')], sample, `GET_FLAGS ${spec.flag}`);
      assert.is(spec.show(spec.parse(sample)), sample, `--${spec.flag} round-trips`);
    }
    assert.equal(
      Object.keys(config.flags).sort(),
      Object.values(schema)
        .map((spec) => spec.flag.replaceAll('-', '_'))
        .sort(),
      'GET_FLAGS has every option and nothing else',
    );
  });

  test(`${name}: a bad value names its flag`, () => {
    for (const [key, spec] of Object.entries(schema)) {
      if (spec.placeholder === null) continue; // a switch takes no value
      // Free text (a name, a directory) has no bad value but the empty one.
      const refused = ['not a valid value;;[', '']
        .map((text) => tryParse(() => parse({ ...sampleFlags(schema), [key]: text })))
        .find((error) => error?.flag === spec.flag);
      assert.ok(refused !== undefined && refused !== null, `--${spec.flag} refuses a bad value`);
      assert.ok(refused.message.includes(`--${spec.flag}`), `"${refused.message}" names --${spec.flag}`);
    }
  });
}

test('agent: --no-root-tasks with --no-switch-user on a root agent is refused, naming the flag', () => {
  const both = () => parseAgentFlags({ ...sampleFlags(agentOptions), switchUser: 'true', rootTasks: 'true' });
  if (process.getuid?.() !== 0) {
    assert.is(both().options.switchUser, false, 'a non-root agent runs every task as itself anyway');
    return;
  }
  const refused = tryParse(both);
  assert.is(refused?.flag, 'no-root-tasks');
});

function tryParse(run: () => unknown): OptionError | null {
  try {
    run();
    return null;
  } catch (error) {
    if (error instanceof OptionError) return error;
    throw error;
  }
}

test('master: defaults, the timing profile filled in, and what only the options together can check', () => {
  const loopback = { host: '127.0.0.1', port: 1 };
  const config = masterConfig({ id: 'm1', listen: loopback, peers: { m1: 'h:1' }, dataDir: '/d' });
  assert.is(config.options.allocationBatchMs, 50);
  assert.is(config.options.offerTimeoutMs, 60_000);
  assert.is(config.options.snapshotEntries, 10_000);
  assert.equal(config.timing, {
    tickMs: 30,
    electionTicks: 10,
    heartbeatTicks: 1,
    electionTimer: 'randomized',
    beacon: lanBeacon,
  });
  assert.is(config.flags.tick_ms, '30', 'GET_FLAGS shows the effective timing');
  assert.is(config.flags.election_timer, 'randomized', 'GET_FLAGS shows the profile’s election timer');
  const fixed = masterConfig({
    id: 'm1',
    listen: loopback,
    peers: { m1: 'h:1' },
    dataDir: '/d',
    electionTimer: 'fixed',
  });
  assert.is(fixed.timing.electionTimer, 'fixed', '--election-timer overrides the profile');
  const beacon = masterConfig({ id: 'm1', listen: loopback, peers: { m1: 'h:1' }, dataDir: '/d', raftBeacon: 'on' });
  assert.equal(beacon.timing.beacon, lanBeacon, '--raft-beacon on turns the liveness beacon on');
  assert.equal(config.timing.beacon, lanBeacon, 'on by default with --timing lan');
  const off = masterConfig({ id: 'm1', listen: loopback, peers: { m1: 'h:1' }, dataDir: '/d', raftBeacon: 'off' });
  assert.is(off.timing.beacon, undefined, '--raft-beacon off');
  const wanOn = masterConfig({
    id: 'm1',
    listen: loopback,
    peers: { m1: 'h:1' },
    dataDir: '/d',
    timing: 'wan',
    raftBeacon: 'on',
  });
  assert.equal(wanOn.timing.beacon, lanBeacon, '--raft-beacon on with --timing wan');
  assert.is(config.secret, 'flotilla-development-secret');
  const wan = parseMasterFlags({
    ...sampleFlags(masterOptions),
    timing: 'wan',
    tickMs: undefined,
    electionTimer: undefined,
    raftBeacon: undefined,
  });
  assert.equal(
    wan.timing,
    { tickMs: 100, electionTicks: 12, heartbeatTicks: 2, electionTimer: 'randomized' },
    'no beacon by default with --timing wan',
  );
  assert.is(wan.secret, 'a-secret-of-twenty-characters');
  const errors: [Record<string, unknown>, string][] = [
    [{ peers: { m2: 'h:2' } }, 'peers'],
    [{ allocationBatchMs: -1 }, 'allocation-batch-ms'],
    [{ allocationBatchMs: 60_001 }, 'allocation-batch-ms'],
    [{ offerTimeoutMs: 1.5 }, 'offer-timeout-ms'],
    [{ heartbeatTicks: 10 }, 'heartbeat-ticks'],
    [{ minAllocatableResources: 'cpus=1' }, 'min-allocatable-resources'],
    [{ clusterSecretFile: path.join(repoRoot, 'no-such-file') }, 'cluster-secret-file'],
    [{ credentials: path.join(repoRoot, 'no-such-file') }, 'credentials'],
    [{ credentials: secretFile }, 'credentials'],
    [{ acls: credentialsFile }, 'acls'],
  ];
  for (const [given, flag] of errors) {
    const error = tryParse(() =>
      masterConfig({ id: 'm1', listen: loopback, peers: { m1: 'h:1' }, dataDir: '/d', ...given }),
    );
    assert.is(error?.flag, flag, JSON.stringify(given));
  }
  assert.ok(masterConfig({ id: 'm9', join: true, listen: loopback, peers: { m1: 'h:1' }, dataDir: '/d' }));
});

test('master and agent: a non-loopback --listen needs --credentials and --cluster-secret-file, or the insecure switch', () => {
  const exposed = { host: '0.0.0.0', port: 1 };
  const master = (given: Parameters<typeof masterConfig>[0]) =>
    masterConfig({
      id: 'm1',
      listen: exposed,
      peers: { m1: 'h:1' },
      dataDir: '/d',
      // With --credentials the hosted frameworks need a principal (test/auth/hosted-frameworks-auth.test.ts).
      ...(given.credentials === undefined ? {} : { frameworksPrincipal: 'ops' }),
      ...given,
    });
  const agent = (given: Parameters<typeof agentConfig>[0]) =>
    agentConfig({ masters: ['h:1'], workDir: '/w', listen: exposed, ...given });
  for (const build of [master, agent] as ((given: object) => unknown)[]) {
    const bare = tryParse(() => build({}));
    assert.is(bare?.flag, 'credentials');
    assert.match(bare?.message ?? '', '--credentials FILE and --cluster-secret-file FILE');
    assert.match(bare?.message ?? '', '--insecure-allow-anonymous');
    const noSecret = tryParse(() => build({ credentials: credentialsFile }));
    assert.match(noSecret?.message ?? '', 'give --cluster-secret-file FILE,');
    assert.is(
      tryParse(() => build({ credentials: credentialsFile, clusterSecretFile: secretFile })),
      null,
    );
    assert.is(
      tryParse(() => build({ insecureAllowAnonymous: true })),
      null,
    );
  }
  const protectedMaster = master({ credentials: credentialsFile, acls: aclsFile, clusterSecretFile: secretFile });
  assert.equal(
    protectedMaster.auth.credentials?.map((credential) => credential.principal),
    ['ops'],
  );
  assert.is(protectedMaster.auth.acls?.permissive, false);
  assert.not.ok(JSON.stringify(protectedMaster.flags).includes('ops-secret'), 'GET_FLAGS names the file, not secrets');
});

test("master: the history flags (Mesos' names and defaults, either spelling, durations in Mesos' syntax)", () => {
  const required = { id: 'm1', listen: { host: '127.0.0.1', port: 1 }, peers: { m1: '127.0.0.1:1' }, dataDir: '/d' };
  const defaults = masterConfig(required);
  assert.is(defaults.options.maxCompletedFrameworks, 50);
  assert.is(defaults.options.maxCompletedTasksPerFramework, 1000);
  assert.is(defaults.options.registryMaxAgentAgeMs, 14 * 24 * 60 * 60 * 1000);
  assert.is(defaults.options.registryMaxAgentCount, 102_400);
  assert.is(defaults.flags.registry_max_agent_age, '2weeks');
  const given = parseMasterFlags({
    ...sampleFlags(masterOptions),
    maxCompletedTasksPerFramework: '10',
    registryMaxAgentAgeMs: '10mins',
  });
  assert.is(given.options.maxCompletedTasksPerFramework, 10);
  assert.is(given.options.registryMaxAgentAgeMs, 600_000);
  const { maxCompletedFrameworks, maxCompletedTasksPerFramework, registryMaxAgentAgeMs, registryMaxAgentCount } =
    masterOptions;
  const history = {
    maxCompletedFrameworks,
    maxCompletedTasksPerFramework,
    registryMaxAgentAgeMs,
    registryMaxAgentCount,
  } as OptionSchema;
  const command = addSchemaOptions(new Command('master').exitOverride(), history);
  const argv = [
    '--max_completed_frameworks',
    '3',
    '--registry-max-agent-count',
    '7',
    '--registry_max_agent_age',
    '1days',
  ];
  command.parse(argv, { from: 'user' });
  const parsed = parseOptions(history, givenOptions(command, history));
  assert.is(parsed.maxCompletedFrameworks, 3);
  assert.is(parsed.registryMaxAgentCount, 7);
  assert.is(parsed.registryMaxAgentAgeMs, 24 * 60 * 60 * 1000);
  for (const [key, text] of [
    ['registryMaxAgentAgeMs', '2 weeks'],
    ['registryMaxAgentAgeMs', '14'],
    ['maxCompletedTasksPerFramework', '-1'],
  ] as const) {
    const error = tryParse(() => parseMasterFlags({ ...sampleFlags(masterOptions), [key]: text }));
    assert.ok(error !== null && error !== undefined, `${key} ${text} is refused`);
  }
});

test("master: agents get Mesos' --agent_reregister_timeout (10mins) after a failover; the older ms flag still wins", () => {
  const required = { id: 'm1', listen: { host: '127.0.0.1', port: 1 }, peers: { m1: '127.0.0.1:1' }, dataDir: '/d' };
  const defaults = masterConfig(required);
  assert.is(reregisterTimeoutMs(defaults.options), 10 * 60 * 1000);
  assert.is(defaults.flags.agent_reregister_timeout, '10mins');
  const { agentReregisterTimeoutMs, agentReregistrationGraceMs } = masterOptions;
  const schema = { agentReregisterTimeoutMs, agentReregistrationGraceMs } as OptionSchema;
  const parse = (argv: string[]): { agentReregisterTimeoutMs: number; agentReregistrationGraceMs: number | null } => {
    const command = addSchemaOptions(new Command('master').exitOverride(), schema);
    command.parse(argv, { from: 'user' });
    return parseOptions(schema, givenOptions(command, schema)) as never;
  };
  assert.is(reregisterTimeoutMs(parse(['--agent_reregister_timeout', '90secs'])), 90_000);
  assert.is(reregisterTimeoutMs(parse(['--agent-reregister-timeout', '1hrs'])), 60 * 60 * 1000);
  assert.is(reregisterTimeoutMs(parse(['--agent-reregistration-grace-ms', '2000'])), 2_000);
  const error = tryParse(() => parseMasterFlags({ ...sampleFlags(masterOptions), agentReregisterTimeoutMs: '600' }));
  assert.ok(error !== null && error !== undefined, 'a duration without its unit is refused');
});

test('agent: defaults and values given in code', () => {
  const config = agentConfig({ masters: ['h:1'], workDir: '/w' });
  assert.equal(config.options.containerizers, ['process']);
  assert.equal(config.options.listen, { host: '127.0.0.1', port: 5055 });
  assert.is(config.options.killGracePeriodMs, 3_000);
  assert.is(config.flags.masters, 'h:1');
  assert.is(
    tryParse(() => agentConfig({ masters: ['h:1'], workDir: '/w', usageIntervalMs: 99 }))?.flag,
    'usage-interval-ms',
  );
  assert.is(tryParse(() => agentConfig({ masters: [], workDir: '/w' }))?.flag, 'masters');
});

test('the agent daemon, composed from its config, answers GET_FLAGS with it', async () => {
  const port = await freePort();
  const config = agentConfig({
    masters: ['127.0.0.1:1'],
    workDir: makeTempDir('config-agent-'),
    listen: { host: '127.0.0.1', port },
    resources: 'cpus:1;mem:64;disk:64',
    hostname: 'config-agent',
  });
  const agent = await startAgentDaemon(config, { logger: silentLogger });
  try {
    const response = await fetch(`http://127.0.0.1:${port}/api/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'GET_FLAGS' }),
    });
    const body = (await response.json()) as { get_flags: { flags: { name: string; value: string }[] } };
    assert.equal(
      body.get_flags.flags,
      Object.entries(config.flags)
        .sort(([left], [right]) => left.localeCompare(right))
        .map(([name, value]) => ({ name, value })),
    );
    assert.equal(agent.info().hostname, 'config-agent');
  } finally {
    await agent.stop();
  }
});

test('an option may have another spelling (Mesos underscores): either works, both at once do not', () => {
  const schema = {
    maxCompletedFrameworks: wholeOption({
      flag: 'max-completed-frameworks',
      aliases: ['max_completed_frameworks'],
      placeholder: '<n>',
      default: 50,
      minimum: 0,
      description: 'completed frameworks kept',
    }),
  };
  checkSchema(schema);
  const parseArgv = (argv: string[]) => {
    const command = addSchemaOptions(new Command('test').exitOverride(), schema);
    command.parse(argv, { from: 'user' });
    return parseOptions(schema, givenOptions(command, schema));
  };
  assert.is(parseArgv([]).maxCompletedFrameworks, 50);
  assert.is(parseArgv(['--max-completed-frameworks', '7']).maxCompletedFrameworks, 7);
  assert.is(parseArgv(['--max_completed_frameworks', '8']).maxCompletedFrameworks, 8);
  const both = tryParse(() => parseArgv(['--max_completed_frameworks', '8', '--max-completed-frameworks', '9']));
  assert.match(both?.message ?? '', /same option/);
  assert.throws(() => checkSchema({ a: schema.maxCompletedFrameworks, b: schema.maxCompletedFrameworks }), /twice/);
  const help = addSchemaOptions(new Command('test'), schema).helpInformation();
  assert.ok(
    help.includes('--max-completed-frameworks <n>') && !help.includes('max_completed'),
    'help shows one spelling',
  );
});

test('the real command: a bad value exits 2 with one line naming the flag', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'flotilla.js'), ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });
  const master = run('master', '--id', 'm1', '--listen', '127.0.0.1:1', '--peers', 'm1=127.0.0.1:1', '--data-dir');
  assert.is(master.status, 1, 'a flag without its value is commander usage error');
  const bad = run(
    'master',
    ...['--id', 'm1', '--listen', '127.0.0.1:1', '--peers', 'm1=127.0.0.1:1', '--data-dir', '/nonexistent'],
    ...['--snapshot-entries', 'many'],
  );
  assert.is(bad.status, 2);
  assert.is(
    bad.stderr,
    'flotilla master: --snapshot-entries must be a whole number from 10 to 100000000, got "many"\n',
  );
  const agent = run('agent', '--masters', '127.0.0.1:1', '--work-dir', '/nonexistent', '--containerizers', 'lxc');
  assert.is(agent.status, 2);
  assert.is(agent.stderr, 'flotilla agent: --containerizers: "lxc" is neither process nor docker\n');
});

test.run();
