// A launch cut by a leader failover while the agents are away (issue 12): three real master
// processes, simulated agents in one child process (bench/_agent-fleet.ts: the real agent
// protocol) and one framework launching long tasks through the scheduler API (bench/_launcher.ts,
// not partition aware). Once half the tasks run, the agents' process is SIGSTOPped, the leader
// SIGKILLed, and the agents come back only `agentsAwayMs` after the new leader is known. Shared by
// test/e2e/leader-change-launch.test.ts and unreachable-agents-return.test.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentFleet } from '../../../bench/_agent-fleet.ts';
import { BenchScheduler, type LaunchResult } from '../../../bench/_launcher.ts';
import { parseMasterList } from '../../../src/frameworks/sdk/masters.ts';
import type { ProcessCluster, ReplicaProcess } from '../../raft/support/process-cluster.ts';
import { waitFor } from '../../support/wait.ts';

export const startTimeoutMs = 240_000;

interface WireTask {
  readonly task_id: { readonly value: string };
  readonly state: string;
}

/** The tasks the leader at `address` has, by state. */
export async function taskStates(address: string): Promise<Record<string, number>> {
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

export interface LaunchFailoverSettings {
  readonly name: string;
  readonly agents: number;
  readonly tasks: number;
  /** How long the agents stay away once the new leader is known. */
  readonly agentsAwayMs: number;
  /** Run on the new leader while the agents are still away (what it made of them). */
  readonly whileAway?: (newLeader: ReplicaProcess) => Promise<void>;
}

export interface LaunchFailover {
  readonly fleet: AgentFleet;
  readonly scheduler: BenchScheduler;
  readonly killed: ReplicaProcess;
  readonly newLeader: ReplicaProcess;
  readonly launch: LaunchResult;
}

/**
 * Runs the launch and the failover; the caller stops `fleet` and closes `scheduler` (also when
 * this throws: `started` receives them as soon as they exist).
 */
export async function launchThroughFailover(
  cluster: ProcessCluster,
  settings: LaunchFailoverSettings,
  started: (fleet: AgentFleet, scheduler: BenchScheduler) => void,
): Promise<LaunchFailover> {
  await cluster.waitForLeader();
  const addresses = cluster.replicas.map((replica) => replica.address);
  const fleet = await AgentFleet.start(addresses, settings.agents, 1, startTimeoutMs, { cpus: 64, memMb: 65_536 });
  const scheduler = new BenchScheduler(parseMasterList(addresses.join(',')), settings.name);
  started(fleet, scheduler);
  const launched = scheduler.launch(settings.tasks, Math.ceil(settings.tasks / settings.agents), {
    cpus: 0.01,
    memMb: 1,
  });
  launched.catch(() => undefined);
  await waitFor(() => scheduler.status.running >= settings.tasks / 2, {
    timeoutMs: startTimeoutMs,
    what: 'half the tasks to run',
  });
  const killed = await cluster.waitForLeader();
  const agentProcess = fleet.children[0]!.child;
  agentProcess.kill('SIGSTOP');
  try {
    await cluster.kill(killed, 'SIGKILL');
    const awayLeader = await cluster.waitForLeader(startTimeoutMs, [killed.id]);
    await settings.whileAway?.(awayLeader);
    await sleep(settings.agentsAwayMs);
  } finally {
    agentProcess.kill('SIGCONT');
  }
  const launch = await launched;
  const newLeader = await cluster.waitForLeader(startTimeoutMs, [killed.id]);
  return { fleet, scheduler, killed, newLeader, launch };
}
