// One jepsen-lite run: a cluster of real masters on a (faulty) network, clients recording a
// history, a seeded nemesis, a quiet period, final reads, the checker, and the report.
//
//   t = 0 ───────── clients run ─────────────────────────────── t = time ── final reads ── check
//          faults, one at a time, each healed ──── heal all ── quiet ──┘
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { SeededRandom } from '../../src/raft/random.ts';
import { defaultKvClientLimits, KvClient } from './client/kv-client.ts';
import { Cluster } from './cluster/cluster.ts';
import { MonotonicClock } from './history/clock.ts';
import { pairOperations } from './history/operations.ts';
import { HistoryRecorder } from './history/recorder.ts';
import { Nemesis } from './nemesis/nemesis.ts';
import { planSchedule } from './nemesis/schedule.ts';
import { createNetwork } from './net/choose.ts';
import type { Network } from './net/network.ts';
import { defaultQuietSeconds, type RunOptions, validateOptions } from './options.ts';
import { formatSummary, StatusLine } from './report/console.ts';
import { buildReport, type Report, writeReport } from './report/report.ts';
import { writeTimeline } from './report/timeline.ts';
import { runClients } from './workloads/clients.ts';
import { RegisterWorkload } from './workloads/register.ts';
import { SetWorkload } from './workloads/set.ts';
import { TasksWorkload } from './workloads/tasks.ts';
import { AgentProcess } from './cluster/agent-process.ts';
import { SchedulerClient } from './client/scheduler-client.ts';
import { ClientSlot, type Workload } from './workloads/workload.ts';

export interface RunResult {
  readonly report: Report;
  readonly outputDir: string;
}

export async function runJepsen(options: RunOptions): Promise<RunResult> {
  validateOptions(options);
  const startedAt = new Date();
  const outputDir = path.resolve(options.outputRoot, `${timestamp(startedAt)}-${options.workload}-${options.nemesis}`);
  mkdirSync(outputDir, { recursive: true });
  const say = (line: string) => {
    if (!options.silent) process.stderr.write(`${line}\n`);
  };
  const quietSeconds = options.quietSeconds ?? defaultQuietSeconds(options.timeSeconds);
  say(
    `jepsen-lite: ${options.workload} × ${options.nemesis}, ${options.nodes} masters, ${options.clients} clients, ${options.timeSeconds} s, seed ${options.seed} → ${outputDir}`,
  );
  // Separate streams: the proxy draws jitter as traffic comes, which must not shift the
  // nemesis's choices away from what the seed says.
  const jitter = new SeededRandom(options.seed ^ 0x6a6974);
  const random = new SeededRandom(options.seed);
  const { network, notes } = await createNetwork(options.network, outputDir, () => jitter.next());
  let cluster: Cluster | null = null;
  try {
    // The tasks checker replays every master's whole log: no compaction during the run.
    const extraArguments = options.workload === 'tasks' ? ['--snapshot-entries', '100000000'] : [];
    cluster = await Cluster.start({ network, runDir: outputDir, size: options.nodes, extraArguments });
    say(`network: ${network.describe()}`);
    const runStartedMs = performance.now();
    const result = await exercise(options, cluster, network, random, outputDir, quietSeconds);
    await cluster.stopAll();
    const description = {
      workload: options.workload,
      nemesis: options.nemesis,
      network: network.kind,
      networkDetail: network.describe(),
      nodes: options.nodes,
      clients: options.clients,
      seed: options.seed,
      timeSeconds: options.timeSeconds,
      quietSeconds,
      ratePerSecond: options.ratePerSecond,
      startedAt: startedAt.toISOString(),
      outputDir,
    };
    const operations = pairOperations(result.recorder.events);
    say('checking the history…');
    const check = result.workload.check(operations);
    const report = buildReport(
      description,
      operations,
      result.nemesis.records,
      check,
      (performance.now() - runStartedMs) / 1000,
      notes,
    );
    writeReport(outputDir, report);
    writeTimeline(outputDir, report, operations);
    if (report.valid === true && !options.keepData)
      rmSync(path.join(outputDir, 'data'), { recursive: true, force: true });
    if (!options.silent) process.stdout.write(`${formatSummary(report)}\n`);
    return { report, outputDir };
  } finally {
    await cluster?.stopAll();
    await network.close();
  }
}

interface Exercised {
  readonly recorder: HistoryRecorder;
  readonly workload: Workload;
  readonly nemesis: Nemesis;
}

async function exercise(
  options: RunOptions,
  cluster: Cluster,
  network: Network,
  random: SeededRandom,
  outputDir: string,
  quietSeconds: number,
): Promise<Exercised> {
  const agents = options.workload === 'tasks' ? await startAgents(cluster, network, outputDir) : [];
  try {
    // The run's clock (and so the fault schedule) starts when the agents are registered: on a
    // loaded machine they boot for 5–15 s, and a schedule started before that spends its first
    // faults on a cluster with nothing to offer.
    if (agents.length > 0) await cluster.waitForAgents(agents.length, agentRegistrationWaitMs);
    const clock = new MonotonicClock();
    const recorder = new HistoryRecorder(path.join(outputDir, 'history.jsonl'), clock);
    const workload = await makeWorkload(options, cluster, network, outputDir);
    return await exerciseWorkload(options, cluster, network, random, quietSeconds, clock, recorder, workload);
  } finally {
    await Promise.all(agents.map((agent) => agent.stop()));
  }
}

async function makeWorkload(
  options: RunOptions,
  cluster: Cluster,
  network: Network,
  outputDir: string,
): Promise<Workload> {
  switch (options.workload) {
    case 'register':
      return new RegisterWorkload();
    case 'set':
      return new SetWorkload();
    case 'tasks': {
      const scheduler = new SchedulerClient(
        network.book,
        () => cluster.members(),
        new SeededRandom(options.seed ^ 0x7461736b),
        'jepsen-tasks',
      );
      scheduler.start();
      return new TasksWorkload(scheduler, cluster, outputDir);
    }
  }
}

const agentCount = 2;
/**
 * Both agents registered, from their launch: at load ~55 (hunt17, niced) neither agent had written
 * its first log line after 60 s in two runs of two; they boot through tsx like the masters, which
 * get 120 s (cluster.ts startLeaderWaitMs).
 */
const agentRegistrationWaitMs = 120_000;

async function startAgents(cluster: Cluster, network: Network, outputDir: string): Promise<AgentProcess[]> {
  const agents: AgentProcess[] = [];
  for (let number = 1; number <= agentCount; number++) {
    const placement = await network.placeAgent(`a${number}`);
    const agent = new AgentProcess(
      placement,
      path.join(outputDir, 'data', placement.id),
      path.join(outputDir, 'logs', `${placement.id}.log`),
    );
    agent.start(cluster.members());
    agents.push(agent);
  }
  return agents;
}

async function exerciseWorkload(
  options: RunOptions,
  cluster: Cluster,
  network: Network,
  random: SeededRandom,
  quietSeconds: number,
  clock: MonotonicClock,
  recorder: HistoryRecorder,
  workload: Workload,
): Promise<Exercised> {
  const kvOptions = { limits: defaultKvClientLimits, staleReads: options.staleReads === true };
  const slot = (index: number) => {
    const kv = new KvClient(
      network.book,
      () => cluster.members(),
      new SeededRandom(options.seed + 1 + index),
      kvOptions,
      `c${index}`,
    );
    return new ClientSlot(index, options.clients + 1, kv, new SeededRandom(options.seed + 101 + index), recorder);
  };
  const slots = Array.from({ length: options.clients }, (_, index) => slot(index));
  const timeMs = options.timeSeconds * 1000;
  const quietMs = quietSeconds * 1000;
  const schedule = planSchedule({ nemesis: options.nemesis, seed: options.seed, timeMs, quietMs });
  const nemesis = new Nemesis(cluster, random, clock);
  let leader: string | null = null;
  const status = new StatusLine(
    { events: recorder.events, elapsedMs: () => clock.nowMs(), leader: () => leader, fault: () => nemesis.current },
    options.timeSeconds,
  );
  const leaderWatch = setInterval(() => {
    void cluster.leader().then((found) => {
      leader = found;
    });
  }, 1_000);
  if (!options.silent) status.start();
  try {
    const faults = (async () => {
      await nemesis.run(schedule, timeMs - quietMs);
      await nemesis.healAll(options.nodes).catch((error: Error) => nemesis.noteFailedHeal(error));
    })();
    await Promise.all([runClients(workload, slots, clock, timeMs, options.ratePerSecond), faults]);
  } finally {
    clearInterval(leaderWatch);
    status.stop();
  }
  await cluster.waitForLeader(30_000).catch(() => null);
  await workload.finish(slot(options.clients), cluster);
  recorder.closeOpenOperations();
  recorder.close();
  return { recorder, workload, nemesis };
}

function timestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}
