// `flotilla master --json` and `flotilla agent --json` (src/cli/daemon-json.ts), as real processes:
// stdout is exactly one JSON object once the daemon listens — its role, id or hostname, the
// address it really listens on (answered there), its pid and version — while the logs stay JSON
// lines on stderr; a daemon that cannot start prints one object on stderr with the error's code
// (USAGE for a bad flag, exit 2; START_FAILED for a port in use, exit 1), as every command's
// --json failure. Without --json, stdout stays empty.
// flotilla-test-timeout-seconds: 180
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../raft/support/process-cluster.ts';
import { exitOf } from '../support/child-exit.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const flotillaBin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'flotilla.js');
const startTimeoutMs = 60_000;

interface Daemon {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** The exit code, bounded: a daemon that should have stopped and did not fails the test by name. */
  exit: () => Promise<number | null>;
}

const started: Daemon[] = [];

function launch(args: readonly string[]): Daemon {
  const child = spawn(process.execPath, [flotillaBin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLOTILLA_LOG_LEVEL: 'info' },
  });
  const daemon: Daemon = {
    child,
    stdout: '',
    stderr: '',
    exit: async () => (await exitOf(child, { timeoutMs: startTimeoutMs, what: `flotilla ${args[0]}` })).code,
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    daemon.stdout += chunk.toString('utf8');
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    daemon.stderr += chunk.toString('utf8');
  });
  started.push(daemon);
  return daemon;
}

async function firstLine(daemon: Daemon): Promise<Record<string, unknown>> {
  await waitFor(() => daemon.stdout.includes('\n'), {
    timeoutMs: startTimeoutMs,
    what: `a line on stdout (stderr so far: ${daemon.stderr.slice(-2000)})`,
    intervalMs: 50,
  });
  return JSON.parse(daemon.stdout.split('\n')[0]!) as Record<string, unknown>;
}

/** The failure object among the daemon's stderr lines (its logs are JSON lines too). */
function failure(daemon: Daemon): unknown {
  const lines = daemon.stderr.split('\n').filter((line) => line.startsWith('{"event":"failed"'));
  assert.is(lines.length, 1, daemon.stderr.slice(-2000));
  return JSON.parse(lines[0]!);
}

async function masterArgs(port: number): Promise<string[]> {
  return [
    'master',
    '--id',
    'm1',
    '--listen',
    `127.0.0.1:${port}`,
    '--peers',
    `m1=127.0.0.1:${port}`,
    '--data-dir',
    makeTempDir('daemon-json-master-'),
    '--services',
    'off',
    '--jobs',
    'off',
  ];
}

test.after(async () => {
  for (const daemon of started) if (daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
});

test('master and agent --json: one started object on stdout, logs on stderr, the address answers', async () => {
  const masterPort = await freePort();
  const master = launch([...(await masterArgs(masterPort)), '--json']);
  const masterLine = await firstLine(master);
  assert.equal(
    { ...masterLine, version: undefined },
    {
      event: 'started',
      role: 'master',
      id: 'm1',
      address: `127.0.0.1:${masterPort}`,
      dataDir: masterLine.dataDir,
      pid: master.child.pid,
      version: undefined,
    },
  );
  assert.type(masterLine.version, 'string');
  assert.is((await fetch(`http://${String(masterLine.address)}/health`)).status < 500, true, 'the address answers');
  assert.ok(
    master.stderr.split('\n').some((line) => line.startsWith('{"level"')),
    'logs are JSON lines on stderr',
  );

  const agentPort = await freePort();
  const agent = launch([
    'agent',
    '--masters',
    `127.0.0.1:${masterPort}`,
    '--work-dir',
    makeTempDir('daemon-json-agent-'),
    '--listen',
    `127.0.0.1:${agentPort}`,
    '--hostname',
    'json-agent',
    '--resources',
    'cpus:1;mem:256;disk:100',
    '--json',
  ]);
  const agentLine = await firstLine(agent);
  assert.is(agentLine.event, 'started');
  assert.is(agentLine.role, 'agent');
  assert.is(agentLine.hostname, 'json-agent');
  assert.is(agentLine.address, `127.0.0.1:${agentPort}`);
  assert.equal(agentLine.masters, [`127.0.0.1:${masterPort}`]);
  assert.is(agentLine.pid, agent.child.pid);

  agent.child.kill('SIGTERM');
  master.child.kill('SIGTERM');
  assert.is(await agent.exit(), 0);
  assert.is(await master.exit(), 0);
  assert.is(master.stdout.trim().split('\n').length, 1, 'stdout holds the one object, nothing else');
  assert.is(agent.stdout.trim().split('\n').length, 1);
});

test('a daemon that cannot start says so in one JSON object: USAGE exit 2, START_FAILED exit 1', async () => {
  const workDir = makeTempDir('daemon-json-bad-');
  const bad = launch([
    'agent',
    '--masters',
    '127.0.0.1:1',
    '--work-dir',
    workDir,
    '--listen',
    'not-an-address',
    '--json',
  ]);
  assert.is(await bad.exit(), 2);
  assert.is(bad.stdout, '');
  const usage = failure(bad) as { event: string; role: string; error: { code: string } };
  assert.equal([usage.event, usage.role, usage.error.code], ['failed', 'agent', 'USAGE']);

  const port = await freePort();
  const holder = launch(await masterArgs(port));
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null)) !== null, {
    timeoutMs: startTimeoutMs,
    what: 'the first master to listen',
    intervalMs: 100,
  });
  assert.is(holder.stdout, '', 'without --json stdout stays empty');
  const second = launch([...(await masterArgs(port)), '--json']);
  assert.is(await second.exit(), 1);
  const failed = failure(second) as { event: string; error: { code: string; message: string } };
  assert.equal([failed.event, failed.error.code], ['failed', 'START_FAILED']);
  assert.match(failed.error.message, /EADDRINUSE|in use/);
  holder.child.kill('SIGTERM');
  assert.is(await holder.exit(), 0);
});

test.run();
