// Agent restarts and lost connections, with real agent processes and a real in-process master:
// the agent keeps its id, re-attaches to running tasks, never loses a status update (each uuid
// recorded once), is marked UNREACHABLE when silent and comes back ACTIVE; a corrupted
// checkpoint is refused by name.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Task } from '../../src/state-machine/state.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import {
  AgentProcess,
  commandTask,
  launchTasks,
  RestartableMaster,
  statesOf,
  subscribeFramework,
  taskOf,
  waitForAgent,
  waitForTaskState,
} from './support/daemon-support.ts';

const recovery = suite('agent daemon: recovery');
const waitForGo = 'while [ ! -f "$MESOS_SANDBOX/go" ]; do sleep 0.1; done; echo went';

function uuidsRecordedOnce(task: Task): void {
  const uuids = task.statuses.map((status) => status.uuid).filter((uuid) => uuid !== null);
  assert.is(new Set(uuids).size, uuids.length, `duplicate uuids in ${JSON.stringify(statesOf(task))}`);
}

recovery('a restarted agent keeps its id; a task survives an agent SIGKILL and its final status arrives', async () => {
  // A new agent process takes more than the default 10 s of missed pings to start on a machine at
  // load 40+; the master would then rightly mark the agent lost, which is not what this test is about.
  const master = await RestartableMaster.start({ agentMaxMissedPings: 120 });
  const agent = await AgentProcess.start(master.address);
  try {
    const agentId = await waitForAgent(() => master.state(), agent.hostname);
    const framework = await subscribeFramework((command) => master.facade.submit(command));
    await launchTasks(() => master.facade, framework, agentId, [commandTask('survivor', waitForGo)]);
    await waitForTaskState(() => master.state(), framework, 'survivor', 'TASK_RUNNING');
    await agent.stop('SIGKILL');
    agent.launch();
    await waitFor(() => master.state().agents.get(agentId)?.reregisteredAt !== null, {
      timeoutMs: 60_000,
      what: 'the agent to re-register',
    });
    assert.is(
      [...master.state().agents.values()].filter((each) => each.hostname === agent.hostname).length,
      1,
      'same agent id after restart',
    );
    assert.is(
      taskOf(master.state(), framework, 'survivor')?.state,
      'TASK_RUNNING',
      'the task was re-attached, not lost',
    );
    writeFileSync(path.join(agent.workDir, 'frameworks', framework, 'tasks', 'survivor', 'go'), '');
    const task = await waitForTaskState(() => master.state(), framework, 'survivor', 'TASK_FINISHED');
    assert.equal(statesOf(task), ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
    uuidsRecordedOnce(task);
  } finally {
    await agent.stop();
    await master.stop();
  }
});

recovery('status updates made while no master is reachable arrive once it returns, each uuid once', async () => {
  const master = await RestartableMaster.start();
  const agent = await AgentProcess.start(master.address);
  try {
    const agentId = await waitForAgent(() => master.state(), agent.hostname);
    const framework = await subscribeFramework((command) => master.facade.submit(command));
    await launchTasks(() => master.facade, framework, agentId, [
      commandTask('buffered', waitForGo),
      commandTask('failing', `${waitForGo}; exit 3`),
    ]);
    await waitForTaskState(() => master.state(), framework, 'buffered', 'TASK_RUNNING');
    await waitForTaskState(() => master.state(), framework, 'failing', 'TASK_RUNNING');
    await master.stop();
    for (const task of ['buffered', 'failing'])
      writeFileSync(path.join(agent.workDir, 'frameworks', framework, 'tasks', task, 'go'), '');
    await waitFor(
      async () => {
        const health = (await (await fetch(agent.url('/health'))).json()) as {
          pendingStatusUpdates: number;
          runningTasks: number;
        };
        return health.runningTasks === 0 && health.pendingStatusUpdates === 2;
      },
      { timeoutMs: 30_000, what: 'both final updates checkpointed while the master is down' },
    );
    await master.restart();
    const finished = await waitForTaskState(() => master.state(), framework, 'buffered', 'TASK_FINISHED');
    const failed = await waitForTaskState(() => master.state(), framework, 'failing', 'TASK_FAILED');
    assert.match(failed.statuses.at(-1)?.message ?? '', /status 3/);
    uuidsRecordedOnce(finished);
    uuidsRecordedOnce(failed);
    await waitFor(
      async () =>
        ((await (await fetch(agent.url('/health'))).json()) as { pendingStatusUpdates: number })
          .pendingStatusUpdates === 0,
      { timeoutMs: 30_000, what: 'the agent to delete acknowledged updates' },
    );
  } finally {
    await agent.stop();
    await master.stop();
  }
});

recovery(
  'an agent that stops answering pings is UNREACHABLE, its tasks TASK_LOST; it comes back ACTIVE with them',
  async () => {
    const master = await RestartableMaster.start({ agentPingIntervalMs: 200, agentMaxMissedPings: 3 });
    const agent = await AgentProcess.start(master.address);
    try {
      const agentId = await waitForAgent(() => master.state(), agent.hostname);
      const framework = await subscribeFramework((command) => master.facade.submit(command));
      await launchTasks(() => master.facade, framework, agentId, [commandTask('stranded', 'sleep 600')]);
      await waitForTaskState(() => master.state(), framework, 'stranded', 'TASK_RUNNING');
      agent.signal('SIGSTOP');
      await waitForAgent(() => master.state(), agent.hostname, 'UNREACHABLE', 30_000);
      const lost = await waitForTaskState(() => master.state(), framework, 'stranded', 'TASK_LOST');
      assert.is(lost.statuses.at(-1)?.reason, 'REASON_AGENT_REMOVED');
      agent.signal('SIGCONT');
      assert.is(await waitForAgent(() => master.state(), agent.hostname, 'ACTIVE'), agentId);
      // As in Mesos, the task the master lost only for the absence comes back as the agent reports
      // it (command format 11); before, the agent was told to kill it.
      const returned = await waitForTaskState(() => master.state(), framework, 'stranded', 'TASK_RUNNING');
      assert.is(returned.statuses.at(-1)?.reason, 'REASON_AGENT_REREGISTERED');
      const health = (await (await fetch(agent.url('/health'))).json()) as { runningTasks: number };
      assert.is(health.runningTasks, 1, 'the agent still runs it');
    } finally {
      agent.signal('SIGCONT');
      await agent.stop();
      await master.stop();
    }
  },
);

recovery('a corrupted checkpoint is refused, naming the file', () => {
  const workDir = makeTempDir('agent-corrupt-');
  writeFileSync(path.join(workDir, 'agent.db'), 'this is not a SQLite database at all, not even close'.repeat(200));
  const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'flotilla.js');
  const result = spawnSync(
    process.execPath,
    [
      bin,
      'agent',
      '--masters',
      '127.0.0.1:1',
      '--work-dir',
      workDir,
      '--listen',
      '127.0.0.1:65431',
      '--resources',
      'cpus:1;mem:64;disk:64',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.is(result.status, 1);
  assert.match(
    result.stderr,
    new RegExp(`checkpoint ${path.join(workDir, 'agent.db').replaceAll('/', '\\/')} is corrupted`),
  );
});

recovery.run();
