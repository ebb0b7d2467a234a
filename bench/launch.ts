// Task launch throughput, two ways.
//
// `npm run bench -- launch [--agents 1000] [--tasks 20000] [--agent-processes 2] [--quick]`:
// three real `flotilla master` processes, `--agents` simulated agents in child processes
// (bench/_agent-fleet.ts: the real agent WebSocket protocol, each launch reported TASK_RUNNING at
// once) and one framework in this process (bench/_launcher.ts) launching `--tasks` tasks through the
// scheduler API as fast as offers allow (at most tasks/agents per offer, so every agent gets some).
// Measured: tasks per second from the first ACCEPT to the last TASK_RUNNING update (the master
// sends it once the status is committed), and each task's ACCEPT → TASK_RUNNING latency.
//
// `--stall-leader-at N` stops the leader for 2 s once N tasks run (a leader change mid-launch). A
// progress line per second goes to stderr (running, launching, offers, failures, subscriptions,
// acknowledgements on their way), and the failures by cause follow the result line.
//
// `npm run bench -- launch --real-agent [--tasks 100] [--runs 3]`: one in-process master (Raft of
// one, real SQLite) and one `flotilla agent` process; each run launches `--tasks` command tasks
// running `true` in one ACCEPT and measures the time from the ACCEPT's commit until every task is
// TASK_FINISHED (the agent's whole path: launch message, executor, containerizer, status updates,
// their commits). Repeated `--runs` times on the same agent; the median is reported.
//
// `--profile-dir DIR` (either way): the masters run with `node --cpu-prof` and write their profiles
// to DIR when they stop.
import { parseArgs } from 'node:util';
import { isTerminalTaskState } from '../src/protocol/task-states.ts';
import type { MasterCore } from '../src/master/interface.ts';
import type { FrameworkId } from '../src/state-machine/ids.ts';
import {
  AgentProcess,
  commandTask,
  launchTasks,
  subscribeFramework,
  taskOf,
  waitForAgent,
} from '../test/agent/support/daemon-support.ts';
import { startSingleMaster } from '../test/support/master.ts';
import { waitFor } from '../test/support/wait.ts';
import { parseMasterList } from '../src/frameworks/sdk/masters.ts';
import { ProcessCluster } from '../test/raft/support/process-cluster.ts';
import { makeTempDir } from '../test/support/tmp.ts';
import { AgentFleet } from './_agent-fleet.ts';
import { loadAverage, perTask, processCounters, scrapeMetrics } from './_launch-counters.ts';
import { BenchScheduler } from './_launcher.ts';
import { LaunchTimeline, LeaderStall } from './_launch-timeline.ts';
import { median, percentile, printTable, round } from './_report.ts';

const runTimeoutMs = 240_000;

async function declineOutstanding(facade: () => MasterCore, framework: FrameworkId): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const offerIds = [...facade().state().offers.values()]
    .filter((offer) => offer.frameworkId === framework)
    .map((offer) => offer.id);
  if (offerIds.length > 0) await facade().submit({ type: 'decline_offers', at: 0, frameworkId: framework, offerIds });
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'real-agent': { type: 'boolean', default: false },
      tasks: { type: 'string' },
      runs: { type: 'string' },
      agents: { type: 'string' },
      'agent-processes': { type: 'string' },
      'profile-dir': { type: 'string' },
      'stall-leader-at': { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const number = (text: string | undefined, fallback: number): number => (text === undefined ? fallback : Number(text));
  if (values['real-agent'] === true) {
    await realAgent(
      number(values.tasks, quick ? 20 : 100),
      number(values.runs, quick ? 1 : 3),
      values['profile-dir'] ?? null,
    );
    return;
  }
  await simulatedAgents({
    agents: number(values.agents, quick ? 100 : 1_000),
    tasks: number(values.tasks, quick ? 1_000 : 20_000),
    agentProcesses: number(values['agent-processes'], quick ? 1 : 2),
    profileDirectory: values['profile-dir'] ?? null,
    stallLeaderAt: values['stall-leader-at'] === undefined ? null : Number(values['stall-leader-at']),
  });
}

const fleetTimeoutMs = 600_000;
/** Simulated agents big enough that `tasks` of 0.01 cpu and 1 MB never run out of room. */
const agentShape = { cpus: 64, memMb: 65_536 } as const;
const taskShape = { cpus: 0.01, memMb: 1 } as const;

interface SimulatedSettings {
  readonly agents: number;
  readonly tasks: number;
  readonly agentProcesses: number;
  /** `--profile-dir`: the masters run with `node --cpu-prof` and write their profiles there on SIGTERM. */
  readonly profileDirectory: string | null;
  /**
   * `--stall-leader-at N`: once N tasks run, the leader is stopped (SIGSTOP) for `leaderStallMs`,
   * as a machine too busy to schedule it would: the cost of a leader change to the launch.
   */
  readonly stallLeaderAt: number | null;
}

/** Starts the three masters, under `--cpu-prof` when asked (NODE_OPTIONS refuses it: process-cluster.ts passes it). */
async function startMasters(profileDirectory: string | null): Promise<ProcessCluster> {
  if (profileDirectory !== null)
    process.env.FLOTILLA_REPLICA_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${profileDirectory}`;
  try {
    return await ProcessCluster.start(makeTempDir('bench-launch-'), 3, [], 'master');
  } finally {
    delete process.env.FLOTILLA_REPLICA_NODE_FLAGS;
  }
}

async function simulatedAgents(settings: SimulatedSettings): Promise<void> {
  for (const name of ['agents', 'tasks', 'agentProcesses'] as const) {
    const value = settings[name];
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number >= 1, got ${value}`);
  }
  const stallAt = settings.stallLeaderAt;
  if (stallAt !== null && (!Number.isInteger(stallAt) || stallAt < 0 || stallAt >= settings.tasks))
    throw new Error(`--stall-leader-at must be a whole number below --tasks, got ${stallAt}`);
  process.stderr.write(
    `launch bench: 3 masters, ${settings.agents} simulated agents in ${settings.agentProcesses} processes, ${settings.tasks} tasks, load ${loadAverage()}\n`,
  );
  const cluster = await startMasters(settings.profileDirectory);
  const addresses = cluster.replicas.map((replica) => replica.address);
  const scheduler = new BenchScheduler(parseMasterList(addresses.join(',')), 'bench-launch');
  let fleet: AgentFleet | null = null;
  let stall: LeaderStall | null = null;
  try {
    fleet = await AgentFleet.start(addresses, settings.agents, settings.agentProcesses, fleetTimeoutMs, agentShape);
    const perOffer = Math.ceil(settings.tasks / settings.agents);
    const leader = await cluster.waitForLeader();
    const before = await scrapeMetrics(leader.address, leader.child?.pid);
    stall = settings.stallLeaderAt === null ? null : new LeaderStall(leader.child?.pid, settings.stallLeaderAt);
    const timeline = new LaunchTimeline(() => scheduler.status, stall);
    const result = await scheduler.launch(settings.tasks, perOffer, taskShape).finally(() => timeline.stop());
    const after = await scrapeMetrics(leader.address, leader.child?.pid);
    const held = await fleet.stats();
    // More than asked: a task replaced after a leader change, which the master has the agent kill.
    if (held.tasks < settings.tasks)
      throw new Error(`the agents hold ${held.tasks} tasks, fewer than ${settings.tasks}`);
    const elapsedMs = result.lastRunningAtMs - result.firstAcceptAtMs;
    const line = {
      bench: 'launch',
      variant: 'simulated-agents',
      masters: 3,
      agents: settings.agents,
      tasks: settings.tasks,
      running: result.running,
      accepts: result.accepts,
      failures: result.failures,
      launch_ms: round(elapsedMs, 0),
      tasks_per_second: round((result.running * 1000) / elapsedMs, 1),
      accept_to_running_p50_ms: round(percentile(result.latenciesMs, 0.5), 0),
      accept_to_running_p99_ms: round(percentile(result.latenciesMs, 0.99), 0),
      // Over one a task: updates the master sent again (the simulated agents report TASK_RUNNING only).
      updates_received_per_task: round(result.updates / result.running, 3),
      acknowledge_p50_ms: round(percentile(result.acknowledgementLatenciesMs, 0.5), 0),
      acknowledge_p99_ms: round(percentile(result.acknowledgementLatenciesMs, 0.99), 0),
      acknowledgements_failed: result.acknowledgementsFailed,
      // The leader at the start (a leader change during the launch makes these partial).
      ...perTask(before, after, result.running),
      ...(settings.stallLeaderAt === null ? {} : { leader_stalled_at_running: settings.stallLeaderAt }),
      subscriptions: scheduler.status.subscriptions,
      load_average: loadAverage(),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    printTable([line]);
    // Why tasks ended before running: state, reason and source of their updates (or why an ACCEPT failed).
    process.stdout.write(`${JSON.stringify({ failures_by_cause: Object.fromEntries(scheduler.failuresByCause) })}\n`);
  } finally {
    stall?.resume();
    scheduler.close();
    await fleet?.stop();
    // SIGTERM first: a master under --cpu-prof writes its profile only when it exits on its own.
    if (settings.profileDirectory !== null)
      await Promise.all(cluster.replicas.map((replica) => cluster.kill(replica, 'SIGTERM')));
    await cluster.stop();
  }
}

/** `profileDirectory`: the agent process runs under `node --cpu-prof` (the master is this process). */
async function realAgent(tasks: number, runs: number, profileDirectory: string | null): Promise<void> {
  process.stderr.write(`launch bench: 1 master, 1 agent process, ${runs} runs of ${tasks} \`true\` tasks\n`);
  const cluster = await startSingleMaster();
  const address = cluster.url.slice('http://'.length);
  if (profileDirectory !== null)
    process.env.FLOTILLA_AGENT_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${profileDirectory}`;
  // Room for one run's tasks at once (0.1 cpus and 32 MB each: test/agent/support's commandTask),
  // never less than before: 64 cpus held only 640 of them, and a larger run waited for an offer forever.
  const cpus = Math.max(64, Math.ceil(tasks * 0.1));
  const mem = Math.max(65_536, tasks * 32);
  const agent = await AgentProcess.start(address, ['--resources', `cpus:${cpus};mem:${mem};disk:10000`]).finally(() => {
    delete process.env.FLOTILLA_AGENT_NODE_FLAGS;
  });
  const durationsMs: number[] = [];
  const agentCpuMsPerTask: number[] = [];
  const agentWritesPerTask: number[] = [];
  try {
    const facade = () => cluster.master.facade;
    const agentId = await waitForAgent(() => facade().state(), agent.hostname);
    for (let run = 0; run < runs; run++) {
      // A framework per run: one subscribed by a bare command has no scheduler connection, and the
      // master marks it disconnected after a while (a long run of 1,200 tasks had the next refused).
      const framework: FrameworkId = await subscribeFramework((command) => facade().submit(command), 'bench-launch');
      // Offers are made here, one per run: the allocator's own would hold the agent's resources.
      cluster.master.allocation.suppress(framework, []);
      await declineOutstanding(facade, framework);
      const ids = Array.from({ length: tasks }, (_, position) => `run${run}-task${position}`);
      const startedAt = performance.now();
      const before = processCounters(agent.child?.pid);
      await launchTasks(
        facade,
        framework,
        agentId,
        ids.map((id) => commandTask(id, 'true', { resources: commandTask(id, 'true').resources })),
      );
      await waitFor(
        () => ids.every((id) => isTerminalTaskState(taskOf(facade().state(), framework, id)?.state ?? 'TASK_STAGING')),
        { timeoutMs: runTimeoutMs, what: `run ${run}: every task terminal`, intervalMs: 20 },
      );
      durationsMs.push(performance.now() - startedAt);
      const after = processCounters(agent.child?.pid);
      if (before !== null && after !== null) {
        agentCpuMsPerTask.push((after.cpuMs - before.cpuMs) / tasks);
        agentWritesPerTask.push((after.writes - before.writes) / tasks);
      }
      const failed = ids.filter((id) => taskOf(facade().state(), framework, id)?.state !== 'TASK_FINISHED');
      if (failed.length > 0) {
        const first = taskOf(facade().state(), framework, failed[0] ?? '');
        throw new Error(
          `run ${run}: ${failed.length} tasks did not finish; the first: ${first?.state} ${JSON.stringify(first?.statuses.at(-1) ?? null)}`,
        );
      }
      process.stderr.write(`  run ${run + 1}/${runs}: ${round(durationsMs.at(-1)!, 0)} ms\n`);
    }
  } catch (error) {
    // What the agent said last (it may have ended: refused by the master, or crashed).
    const exit = agent.child === null ? null : (agent.child.exitCode ?? agent.child.signalCode);
    process.stderr.write(`agent exit: ${String(exit)}; its last output:\n${agent.output.slice(-4_000)}\n`);
    throw error;
  } finally {
    await agent.stop('SIGTERM');
    await cluster.stop();
  }
  const medianMs = median(durationsMs);
  const line = {
    bench: 'launch',
    variant: 'real-agent',
    tasks,
    runs,
    medianMs: round(medianMs, 0),
    tasksPerSecond: round((tasks * 1000) / medianMs, 1),
    // The agent process's own CPU time and write system calls (SQLite's, its log's), per task.
    agent_cpu_ms_per_task: round(median(agentCpuMsPerTask), 2),
    agent_write_system_calls_per_task: round(median(agentWritesPerTask), 2),
    load_average: loadAverage(),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  printTable([line]);
}
