// No running task is killed because the leader changed during a launch (issue 12, lost13). Three
// real master processes with their default flags, simulated agents in a child process
// (bench/_agent-fleet.ts: the real agent protocol) and one framework launching long tasks through
// the scheduler API (bench/_launcher.ts). Once half the tasks run, the agents' process is
// SIGSTOPped and the leader SIGKILLed; the agents come back to the new leader only well after the
// 30 s the master once gave them (a failover of 10,000 agents took 28-55 s to re-register). That
// leader then marked them all unreachable, their tasks TASK_LOST, and each task the returning
// agents still ran was killed ("reconciliation: the task is TASK_LOST on the master"): 14,870 in
// one full-scale run. As in Mesos (`--agent_reregister_timeout`, 10 mins), the agents must find
// their tasks RUNNING: the assertions are counts and states, not times.
// flotilla-test-timeout-seconds: 600
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentFleet } from '../../bench/_agent-fleet.ts';
import { BenchScheduler } from '../../bench/_launcher.ts';
import { parseMasterList } from '../../src/frameworks/sdk/masters.ts';
import { ProcessCluster } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const agents = 20;
const tasks = 200;
const startTimeoutMs = 240_000;
/**
 * How long the agents stay away after the new leader is known: past the 30 s grace the masters
 * used to give, and the ping round (5 s by default) after it that marks agents unreachable.
 */
const agentsAwayMs = 45_000;

let cluster: ProcessCluster;
let fleet: AgentFleet | null = null;
let scheduler: BenchScheduler | null = null;
test.before(async () => {
  cluster = await ProcessCluster.start(makeTempDir('leader-change-launch-'), 3, [], 'master');
});
test.after(async () => {
  scheduler?.close();
  await fleet?.stop();
  await cluster?.stop();
});

interface WireTask {
  readonly task_id: { readonly value: string };
  readonly state: string;
}

/** The tasks the leader has, by state. */
async function taskStates(address: string): Promise<Record<string, number>> {
  const response = await fetch(`http://${address}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ type: 'GET_TASKS' }),
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status !== 200) throw new Error(`GET_TASKS: ${response.status} ${await response.text()}`);
  const answer = (await response.json()) as { get_tasks: Record<string, readonly WireTask[] | undefined> };
  const states: Record<string, number> = {};
  for (const list of Object.values(answer.get_tasks))
    for (const task of list ?? []) states[task.state] = (states[task.state] ?? 0) + 1;
  return states;
}

test('a leader change while tasks launch, with the agents back late: every task runs, none is killed', async () => {
  await cluster.waitForLeader();
  const addresses = cluster.replicas.map((replica) => replica.address);
  fleet = await AgentFleet.start(addresses, agents, 1, startTimeoutMs, { cpus: 64, memMb: 65_536 });
  scheduler = new BenchScheduler(parseMasterList(addresses.join(',')), 'leader-change-launch');
  const launched = scheduler.launch(tasks, Math.ceil(tasks / agents), { cpus: 0.01, memMb: 1 });
  launched.catch(() => undefined);
  const launching = scheduler;
  await waitFor(() => launching.status.running >= tasks / 2, {
    timeoutMs: startTimeoutMs,
    what: 'half the tasks to run',
  });
  const leader = await cluster.waitForLeader();
  const agentProcess = fleet.children[0]!.child;
  agentProcess.kill('SIGSTOP');
  try {
    await cluster.kill(leader, 'SIGKILL');
    await cluster.waitForLeader(startTimeoutMs, [leader.id]);
    await sleep(agentsAwayMs);
  } finally {
    agentProcess.kill('SIGCONT');
  }
  const launch = await launched;
  const newLeader = await cluster.waitForLeader(startTimeoutMs, [leader.id]);
  // Every agent registered again, and the updates it resent are recorded.
  const held = await waitFor(
    async () => {
      const stats = await fleet!.stats();
      const states = await taskStates(newLeader.address);
      return stats.registrations >= 2 * agents && (states.TASK_RUNNING ?? 0) >= stats.tasks ? { stats, states } : null;
    },
    { timeoutMs: startTimeoutMs, what: 'the agents back and their tasks recorded running' },
  );
  console.log(
    `${tasks} tasks on ${agents} agents, leader ${leader.id} killed at ${tasks / 2}+ running, ${newLeader.id} leads; ` +
      `agents hold ${held.stats.tasks}, kills ${JSON.stringify(held.stats.killCauses)}, master ${JSON.stringify(held.states)}, ` +
      `ended after running ${launch.endedAfterRunning}, ended before running ${launch.failures}`,
  );
  assert.is(held.stats.kills, 0, `tasks killed: ${JSON.stringify(held.stats.killCauses)}`);
  assert.is(launch.endedAfterRunning, 0, 'no running task ended');
  assert.is(held.stats.tasks, tasks, 'the agents run every task');
  assert.equal(held.states, { TASK_RUNNING: tasks }, 'the master has every task running, and no other');
});

test.run();
