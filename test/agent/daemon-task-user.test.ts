// Tasks run as a user, end to end: a framework over the HTTP scheduler API, a real master and a
// real root agent. FrameworkInfo.user and CommandInfo.user choose the user (checked with `id -u`
// inside the task), an unknown user and root under --no-root-tasks fail at launch with the
// reason, --no-switch-user runs everything as the agent's own user, and under --no-root-tasks a
// Docker `user` parameter must be a numeric uid other than 0 (the test needing Docker too).
// flotilla-test-timeout-seconds: 300
import { chmodSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { frameworkInfo, SchedulerClient } from '../http/support/scheduler-client.ts';
import { dockerUnavailableReason, rootUnavailableReason } from '../support/capabilities.ts';
import { startSingleMaster } from '../support/master.ts';
import { testUnless } from '../support/skip.ts';
import { AgentProcess } from './support/daemon-support.ts';
import { followToEnd, type Json, lastOf, launchOnNextOffer, scalar } from './support/scheduler-tasks.ts';

const users = suite('agent daemon: tasks run as a user');
const notRoot = rootUnavailableReason();

function task(id: string, agentId: unknown, command: Json): Json {
  return {
    name: id,
    task_id: { value: id },
    agent_id: agentId,
    resources: [scalar('cpus', 0.1), scalar('mem', 16)],
    command,
  };
}

/** A master, a root agent with `flags`, a framework subscribed as `user`; runs `body`, then stops them. */
async function withCluster(
  user: string,
  flags: string[],
  body: (client: SchedulerClient, agent: AgentProcess) => Promise<void>,
): Promise<void> {
  const cluster = await startSingleMaster();
  const agent = await AgentProcess.start(cluster.url.slice('http://'.length), flags);
  // makeTempDir folders are 0700: the task users must be able to reach their sandboxes.
  chmodSync(agent.workDir, 0o755);
  let client: SchedulerClient | null = null;
  try {
    client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'users', user }));
    await body(client, agent);
  } finally {
    client?.close();
    await agent.stop();
    await cluster.stop();
  }
}

function stdoutOf(agent: AgentProcess, frameworkId: string, taskId: string): string {
  return readFileSync(path.join(agent.workDir, 'frameworks', frameworkId, 'tasks', taskId, 'stdout'), 'utf8');
}

testUnless(
  users,
  notRoot,
  'FrameworkInfo.user runs the task, CommandInfo.user overrides it, an unknown user fails with the reason',
  async () => {
    await withCluster('nobody', [], async (client, agent) => {
      const ghost = `ghost-${process.pid}`;
      await launchOnNextOffer(client, (agentId) => [
        task('as-framework-user', agentId, { value: 'echo "uid=$(id -u)"; touch mine' }),
        task('as-command-user', agentId, { value: 'echo "uid=$(id -u)"', user: 'daemon' }),
        task('as-ghost', agentId, { value: 'true', user: ghost }),
      ]);
      const seen = await followToEnd(client, ['as-framework-user', 'as-command-user', 'as-ghost']);
      assert.is(lastOf(seen.get('as-framework-user')).state, 'TASK_FINISHED');
      assert.is(stdoutOf(agent, client.frameworkId, 'as-framework-user'), 'uid=65534\n');
      const sandbox = path.join(agent.workDir, 'frameworks', client.frameworkId, 'tasks', 'as-framework-user');
      assert.is(statSync(sandbox).uid, 65534, 'the sandbox is the user');
      assert.is(statSync(path.join(sandbox, 'mine')).uid, 65534);
      assert.is(lastOf(seen.get('as-command-user')).state, 'TASK_FINISHED');
      assert.is(stdoutOf(agent, client.frameworkId, 'as-command-user'), 'uid=1\n');
      const failed = lastOf(seen.get('as-ghost'));
      assert.equal(failed, {
        state: 'TASK_FAILED',
        reason: 'REASON_CONTAINER_LAUNCH_FAILED',
        message: `user "${ghost}" does not exist on this agent`,
      });
    });
  },
);

testUnless(
  users,
  notRoot,
  '--no-root-tasks refuses root and tasks that name no user, and runs the others',
  async () => {
    await withCluster('root', ['--no-root-tasks'], async (client) => {
      await launchOnNextOffer(client, (agentId) => [
        task('as-root', agentId, { value: 'true' }),
        task('as-nobody', agentId, { value: 'test "$(id -u)" = 65534', user: 'nobody' }),
      ]);
      const seen = await followToEnd(client, ['as-root', 'as-nobody']);
      const refused = lastOf(seen.get('as-root'));
      assert.is(refused.state, 'TASK_FAILED');
      assert.is(refused.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
      assert.match(
        refused.message ?? '',
        'user "root" is root, and this agent runs no tasks as root (--no-root-tasks)',
      );
      assert.is(lastOf(seen.get('as-nobody')).state, 'TASK_FINISHED');
    });
    await withCluster('', ['--no-root-tasks'], async (client) => {
      await launchOnNextOffer(client, (agentId) => [task('no-user', agentId, { value: 'true' })]);
      const refused = lastOf((await followToEnd(client, ['no-user'])).get('no-user'));
      assert.is(refused.state, 'TASK_FAILED');
      assert.match(refused.message ?? '', /names no user \(neither command.user nor the framework's user\)/);
    });
  },
);

testUnless(users, notRoot, '--no-switch-user runs the task as the agent user whatever it names', async () => {
  await withCluster('nobody', ['--no-switch-user'], async (client, agent) => {
    await launchOnNextOffer(client, (agentId) => [task('as-agent', agentId, { value: 'echo "uid=$(id -u)"' })]);
    assert.is(lastOf((await followToEnd(client, ['as-agent'])).get('as-agent')).state, 'TASK_FINISHED');
    assert.is(stdoutOf(agent, client.frameworkId, 'as-agent'), 'uid=0\n');
  });
});

testUnless(
  users,
  notRoot ?? (await dockerUnavailableReason()),
  '--no-root-tasks: a Docker user parameter must be a numeric uid other than 0',
  async () => {
    await withCluster('nobody', ['--no-root-tasks', '--containerizers', 'process,docker'], async (client, agent) => {
      const boxed = (id: string, agentId: unknown, user: string): Json => ({
        ...task(id, agentId, { value: 'echo "uid=$(id -u)"' }),
        container: {
          type: 'DOCKER',
          docker: {
            image: process.env.FLOTILLA_TEST_IMAGE,
            network: 'NONE',
            parameters: [{ key: 'user', value: user }],
          },
        },
      });
      await launchOnNextOffer(client, (agentId) => [
        boxed('named-root', agentId, 'root'),
        boxed('by-number', agentId, '4242'),
      ]);
      const seen = await followToEnd(client, ['named-root', 'by-number']);
      const refused = lastOf(seen.get('named-root'));
      assert.is(refused.state, 'TASK_FAILED');
      assert.match(
        refused.message ?? '',
        'docker parameter user=root: this agent runs no tasks as root (--no-root-tasks)',
      );
      assert.is(lastOf(seen.get('by-number')).state, 'TASK_FINISHED');
      assert.is(
        stdoutOf(agent, client.frameworkId, 'by-number'),
        'uid=4242\n',
        'the parameter overrides the task user',
      );
    });
  },
);

users.run();
