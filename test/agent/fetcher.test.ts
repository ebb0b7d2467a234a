// The agent's fetcher (src/agent/fetcher.ts) through a real agent process and a real master:
// a local HTTP server (on a free port) serves a plain file, a script, a .tar.gz and a .zip; a
// task fetches them (and a file:// URI) into its sandbox and reads them; a 404 ends the task
// TASK_FAILED with REASON_CONTAINER_LAUNCH_FAILED naming the URI; a task run as nobody gets its
// files owned by nobody and cannot copy a file nobody cannot read; a Docker task reads a fetched
// file under /mnt/mesos/sandbox. (The master's 400 for an output_file with "..":
// test/http/scheduler-task-fields.test.ts and test/http/hostile-scheduler.test.ts.)
// flotilla-test-timeout-seconds: 300
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CommandUri } from '../../src/protocol/command-uris.ts';
import type { AgentId, FrameworkId } from '../../src/state-machine/ids.ts';
import type { TaskDefinition } from '../../src/state-machine/values.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { dockerUnavailableReason, rootUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import {
  AgentProcess,
  commandTask,
  launchTasks,
  RestartableMaster,
  subscribeFramework,
  waitForAgent,
  waitForTaskState,
} from './support/daemon-support.ts';

interface Context {
  master: RestartableMaster;
  agent: AgentProcess;
  agentId: AgentId;
  framework: FrameworkId;
  server: Server;
  base: string;
  files: string;
}

function hasProgram(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const zipUnavailable = hasProgram('unzip') && hasProgram('zip') ? undefined : 'unzip or zip is not installed';

/** What the HTTP server serves: plain.txt, run.sh, bundle.tar.gz, bundle.zip (when zip is installed). */
function makeFiles(): string {
  const root = makeTempDir('fetcher-files-');
  writeFileSync(path.join(root, 'plain.txt'), 'plain fetched\n');
  writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\necho script ran\n');
  const tree = path.join(root, 'tree');
  mkdirSync(path.join(tree, 'from-archive'), { recursive: true });
  writeFileSync(path.join(tree, 'from-archive', 'inner.txt'), 'unpacked\n');
  execFileSync('tar', ['-C', tree, '-czf', path.join(root, 'bundle.tar.gz'), 'from-archive']);
  if (zipUnavailable === undefined) {
    mkdirSync(path.join(tree, 'from-zip'));
    writeFileSync(path.join(tree, 'from-zip', 'inner.txt'), 'unzipped\n');
    execFileSync('zip', ['-q', '-r', path.join(root, 'bundle.zip'), 'from-zip'], { cwd: tree });
  }
  return root;
}

function serve(files: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const name = path.basename(request.url ?? '');
    const file = path.join(files, name);
    if (name === '' || !existsSync(file) || statSync(file).isDirectory()) {
      response.writeHead(404).end('not here');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

function uri(value: string, options: Partial<CommandUri> = {}): CommandUri {
  return { value, executable: false, extract: true, cache: false, outputFile: null, ...options };
}

function withUris(id: string, command: string, uris: CommandUri[], extra: Partial<TaskDefinition> = {}) {
  const task = commandTask(id, command, extra);
  return { ...task, command: { ...task.command!, uris } };
}

const fetcher = suite<Context>('agent fetcher', {} as Context);

fetcher.before(async (context) => {
  context.files = makeFiles();
  const port = await freePort();
  context.server = await serve(context.files, port);
  context.base = `http://127.0.0.1:${port}`;
  context.master = await RestartableMaster.start();
  context.agent = await AgentProcess.start(context.master.address, ['--containerizers', 'process,docker']);
  // A task user other than the agent's must be able to reach its sandbox (sandbox-owner.ts).
  chmodSync(context.agent.workDir, 0o755);
  context.agentId = await waitForAgent(() => context.master.state(), context.agent.hostname);
  context.framework = await subscribeFramework((command) => context.master.facade.submit(command));
});

fetcher.after(async (context) => {
  await context.agent?.stop();
  await context.master?.stop();
  await new Promise((resolve) => context.server?.close(resolve));
});

function sandboxOf(context: Context, task: string): string {
  return path.join(context.agent.workDir, 'frameworks', context.framework, 'tasks', task);
}

fetcher('a task fetches a file, a script, archives and a file:// URI, then reads them', async (context) => {
  const local = path.join(context.files, 'local.txt');
  writeFileSync(local, 'copied locally\n');
  const uris = [
    uri(`${context.base}/plain.txt`),
    uri(`${context.base}/run.sh`, { executable: true, outputFile: 'bin/run' }),
    uri(`${context.base}/bundle.tar.gz`),
    uri(`${context.base}/bundle.tar.gz`, { extract: false, outputFile: 'kept.tar.gz' }),
    uri(`file://${local}`, { outputFile: 'copied.txt' }),
    uri(local, { cache: true }),
    ...(zipUnavailable === undefined ? [uri(`${context.base}/bundle.zip`)] : []),
  ];
  const reads = 'cat plain.txt; ./bin/run; cat from-archive/inner.txt; cat copied.txt local.txt';
  const command = zipUnavailable === undefined ? `${reads}; cat from-zip/inner.txt` : reads;
  await launchTasks(() => context.master.facade, context.framework, context.agentId, [
    withUris('fetch-all', `set -e; ${command}`, uris),
  ]);
  const task = await waitForTaskState(() => context.master.state(), context.framework, 'fetch-all', 'TASK_FINISHED');
  assert.ok(task, 'the task finished');
  const sandbox = sandboxOf(context, 'fetch-all');
  const expected = ['plain fetched', 'script ran', 'unpacked', 'copied locally', 'copied locally'];
  if (zipUnavailable === undefined) expected.push('unzipped');
  assert.equal(readFileSync(path.join(sandbox, 'stdout'), 'utf8').trim().split('\n'), expected);
  assert.is(statSync(path.join(sandbox, 'bin', 'run')).mode & 0o777, 0o755, 'executable: mode 0755');
  assert.ok(existsSync(path.join(sandbox, 'kept.tar.gz')), 'extract false keeps the archive as it is');
  const stderr = readFileSync(path.join(sandbox, 'stderr'), 'utf8');
  assert.match(stderr, `Fetching URI '${context.base}/plain.txt'`);
  assert.match(stderr, `Fetched '${context.base}/run.sh' to '${path.join(sandbox, 'bin', 'run')}'`);
  assert.match(stderr, /Extracting with command: tar/);
  const logged = context.agent.output.split('\n').filter((line) => line.includes('"uri fetched"'));
  assert.is(logged.filter((line) => line.includes('"task":"fetch-all"')).length, uris.length, 'one log line per URI');
});

fetcher('a URI answering 404 fails the launch with REASON_CONTAINER_LAUNCH_FAILED naming it', async (context) => {
  const missing = `${context.base}/missing.txt`;
  await launchTasks(() => context.master.facade, context.framework, context.agentId, [
    withUris('fetch-404', 'echo should not run', [uri(`${context.base}/plain.txt`), uri(missing)]),
  ]);
  const task = await waitForTaskState(() => context.master.state(), context.framework, 'fetch-404', 'TASK_FAILED');
  const last = task.statuses.at(-1)!;
  assert.is(last.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
  assert.is(last.source, 'SOURCE_AGENT');
  assert.match(last.message ?? '', `Failed to fetch all URIs for container 'fetch-404'`);
  assert.match(last.message ?? '', `Failed to fetch '${missing}'`);
  assert.match(last.message ?? '', /HTTP return code 404/);
  const sandbox = sandboxOf(context, 'fetch-404');
  assert.is(readFileSync(path.join(sandbox, 'stdout'), 'utf8'), '', 'the command never ran');
  assert.match(readFileSync(path.join(sandbox, 'stderr'), 'utf8'), `Failed to fetch '${missing}'`);
});

testUnless(
  fetcher,
  rootUnavailableReason(),
  'a task run as nobody gets its files owned by nobody, and cannot copy a file nobody cannot read',
  async (context) => {
    const secret = path.join(context.files, 'secret.txt');
    writeFileSync(secret, 'root only\n');
    chmodSync(secret, 0o600);
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const asNobody = (task: TaskDefinition): TaskDefinition => ({
      ...task,
      command: { ...task.command!, user: 'nobody' },
    });
    await launchTasks(() => context.master.facade, context.framework, context.agentId, [
      asNobody(
        withUris('fetch-nobody', 'cat sub/plain.txt from-archive/inner.txt', [
          uri(`${context.base}/plain.txt`, { outputFile: 'sub/plain.txt' }),
          uri(`${context.base}/bundle.tar.gz`),
        ]),
      ),
      asNobody(withUris('fetch-secret', 'echo should not run', [uri(secret)])),
    ]);
    await waitForTaskState(() => context.master.state(), context.framework, 'fetch-nobody', 'TASK_FINISHED');
    const sandbox = sandboxOf(context, 'fetch-nobody');
    for (const entry of ['sub', 'sub/plain.txt', 'bundle.tar.gz', 'from-archive', 'from-archive/inner.txt'])
      assert.is(statSync(path.join(sandbox, entry)).uid, nobody, `${entry} belongs to nobody`);
    const failed = await waitForTaskState(
      () => context.master.state(),
      context.framework,
      'fetch-secret',
      'TASK_FAILED',
    );
    assert.match(
      failed.statuses.at(-1)?.message ?? '',
      /Failed to fetch '.*secret\.txt': cp exited with status 1: .*Permission denied/,
    );
  },
);

testUnless(
  fetcher,
  await dockerUnavailableReason(),
  'a Docker task reads its fetched file under /mnt/mesos/sandbox',
  async (context) => {
    const image = process.env.FLOTILLA_TEST_IMAGE ?? '';
    const task = withUris('fetch-docker', 'cat /mnt/mesos/sandbox/plain.txt; /mnt/mesos/sandbox/run.sh', [
      uri(`${context.base}/plain.txt`),
      uri(`${context.base}/run.sh`, { executable: true }),
    ]);
    await launchTasks(() => context.master.facade, context.framework, context.agentId, [
      {
        ...task,
        container: {
          type: 'DOCKER',
          image,
          network: 'NONE',
          forcePullImage: false,
          portMappings: [],
          volumes: [],
          privileged: false,
          parameters: [],
          hostname: null,
        },
      },
    ]);
    await waitForTaskState(() => context.master.state(), context.framework, 'fetch-docker', 'TASK_FINISHED');
    const stdout = readFileSync(path.join(sandboxOf(context, 'fetch-docker'), 'stdout'), 'utf8');
    assert.equal(stdout.trim().split('\n'), ['plain fetched', 'script ran']);
  },
);

fetcher.run();
