// Churn (issue 12): many short tasks started and finished through the real path, to show that
// bounded history keeps the leader flat. Three real `flotilla master` processes on loopback with
// `--max-completed-tasks-per-framework`, simulated agents in child processes (bench/_agent-fleet.ts
// with finishAtOnce: every launch reported TASK_RUNNING and then TASK_FINISHED at once), and one
// framework in this process (bench/_churn-scheduler.ts) launching as offers allow and acknowledging
// every update. Every `--every` finished tasks, one sample of the leader: its resident memory and
// the size of its latest snapshot (both from its /metrics), one GET_STATE's time, and the completed
// tasks GET_STATE holds per framework. One JSON line per sample, a table, then one JSON line with
// the set-up and, once history is full, the ratio of the last sample to the first one taken after
// it filled (flat is about 1).
//
//   npm run bench -- churn [--tasks 1000000] [--every 100000] [--agents 50] [--agent-processes 1]
//                          [--per-offer 200] [--in-flight 2000] [--max-completed-tasks-per-framework 1000]
//                          [--snapshot-entries 10000] [--quick]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parseMasterList } from '../src/frameworks/sdk/masters.ts';
import { ProcessCluster } from '../test/raft/support/process-cluster.ts';
import { makeTempDir } from '../test/support/tmp.ts';
import { AgentFleet } from './_agent-fleet.ts';
import { ChurnScheduler } from './_churn-scheduler.ts';
import { parseMetrics } from './_leader-metrics.ts';
import { printTable, round } from './_report.ts';

interface Settings {
  readonly tasks: number;
  readonly every: number;
  readonly agents: number;
  readonly agentProcesses: number;
  readonly perOffer: number;
  /** Tasks launched and not finished at once, at most: the live tasks the leader holds beside its history. */
  readonly inFlight: number;
  readonly maxCompletedTasksPerFramework: number;
  /** The masters' --snapshot-entries: small enough that snapshots are taken between two samples. */
  readonly snapshotEntries: number;
}

export interface ChurnSample {
  readonly bench: 'churn';
  readonly sample: number;
  readonly finished: number;
  readonly elapsed_s: number;
  readonly leader: string;
  readonly leader_rss_mib: number;
  readonly snapshot_bytes: number;
  /** Snapshots the leader has taken or restored since it started: the size above is the latest one's. */
  readonly snapshots: number;
  readonly get_state_ms: number;
  readonly get_state_bytes: number;
  readonly tasks_in_state: number;
  /** The tasks not completed, by state: live ones, and terminal ones whose update awaits acknowledgement. */
  readonly not_completed_by_state: Record<string, number>;
  readonly completed_tasks_max_per_framework: number;
  readonly history_full: boolean;
  readonly leader_event_loop_delay_max_ms: number;
  readonly load_average_1m: number;
}

const registerTimeoutMs = 600_000;
const readTimeoutMs = 300_000;
const mebibyte = 1024 * 1024;
/** Each simulated agent's size; a task takes 0.01 cpu and 1 MB, so resources never limit the bench. */
const agentShape = { cpus: 64, memMb: 65_536 } as const;
const taskShape = { cpus: 0.01, memMb: 1 } as const;

function settingsFrom(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      tasks: { type: 'string' },
      every: { type: 'string' },
      agents: { type: 'string' },
      'agent-processes': { type: 'string' },
      'per-offer': { type: 'string' },
      'in-flight': { type: 'string' },
      'max-completed-tasks-per-framework': { type: 'string' },
      'snapshot-entries': { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const number = (text: string | undefined, fallback: number): number => (text === undefined ? fallback : Number(text));
  const settings = {
    tasks: number(values.tasks, quick ? 3_000 : 1_000_000),
    every: number(values.every, quick ? 1_000 : 100_000),
    agents: number(values.agents, quick ? 10 : 50),
    agentProcesses: number(values['agent-processes'], 1),
    perOffer: number(values['per-offer'], quick ? 50 : 200),
    inFlight: number(values['in-flight'], quick ? 500 : 2_000),
    maxCompletedTasksPerFramework: number(values['max-completed-tasks-per-framework'], quick ? 100 : 1_000),
    snapshotEntries: number(values['snapshot-entries'], quick ? 1_000 : 10_000),
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a whole number >= 1, got ${value}`);
  }
  if (settings.every > settings.tasks) throw new Error('--every must not exceed --tasks');
  return settings;
}

interface TaskJson {
  readonly framework_id: { readonly value: string };
  readonly state: string;
}

/** One GET_STATE on `address`: its time, size, tasks held, and the most completed tasks of one framework. */
async function getState(address: string): Promise<{
  ms: number;
  bytes: number;
  tasks: number;
  completedMaxPerFramework: number;
  states: Record<string, number>;
}> {
  const startedAt = performance.now();
  const response = await fetch(`http://${address}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ type: 'GET_STATE' }),
    signal: AbortSignal.timeout(readTimeoutMs),
  });
  const text = await response.text();
  const ms = performance.now() - startedAt;
  if (response.status !== 200) throw new Error(`GET_STATE: ${response.status} ${text.slice(0, 500)}`);
  const lists = (JSON.parse(text) as { get_state: { get_tasks: Record<string, TaskJson[]> } }).get_state.get_tasks;
  const completedPerFramework = new Map<string, number>();
  for (const task of lists.completed_tasks ?? []) {
    const id = task.framework_id.value;
    completedPerFramework.set(id, (completedPerFramework.get(id) ?? 0) + 1);
  }
  const tasks = Object.values(lists).reduce((total, list) => total + list.length, 0);
  const states: Record<string, number> = {};
  for (const task of [...(lists.tasks ?? []), ...(lists.unreachable_tasks ?? [])]) {
    states[task.state] = (states[task.state] ?? 0) + 1;
  }
  return {
    ms,
    bytes: Buffer.byteLength(text),
    tasks,
    completedMaxPerFramework: Math.max(0, ...completedPerFramework.values()),
    states,
  };
}

async function leaderMetrics(address: string): Promise<Map<string, number>> {
  const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(readTimeoutMs) });
  if (response.status !== 200) throw new Error(`/metrics of ${address}: ${response.status}`);
  return parseMetrics(await response.text());
}

async function takeSample(
  cluster: ProcessCluster,
  settings: Settings,
  sample: number,
  finished: number,
  startedAtMs: number,
): Promise<ChurnSample> {
  const leader = await cluster.waitForLeader(readTimeoutMs);
  const metrics = await leaderMetrics(leader.address);
  const state = await getState(leader.address);
  return {
    bench: 'churn',
    sample,
    finished,
    elapsed_s: round((performance.now() - startedAtMs) / 1000, 1),
    leader: leader.id,
    leader_rss_mib: round((metrics.get('flotilla_process_process_resident_memory_bytes') ?? Number.NaN) / mebibyte, 1),
    snapshot_bytes: metrics.get('flotilla_raft_snapshot_bytes') ?? Number.NaN,
    snapshots: metrics.get('flotilla_raft_snapshot_duration_seconds_count') ?? 0,
    get_state_ms: round(state.ms, 1),
    get_state_bytes: state.bytes,
    tasks_in_state: state.tasks,
    not_completed_by_state: state.states,
    completed_tasks_max_per_framework: state.completedMaxPerFramework,
    history_full: state.completedMaxPerFramework >= settings.maxCompletedTasksPerFramework,
    leader_event_loop_delay_max_ms: round((metrics.get('flotilla_event_loop_delay_max_seconds') ?? 0) * 1000, 1),
    load_average_1m: round(loadavg()[0]!, 1),
  };
}

export async function main(argv: string[]): Promise<void> {
  const settings = settingsFrom(argv);
  process.stderr.write(
    `churn bench: 3 masters, ${settings.agents} simulated agents, ${settings.tasks} short tasks, ` +
      `a sample every ${settings.every}, history ${settings.maxCompletedTasksPerFramework} per framework\n`,
  );
  const cluster = await ProcessCluster.start(
    makeTempDir('bench-churn-'),
    3,
    [
      ...['--snapshot-entries', String(settings.snapshotEntries)],
      ...['--max-completed-tasks-per-framework', String(settings.maxCompletedTasksPerFramework)],
    ],
    'master',
  );
  const addresses = cluster.replicas.map((replica) => replica.address);
  let fleet: AgentFleet | null = null;
  const scheduler = new ChurnScheduler(
    parseMasterList(addresses.join(',')),
    'bench-churn',
    settings.perOffer,
    settings.inFlight,
    taskShape,
  );
  try {
    fleet = await AgentFleet.start(
      addresses,
      settings.agents,
      settings.agentProcesses,
      registerTimeoutMs,
      agentShape,
      true,
    );
    const startedAtMs = performance.now();
    const run = scheduler.run(settings.tasks);
    const samples: ChurnSample[] = [];
    for (let sample = 1; sample * settings.every <= settings.tasks; sample++) {
      await Promise.race([scheduler.whenFinished(sample * settings.every), run]);
      const taken = await takeSample(cluster, settings, sample, scheduler.finished, startedAtMs);
      samples.push(taken);
      process.stdout.write(`${JSON.stringify(taken)}\n`);
    }
    await run;
    const elapsedMs = performance.now() - startedAtMs;
    const held = await fleet.stats();
    report(settings, samples, { elapsedMs, scheduler, agentsFinished: held.finished });
  } finally {
    scheduler.close();
    await fleet?.stop();
    await cluster.stop();
  }
}

/** last / first over the samples taken once history was full; null with fewer than two such. */
function ratios(samples: readonly ChurnSample[]): Record<string, number> | null {
  const full = samples.filter((sample) => sample.history_full);
  if (full.length < 2) return null;
  const first = full[0]!;
  const last = full.at(-1)!;
  return {
    first_full_sample: first.sample,
    leader_rss: round(last.leader_rss_mib / first.leader_rss_mib, 3),
    snapshot_bytes: round(last.snapshot_bytes / first.snapshot_bytes, 3),
    get_state_ms: round(last.get_state_ms / first.get_state_ms, 3),
    get_state_bytes: round(last.get_state_bytes / first.get_state_bytes, 3),
  };
}

function report(
  settings: Settings,
  samples: readonly ChurnSample[],
  outcome: { elapsedMs: number; scheduler: ChurnScheduler; agentsFinished: number },
): void {
  printTable(
    samples.map((sample) => ({
      finished: sample.finished,
      'leader RSS (MiB)': sample.leader_rss_mib,
      'snapshot (bytes)': sample.snapshot_bytes,
      'GET_STATE (ms)': sample.get_state_ms,
      'GET_STATE (bytes)': sample.get_state_bytes,
      'completed kept': sample.completed_tasks_max_per_framework,
      'load 1m': sample.load_average_1m,
    })),
  );
  const flat = ratios(samples);
  const line = {
    bench: 'churn',
    setup: {
      masters: 3,
      agents: settings.agents,
      agent_processes: settings.agentProcesses,
      tasks: settings.tasks,
      every: settings.every,
      per_offer: settings.perOffer,
      in_flight: settings.inFlight,
      max_completed_tasks_per_framework: settings.maxCompletedTasksPerFramework,
      snapshot_entries: settings.snapshotEntries,
    },
    finished: outcome.scheduler.finished,
    agents_reported_finished: outcome.agentsFinished,
    accepts: outcome.scheduler.accepts,
    failures: outcome.scheduler.failures,
    failures_by_state: Object.fromEntries(outcome.scheduler.failuresByState),
    elapsed_s: round(outcome.elapsedMs / 1000, 1),
    tasks_per_second: round(outcome.scheduler.finished / (outcome.elapsedMs / 1000), 1),
    ratio_last_to_first_full: flat,
    load_average: loadavg().map((value) => round(value, 1)),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  if (flat !== null) {
    process.stdout.write(
      `last / first sample after history filled (sample ${flat.first_full_sample}): ` +
        `RSS ${flat.leader_rss}, snapshot ${flat.snapshot_bytes}, GET_STATE ${flat.get_state_ms}\n`,
    );
  }
}
