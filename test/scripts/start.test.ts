// `npm start` as a new user meets it: a short block naming the leader and the UI, a first task
// that runs, a clean stop of every node on Ctrl-C, and a second start that resumes from the
// same data (same agent, the finished task still there). It runs the real `npm start` in its
// own process group, and Ctrl-C is SIGINT to that whole group, as a terminal sends it (npm,
// the tsx wrapper, the script and every node get it at once). Ports are free ones found at run
// time (--base-port) and the data lives in a temporary folder (--data-dir).
// flotilla-test-timeout-seconds: 600
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agentPortOffset } from '../../scripts/start/layout.ts';
import { portProblem } from '../../scripts/start/ports.ts';
import { flotilla, parseJson, repoRoot, transcript } from '../cli/support/cli-process.ts';
import { dockerUnavailableReason } from '../support/capabilities.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor, withTimeout } from '../support/wait.ts';

/** undefined when a Docker engine with the test image answers (CI): then the Docker path is tested too. */
const dockerWhyNot = await dockerUnavailableReason();
if (dockerWhyNot !== undefined) process.stdout.write(`npm start is tested without Docker: ${dockerWhyNot}\n`);
const upTimeoutMs = 180_000;
const maxPortSearches = 50;

interface StartProcess {
  readonly child: ChildProcess;
  output: { stdout: string; stderr: string };
  readonly exited: Promise<number | null>;
}

/** Below the kernel's ephemeral range, where outgoing connections take no port: read at start. */
function ephemeralRangeStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}
const lowestBasePort = 20_000;
const basePortStep = 10;

/**
 * A base port whose four ports (masters base..base+2, agent base+5) are free now, below the
 * ephemeral range: there, only listeners take ports, while in it (where freePort's ports are)
 * any outgoing connection of this shared machine may take base+1 between the check and the
 * start (CI and a busy machine saw m2 fail with EADDRINUSE). The search starts at an offset of
 * this process's pid, so that two test processes do not try the same ports in step.
 */
async function freeBasePort(): Promise<number> {
  const slots = Math.floor((ephemeralRangeStart() - lowestBasePort - agentPortOffset) / basePortStep);
  assert.ok(slots > maxPortSearches, `room for base ports below the ephemeral range (${slots} slots)`);
  for (let search = 0; search < maxPortSearches; search++) {
    const base = lowestBasePort + ((process.pid + search * 7919) % slots) * basePortStep;
    const ports = [base, base + 1, base + 2, base + agentPortOffset];
    const problems = await Promise.all(ports.map((port) => portProblem('127.0.0.1', port)));
    if (problems.every((problem) => problem === null)) {
      process.stdout.write(`base port ${base}\n`);
      return base;
    }
  }
  throw new Error(`no free base port after ${maxPortSearches} tries`);
}

/** `npm start -- ARGS`, in a process group of its own (a terminal's foreground job). */
function start(args: readonly string[]): StartProcess {
  const child = spawn('npm', ['start', '--', ...args], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLOTILLA_MASTERS: '', FLOTILLA_BASE_PORT: '', FLOTILLA_DATA_DIR: '' },
  });
  const process_: StartProcess = {
    child,
    output: { stdout: '', stderr: '' },
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    process_.output.stdout += chunk.toString('utf8');
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    process_.output.stderr += chunk.toString('utf8');
  });
  return process_;
}

/** What npm start printed itself, without npm's own "> flotilla@… start" header. */
function startOutput(started: StartProcess): string[] {
  return started.output.stdout
    .split('\n')
    .filter((line) => !line.startsWith('> '))
    .join('\n')
    .trim()
    .split('\n');
}

function startTranscript(started: StartProcess): string {
  return `--- stdout\n${started.output.stdout}\n--- stderr\n${started.output.stderr}`;
}

async function waitForBlock(started: StartProcess): Promise<string[]> {
  let exited = false;
  void started.exited.then(() => {
    exited = true;
  });
  const outcome = await waitFor(
    () => (/^\s+stop\s+Ctrl-C/m.test(started.output.stdout) ? 'up' : exited ? 'exited' : null),
    { timeoutMs: upTimeoutMs, what: 'the npm start block', intervalMs: 200 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${startTranscript(started)}`);
  });
  // A port taken by another test between our check and the start: say so, do not wait it out.
  if (outcome === 'exited') throw new Error(`npm start exited before it was up\n${startTranscript(started)}`);
  return startOutput(started);
}

/** Every process below `root` (children, grandchildren), from /proc. */
function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of parents) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ctrl-C: SIGINT to the whole process group; then every node must have exited, cleanly. */
async function interruptAndCheck(started: StartProcess): Promise<void> {
  const below = descendants(started.child.pid!);
  assert.ok(below.length >= 5, `npm start, 3 masters and an agent below npm, found pids ${below.join(', ')}`);
  process.kill(-started.child.pid!, 'SIGINT');
  await waitFor(() => below.every((pid) => !alive(pid)), {
    timeoutMs: 60_000,
    what: `every process of npm start to exit (${below.join(', ')})`,
    intervalMs: 200,
  }).catch((error: Error) => {
    for (const pid of below.filter(alive)) process.kill(pid, 'SIGKILL');
    throw new Error(`${error.message}\n${startTranscript(started)}`);
  });
  await withTimeout(started.exited, 60_000, `npm start itself to exit after its nodes\n${startTranscript(started)}`);
  assert.match(
    started.output.stdout,
    /^stopped: m1 code 0 · m2 code 0 · m3 code 0 · agent code 0$/m,
    `one Ctrl-C stops every node cleanly (not killed):\n${startTranscript(started)}`,
  );
}

/** After a failed check: stop whatever still runs, without a second failure hiding the first. */
async function stopAfterFailure(started: StartProcess): Promise<void> {
  const below = descendants(started.child.pid!);
  try {
    process.kill(-started.child.pid!, 'SIGINT');
  } catch {
    // The group is gone already.
  }
  await waitFor(() => below.every((pid) => !alive(pid)), { timeoutMs: 30_000, what: 'npm start to stop' }).catch(() => {
    for (const pid of below.filter(alive)) process.kill(pid, 'SIGKILL');
  });
}

const agentIdOf = (lines: readonly string[]): string => {
  const match = lines.map((line) => /agent\s+\S+ · id (\S+)/.exec(line)).find((found) => found !== null);
  assert.ok(match, `the block names the agent's id:\n${lines.join('\n')}`);
  return match![1]!;
};

test('npm start: a short block, a first task, a clean Ctrl-C, and a resume from the same data', async () => {
  const base = await freeBasePort();
  const dataDir = makeTempDir('npm-start-');
  const masters = [0, 1, 2].map((offset) => `127.0.0.1:${base + offset}`).join(',');
  const first = start(['--base-port', String(base), '--data-dir', dataDir]);
  let lines: string[];
  try {
    lines = await waitForBlock(first);
    assert.ok(lines.length <= 25, `at most 25 lines, got ${lines.length}:\n${lines.join('\n')}`);
    const leader = lines.find((line) => /\(leader\)/.test(line));
    assert.ok(leader, `the block names the leader:\n${lines.join('\n')}`);
    const leaderAddress = /(127\.0\.0\.1:\d+) \(leader\)/.exec(leader!)![1];
    assert.ok(
      lines.some((line) => line.includes(`web UI     http://${leaderAddress}/`)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((line) => line.includes('run -- echo hello')),
      'a first task to try',
    );
    for (const [name, route] of [
      ['services', '/v2/apps'],
      ['jobs', '/v1/jobs'],
    ] as const) {
      assert.ok(
        lines.some((line) => line.includes(`${name.padEnd(9)}  http://${leaderAddress}${route}`)),
        `the block names the ${name} API:\n${lines.join('\n')}`,
      );
      // Hosted by the leader, answered by every master (a follower forwards): each one's port.
      for (const address of masters.split(','))
        await waitFor(async () => (await fetch(`http://${address}${route}`).catch(() => null))?.status === 200, {
          timeoutMs: 90_000,
          what: `GET ${route} at ${address} to answer 200`,
          intervalMs: 200,
        });
    }
    assert.ok(
      lines.some((line) => line.includes(`${dataDir}/logs/<node>.log`)),
      'where the logs are',
    );
    assert.ok(
      lines.some((line) => /docker/.test(line)),
      'what the agent says of Docker',
    );
    assert.not.match(first.output.stdout, /"level"/, 'no JSON log line on the terminal');
    assert.match(readFileSync(path.join(dataDir, 'logs', 'm1.log'), 'utf8'), /"level"/, 'the logs are in files');

    const hello = await flotilla(['run', '--masters', masters, '--', 'echo', 'hello']);
    assert.is(hello.status, 0, transcript(hello));
    assert.match(hello.stdout, /^hello$/m, transcript(hello));
    if (dockerWhyNot === undefined) {
      // The agent of npm start was given the Docker containerizer: a Docker task runs.
      const image = process.env.FLOTILLA_TEST_IMAGE!;
      const docker = await flotilla([
        'run',
        '--masters',
        masters,
        '--docker-image',
        image,
        '--',
        'echo hello from docker',
      ]);
      assert.is(docker.status, 0, transcript(docker));
      assert.match(docker.stdout, /^hello from docker$/m, transcript(docker));
    }
  } catch (error) {
    await stopAfterFailure(first);
    throw error;
  }
  await interruptAndCheck(first);
  const firstAgent = agentIdOf(lines!);
  const down = await flotilla(['tasks', '--json', '--masters', masters]);
  assert.is(down.status, 3, `nothing answers once npm start has stopped:\n${transcript(down)}`);
  assert.match(down.stderr, /"code":"NO_MASTER"/, transcript(down));

  // The resume runs with --verbose: the nodes' JSON logs stream to the terminal (stderr) and
  // still go to their files; the block is the same.
  const logBytesBefore = statSync(path.join(dataDir, 'logs', 'm1.log')).size;
  const second = start(['--base-port', String(base), '--data-dir', dataDir, '--verbose']);
  try {
    const resumed = await waitForBlock(second);
    assert.ok(
      resumed.some((line) => /^Flotilla is up: .*\(resumed/.test(line)),
      resumed.join('\n'),
    );
    assert.ok(resumed.length <= 25, `--verbose keeps the block to itself on stdout:\n${resumed.join('\n')}`);
    // Chunks of three nodes interleave on one stream: a line cut by another node's is skipped.
    const streamedNodes = new Set(
      second.output.stderr.split('\n').map((line) => {
        try {
          return (JSON.parse(line) as { node?: string }).node;
        } catch {
          return undefined;
        }
      }),
    );
    for (const node of ['m1', 'm2', 'm3'])
      assert.ok(
        streamedNodes.has(node),
        `--verbose streams ${node}'s JSON log lines:\n${startTranscript(second).slice(-2000)}`,
      );
    assert.ok(
      statSync(path.join(dataDir, 'logs', 'm1.log')).size > logBytesBefore,
      'and still writes them to the file',
    );
    assert.is(agentIdOf(resumed), firstAgent, 'the agent keeps its id');
    const tasks = await flotilla(['tasks', '--json', '--masters', masters]);
    assert.is(tasks.status, 0, transcript(tasks));
    const rows = parseJson<{ id: string; name: string; state: string }[]>(tasks);
    assert.ok(
      rows.some((row) => row.name === 'flotilla-run' && row.state === 'TASK_FINISHED'),
      `the first start's task is still there:\n${transcript(tasks)}`,
    );
  } catch (error) {
    await stopAfterFailure(second);
    throw error;
  }
  await interruptAndCheck(second);
});

test('a taken port is a one-line error naming it and --base-port, and nothing starts', async () => {
  const base = await freeBasePort();
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(base + 1, '127.0.0.1', resolve));
  try {
    const started = start(['--base-port', String(base), '--data-dir', makeTempDir('npm-start-taken-')]);
    await withTimeout(started.exited, upTimeoutMs, 'npm start to exit on a taken port').catch(async (error: Error) => {
      await stopAfterFailure(started);
      throw new Error(`${error.message}\n${startTranscript(started)}`);
    });
    assert.is(started.child.exitCode, 1, startTranscript(started));
    // npm may add its own lines after a failed script ("npm error …"): ours is the one left.
    const errorLines = started.output.stderr
      .trim()
      .split('\n')
      .filter((line) => !/^npm (error|ERR!)/.test(line));
    assert.is(errorLines.length, 1, startTranscript(started));
    assert.match(errorLines[0]!, new RegExp(`port ${base + 1} \\(m2\\) is in use`));
    assert.match(errorLines[0]!, /--base-port \d+/);
    assert.match(errorLines[0]!, /FLOTILLA_BASE_PORT/);
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
});

test.run();
