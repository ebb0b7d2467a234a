// flotilla-test-timeout-seconds: 180
// The operator's fault scripts against three real masters: scripts/kill-leader and
// scripts/pause find the leader through /health, act on its process, and report a new leader
// and an acknowledged write. scripts/partition needs root and iptables; it runs with the
// cluster inside a network namespace of its own, so its rules never touch the host's tables.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../raft/support/process-cluster.ts';
import { networkNamespacesUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { namespacePrefix } from './net/netns.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scripts = suite('fault scripts');

interface LocalCluster {
  masters: string;
  children: ChildProcess[];
  prefix: string[];
}

async function startCluster(prefix: string[]): Promise<LocalCluster> {
  const ports = prefix.length === 0 ? [await freePort(), await freePort(), await freePort()] : [7301, 7302, 7303];
  const addresses = ports.map((port) => `127.0.0.1:${port}`);
  const peers = addresses.map((address, index) => `m${index + 1}=${address}`).join(',');
  const dataRoot = makeTempDir('fault-scripts-');
  const children = addresses.map((address, index) => {
    const command = [
      ...prefix,
      process.execPath,
      path.join(repoRoot, 'bin/flotilla.js'),
      'master',
      '--id',
      `m${index + 1}`,
      '--listen',
      address,
      '--peers',
      peers,
      '--data-dir',
      path.join(dataRoot, `m${index + 1}`),
    ];
    return spawn(command[0]!, command.slice(1), {
      stdio: 'ignore',
      env: { ...process.env, FLOTILLA_LOG_LEVEL: 'warn' },
    });
  });
  const cluster = { masters: addresses.join(','), children, prefix };
  await waitForLeader(cluster);
  return cluster;
}

/** Polls the cluster's /health from where the masters are (their namespace, if any). */
async function waitForLeader(cluster: LocalCluster): Promise<void> {
  const probe = `Promise.all(process.argv[1].split(',').map((a) => fetch('http://' + a + '/health').then((r) => r.json()).catch(() => null)))
    .then((all) => process.exit(all.some((h) => h && h.role === 'leader') ? 0 : 1))`;
  for (let attempt = 0; attempt < 60; attempt++) {
    const result = spawnSync(
      cluster.prefix[0] ?? process.execPath,
      [
        ...cluster.prefix.slice(1),
        ...(cluster.prefix.length > 0 ? [process.execPath] : []),
        '-e',
        probe,
        cluster.masters,
      ],
      { timeout: 10_000 },
    );
    if (result.status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no leader among ${cluster.masters}`);
}

function stopCluster(cluster: LocalCluster): void {
  for (const child of cluster.children) child.kill('SIGKILL');
}

/** Runs scripts/<name> with --json and returns its last line, parsed, and all its output. */
function runScript(
  cluster: LocalCluster,
  name: string,
  args: string[],
): { figures: Record<string, unknown>; output: string } {
  const command = [
    ...cluster.prefix,
    path.join(repoRoot, 'scripts', name),
    '--masters',
    cluster.masters,
    '--json',
    '--timeout',
    '20',
    ...args,
  ];
  const result = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 60_000 });
  const output = `${result.stdout}${result.stderr}`;
  assert.is(result.status, 0, output);
  const jsonLine = result.stdout.split('\n').find((line) => line.startsWith('{'));
  assert.ok(jsonLine, `no JSON line in:\n${output}`);
  return { figures: JSON.parse(jsonLine!) as Record<string, unknown>, output };
}

scripts('pause and kill-leader report a new leader and a write', async () => {
  const cluster = await startCluster([]);
  try {
    // Pause first: once a master is killed, pausing the leader would leave no majority.
    const paused = runScript(cluster, 'pause', ['--duration', '3']);
    assert.type(paused.figures.newLeaderMs, 'number', paused.output);
    assert.match(paused.output, /SIGCONT sent to pid \d+/);
    const killed = runScript(cluster, 'kill-leader', []);
    assert.type(killed.figures.newLeaderMs, 'number', killed.output);
    assert.type(killed.figures.firstWriteMs, 'number', killed.output);
    assert.match(killed.output, /SIGKILL sent to pid \d+/);
  } finally {
    stopCluster(cluster);
  }
});

testUnless(
  scripts,
  networkNamespacesUnavailableReason(),
  'partition isolates the leader with iptables and heals',
  async () => {
    const namespace = `${namespacePrefix}${process.pid}-scripts`;
    execFileSync('ip', ['netns', 'add', namespace]);
    execFileSync('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    const cluster = await startCluster(['ip', 'netns', 'exec', namespace]).catch((error) => {
      execFileSync('ip', ['netns', 'del', namespace]);
      throw error;
    });
    try {
      const cut = runScript(cluster, 'partition', ['--duration', '3']);
      assert.type(cut.figures.newLeaderMs, 'number', cut.output);
      assert.type(cut.figures.firstWriteMs, 'number', cut.output);
      assert.match(cut.output, /healed: removed \d+ rule/);
      const left = execFileSync('ip', ['netns', 'exec', namespace, 'iptables', '-S'], { encoding: 'utf8' });
      assert.not.match(left, /flotilla-partition/, 'heal removed every rule');
    } finally {
      stopCluster(cluster);
      execFileSync('ip', ['netns', 'del', namespace]);
    }
  },
);

scripts.run();
