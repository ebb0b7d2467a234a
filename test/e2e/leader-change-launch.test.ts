// No running task is killed because the leader changed during a launch (issue 12, lost13). Three
// real master processes with their default flags, simulated agents and one framework launching
// long tasks (test/e2e/support/launch-failover.ts). Once half the tasks run, the agents' process is
// SIGSTOPped and the leader SIGKILLed; the agents come back to the new leader only well after the
// 30 s the master once gave them (a failover of 10,000 agents took 28-55 s to re-register). That
// leader then marked them all unreachable, their tasks TASK_LOST, and each task the returning
// agents still ran was killed ("reconciliation: the task is TASK_LOST on the master"): 14,870 in
// one full-scale run. As in Mesos (`--agent_reregister_timeout`, 10 mins), the agents must find
// their tasks RUNNING: the assertions are counts and states, not times.
// flotilla-test-timeout-seconds: 600
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AgentFleet } from '../../bench/_agent-fleet.ts';
import type { BenchScheduler } from '../../bench/_launcher.ts';
import { ProcessCluster } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { launchThroughFailover, startTimeoutMs, taskStates } from './support/launch-failover.ts';

const agents = 20;
const tasks = 200;
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

test('a leader change while tasks launch, with the agents back late: every task runs, none is killed', async () => {
  const run = await launchThroughFailover(
    cluster,
    { name: 'leader-change-launch', agents, tasks, agentsAwayMs },
    (started, launching) => {
      fleet = started;
      scheduler = launching;
    },
  );
  // Every agent registered again, and the updates it resent are recorded.
  const held = await waitFor(
    async () => {
      const stats = await run.fleet.stats();
      const states = await taskStates(run.newLeader.address);
      return stats.registrations >= 2 * agents && (states.TASK_RUNNING ?? 0) >= stats.tasks ? { stats, states } : null;
    },
    { timeoutMs: startTimeoutMs, what: 'the agents back and their tasks recorded running' },
  );
  console.log(
    `${tasks} tasks on ${agents} agents, leader ${run.killed.id} killed at ${tasks / 2}+ running, ${run.newLeader.id} leads; ` +
      `agents hold ${held.stats.tasks}, kills ${JSON.stringify(held.stats.killCauses)}, master ${JSON.stringify(held.states)}, ` +
      `ended after running ${run.launch.endedAfterRunning}, ended before running ${run.launch.failures}`,
  );
  assert.is(held.stats.kills, 0, `tasks killed: ${JSON.stringify(held.stats.killCauses)}`);
  assert.is(run.launch.endedAfterRunning, 0, 'no running task ended');
  assert.is(held.stats.tasks, tasks, 'the agents run every task');
  assert.is(held.states.TASK_RUNNING, tasks, 'the master has every task running');
  // A launch the old leader committed but never got to a stopped agent is dropped when the agent
  // re-registers without it (as in Mesos), and launched again: those tasks never ran.
  const neverRan = Object.entries(held.states).filter(([state]) => state !== 'TASK_RUNNING');
  assert.ok(
    neverRan.reduce((total, [, count]) => total + count, 0) <= run.launch.failures,
    `tasks in other states are launches that never ran: ${JSON.stringify(held.states)}, ${run.launch.failures} failed`,
  );
});

test.run();
