// Regression (found by leader-kill-accept.test.ts): TEARDOWN made the framework's tasks
// TASK_KILLED in the replicated state and freed their resources for new offers, but nothing
// told the agents, so the processes ran on in resources the allocator handed to others: the
// agent's own books disagreed with the master's, an over-commitment. Mesos sends the agents
// ShutdownFrameworkMessage; Flotilla's leader now sends a kill for every task the master ends.
// A master and a real agent process are enough to show it.
// flotilla-test-timeout-seconds: 180
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startMasterAndAgent, type MasterAndAgent } from '../frameworks/support/cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { SlotFramework } from './support/framework.ts';

let cluster: MasterAndAgent;
test.before(async () => {
  cluster = await startMasterAndAgent(['--resources', 'cpus:1;mem:512;disk:100;ports:[31000-31009]']);
});
test.after(async () => {
  await cluster?.stop();
});

function processAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep');
  } catch {
    return false;
  }
}

test("a torn down framework's running tasks stop on the agent, not only in the master's books", async () => {
  const runsFile = path.join(makeTempDir('e2e-teardown-'), 'runs.txt');
  const framework = new SlotFramework({
    name: 'torn',
    role: 'torn',
    cpus: 0.25,
    memMb: 32,
    masters: cluster.masterAddress,
    runsFile,
    tasksPerOffer: 2,
    acceptRefuseSeconds: 5,
  });
  const pids = (): number[] =>
    existsSync(runsFile)
      ? readFileSync(runsFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => Number(line.split(' ')[1]))
      : [];
  try {
    await framework.subscribe();
    await waitFor(() => framework.running().length >= 2 && pids().length >= 2, {
      timeoutMs: 60_000,
      what: 'two running tasks',
      intervalMs: 100,
    });
    assert.ok(pids().every(processAlive), 'the tasks run as processes');
    await framework.teardown();
    const agentTasks = async () => {
      const response = await fetch(cluster.agent.url('/api/v1'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"type":"GET_STATE"}',
      });
      return ((await response.json()) as { get_state: { tasks: { task_id: string; state: string }[] } }).get_state
        .tasks;
    };
    const states = await waitFor(
      async () => {
        const tasks = await agentTasks();
        return tasks.length >= 2 && tasks.every((task) => task.state === 'TASK_KILLED') ? tasks : null;
      },
      { timeoutMs: 60_000, what: "the agent to report the torn down framework's tasks TASK_KILLED", intervalMs: 200 },
    );
    assert.is(states.length, 2);
    await waitFor(() => !pids().some(processAlive), {
      timeoutMs: 30_000,
      what: 'the task processes to exit',
      intervalMs: 100,
    });
  } finally {
    framework.client.close();
    for (const pid of pids()) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
});

test.run();
