// deploy/ as an operator uses it. The systemd units' ExecStart lines, expanded as systemd expands
// them with the example environment files (paths and ports moved to this machine), start a real
// master and a real agent, which must come up and register; `systemd-analyze verify` finds
// nothing to say about either unit. The Grafana dashboard is well-formed (panels with ids,
// positions, targets) and every metric its queries and variables name appears on that master's
// or agent's /metrics, so no panel stays empty because of a typo or a renamed metric. The
// three-data-centre example's files start three masters and an agent through the same units.
// The units give every daemon a credentials file, so every call here but /health presents the
// operator's (HTTP Basic), and the master's hosted frameworks authenticate with the example's
// frameworks principal.
// flotilla-test-timeout-seconds: 180
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RaftView } from '../../src/master/interface.ts';
import { basicAuthorization } from '../../src/protocol/http-authorization.ts';
import { repoRoot } from '../cli/support/cli-process.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { stopChild } from '../support/child-exit.ts';
import { systemdAnalyzeUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const deployDir = path.join(repoRoot, 'deploy');
const unitFor = { master: 'flotilla-master.service', agent: 'flotilla-agent.service' } as const;
const environmentFor = { master: 'master.env.example', agent: 'agent.env.example' } as const;
/** Where the units expect things, and where this test puts them. */
const installedApp = '/opt/flotilla';
const installedNode = '/usr/bin/node';
const installedSecret = '/etc/flotilla/cluster-secret';
const installedCredentials = '/etc/flotilla/credentials.json';
const installedState = '/var/lib/flotilla/';
const metricPattern = /\b(?:mesos|flotilla)_[a-z0-9_]+\b/g;
/** The credentials file this test installs: an operator, and the examples' frameworks principal. */
const operator = { principal: 'ops', secret: 'an-operator-secret-of-32-characters' };
const frameworks = { principal: 'flotilla-frameworks', secret: 'a-frameworks-secret-of-32-characters' };
const authorization = { authorization: basicAuthorization(operator.principal, operator.secret) };

/** What an operator installs in /etc/flotilla (deploy/README.md), in `folder`. */
function installSecrets(folder: string): void {
  writeFileSync(path.join(folder, 'cluster-secret'), 'a-secret-of-thirty-two-characters', { mode: 0o600 });
  writeFileSync(path.join(folder, 'credentials.json'), JSON.stringify({ credentials: [operator, frameworks] }), {
    mode: 0o600,
  });
}

function readEnvironmentFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const equals = trimmed.indexOf('=');
    assert.ok(equals > 0, `${file}: "${line}" is not NAME=value`);
    values[trimmed.slice(0, equals)] = trimmed.slice(equals + 1);
  }
  return values;
}

/** systemd's ExecStart expansion: `${NAME}` is one word, `$NAME` is split on whitespace. */
function execStartArguments(unitFile: string, environment: Record<string, string>): string[] {
  const line = readFileSync(unitFile, 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith('ExecStart='));
  assert.ok(line, `${unitFile} has an ExecStart`);
  return line
    .slice('ExecStart='.length)
    .split(/\s+/)
    .filter((word) => word !== '')
    .flatMap((word) => {
      const whole = /^\$\{([A-Z_]+)\}$/.exec(word);
      const split = /^\$([A-Z_]+)$/.exec(word);
      const name = whole?.[1] ?? split?.[1];
      if (name === undefined) return [word];
      const value = environment[name];
      assert.ok(value !== undefined, `${unitFile}: ${name} is not in the environment file`);
      return whole ? [value] : value.split(/\s+/).filter((part) => part !== '');
    });
}

/** The installed paths of the units, moved into this checkout and a temporary root. */
function localised(argv: readonly string[], root: string): string[] {
  return argv.map((word) => {
    if (word === installedNode) return process.execPath;
    if (word === installedSecret) return path.join(root, 'cluster-secret');
    if (word === installedCredentials) return path.join(root, 'credentials.json');
    return word.replace(installedApp, repoRoot).replace(installedState, `${root}/state/`);
  });
}

function start(argv: readonly string[]): { child: ChildProcess; output: () => string } {
  const [command, ...args] = argv;
  const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-50_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  await stopChild(child, 'SIGTERM', { timeoutMs: 60_000, what: 'a deployed daemon' });
}

/** Every metric name /metrics declares (`# TYPE`), with a histogram's _bucket, _sum and _count. */
async function exposedNames(address: string): Promise<Set<string>> {
  const response = await fetch(`http://${address}/metrics`, {
    headers: authorization,
    signal: AbortSignal.timeout(10_000),
  });
  assert.is(response.status, 200, `${address}/metrics`);
  const text = await response.text();
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(match[1]!);
    if (match[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(match[1]! + suffix);
  }
  return names;
}

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly targets?: { refId: string; expr: string }[];
}

function dashboardQueries(): { panels: Panel[]; queries: string[] } {
  const dashboard = JSON.parse(readFileSync(path.join(deployDir, 'grafana', 'flotilla.json'), 'utf8')) as {
    title: string;
    uid: string;
    panels: Panel[];
    templating: { list: { query?: string | { query: string } }[] };
  };
  assert.type(dashboard.title, 'string');
  assert.type(dashboard.uid, 'string');
  assert.ok(dashboard.panels.length > 10);
  const queries: string[] = [];
  for (const panel of dashboard.panels) {
    assert.ok(panel.gridPos.w > 0 && panel.gridPos.x + panel.gridPos.w <= 24, `panel ${panel.title} fits the grid`);
    if (panel.type === 'row') continue;
    assert.ok(panel.targets !== undefined && panel.targets.length > 0, `panel ${panel.title} has queries`);
    assert.is(new Set(panel.targets.map((target) => target.refId)).size, panel.targets.length);
    for (const target of panel.targets) {
      assert.ok(target.expr.match(metricPattern) !== null, `${panel.title}: "${target.expr}" queries a metric`);
      queries.push(target.expr);
    }
  }
  assert.is(new Set(dashboard.panels.map((panel) => panel.id)).size, dashboard.panels.length, 'panel ids unique');
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === 'object' ? variable.query.query : variable.query;
    if (query?.startsWith('label_values(')) queries.push(query);
  }
  return { panels: dashboard.panels, queries };
}

test('the units start a real master and agent, and every metric the dashboard queries exists on them', async () => {
  const root = makeTempDir('deploy-');
  mkdirSync(path.join(root, 'state'), { recursive: true });
  installSecrets(root);
  const masterAddress = `127.0.0.1:${await freePort()}`;
  const agentAddress = `127.0.0.1:${await freePort()}`;
  const masterEnvironment = {
    ...readEnvironmentFile(path.join(deployDir, 'systemd', environmentFor.master)),
    FLOTILLA_ID: 'm1',
    FLOTILLA_LISTEN: masterAddress,
    FLOTILLA_PEERS: `m1=${masterAddress}`,
  };
  const agentEnvironment = {
    ...readEnvironmentFile(path.join(deployDir, 'systemd', environmentFor.agent)),
    FLOTILLA_MASTERS: masterAddress,
    FLOTILLA_LISTEN: agentAddress,
  };
  const master = start(
    localised(execStartArguments(path.join(deployDir, 'systemd', unitFor.master), masterEnvironment), root),
  );
  const agent = start(
    localised(execStartArguments(path.join(deployDir, 'systemd', unitFor.agent), agentEnvironment), root),
  );
  try {
    await waitFor(
      async () => {
        const metrics = await fetch(`http://${agentAddress}/metrics`, { headers: authorization }).then(
          (response) => response.text(),
          () => '',
        );
        return /^mesos_agent_registered\{[^}]*\} 1$/m.test(metrics);
      },
      { timeoutMs: 60_000, what: 'the agent registered with the master', intervalMs: 200 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nmaster: ${master.output()}\nagent: ${agent.output()}`);
    });
    const health = (await (await fetch(`http://${masterAddress}/health`)).json()) as { id: string; role: string };
    assert.equal([health.id, health.role], ['m1', 'leader']);
    // The units' --credentials is in force: without the operator's, the API refuses.
    for (const address of [masterAddress, agentAddress])
      assert.is((await fetch(`http://${address}/metrics`)).status, 401, `${address}/metrics without credentials`);

    const exposed = new Set([...(await exposedNames(masterAddress)), ...(await exposedNames(agentAddress))]);
    const { queries } = dashboardQueries();
    const missing = new Set<string>();
    let checked = 0;
    for (const query of queries) {
      for (const [name] of query.matchAll(metricPattern)) {
        checked++;
        if (!exposed.has(name)) missing.add(name);
      }
    }
    assert.equal([...missing], [], 'metrics the dashboard queries that no master or agent exposes');
    assert.ok(checked > 80, `${checked} metric references checked`);
  } finally {
    await Promise.all([stop(agent.child), stop(master.child)]);
  }
});

const exampleDir = path.join(deployDir, 'examples', 'three-data-centres');

async function operatorCall<Answer>(address: string, type: string): Promise<Answer> {
  const response = await fetch(`http://${address}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authorization },
    body: JSON.stringify({ type }),
    signal: AbortSignal.timeout(10_000),
  });
  return (await response.json()) as Answer;
}

// Leadership settles in a preferred zone, dc1 or dc2, never dc3: a leader in dc3 hands over, and a
// leader in dc2 stays (src/master/zones/zone-preference.ts: "dc2 never yields to dc1"), so which
// of m1 and m2 leads depends on who wins the first election (m2 did in four runs of four).
test('the three-data-centre example: zones known everywhere, wan timing, leadership settles in dc1 or dc2', async () => {
  const root = makeTempDir('deploy-dcs-');
  installSecrets(root);
  const files = ['m1', 'm2', 'm3'].map((id) => readEnvironmentFile(path.join(exampleDir, `${id}.env`)));
  // The example's addresses, each moved to a loopback port of this machine.
  const moved = new Map<string, string>();
  for (const file of files) moved.set(file.FLOTILLA_LISTEN!, `127.0.0.1:${await freePort()}`);
  const agentFile = readEnvironmentFile(path.join(exampleDir, 'agent-dc1.env'));
  moved.set(agentFile.FLOTILLA_LISTEN!, `127.0.0.1:${await freePort()}`);
  const move = (environment: Record<string, string>): Record<string, string> =>
    Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [
        name,
        [...moved].reduce((text, [from, to]) => text.replaceAll(from, to), value),
      ]),
    );
  const processes = files.map((file, index) => {
    const state = path.join(root, `m${index + 1}`);
    mkdirSync(path.join(state, 'state'), { recursive: true });
    installSecrets(state);
    return start(localised(execStartArguments(path.join(deployDir, 'systemd', unitFor.master), move(file)), state));
  });
  mkdirSync(path.join(root, 'state'), { recursive: true });
  const agentAddress = moved.get(agentFile.FLOTILLA_LISTEN!)!;
  processes.push(
    start(localised(execStartArguments(path.join(deployDir, 'systemd', unitFor.agent), move(agentFile)), root)),
  );
  const masters = files.map((file) => moved.get(file.FLOTILLA_LISTEN!)!);
  const output = (): string => processes.map((running, index) => `#${index}: ${running.output()}`).join('\n');
  let lastViews: unknown = null;
  try {
    await waitFor(
      async () => {
        const views = await Promise.all(
          masters.map((address) =>
            operatorCall<{ get_raft: RaftView }>(address, 'GET_RAFT').then(
              (answer) => answer.get_raft,
              () => null,
            ),
          ),
        );
        lastViews = views;
        return views.every(
          (view) =>
            view !== null &&
            view.leaderId === views[0]!.leaderId &&
            (view.leaderId === 'm1' || view.leaderId === 'm2') &&
            view.members.map((member) => `${member.id}:${member.zone}`).join(',') === 'm1:dc1,m2:dc2,m3:dc3',
        );
      },
      {
        timeoutMs: 90_000,
        what: 'every master to know every zone, with one leader, m1 (dc1) or m2 (dc2)',
        intervalMs: 500,
      },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nlast GET_RAFT views: ${JSON.stringify(lastViews)}\n${output()}`);
    });
    for (const address of masters) {
      const flags = await operatorCall<{ get_flags: { flags: { name: string; value: string }[] } }>(
        address,
        'GET_FLAGS',
      );
      const value = (name: string): string | undefined =>
        flags.get_flags.flags.find((flag) => flag.name === name)?.value;
      assert.is(value('timing'), 'wan', address);
      assert.is(value('preferred_leader_zones'), 'dc1,dc2', address);
    }
    await waitFor(
      async () => {
        const metrics = await fetch(`http://${agentAddress}/metrics`, { headers: authorization }).then(
          (response) => response.text(),
          () => '',
        );
        return /^mesos_agent_registered\{[^}]*\} 1$/m.test(metrics);
      },
      { timeoutMs: 60_000, what: 'the dc1 agent registered', intervalMs: 200 },
    );
  } finally {
    await Promise.all(processes.map((running) => stop(running.child)));
  }
});

testUnless(test, systemdAnalyzeUnavailableReason(), 'systemd-analyze verify has nothing to say about the units', () => {
  // verify wants ExecStart's binary to exist: the units, with this machine's node.
  const folder = makeTempDir('deploy-units-');
  const units = Object.values(unitFor).map((unit) => {
    const target = path.join(folder, unit);
    writeFileSync(
      target,
      readFileSync(path.join(deployDir, 'systemd', unit), 'utf8').replaceAll(installedNode, process.execPath),
    );
    return target;
  });
  const result = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8' });
  assert.is(result.status, 0, result.stderr);
  assert.is(result.stderr.trim(), '', 'warnings about the units');
});

/**
 * `systemd-analyze security` scores a unit's exposure from 0 (locked down) to 10. The master
 * needs nothing but its port and state dir ("OK" is under 2); the agent's restrictions bind its
 * tasks too, so it keeps root and fewer of them (deploy/README.md), "MEDIUM" at most.
 */
const maxExposure: Record<keyof typeof unitFor, number> = { master: 2, agent: 6 };

testUnless(test, systemdAnalyzeUnavailableReason(), "the units' hardening: systemd's exposure level", () => {
  for (const [kind, unit] of Object.entries(unitFor) as [keyof typeof unitFor, string][]) {
    const result = spawnSync(
      'systemd-analyze',
      ['security', '--offline=true', '--no-pager', path.join(deployDir, 'systemd', unit)],
      { encoding: 'utf8' },
    );
    const level = /Overall exposure level for \S+: ([\d.]+)/.exec(result.stdout);
    assert.ok(level, `${unit}: ${result.stdout.slice(-500)}${result.stderr}`);
    const exposure = Number(level[1]);
    process.stdout.write(`${unit}: exposure ${exposure} (at most ${maxExposure[kind]})\n`);
    assert.ok(exposure <= maxExposure[kind], `${unit} exposure ${exposure} > ${maxExposure[kind]}`);
  }
});

test.run();
