// `npm run bench -- peers --quick` end to end, once: three real Flotilla masters (and etcd and
// ZooKeeper where their Debian packages are installed; CI installs neither, so there they are
// skipped), a round at each concurrency and one failover each. It checks that every system
// acknowledged writes and that the results file has the shape the README is made from; it
// asserts no timing (machines are noisy).
// flotilla-test-timeout-seconds: 600
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { etcdAvailability } from '../../bench/peers/etcd.ts';
import { zookeeperAvailability } from '../../bench/peers/zookeeper.ts';
import { skipTest } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function runBench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bench', 'run.ts'), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const peers = [
  { name: 'etcd', why: etcdAvailability() },
  { name: 'zookeeper', why: zookeeperAvailability() },
] as const;
for (const peer of peers) {
  if (peer.why !== null) skipTest(test, `peers bench quick run of ${peer.name}`, peer.why);
}
const expectedSystems = ['flotilla', ...peers.filter((peer) => peer.why === null).map((peer) => peer.name)];

test(`peers bench --quick runs ${expectedSystems.join(', ')} and writes its results`, async () => {
  const out = path.join(makeTempDir('peers-bench-'), 'peers.json');
  const run = await runBench(['peers', '--quick', '--out', out]);
  assert.is(run.code, 0, `the bench failed:\n${run.stderr.slice(-4000)}`);
  const lines = run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  for (const system of expectedSystems) {
    for (const clients of [1, 16, 256]) {
      const line = lines.find((candidate) => candidate.system === system && candidate.clients === clients);
      assert.ok(line, `no JSON line for ${system} at ${clients} clients`);
      assert.ok((line.ops_per_s as number) > 0, `${system} acknowledged no write at ${clients} clients`);
      assert.ok(Number.isFinite(line.p99_ms), `${system} at ${clients} clients has no p99`);
      // The load generator's own CPU per write, measured for every system (bench/peers/load.ts).
      const clientCpu = line.client_cpu_ms_per_write as number;
      assert.ok(
        clientCpu > 0 && Number.isFinite(clientCpu),
        `${system} at ${clients} clients: client CPU ${clientCpu}`,
      );
    }
    const failover = lines.find((candidate) => candidate.bench === 'peers-failover' && candidate.system === system);
    assert.ok(failover, `no failover line for ${system}`);
    assert.is((failover.runs_ms as number[]).length, 1);
  }
  const results = JSON.parse(readFileSync(out, 'utf8')) as {
    setup: { systems: string[]; skipped: Record<string, string> };
    comparison: { clients: number; flotilla: string }[];
  };
  assert.equal(results.setup.systems, expectedSystems);
  assert.equal(
    results.comparison.map((row) => row.clients),
    [1, 16, 256],
  );
  for (const peer of peers) {
    if (peer.why !== null) assert.is(results.setup.skipped[peer.name], peer.why);
  }
  assert.match(run.stdout, /flotilla ÷ best/);
  // The README's performance section is made from this file by bench/peers/readme.ts.
  const readme = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'bench', 'peers', 'readme.ts'), out],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
  for (const clients of [1, 16, 256]) assert.match(readme, new RegExp(`^\\| ${clients} \\| [0-9,]+ \\(`, 'm'));
  assert.match(readme, /^\| Flotilla \| [0-9]+ \/ [0-9]+ ms \|/m);
});

test("peers bench --false-elections counts elections and reads the followers' silences of the leader", async () => {
  const out = path.join(makeTempDir('peers-bench-'), 'peers.json');
  const run = await runBench([
    'peers',
    '--systems',
    'flotilla',
    '--rounds',
    '0',
    '--kills',
    '0',
    '--warm-up-seconds',
    '0',
    '--clients',
    '4',
    '--false-elections',
    '2',
    '--out',
    out,
  ]);
  assert.is(run.code, 0, `the bench failed:\n${run.stderr.slice(-4000)}`);
  const line = run.stdout
    .split('\n')
    .filter((text) => text.startsWith('{'))
    .map((text) => JSON.parse(text) as Record<string, unknown>)
    .find((candidate) => candidate.bench === 'peers-false-elections');
  assert.ok(line, 'no false-elections line');
  assert.is(typeof line.elections, 'number');
  assert.ok((line.writes_per_s as number) > 0);
  // At 4 clients the leader still heartbeats between appends: the followers report silences.
  const silences = line.silences_ms_at_least as Record<string, number> | null;
  assert.ok(silences !== null, 'the followers exported no leader-silence metrics');
  assert.equal(Object.keys(silences), ['100', '150', '200', '250', '300', '400', '500']);
  assert.match(run.stdout, /no fault injected: elections/);
});

test.run();
