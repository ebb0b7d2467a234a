// The process containerizer on real processes: exit codes, shell and argv commands, output in
// the sandbox, kill with a grace period, recovery by a fresh instance after the launching
// process is gone, orphan removal, usage, and cgroup limits where the kernel offers them.
// flotilla-test-timeout-seconds: 240
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { detectCgroups, taskCgroupName } from '../../src/agent/containerizer/cgroups.ts';
import { maxSpawnsPerTurn, ProcessContainerizer } from '../../src/agent/containerizer/process.ts';
import {
  ContainerLaunchError,
  type ContainerCommand,
  type ContainerHandle,
  type ContainerSpec,
} from '../../src/agent/containerizer/types.ts';
import { isSameProcessAlive } from '../../src/agent/containerizer/proc-fs.ts';
import { prepareSandbox } from '../../src/agent/sandbox-owner.ts';
import type { TaskUser } from '../../src/agent/task-user.ts';
import { createLogger, silentLogger } from '../../src/util/logger.ts';
import { rootUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const waitMs = 30_000;
let taskCounter = 0;

function shell(value: string): ContainerCommand {
  return { value, shell: true, arguments: [] };
}

function makeSpec(command: ContainerCommand, overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  taskCounter += 1;
  return {
    agentId: `agent-${process.pid}`,
    frameworkId: 'fw-1',
    taskId: `task-${taskCounter}`,
    sandbox: makeTempDir('sandbox-'),
    command,
    image: null,
    network: 'HOST',
    environment: { PATH: process.env.PATH ?? '/usr/bin:/bin', GREETING: 'hello' },
    cpus: null,
    memMb: null,
    forcePullImage: false,
    portMappings: [],
    volumes: [],
    persistentVolumes: [],
    privileged: false,
    parameters: [],
    hostname: null,
    user: null,
    ...overrides,
  };
}

function sandboxFile(spec: ContainerSpec, name: string): string {
  return readFileSync(path.join(spec.sandbox, name), 'utf8');
}

const containerizer = new ProcessContainerizer({ logger: silentLogger, cgroups: 'off', recoverPollIntervalMs: 50 });

const running = suite('process containerizer: running tasks');

running(
  'a shell command runs to exit 0 in its sandbox, with its environment, output in the sandbox files',
  async () => {
    const spec = makeSpec(shell('echo "$GREETING from $(pwd)"; echo oops >&2'));
    const task = await containerizer.launch(spec);
    assert.equal(await task.exited, { kind: 'exited', code: 0 });
    assert.is(sandboxFile(spec, 'stdout'), `hello from ${spec.sandbox}\n`);
    assert.is(sandboxFile(spec, 'stderr'), 'oops\n');
    assert.is(task.handle.kind, 'process');
    assert.ok(task.handle.startTime !== null && task.handle.startTime !== '');
    assert.is(await task.usage(), null, 'no usage once ended');
  },
);

running('an exit code is reported as it is', async () => {
  const task = await containerizer.launch(makeSpec(shell('exit 3')));
  assert.equal(await task.exited, { kind: 'exited', code: 3 });
});

running('shell=false runs the program with its arguments, untouched by a shell', async () => {
  const spec = makeSpec({ value: 'echo', shell: false, arguments: ['echo', 'a  b', '$GREETING'] });
  const task = await containerizer.launch(spec);
  assert.equal(await task.exited, { kind: 'exited', code: 0 });
  assert.is(sandboxFile(spec, 'stdout'), 'a  b $GREETING\n');
});

running('a program that does not exist, or a sandbox that does not, is a launch error', async () => {
  for (const spec of [
    makeSpec({ value: 'no-such-program-flotilla', shell: false, arguments: [] }),
    makeSpec(shell('true'), { sandbox: '/nonexistent/flotilla/sandbox' }),
    makeSpec(null as unknown as ContainerCommand),
  ]) {
    try {
      await containerizer.launch(spec);
      assert.unreachable('launch should have failed');
    } catch (error) {
      assert.instance(error, ContainerLaunchError);
    }
  }
});

running('output appended by an earlier run of the sandbox is kept', async () => {
  const spec = makeSpec(shell('echo second'));
  writeFileSync(path.join(spec.sandbox, 'stdout'), 'first\n');
  const task = await containerizer.launch(spec);
  await task.exited;
  assert.is(sandboxFile(spec, 'stdout'), 'first\nsecond\n');
});

running.run();

const killing = suite('process containerizer: kill with a grace period');

killing('a task that traps TERM and exits late within the grace period ends with its own status', async () => {
  const spec = makeSpec(
    shell('trap "echo cleaning; sleep 0.3; exit 0" TERM; echo ready; while :; do sleep 0.05; done'),
  );
  const task = await containerizer.launch(spec);
  await waitFor(() => sandboxFile(spec, 'stdout').includes('ready'), { timeoutMs: waitMs, what: 'the task to start' });
  assert.equal(await task.kill(20_000), { kind: 'exited', code: 0 });
  assert.match(sandboxFile(spec, 'stdout'), /cleaning/);
});

killing('a task that ignores TERM is killed with SIGKILL after the grace period', async () => {
  const spec = makeSpec(shell('trap "" TERM; echo ready; while :; do sleep 0.05; done'));
  const task = await containerizer.launch(spec);
  await waitFor(() => sandboxFile(spec, 'stdout').includes('ready'), { timeoutMs: waitMs, what: 'the task to start' });
  const pid = task.handle.pid ?? 0;
  assert.equal(await task.kill(300), { kind: 'signalled', signal: 'SIGKILL' });
  assert.not.ok(isSameProcessAlive(pid, task.handle.startTime ?? ''));
  assert.equal(await task.kill(300), { kind: 'signalled', signal: 'SIGKILL' }, 'a second kill answers the same');
});

killing('a plain task dies of TERM and says so', async () => {
  const task = await containerizer.launch(makeSpec({ value: 'sleep', shell: false, arguments: ['sleep', '60'] }));
  assert.equal(await task.kill(20_000), { kind: 'signalled', signal: 'SIGTERM' });
});

killing.run();

/** Launches in another Node process that exits at once, as an agent that stops would. */
function launchFromAnotherProcess(spec: ContainerSpec): ContainerHandle {
  const program = path.join(makeTempDir(), 'launch.mts');
  writeFileSync(
    program,
    `
    import { ProcessContainerizer } from ${JSON.stringify(path.join(repoRoot, 'src/agent/containerizer/process.ts'))};
    import { silentLogger } from ${JSON.stringify(path.join(repoRoot, 'src/util/logger.ts'))};
    const spec = JSON.parse(process.argv[2] ?? '{}');
    const task = await new ProcessContainerizer({ logger: silentLogger, cgroups: 'off' }).launch(spec);
    process.stdout.write(JSON.stringify(task.handle));
    process.exit(0);
  `,
  );
  const result = spawnSync(process.execPath, ['--import', 'tsx', program, JSON.stringify(spec)], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as ContainerHandle;
}

const recovery = suite('process containerizer: recovery');

recovery('a fresh instance re-attaches to a task whose launcher is gone and learns its exit code', async () => {
  const spec = makeSpec(shell('echo started; while [ ! -e go ]; do sleep 0.05; done; exit 4'));
  const handle = launchFromAnotherProcess(spec);
  assert.ok(isSameProcessAlive(handle.pid ?? 0, handle.startTime ?? ''), 'the task outlives its launcher');
  const fresh = new ProcessContainerizer({ logger: silentLogger, cgroups: 'off', recoverPollIntervalMs: 50 });
  const task = await fresh.recover(handle, spec);
  assert.ok(task !== null);
  writeFileSync(path.join(spec.sandbox, 'go'), '');
  assert.equal(await task.exited, { kind: 'exited', code: 4 });
  assert.match(sandboxFile(spec, 'stdout'), /started/);
});

recovery('a re-attached task can be killed', async () => {
  const spec = makeSpec(shell('trap "exit 9" TERM; echo ready; while :; do sleep 0.05; done'));
  const handle = launchFromAnotherProcess(spec);
  const task = await new ProcessContainerizer({
    logger: silentLogger,
    cgroups: 'off',
    recoverPollIntervalMs: 50,
  }).recover(handle, spec);
  assert.ok(task !== null);
  // Its trap is set once it says so: a TERM before that ends it by the signal (seen in CI).
  await waitFor(() => sandboxFile(spec, 'stdout').includes('ready'), {
    timeoutMs: waitMs,
    what: 'the task to set its trap',
  });
  assert.equal(await task.kill(20_000), { kind: 'exited', code: 9 });
});

recovery('a task that ended while no agent watched is recovered with its exit code', async () => {
  const spec = makeSpec(shell('exit 6'));
  const handle = launchFromAnotherProcess(spec);
  await waitFor(() => existsSync(path.join(spec.sandbox, '.exit_status')), {
    timeoutMs: waitMs,
    what: 'the exit status file',
  });
  await waitFor(() => !isSameProcessAlive(handle.pid ?? 0, handle.startTime ?? ''), {
    timeoutMs: waitMs,
    what: 'the wrapper to be gone',
  });
  const task = await containerizer.recover(handle, spec);
  assert.ok(task !== null);
  assert.equal(await task.exited, { kind: 'exited', code: 6 });
});

recovery('a vanished pid, or a pid now used by another process, is not recovered', async () => {
  const spec = makeSpec(shell('true'));
  const gone = spawnSync('true');
  assert.is(
    await containerizer.recover(
      { kind: 'process', pid: gone.pid ?? 0, startTime: '1', containerId: null, user: null },
      spec,
    ),
    null,
  );
  // This test process is alive, but it did not start at tick 1: a reused pid.
  assert.is(
    await containerizer.recover(
      { kind: 'process', pid: process.pid, startTime: '1', containerId: null, user: null },
      spec,
    ),
    null,
  );
  assert.is(
    await containerizer.recover({ kind: 'docker', pid: null, startTime: null, containerId: 'abc', user: null }, spec),
    null,
  );
});

recovery.run();

const housekeeping = suite('process containerizer: orphans and usage');

housekeeping('removeOrphans kills the groups of unknown tasks of this agent and keeps known ones', async () => {
  const agentId = `orphans-${process.pid}`;
  const known = await containerizer.launch(
    makeSpec(shell('sleep 60'), { agentId, frameworkId: 'fw', taskId: 'known' }),
  );
  const unknown = await containerizer.launch(
    makeSpec(shell('sleep 60'), { agentId, frameworkId: 'fw', taskId: 'unknown' }),
  );
  const other = await containerizer.launch(
    makeSpec(shell('sleep 60'), { agentId: `${agentId}-other`, frameworkId: 'fw', taskId: 'x' }),
  );
  const removed = await containerizer.removeOrphans(agentId, new Set(['fw/known']));
  assert.equal(removed, [String(unknown.handle.pid)]);
  assert.equal(await unknown.exited, { kind: 'signalled', signal: 'SIGTERM' });
  assert.ok(isSameProcessAlive(known.handle.pid ?? 0, known.handle.startTime ?? ''));
  assert.ok(
    isSameProcessAlive(other.handle.pid ?? 0, other.handle.startTime ?? ''),
    "another agent's task is not ours",
  );
  await Promise.all([known.kill(1_000), other.kill(1_000)]);
});

housekeeping('usage of a busy task returns numbers, summed over its process group', async () => {
  const spec = makeSpec(shell('while :; do :; done'), { cpus: 1.5, memMb: 64 });
  const task = await containerizer.launch(spec);
  const usage = await waitFor(
    async () => {
      const sample = await task.usage();
      return sample !== null && sample.cpusUserTimeSecs + sample.cpusSystemTimeSecs > 0 ? sample : null;
    },
    { timeoutMs: waitMs, what: 'CPU time to show in the usage' },
  );
  assert.ok(usage.memRssBytes > 0);
  assert.ok(usage.cpuPercent >= 0);
  assert.is(usage.memLimitBytes, 64 * 1024 * 1024);
  assert.is(usage.cpusLimit, 1.5);
  await task.kill(1_000);
});

housekeeping('a burst of launches spawns a few per turn of the event loop, not all in one', async () => {
  // Each spawn holds the loop until its child exec'd: a thousand in one turn left the agent deaf to
  // the master's pings for seconds. Turns are counted by a ticker that runs once per check phase.
  const containerizer = new ProcessContainerizer({ logger: silentLogger, cgroups: 'off' });
  let turn = 0;
  let ticking = true;
  const tick = (): void => {
    turn += 1;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const launches = 5 * maxSpawnsPerTurn;
  const spawnedInTurn = new Map<number, number>();
  const tasks = await Promise.all(
    Array.from({ length: launches }, () =>
      containerizer.launch(makeSpec(shell('exit 0'))).then((task) => {
        spawnedInTurn.set(turn, (spawnedInTurn.get(turn) ?? 0) + 1);
        return task;
      }),
    ),
  );
  ticking = false;
  for (const task of tasks) assert.equal(await task.exited, { kind: 'exited', code: 0 });
  const most = Math.max(...spawnedInTurn.values());
  // A turn's poll phase and its check phase may each take their share.
  assert.ok(most <= 2 * maxSpawnsPerTurn, `${most} spawns between two ticks: ${JSON.stringify([...spawnedInTurn])}`);
  assert.ok(spawnedInTurn.size >= launches / (2 * maxSpawnsPerTurn));
});

housekeeping.run();

const support = detectCgroups();
const cgroupReason = support.kind === 'none' ? support.why : undefined;
const limits = suite('process containerizer: cgroup limits');

testUnless(limits, cgroupReason, 'a task runs in its own cgroup with its memory and cpu limits', async () => {
  const limited = new ProcessContainerizer({ logger: silentLogger, recoverPollIntervalMs: 50 });
  const spec = makeSpec(shell('echo ready; sleep 60'), { memMb: 48, cpus: 0.5 });
  const task = await limited.launch(spec);
  await waitFor(() => sandboxFile(spec, 'stdout').includes('ready'), { timeoutMs: waitMs, what: 'the task to start' });
  const name = taskCgroupName(spec.agentId, spec.frameworkId, spec.taskId);
  const membership = readFileSync(`/proc/${task.handle.pid}/cgroup`, 'utf8');
  assert.ok(membership.includes(`/flotilla/${name}`), membership);
  if (support.kind === 'v2') {
    assert.is(readFileSync(path.join(support.root, name, 'memory.max'), 'utf8').trim(), String(48 * 1024 * 1024));
    assert.is(readFileSync(path.join(support.root, name, 'cpu.max'), 'utf8').trim(), '50000 100000');
  } else if (support.kind === 'v1') {
    assert.is(
      readFileSync(path.join(support.memoryRoot, name, 'memory.limit_in_bytes'), 'utf8').trim(),
      String(48 * 1024 * 1024),
    );
    assert.is(readFileSync(path.join(support.cpuRoot, name, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
    assert.is(
      readFileSync(path.join(support.cpuRoot, name, 'cpu.cfs_period_us'), 'utf8').trim(),
      '100000',
      "the kernel's own period, which the quota is a share of (never written)",
    );
  }
  await task.kill(1_000);
  const folder = path.join(
    support.kind === 'v2' ? support.root : support.kind === 'v1' ? support.memoryRoot : '/',
    name,
  );
  await waitFor(() => !existsSync(folder), { timeoutMs: waitMs, what: `the task's cgroup ${folder} to be removed` });
});

testUnless(limits, cgroupReason, 'a task that exceeds its memory limit ends as oom', async () => {
  const limited = new ProcessContainerizer({ logger: silentLogger });
  // The shell keeps the whole 256 MB string in memory, well past the 32 MB limit.
  const task = await limited.launch(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: `${#x}` is the shell's string length, not a template.
    makeSpec(shell('x=$(head -c 268435456 /dev/zero | tr "\\0" a); echo ${#x}'), { memMb: 32 }),
  );
  const exit = await task.exited;
  assert.is(exit.kind, 'oom', JSON.stringify(exit));
});

limits('without cgroups a task runs unlimited, and the agent says why once', async () => {
  const lines: string[] = [];
  const logger = createLogger(
    { node: 'agent-test', component: 'containerizer' },
    { write: (line: string) => void lines.push(line) },
  );
  const unlimited = new ProcessContainerizer({ logger, cgroupBase: makeTempDir('no-cgroups-') });
  for (let run = 0; run < 2; run += 1) {
    const task = await unlimited.launch(makeSpec(shell('exit 0'), { memMb: 32, cpus: 1 }));
    assert.equal(await task.exited, { kind: 'exited', code: 0 });
  }
  const warnings = lines
    .map((line) => JSON.parse(line) as { event?: string; why?: string })
    .filter((entry) => entry.event === 'cgroups_unavailable');
  assert.is(warnings.length, 1);
  assert.match(warnings[0]?.why ?? '', /neither cgroup v2/);
});

limits(
  'a v1 task cgroup takes two writes (its memory limit and its cpu quota), nothing the kernel already has',
  async () => {
    // A v1 layout in a plain folder: what the agent writes there is what it would write to the kernel.
    const base = makeTempDir('fake-cgroup-v1-');
    mkdirSync(path.join(base, 'memory'));
    mkdirSync(path.join(base, 'cpu'));
    writeFileSync(path.join(base, 'memory', 'memory.limit_in_bytes'), '9223372036854771712');
    writeFileSync(path.join(base, 'cpu', 'cpu.cfs_quota_us'), '-1');
    const containerizer = new ProcessContainerizer({ logger: silentLogger, cgroupBase: base });
    const spec = makeSpec(shell('exit 0'), { memMb: 32, cpus: 0.1 });
    const task = await containerizer.launch(spec);
    assert.equal(await task.exited, { kind: 'exited', code: 0 });
    const name = taskCgroupName(spec.agentId, spec.frameworkId, spec.taskId);
    const written = (hierarchy: string) =>
      readdirSync(path.join(base, hierarchy, 'flotilla', name))
        .filter((file) => file !== 'cgroup.procs')
        .sort();
    assert.equal(written('memory'), ['memory.limit_in_bytes']);
    assert.equal(written('cpu'), ['cpu.cfs_quota_us'], 'no cpu.cfs_period_us: a new cgroup has the 100 ms period');
    assert.is(readFileSync(path.join(base, 'cpu', 'flotilla', name, 'cpu.cfs_quota_us'), 'utf8'), '10000');
  },
);

limits.run();

const users = suite('process containerizer: tasks as another user');
const notRoot = rootUnavailableReason();

testUnless(
  users,
  notRoot,
  'a task runs as its user with its groups; its files and its check commands are that user too',
  async () => {
    // 100 is not one of nobody's groups: it shows the groups are the agent's choice, set by setpriv.
    const nobody: TaskUser = { name: 'nobody', uid: 65534, gid: 65534, groups: [65534, 100] };
    const spec = makeSpec(shell('echo "$(id -u) $(id -g) $(id -G)"; echo made > by-task; sleep 60'), { user: nobody });
    prepareSandbox(spec.sandbox, nobody);
    const task = await containerizer.launch(spec);
    assert.equal(task.handle.user, nobody, 'the handle keeps the user, for an agent that recovers the task');
    await waitFor(() => existsSync(path.join(spec.sandbox, 'by-task')), { timeoutMs: waitMs, what: 'the task file' });
    assert.is(sandboxFile(spec, 'stdout'), '65534 65534 65534 100\n');
    assert.is(statSync(path.join(spec.sandbox, 'by-task')).uid, 65534);
    assert.is(await task.runCheckCommand('test "$(id -u)" = 65534', 10_000), 0);
    assert.is(await task.runCheckCommand('touch /root/forbidden', 10_000), 1, 'a check has no root rights');
    assert.equal(await task.kill(1_000), { kind: 'signalled', signal: 'SIGTERM' });
    assert.equal(
      readFileSync(path.join(spec.sandbox, '.exit_status'), 'utf8').trim(),
      '143',
      'the root wrapper wrote it',
    );
  },
);

users.run();
