// A real agent process against a real in-process master: registration, launches through
// committed accept_offers, the task lifecycle in the replicated state, kill, health checks.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentId, FrameworkId } from '../../src/state-machine/ids.ts';
import { waitFor } from '../support/wait.ts';
import {
  AgentProcess,
  commandTask,
  launchTasks,
  RestartableMaster,
  statesOf,
  subscribeFramework,
  waitForAgent,
  waitForTaskState,
} from './support/daemon-support.ts';

interface Context {
  master: RestartableMaster;
  agent: AgentProcess;
  agentId: AgentId;
  framework: FrameworkId;
}

const tasks = suite<Context>('agent daemon: tasks', {} as Context);

tasks.before(async (context) => {
  context.master = await RestartableMaster.start();
  context.agent = await AgentProcess.start(context.master.address);
  context.agentId = await waitForAgent(() => context.master.state(), context.agent.hostname);
  context.framework = await subscribeFramework((command) => context.master.facade.submit(command));
});

tasks.after(async (context) => {
  await context.agent?.stop();
  await context.master?.stop();
});

tasks('a launched task reports STARTING, RUNNING, FINISHED once each, with the Mesos environment', async (context) => {
  const facade = () => context.master.facade;
  await launchTasks(facade, context.framework, context.agentId, [
    commandTask('hello', 'echo "$MESOS_TASK_ID $MESOS_FRAMEWORK_ID $MESOS_AGENT_ID $PORT0"; echo oops >&2', {
      resources: (await import('./support/daemon-support.ts')).resources([
        { name: 'cpus', role: '*', type: 'SCALAR', scalar: 0.1 },
        { name: 'mem', role: '*', type: 'SCALAR', scalar: 32 },
        { name: 'ports', role: '*', type: 'RANGES', ranges: [{ begin: 31005, end: 31005 }] },
      ]),
    }),
  ]);
  const task = await waitForTaskState(() => context.master.state(), context.framework, 'hello', 'TASK_FINISHED');
  assert.equal(statesOf(task), ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  const uuids = task.statuses.slice(1).map((status) => status.uuid);
  assert.is(new Set(uuids).size, 3);
  const sandbox = path.join(context.agent.workDir, 'frameworks', context.framework, 'tasks', 'hello');
  assert.is(
    readFileSync(path.join(sandbox, 'stdout'), 'utf8').trim(),
    `hello ${context.framework} ${context.agentId} 31005`,
  );
  assert.match(readFileSync(path.join(sandbox, 'stderr'), 'utf8'), /oops/);
});

tasks('a non-zero exit is TASK_FAILED with the exit code in the message', async (context) => {
  await launchTasks(() => context.master.facade, context.framework, context.agentId, [commandTask('fails', 'exit 7')]);
  const task = await waitForTaskState(() => context.master.state(), context.framework, 'fails', 'TASK_FAILED');
  assert.match(task.statuses.at(-1)?.message ?? '', /status 7/);
});

tasks('a killed task goes TASK_KILLING then TASK_KILLED after SIGTERM', async (context) => {
  await launchTasks(() => context.master.facade, context.framework, context.agentId, [
    commandTask('sleeper', 'trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.1; done', {
      killGracePeriodMs: 5_000,
    }),
  ]);
  await waitForTaskState(() => context.master.state(), context.framework, 'sleeper', 'TASK_RUNNING');
  const stdout = path.join(context.agent.workDir, 'frameworks', context.framework, 'tasks', 'sleeper', 'stdout');
  // RUNNING means started, not that its trap is set: a TERM before "ready" ends it by the signal.
  await waitFor(() => existsSync(stdout) && readFileSync(stdout, 'utf8').includes('ready'), {
    timeoutMs: 20_000,
    what: 'the task to set its trap',
  });
  const { result } = await context.master.facade.submit({
    type: 'kill_task',
    at: 0,
    frameworkId: context.framework,
    taskId: 'sleeper' as never,
  });
  assert.ok(result.ok);
  const task = await waitForTaskState(() => context.master.state(), context.framework, 'sleeper', 'TASK_KILLED');
  assert.equal(statesOf(task).slice(-2), ['TASK_KILLING', 'TASK_KILLED']);
  assert.match(readFileSync(stdout, 'utf8'), /got-term/, 'the task saw SIGTERM within its grace period');
});

tasks(
  'a task whose health check keeps failing is killed, with healthy=false and the health reason',
  async (context) => {
    await launchTasks(() => context.master.facade, context.framework, context.agentId, [
      commandTask('unhealthy', 'sleep 600', {
        healthCheck: {
          type: 'COMMAND',
          command: 'test -f never-there',
          port: null,
          path: null,
          delayMs: 0,
          intervalMs: 200,
          timeoutMs: 5_000,
          consecutiveFailures: 2,
          gracePeriodMs: 0,
        },
        killGracePeriodMs: 1_000,
      }),
    ]);
    const task = await waitForTaskState(() => context.master.state(), context.framework, 'unhealthy', 'TASK_KILLED');
    const last = task.statuses.at(-1)!;
    assert.is(last.reason, 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED');
    assert.is(last.healthy, false);
  },
);

tasks('the agent serves /health, /monitor/statistics and GET_STATE; bad calls are 4xx with a code', async (context) => {
  await launchTasks(() => context.master.facade, context.framework, context.agentId, [
    commandTask('busy', 'sleep 600'),
  ]);
  await waitForTaskState(() => context.master.state(), context.framework, 'busy', 'TASK_RUNNING');
  const health = (await (await fetch(context.agent.url('/health'))).json()) as { registered: boolean; agentId: string };
  assert.is(health.agentId, context.agentId);
  assert.ok(health.registered);
  const statistics = await waitFor(
    async () => {
      const list = (await (await fetch(context.agent.url('/monitor/statistics'))).json()) as {
        executor_id: string;
        statistics: { mem_rss_bytes: number };
      }[];
      return list.find((entry) => entry.executor_id === 'busy');
    },
    { timeoutMs: 20_000, what: 'usage of task busy' },
  );
  assert.ok(statistics.statistics.mem_rss_bytes > 0);
  const usage = await waitFor(() => context.master.master?.agents.taskUsage(context.framework, 'busy'), {
    timeoutMs: 20_000,
    what: 'usage on the leader',
  });
  assert.is(usage.agentId, context.agentId);
  // The leader's GET_TASKS carries it as Mesos ResourceStatistics (an added field).
  const tasksCall = (await (
    await fetch(`http://${context.master.address}/api/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":"GET_TASKS"}',
    })
  ).json()) as {
    get_tasks: { tasks: { task_id: { value: string }; statistics?: { mem_rss_bytes: number; timestamp: number } }[] };
  };
  const busy = tasksCall.get_tasks.tasks.find((entry) => entry.task_id.value === 'busy');
  assert.ok((busy?.statistics?.mem_rss_bytes ?? 0) > 0, `GET_TASKS statistics: ${JSON.stringify(busy?.statistics)}`);
  const bad = await fetch(context.agent.url('/api/v1'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"type":"NOPE"}',
  });
  assert.is(bad.status, 400);
  assert.is(((await bad.json()) as { error: { code: string } }).error.code, 'UNKNOWN_CALL');
  const state = (await (
    await fetch(context.agent.url('/api/v1'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":"GET_STATE"}',
    })
  ).json()) as { get_state: { tasks: { task_id: string }[] } };
  assert.ok(state.get_state.tasks.some((task) => task.task_id === 'busy'));
  const post = (body: unknown) =>
    fetch(context.agent.url('/api/v1'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const listed = (await (
    await post({ type: 'LIST_FILES', list_files: { framework_id: context.framework, task_id: 'hello', path: '' } })
  ).json()) as { list_files: { file_infos: { path: string }[] } };
  assert.equal(
    listed.list_files.file_infos.map((info) => info.path).filter((name) => name === 'stdout' || name === 'stderr'),
    ['stderr', 'stdout'],
  );
  const read = (await (
    await post({
      type: 'READ_FILE',
      read_file: { path: `${context.framework}/tasks/hello/stdout`, offset: 0, length: 5 },
    })
  ).json()) as { read_file: { data: string } };
  assert.is(Buffer.from(read.read_file.data, 'base64').toString(), 'hello');
  const outsideSandbox = await post({ type: 'READ_FILE', read_file: { path: '../agent.db', offset: 0 } });
  assert.is(outsideSandbox.status, 400);
  await context.master.facade.submit({
    type: 'kill_task',
    at: 0,
    frameworkId: context.framework,
    taskId: 'busy' as never,
  });
  await waitForTaskState(() => context.master.state(), context.framework, 'busy', 'TASK_KILLED');
});

tasks('a task needing a containerizer the agent lacks fails with a reason that says so', async (context) => {
  await launchTasks(() => context.master.facade, context.framework, context.agentId, [
    commandTask('dockerish', 'true', {
      container: {
        type: 'DOCKER',
        image: 'busybox',
        network: 'HOST',
        forcePullImage: false,
        portMappings: [],
        volumes: [],
        privileged: false,
        parameters: [],
        hostname: null,
      },
    }),
  ]);
  const task = await waitForTaskState(() => context.master.state(), context.framework, 'dockerish', 'TASK_FAILED');
  assert.is(task.statuses.at(-1)?.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
  assert.match(task.statuses.at(-1)?.message ?? '', /docker containerizer is not enabled/);
  assert.not.ok(existsSync(path.join(context.agent.workDir, 'nothing')));
});

tasks.run();
