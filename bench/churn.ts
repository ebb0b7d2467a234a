// Churn (issue 12): many short tasks started and finished through the real path, to show that
// bounded history keeps the leader flat. Three real `flotilla master` processes on loopback with
// `--max-completed-tasks-per-framework`, simulated agents in child processes (bench/_agent-fleet.ts
// with finishAtOnce: every launch reported TASK_RUNNING and then TASK_FINISHED at once), and one
// framework in this process (bench/_churn-scheduler.ts) launching as offers allow and acknowledging
// every update. Every `--every` finished tasks, one sample of the leader: its resident memory and
// the size of its latest snapshot (both from its /metrics), one GET_STATE's time, and the completed
// tasks GET_STATE holds per framework; and, read from the newest snapshot file in the leader's data
// dir (bench/_snapshot-tables.ts), that snapshot's two parts: the Idempotency-Key table (the Raft
// envelope's: every keyed call, ACCEPTs here, for an hour, up to 50,000 keys) and the state
// machine's tables. One JSON line per sample, a table, then one JSON line with the set-up and, once
// history is full, the ratio of the last sample to the first one taken after it filled (flat is
// about 1; the snapshot's from the first such sample that had a snapshot).
//
//   npm run bench -- churn [--tasks 1000000] [--every 100000] [--agents 50] [--agent-processes 1]
//                          [--per-offer 200] [--in-flight 2000] [--max-completed-tasks-per-framework 1000]
//                          [--snapshot-entries 10000] [--profile DIR] [--quick]
//                          [--lose-running-acknowledgement-every N]   (every N-th task's first
//                          TASK_RUNNING unacknowledged, as if lost: the summary's updates_resent)
import { readdir, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { maxIdempotencyKeys } from '../src/raft/limits.ts';
import { snapshotDirectoryName } from '../src/raft/storage.ts';
import type { ProcessCluster } from '../test/raft/support/process-cluster.ts';
import { BenchCluster, getState as readState, taskShape, wholeNumber } from './_bench-cluster.ts';
import { ChurnScheduler } from './_churn-scheduler.ts';
import { parseMetrics } from './_leader-metrics.ts';
import { printTable, round } from './_report.ts';
import { idempotencyTableName, raftSnapshotFigures } from './_snapshot-tables.ts';

interface Settings {
  readonly tasks: number;
  readonly every: number;
  readonly agents: number;
  readonly agentProcesses: number;
  readonly perOffer: number;
  /** Tasks launched and not finished at once, at most: the live tasks the leader holds beside its history. */
  readonly inFlight: number;
  readonly maxCompletedTasksPerFramework: number;
  /**
   * The masters' --snapshot-entries: small enough that snapshots are taken between two samples. A
   * finished task costs well under one entry now (a turn's updates and acknowledgements are one
   * entry each, and an ACKNOWLEDGE is answered before its commit, so many travel at once):
   * `--quick`'s first 1,000 tasks made ~90 entries (0.09 a task; 0.13 when each acknowledgement
   * waited for its commit), so it takes one every 50.
   */
  readonly snapshotEntries: number;
  /** --profile DIR: every master runs under `node --cpu-prof` and writes its profile there at the end. */
  readonly profileDirectory: string | null;
  /** Every this-many-th task's first TASK_RUNNING goes unacknowledged (0: none). */
  readonly loseRunningAcknowledgementEvery: number;
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
  /**
   * The newest snapshot file in the leader's data dir (null before its first): its Idempotency-Key
   * table's keys and bytes, and the bytes of the rest (the state machine's database), with that
   * database's rows by table (empty tables left out).
   */
  readonly snapshot_file: SnapshotFileSample | null;
  readonly get_state_ms: number;
  readonly get_state_bytes: number;
  readonly tasks_in_state: number;
  /** The tasks not completed, by state: live ones, and terminal ones whose update awaits acknowledgement. */
  readonly not_completed_by_state: Record<string, number>;
  readonly completed_tasks_max_per_framework: number;
  readonly history_full: boolean;
  /** The bench framework's ACKNOWLEDGEs sent and not yet answered, and the bench process's own memory. */
  readonly acknowledgements_on_their_way: number;
  readonly bench_rss_mib: number;
  readonly leader_event_loop_delay_max_ms: number;
  readonly load_average_1m: number;
}

export interface SnapshotFileSample {
  readonly bytes: number;
  readonly idempotency_keys: number;
  readonly idempotency_bytes: number;
  readonly state_bytes: number;
  readonly state_rows: Record<string, number>;
}

const registerTimeoutMs = 600_000;
const readTimeoutMs = 300_000;
/** A sample's reads that fail (a leader change answers 503) are tried again, this many times at most. */
const maxFailedSampleReads = 10;
const sampleRetryDelayMs = 1_000;
const progressIntervalMs = 30_000;
const mebibyte = 1024 * 1024;

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
      profile: { type: 'string' },
      'lose-running-acknowledgement-every': { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const settings = {
    tasks: wholeNumber('tasks', values.tasks, quick ? 3_000 : 1_000_000),
    every: wholeNumber('every', values.every, quick ? 1_000 : 100_000),
    agents: wholeNumber('agents', values.agents, quick ? 10 : 50),
    agentProcesses: wholeNumber('agent-processes', values['agent-processes'], 1),
    perOffer: wholeNumber('per-offer', values['per-offer'], quick ? 50 : 200),
    inFlight: wholeNumber('in-flight', values['in-flight'], quick ? 500 : 2_000),
    maxCompletedTasksPerFramework: wholeNumber(
      'max-completed-tasks-per-framework',
      values['max-completed-tasks-per-framework'],
      quick ? 100 : 1_000,
    ),
    snapshotEntries: wholeNumber('snapshot-entries', values['snapshot-entries'], quick ? 50 : 10_000),
    profileDirectory: values.profile ?? null,
    loseRunningAcknowledgementEvery:
      values['lose-running-acknowledgement-every'] === undefined
        ? 0
        : wholeNumber('lose-running-acknowledgement-every', values['lose-running-acknowledgement-every'], 1),
  };
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
  const { ms, text } = await readState(address, readTimeoutMs);
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

/** Snapshot files are named snapshot-TERM-INDEX.bin (src/raft/storage.ts); the newest has the highest index. */
const snapshotFilePattern = /^snapshot-(\d+)-(\d+)\.bin$/;

/**
 * The newest snapshot file in `directory`, read and taken apart (null when there is none). The
 * replica deletes the older file once a newer one is recorded: one gone between the listing and
 * the read is looked for again.
 */
async function newestSnapshotFile(directory: string): Promise<SnapshotFileSample | null> {
  for (let attempt = 1; ; attempt++) {
    const names = await readdir(directory).catch(() => [] as string[]);
    const newest = names
      .map((name) => ({ name, index: Number(snapshotFilePattern.exec(name)?.[2] ?? Number.NaN) }))
      .filter((file) => Number.isFinite(file.index))
      .sort((left, right) => right.index - left.index)[0];
    if (newest === undefined) return null;
    try {
      return snapshotFileSample(await readFile(path.join(directory, newest.name)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= maxFailedSampleReads) throw error;
    }
  }
}

function snapshotFileSample(blob: Buffer): SnapshotFileSample {
  const figures = raftSnapshotFigures(blob);
  const idempotency = figures.tables.find((table) => table.name === idempotencyTableName)!;
  const stateRows: Record<string, number> = {};
  for (const table of figures.tables) if (table !== idempotency && table.rows > 0) stateRows[table.name] = table.rows;
  return {
    bytes: figures.bytes,
    idempotency_keys: idempotency.rows,
    idempotency_bytes: idempotency.bytes,
    state_bytes: figures.databaseBytes,
    state_rows: stateRows,
  };
}

async function leaderMetrics(address: string): Promise<Map<string, number>> {
  const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(readTimeoutMs) });
  if (response.status !== 200) throw new Error(`/metrics of ${address}: ${response.status}`);
  return parseMetrics(await response.text());
}

/** One sample from whichever master leads; a read that fails (a leader change: 503) is taken again. */
/** The leader's commit index: how many log entries the run (and its set-up) wrote. */
async function leaderCommitIndex(cluster: ProcessCluster): Promise<number> {
  const leader = await cluster.waitForLeader(readTimeoutMs);
  return (await leaderMetrics(leader.address)).get('flotilla_raft_commit_index') ?? Number.NaN;
}

const cpuSecondsCounter = 'flotilla_process_process_cpu_seconds_total';

/** Every master's CPU seconds so far, by id (NaN for one that does not answer). */
async function mastersCpuSeconds(cluster: ProcessCluster): Promise<Map<string, number>> {
  const read = async (address: string): Promise<number> =>
    (await leaderMetrics(address).catch(() => new Map<string, number>())).get(cpuSecondsCounter) ?? Number.NaN;
  return new Map(
    await Promise.all(cluster.replicas.map(async (replica) => [replica.id, await read(replica.address)] as const)),
  );
}

/** This process's CPU seconds (user and system) so far. */
function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function takeSample(
  cluster: ProcessCluster,
  settings: Settings,
  scheduler: ChurnScheduler,
  sample: number,
  startedAtMs: number,
): Promise<ChurnSample> {
  for (let failed = 0; ; failed++) {
    try {
      return await readSample(cluster, settings, scheduler, sample, startedAtMs);
    } catch (error) {
      if (failed >= maxFailedSampleReads) throw error;
      progress(`sample ${sample}: ${(error as Error).message.slice(0, 200)}; again`);
      await new Promise((resolve) => setTimeout(resolve, sampleRetryDelayMs));
    }
  }
}

async function readSample(
  cluster: ProcessCluster,
  settings: Settings,
  scheduler: ChurnScheduler,
  sample: number,
  startedAtMs: number,
): Promise<ChurnSample> {
  const finished = scheduler.finished;
  const leader = await cluster.waitForLeader(readTimeoutMs);
  const metrics = await leaderMetrics(leader.address);
  const state = await getState(leader.address);
  const snapshotFile = await newestSnapshotFile(path.join(cluster.dataRoot, leader.id, snapshotDirectoryName));
  return {
    bench: 'churn',
    sample,
    finished,
    elapsed_s: round((performance.now() - startedAtMs) / 1000, 1),
    leader: leader.id,
    leader_rss_mib: round((metrics.get('flotilla_process_process_resident_memory_bytes') ?? Number.NaN) / mebibyte, 1),
    snapshot_bytes: metrics.get('flotilla_raft_snapshot_bytes') ?? Number.NaN,
    snapshots: metrics.get('flotilla_raft_snapshot_duration_seconds_count') ?? 0,
    snapshot_file: snapshotFile,
    get_state_ms: round(state.ms, 1),
    get_state_bytes: state.bytes,
    tasks_in_state: state.tasks,
    not_completed_by_state: state.states,
    completed_tasks_max_per_framework: state.completedMaxPerFramework,
    history_full: state.completedMaxPerFramework >= settings.maxCompletedTasksPerFramework,
    acknowledgements_on_their_way: scheduler.client.acknowledgementsOnTheirWay,
    bench_rss_mib: round(process.memoryUsage.rss() / mebibyte, 1),
    leader_event_loop_delay_max_ms: round((metrics.get('flotilla_event_loop_delay_max_seconds') ?? 0) * 1000, 1),
    load_average_1m: round(loadavg()[0]!, 1),
  };
}

function progress(text: string): void {
  process.stderr.write(`  ${text}\n`);
}

export async function main(argv: string[]): Promise<void> {
  const settings = settingsFrom(argv);
  process.stderr.write(
    `churn bench: 3 masters, ${settings.agents} simulated agents, ${settings.tasks} short tasks, ` +
      `a sample every ${settings.every}, history ${settings.maxCompletedTasksPerFramework} per framework\n`,
  );
  const cluster = await BenchCluster.start(
    'churn',
    [
      ...['--snapshot-entries', String(settings.snapshotEntries)],
      ...['--max-completed-tasks-per-framework', String(settings.maxCompletedTasksPerFramework)],
    ],
    settings.profileDirectory,
  );
  const scheduler = new ChurnScheduler(
    cluster.masterList,
    'bench-churn',
    settings.perOffer,
    settings.inFlight,
    taskShape,
    settings.loseRunningAcknowledgementEvery,
  );
  // A line every so often on stderr: a run that stops moving shows where it stands.
  const ticker = setInterval(() => {
    progress(
      `${scheduler.finished} finished, ${scheduler.inFlight} in flight, ` +
        `${scheduler.client.acknowledgementsOnTheirWay} acknowledgements on their way, load ${round(loadavg()[0]!, 1)}`,
    );
  }, progressIntervalMs);
  try {
    const fleet = await cluster.startAgents(settings.agents, settings.agentProcesses, registerTimeoutMs, true);
    const cpuBefore = {
      masters: await mastersCpuSeconds(cluster.masters),
      bench: ownCpuSeconds(),
      fleet: (await fleet.stats()).cpuMs / 1000,
    };
    const startedAtMs = performance.now();
    const run = scheduler.run(settings.tasks);
    const samples: ChurnSample[] = [];
    for (let sample = 1; sample * settings.every <= settings.tasks; sample++) {
      await Promise.race([scheduler.whenFinished(sample * settings.every), run]);
      const taken = await takeSample(cluster.masters, settings, scheduler, sample, startedAtMs);
      samples.push(taken);
      process.stdout.write(`${JSON.stringify(taken)}\n`);
    }
    await run;
    const elapsedMs = performance.now() - startedAtMs;
    const held = await fleet.stats();
    const logEntries = await leaderCommitIndex(cluster.masters);
    const mastersAfter = await mastersCpuSeconds(cluster.masters);
    const cpuSeconds = {
      masters: Object.fromEntries(
        [...mastersAfter].map(([id, seconds]) => [id, round(seconds - (cpuBefore.masters.get(id) ?? Number.NaN), 1)]),
      ),
      bench: round(ownCpuSeconds() - cpuBefore.bench, 1),
      fleet: round(held.cpuMs / 1000 - cpuBefore.fleet, 1),
    };
    report(settings, samples, { elapsedMs, scheduler, agentsFinished: held.finished, logEntries, cpuSeconds });
  } finally {
    clearInterval(ticker);
    scheduler.close();
    await cluster.stop();
  }
}

/**
 * last / first over the samples taken once history was full; null with fewer than two such. The
 * snapshot's figures are over the full samples that had a snapshot (the first full sample may come
 * before the leader's first one: its size read NaN, and the ratio NaN or Infinity); null when fewer
 * than two had.
 */
export function ratios(samples: readonly ChurnSample[]): Record<string, number | null> | null {
  const full = samples.filter((sample) => sample.history_full);
  if (full.length < 2) return null;
  const first = full[0]!;
  const last = full.at(-1)!;
  const withSnapshot = full.filter((sample) => sample.snapshot_bytes > 0 && sample.snapshot_file !== null);
  const firstSnapshot = withSnapshot.length >= 2 ? withSnapshot[0]! : null;
  const lastSnapshot = withSnapshot.length >= 2 ? withSnapshot.at(-1)! : null;
  const snapshotRatio = (read: (sample: ChurnSample) => number): number | null =>
    firstSnapshot === null || lastSnapshot === null ? null : round(read(lastSnapshot) / read(firstSnapshot), 3);
  return {
    first_full_sample: first.sample,
    leader_rss: round(last.leader_rss_mib / first.leader_rss_mib, 3),
    first_full_sample_with_snapshot: firstSnapshot?.sample ?? null,
    snapshot_bytes: snapshotRatio((sample) => sample.snapshot_bytes),
    // The snapshot without its Idempotency-Key table: the live cluster and the bounded history.
    snapshot_state_bytes: snapshotRatio((sample) => sample.snapshot_file!.state_bytes),
    get_state_ms: round(last.get_state_ms / first.get_state_ms, 3),
    get_state_bytes: round(last.get_state_bytes / first.get_state_bytes, 3),
  };
}

/**
 * How the Idempotency-Key table filled between the first and the last snapshot files sampled: keys
 * per finished task and bytes per key, and from them the finished tasks at which it reaches its
 * cap and its bytes then (it also forgets keys an hour old: src/raft/idempotency.ts). Null with
 * fewer than two samples with a snapshot file.
 */
export function idempotencyFilling(samples: readonly ChurnSample[]): Record<string, number> | null {
  const read = samples.filter((sample) => sample.snapshot_file !== null);
  if (read.length < 2) return null;
  const first = read[0]!;
  const last = read.at(-1)!;
  const keys = last.snapshot_file!.idempotency_keys;
  const keysPerTask = (keys - first.snapshot_file!.idempotency_keys) / Math.max(1, last.finished - first.finished);
  const bytesPerKey = last.snapshot_file!.idempotency_bytes / Math.max(1, keys);
  return {
    keys,
    bytes: last.snapshot_file!.idempotency_bytes,
    cap_keys: maxIdempotencyKeys,
    keys_per_finished_task: round(keysPerTask, 5),
    bytes_per_key: round(bytesPerKey, 1),
    finished_tasks_at_cap: keysPerTask > 0 ? Math.round(maxIdempotencyKeys / keysPerTask) : Number.POSITIVE_INFINITY,
    bytes_at_cap: Math.round(maxIdempotencyKeys * bytesPerKey),
  };
}

function report(
  settings: Settings,
  samples: readonly ChurnSample[],
  outcome: {
    elapsedMs: number;
    scheduler: ChurnScheduler;
    agentsFinished: number;
    logEntries: number;
    cpuSeconds: { masters: Record<string, number>; bench: number; fleet: number };
  },
): void {
  const finished = outcome.scheduler.finished;
  const perTask = (count: number): number => round(count / finished, 3);
  printTable(
    samples.map((sample) => ({
      finished: sample.finished,
      'leader RSS (MiB)': sample.leader_rss_mib,
      'snapshot (bytes)': sample.snapshot_bytes,
      'of it Idempotency-Keys': sample.snapshot_file?.idempotency_keys ?? '',
      'their bytes': sample.snapshot_file?.idempotency_bytes ?? '',
      'state (bytes)': sample.snapshot_file?.state_bytes ?? '',
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
      lose_running_acknowledgement_every: settings.loseRunningAcknowledgementEvery,
    },
    finished: outcome.scheduler.finished,
    agents_reported_finished: outcome.agentsFinished,
    accepts: outcome.scheduler.accepts,
    failures: outcome.scheduler.failures,
    failures_by_state: Object.fromEntries(outcome.scheduler.failuresByState),
    failures_by_reason: Object.fromEntries(outcome.scheduler.failuresByReason),
    failure_messages: Object.fromEntries(outcome.scheduler.failureMessages),
    // The framework's calls per finished task, by type (each call once, however many attempts).
    calls_per_finished_task: Object.fromEntries(
      [...outcome.scheduler.client.callsMade].map(([type, count]) => [type, perTask(count)]),
    ),
    // CPU milliseconds per finished task of each process over the run (masters by id; the leader
    // is the sample's): on a shared machine this says what the run costs better than its rate.
    cpu_ms_per_finished_task: {
      masters: Object.fromEntries(
        Object.entries(outcome.cpuSeconds.masters).map(([id, seconds]) => [id, perTask(seconds * 1000)]),
      ),
      bench: perTask(outcome.cpuSeconds.bench * 1000),
      fleet: perTask(outcome.cpuSeconds.fleet * 1000),
    },
    elapsed_s: round(outcome.elapsedMs / 1000, 1),
    tasks_per_second: round(outcome.scheduler.finished / (outcome.elapsedMs / 1000), 1),
    // The leader's commit index at the end: every entry of the run, set-up included.
    log_entries: outcome.logEntries,
    log_entries_per_finished_task: round(outcome.logEntries / outcome.scheduler.finished, 2),
    updates_received: outcome.scheduler.updatesReceived,
    updates_resent: outcome.scheduler.updatesResent,
    ratio_last_to_first_full: flat,
    idempotency_table: idempotencyFilling(samples),
    load_average: loadavg().map((value) => round(value, 1)),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  if (flat !== null) {
    process.stdout.write(
      `last / first sample after history filled (sample ${flat.first_full_sample}): ` +
        `RSS ${flat.leader_rss}, snapshot ${flat.snapshot_bytes} (without the Idempotency-Key table ` +
        `${flat.snapshot_state_bytes}), GET_STATE ${flat.get_state_ms}\n`,
    );
  }
}
