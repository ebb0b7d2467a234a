// The cluster at scale (issue 12): three real `flotilla master` processes on loopback, `--agents`
// simulated agents in `--agent-processes` child processes (bench/_agent-fleet.ts: the real agent
// WebSocket protocol, every launch reported TASK_RUNNING at once), and `--tasks` long tasks
// launched through the scheduler API by one framework in this process (bench/_launcher.ts).
// Then, in order:
//   - GET_STATE on the leader, `--reads` times one after another, its bytes counted with node:http
//     (not decoded: the time is the leader's answer, not this client's work): p50 and max, and the size;
//   - snapshot write and restore: the write time of the last snapshot the leader took (its own
//     flotilla_raft_snapshot_duration_seconds), how many of the other masters' writes overlapped
//     it and for how long (their "snapshot slices" lines), then a follower killed and restarted,
//     whose "snapshot restored" log line carries the restore time of its own latest snapshot;
//   - SIGKILL of the leader: the time until every simulated agent has registered again.
// Throughout, the leader's /metrics are read once a second: its resident memory and its own
// event-loop delay histogram (the maximum and the 99th percentile since the previous scrape): per
// phase the maximum, and the worst second's p99. Node flags for the masters (NODE_OPTIONS refuses
// --trace-gc): FLOTILLA_REPLICA_NODE_FLAGS="--trace-gc" (their logs: FLOTILLA_KEEP_TMP=1 keeps them).
// `--profile DIR`: the masters run under `node --cpu-prof` (the survivors write theirs at the end),
// and the leader's own profile of each phase before the kill (register, launch, get_state,
// restore) is collected through /debug/pprof into DIR/leader-<phase>-<master>.cpuprofile.
//
//   npm run bench -- scale [--agents 10000] [--tasks 100000] [--agent-processes 2] [--reads 5]
//                          [--snapshot-entries tasks÷10, 300–10000] [--profile DIR] [--quick]
//                          [--leader-change-during-launch stop|kill] [--master-args "--flag value"]
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { ProcessCluster, ReplicaProcess } from '../test/raft/support/process-cluster.ts';
import { waitFor } from '../test/support/wait.ts';
import type { AgentFleet, FleetStats } from './_agent-fleet.ts';
import { LeaderProfiles } from './_leader-profiles.ts';
import { BenchCluster, readOperatorCall, taskShape, wholeNumber } from './_bench-cluster.ts';
import { BenchScheduler, type LaunchResult } from './_launcher.ts';
import { failoverTimeline, type TimelineStep } from './_failover-timeline.ts';
import { LeaderMetricsPoller } from './_leader-metrics.ts';
import { median, percentile, printTable, round } from './_report.ts';

interface Settings {
  readonly agents: number;
  readonly tasks: number;
  readonly agentProcesses: number;
  readonly reads: number;
  /** The masters' --snapshot-entries: small enough that the run takes snapshots with its tasks in. */
  readonly snapshotEntries: number;
  /**
   * `--profile DIR`: the masters run under `node --cpu-prof` (the survivors write their profiles
   * there at the end) and the leader's profile of each phase is collected there (_leader-profiles.ts).
   */
  readonly profileDirectory: string | null;
  /**
   * `--leader-change-during-launch stop|kill` (lost13): once half the tasks run, the leader is
   * SIGSTOPped for `stoppedLeaderMs` (then SIGCONT) or SIGKILLed (then started again), so the
   * launch goes through a leader change and `agent_kill_causes` says what it cost.
   */
  readonly leaderChangeDuringLaunch: 'stop' | 'kill' | null;
  /** `--master-args "--flag value ..."`: more flags for every master (a shorter grace, say). */
  readonly masterArgs: readonly string[];
}

const registerTimeoutMs = 900_000;
const launchTimeoutMs = 3_600_000;
const reregisterTimeoutMs = 300_000;
const readTimeoutMs = 300_000;
const readAttemptTimeoutMs = 60_000;
const launchProgressIntervalMs = 10_000;
const maxUnansweredReads = 5;
const mebibyte = 1024 * 1024;
/** Longer than an election timeout, shorter than the agents' silence limit (ping interval × missed pings). */
const stoppedLeaderMs = 1_500;

function settingsFrom(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      agents: { type: 'string' },
      tasks: { type: 'string' },
      'agent-processes': { type: 'string' },
      reads: { type: 'string' },
      'snapshot-entries': { type: 'string' },
      quick: { type: 'boolean', default: false },
      profile: { type: 'string' },
      'leader-change-during-launch': { type: 'string' },
      'master-args': { type: 'string' },
    },
  });
  const leaderChange = values['leader-change-during-launch'] ?? null;
  if (leaderChange !== null && leaderChange !== 'stop' && leaderChange !== 'kill')
    throw new Error(`--leader-change-during-launch must be stop or kill, got ${leaderChange}`);
  const quick = values.quick === true;
  const tasks = wholeNumber('tasks', values.tasks, quick ? 2_000 : 100_000);
  // A run makes about a log entry per task or fewer (ACCEPTs of many tasks, batched updates and
  // registrations): a snapshot interval of a tenth of the tasks makes sure the run takes several,
  // so the restore it measures has the tasks in it.
  const snapshotEntriesByDefault = quick ? 300 : Math.min(10_000, Math.max(300, Math.floor(tasks / 10)));
  return {
    agents: wholeNumber('agents', values.agents, quick ? 200 : 10_000),
    tasks,
    agentProcesses: wholeNumber('agent-processes', values['agent-processes'], quick ? 1 : 2),
    reads: wholeNumber('reads', values.reads, quick ? 3 : 5),
    snapshotEntries: wholeNumber('snapshot-entries', values['snapshot-entries'], snapshotEntriesByDefault),
    profileDirectory: values.profile ?? null,
    leaderChangeDuringLaunch: leaderChange,
    masterArgs: (values['master-args'] ?? '').split(/\s+/).filter((part) => part !== ''),
  };
}

/**
 * `reads` answers from whichever master leads at the time; an attempt that fails or stays
 * unanswered for `readAttemptTimeoutMs` (seen on a loaded machine, 300 s without an answer, while
 * leadership moved) is counted and retried.
 */
async function readStates(
  cluster: ProcessCluster,
  reads: number,
  tasks: number,
): Promise<{ ms: number[]; bytes: number; unanswered: number }> {
  const ms: number[] = [];
  let bytes = 0;
  let unanswered = 0;
  while (ms.length < reads) {
    const leader = await cluster.waitForLeader(readTimeoutMs);
    try {
      const answer = await readOperatorCall(leader.address, 'GET_STATE', readAttemptTimeoutMs);
      ms.push(answer.ms);
      bytes = answer.bytes;
    } catch (error) {
      if (++unanswered > maxUnansweredReads) throw error;
      progress(`GET_STATE failed (${(error as Error).message}); again (${unanswered})`);
    }
  }
  // The answer holds every task: each is at least its id, so a short answer missed some.
  if (bytes < tasks * 20) throw new Error(`GET_STATE answered ${bytes} bytes for ${tasks} tasks`);
  return { ms, bytes, unanswered };
}

/**
 * Leaderships begun so far, from the masters' whole logs (one "leader services: leading" line each):
 * the first is the cluster's start, every later one a leader change (issue 12).
 */
async function leadershipsBegun(cluster: ProcessCluster): Promise<number> {
  let begun = 0;
  for (const replica of cluster.replicas) {
    begun += (await cluster.wholeOutput(replica)).split('"msg":"leader services: leading"').length - 1;
  }
  return begun;
}

/** A JSON log line's time; NaN for a line cut off at the front of the kept output. */
function loggedAtMs(line: string): number {
  try {
    return Date.parse((JSON.parse(line) as { time: string }).time);
  } catch {
    return Number.NaN;
  }
}

/** A master's last "snapshot slices" line of that kind (machine.ts SnapshotTimeline), logged from `sinceMs` on. */
function lastSliceTimeline(output: string, kind: 'write' | 'restore', sinceMs: number): Record<string, unknown> | null {
  const line = output
    .split('\n')
    .filter((text) => text.includes('"snapshot slices"') && text.includes(`"kind":"${kind}"`))
    .filter((text) => loggedAtMs(text) >= sinceMs)
    .at(-1);
  if (line === undefined) return null;
  const { level, time, pid, hostname, msg, node, component, ...timeline } = JSON.parse(line) as Record<string, unknown>;
  return timeline;
}

/** Each sliced snapshot write in a master's log: [start, end] in ms since the epoch (the line is logged at its end). */
function snapshotWrites(output: string): [number, number][] {
  return output
    .split('\n')
    .filter((text) => text.includes('"snapshot slices"') && text.includes('"kind":"write"'))
    .map((text): [number, number] => {
      const endMs = loggedAtMs(text);
      return [endMs - (JSON.parse(text) as { wholeMs: number }).wholeMs, endMs];
    })
    .filter(([startMs, endMs]) => Number.isFinite(startMs) && Number.isFinite(endMs));
}

/**
 * How much of the leader's last snapshot write the other masters spent writing theirs (issue 12:
 * with staggered snapshots none should; before, all three wrote at the same index at once).
 */
async function otherWritesDuringLastWrite(
  cluster: ProcessCluster,
  leader: ReplicaProcess,
): Promise<{ writes: number; overlapMs: number } | null> {
  const last = snapshotWrites(await cluster.wholeOutput(leader)).at(-1);
  if (last === undefined) return null;
  let writes = 0;
  let overlapMs = 0;
  for (const replica of cluster.replicas) {
    if (replica === leader) continue;
    for (const [startMs, endMs] of snapshotWrites(await cluster.wholeOutput(replica))) {
      const overlap = Math.min(endMs, last[1]) - Math.max(startMs, last[0]);
      if (overlap <= 0) continue;
      writes += 1;
      overlapMs += overlap;
    }
  }
  return { writes, overlapMs: Math.round(overlapMs) };
}

/** Kills and restarts one follower; its log's "snapshot restored" line gives the restore time. */
async function restoreFollower(
  cluster: ProcessCluster,
  follower: ReplicaProcess,
): Promise<{ ms: number; bytes: number; index: number; timeline: Record<string, unknown> | null }> {
  await cluster.kill(follower, 'SIGKILL');
  const relaunchedAtMs = Date.now();
  cluster.launch(follower);
  await waitFor(async () => (await cluster.status(follower)) !== null, {
    timeoutMs: 300_000,
    what: `${follower.id} to serve again`,
    intervalMs: 200,
  });
  // The snapshot is read in slices while the master serves (node.ts beginRestore): the line
  // comes once it is swapped in.
  const restoredLine = (): string | undefined =>
    follower.output
      .split('\n')
      // A leader that compacted past the restarted follower's log sends it a newer snapshot, which
      // replaces the one still being read from disk: either restore counts.
      .filter((text) => text.includes('"snapshot restored"') || text.includes('"installed snapshot from the leader"'))
      .filter((text) => loggedAtMs(text) >= relaunchedAtMs)
      .at(-1);
  await waitFor(() => restoredLine() !== undefined, {
    timeoutMs: 300_000,
    what: `${follower.id} to restore its snapshot`,
    intervalMs: 100,
  });
  const line = restoredLine();
  if (line === undefined) throw new Error(`${follower.id} restarted without a snapshot to restore`);
  const fields = JSON.parse(line) as { durationMs: number; bytes: number; index: number };
  const timeline = lastSliceTimeline(follower.output, 'restore', relaunchedAtMs);
  return { ms: fields.durationMs, bytes: fields.bytes, index: fields.index, timeline };
}

/** What the agents did across the failover: the fleet's counters after it, less those before. */
export interface FailoverCounts {
  readonly dials: number;
  /** Dials given up while the master held them unanswered (most likely queued in its accept queue). */
  readonly handshakeTimeouts: number;
  /** Dials answered by a redirect (a follower's 307 or not_leader) or another HTTP refusal. */
  readonly redirects: number;
  /** The agent fleet processes' CPU time over the failover, summed (ms). */
  readonly fleetCpuMs: number;
  readonly registrations: number;
  readonly closes: Readonly<Record<string, number>>;
}

function countsBetween(before: FleetStats, after: FleetStats): FailoverCounts {
  const closes: Record<string, number> = {};
  for (const [cause, count] of Object.entries(after.closes)) {
    const more = count - (before.closes[cause] ?? 0);
    if (more > 0) closes[cause] = more;
  }
  return {
    dials: after.dials - before.dials,
    handshakeTimeouts: after.handshakeTimeouts - before.handshakeTimeouts,
    redirects: after.redirects - before.redirects,
    fleetCpuMs: after.cpuMs - before.cpuMs,
    registrations: after.registrations - before.registrations,
    closes,
  };
}

/**
 * SIGKILL of the leader; resolves with the time until every agent registered again, the new
 * leader, and how many sockets the agents opened and registrations they made to get there.
 */
async function killLeader(
  cluster: ProcessCluster,
  fleet: AgentFleet,
  leader: ReplicaProcess,
): Promise<{
  reregisteredMs: number;
  newLeaderMs: number;
  newLeader: ReplicaProcess;
  counts: FailoverCounts;
  timeline: TimelineStep[];
}> {
  fleet.mark();
  // The mark reaches every fleet process before the kill: a stats round trip follows it.
  const before = await fleet.stats();
  const killedAtMs = Date.now();
  await cluster.kill(leader, 'SIGKILL');
  const newLeader = await cluster.waitForLeader(reregisterTimeoutMs, [leader.id]);
  const newLeaderMs = Date.now() - killedAtMs;
  const reregistered = await fleet.reregistered(reregisterTimeoutMs).catch(async (error: unknown) => {
    // A run that never finishes says what the missing agents wait for before it fails.
    const stuck = await fleet.stats().catch(() => null);
    progress(`agents not registered again: ${JSON.stringify(stuck?.notReregistered ?? 'no answer')}`);
    throw error;
  });
  const counts = countsBetween(before, await fleet.stats());
  const timeline = failoverTimeline(killedAtMs, reregistered.timeline, await cluster.wholeOutput(newLeader));
  return { reregisteredMs: reregistered.atMs - killedAtMs, newLeaderMs, newLeader, counts, timeline };
}

/** `--leader-change-during-launch`: once half the tasks run, the leader is stopped a moment or killed. */
async function changeLeaderMidLaunch(
  cluster: ProcessCluster,
  scheduler: BenchScheduler,
  settings: Settings,
  launchEnded: { value: boolean },
): Promise<void> {
  if (settings.leaderChangeDuringLaunch === null) return;
  while (scheduler.status.running < settings.tasks / 2) {
    if (launchEnded.value) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const leader = await cluster.waitForLeader();
  progress(
    `${scheduler.status.running} tasks running: ${settings.leaderChangeDuringLaunch} of the leader ${leader.id}`,
  );
  if (settings.leaderChangeDuringLaunch === 'stop') {
    leader.child?.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, stoppedLeaderMs));
    leader.child?.kill('SIGCONT');
  } else {
    await cluster.kill(leader, 'SIGKILL');
    await cluster.waitForLeader(reregisterTimeoutMs, [leader.id]);
    cluster.launch(leader);
  }
}

async function launchAll(scheduler: BenchScheduler, settings: Settings): Promise<LaunchResult> {
  const perOffer = Math.ceil(settings.tasks / settings.agents);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not every task ran within ${launchTimeoutMs} ms`)), launchTimeoutMs);
  });
  const startedAtMs = performance.now();
  // A launch of 100,000 tasks takes minutes: say where it stands.
  const ticker = setInterval(() => {
    const { running, launching, accepts } = scheduler.status;
    const seconds = (performance.now() - startedAtMs) / 1000;
    progress(
      `launch: ${running} of ${settings.tasks} running, ${launching} launching, ${accepts} ACCEPTs, ${round(seconds, 0)} s`,
    );
  }, launchProgressIntervalMs);
  try {
    return await Promise.race([scheduler.launch(settings.tasks, perOffer, taskShape), timeout]);
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
  }
}

export async function main(argv: string[]): Promise<void> {
  const settings = settingsFrom(argv);
  process.stderr.write(
    `scale bench: 3 masters, ${settings.agents} simulated agents in ${settings.agentProcesses} processes, ${settings.tasks} tasks; ` +
      'GET_STATE read with node:http counting bytes (measures the leader; until getstate15, fetch and response.text())\n',
  );
  const bench = await BenchCluster.start(
    'scale',
    [
      '--snapshot-entries',
      String(settings.snapshotEntries),
      ...(settings.profileDirectory === null ? [] : ['--enable-profiling']),
      ...settings.masterArgs,
    ],
    settings.profileDirectory,
  );
  const cluster = bench.masters;
  let leader: ReplicaProcess | null = await cluster.waitForLeader();
  const poller = new LeaderMetricsPoller(() => leader?.address ?? null);
  poller.start();
  const scheduler = new BenchScheduler(bench.masterList, 'bench-scale');
  const profiles = new LeaderProfiles(settings.profileDirectory);
  try {
    poller.phase = 'register';
    await profiles.phase('register', leader);
    const registerStartedAt = performance.now();
    const fleet = await bench.startAgents(settings.agents, settings.agentProcesses, registerTimeoutMs);
    const registerMs = performance.now() - registerStartedAt;
    progress(`${settings.agents} agents registered in ${round(registerMs / 1000, 1)} s`);
    const leadershipsAfterRegister = await leadershipsBegun(cluster);
    poller.phase = 'launch';
    await profiles.phase('launch', await cluster.waitForLeader());
    const launchEnded = { value: false };
    const leaderChange = changeLeaderMidLaunch(cluster, scheduler, settings, launchEnded);
    const launch = await launchAll(scheduler, settings).finally(() => (launchEnded.value = true));
    await leaderChange;
    const leadershipsAfterLaunch = await leadershipsBegun(cluster);
    progress(
      `leader changes: ${leadershipsAfterRegister - 1} while registering, ${leadershipsAfterLaunch - leadershipsAfterRegister} while launching`,
    );
    progress(
      `${launch.running} tasks running after ${round((launch.lastRunningAtMs - launch.firstAcceptAtMs) / 1000, 1)} s` +
        (launch.endedAfterRunning > 0
          ? ` (${launch.endedAfterRunning} ended after running and were launched again)`
          : ''),
    );
    const held = await fleet.stats();
    progress(
      `before the failover: ${held.dials} dials, ${held.registrations} registrations for ${settings.agents} agents; ` +
        `sockets closed: ${JSON.stringify(held.closes)}; ${held.kills} kills: ${JSON.stringify(held.killCauses)}`,
    );
    // More than asked: a task replaced after a leader change, which the master has the agent kill.
    if (held.tasks < settings.tasks) {
      // Measured on regardless, and said: agents the leader marked unreachable, or that
      // reconnected, may have had tasks killed.
      const unreachable = cluster.replicas.map(
        (replica) => `${replica.id}: ${replica.output.split('"agent marked unreachable"').length - 1}`,
      );
      progress(
        `the agents hold ${held.tasks} tasks, fewer than ${settings.tasks}; fleet ${JSON.stringify(held)}; ` +
          `"agent marked unreachable" lines in the masters' last output: ${unreachable.join(', ')}`,
      );
    }
    poller.phase = 'get_state';
    await profiles.phase('get_state', await cluster.waitForLeader());
    const reads = await readStates(cluster, settings.reads, settings.tasks);
    leader = await cluster.waitForLeader();
    progress(`GET_STATE p50 ${round(median(reads.ms), 0)} ms, ${round(reads.bytes / mebibyte, 1)} MiB`);
    poller.phase = 'restore';
    await profiles.phase('restore', leader);
    const follower = cluster.replicas.find((replica) => replica !== leader)!;
    const restore = await restoreFollower(cluster, follower);
    progress(`${follower.id} restored a snapshot of ${round(restore.bytes / mebibyte, 1)} MiB in ${restore.ms} ms`);
    // The output's end first: the whole log of a master at 10,000 agents is tens of MB.
    const writeTimeline =
      lastSliceTimeline(leader.output, 'write', 0) ?? lastSliceTimeline(await cluster.wholeOutput(leader), 'write', 0);
    const writeOverlap = await otherWritesDuringLastWrite(cluster, leader);
    const beforeKill = poller.overall();
    const leaderChanges = {
      register: leadershipsAfterRegister - 1,
      launch: leadershipsAfterLaunch - leadershipsAfterRegister,
      reads_and_restore: (await leadershipsBegun(cluster)) - leadershipsAfterLaunch,
    };
    await profiles.end();
    poller.phase = 'failover';
    const failover = await killLeader(cluster, fleet, leader);
    leader = failover.newLeader;
    progress(
      `every agent registered again ${failover.reregisteredMs} ms after the SIGKILL, with ` +
        `${failover.counts.dials} dials (${failover.counts.redirects} redirected or refused, ` +
        `${failover.counts.handshakeTimeouts} given up unanswered) and ${failover.counts.registrations} registrations; ` +
        `the ${settings.agentProcesses} fleet processes used ${failover.counts.fleetCpuMs} ms of CPU; ` +
        `sockets closed: ${JSON.stringify(failover.counts.closes)}`,
    );
    progress('failover timeline (ms after the SIGKILL, p50 / max over the agents):');
    for (const each of failover.timeline) progress(`  ${each.step.padEnd(42)} ${each.p50Ms} / ${each.maxMs}`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await poller.stop();
    report(settings, {
      registerMs,
      launch,
      held,
      reads,
      restore,
      writeTimeline,
      writeOverlap,
      failover,
      beforeKill,
      poller,
      leaderChanges,
    });
  } finally {
    await profiles.end();
    await poller.stop();
    scheduler.close();
    await bench.stop();
  }
}

function progress(text: string): void {
  process.stderr.write(`  ${text}\n`);
}

interface Outcome {
  readonly registerMs: number;
  readonly launch: LaunchResult;
  readonly held: FleetStats;
  readonly reads: { readonly ms: readonly number[]; readonly bytes: number; readonly unanswered: number };
  readonly restore: { readonly ms: number; readonly bytes: number; readonly timeline: Record<string, unknown> | null };
  /** The leader's last sliced snapshot write, as its "snapshot slices" line tells (machine.ts SnapshotTimeline). */
  readonly writeTimeline: Record<string, unknown> | null;
  /** The other masters' snapshot writes during the leader's last one, and for how long (summed). */
  readonly writeOverlap: { readonly writes: number; readonly overlapMs: number } | null;
  readonly failover: {
    readonly reregisteredMs: number;
    readonly newLeaderMs: number;
    readonly counts: FailoverCounts;
    readonly timeline: readonly TimelineStep[];
  };
  readonly beforeKill: { readonly maxRssBytes: number; readonly maxEventLoopDelayMs: number };
  readonly poller: LeaderMetricsPoller;
  /** Leader changes before the SIGKILL, by phase (leadershipsBegun). */
  readonly leaderChanges: { readonly register: number; readonly launch: number; readonly reads_and_restore: number };
}

function report(settings: Settings, outcome: Outcome): void {
  const { launch, reads, restore, failover, poller } = outcome;
  const lastSnapshot = poller.snapshots.at(-1) ?? { durationMs: Number.NaN, bytes: Number.NaN };
  const launchSeconds = (launch.lastRunningAtMs - launch.firstAcceptAtMs) / 1000;
  const phases = Object.fromEntries(
    [...poller.phases].map(([phase, figures]) => [phase, round(figures.maxEventLoopDelayMs, 1)]),
  );
  const phaseP99s = Object.fromEntries(
    [...poller.phases].map(([phase, figures]) => [phase, round(figures.maxEventLoopDelayP99Ms, 1)]),
  );
  const line = {
    bench: 'scale',
    masters: 3,
    agents: settings.agents,
    tasks: settings.tasks,
    running: launch.running,
    register_ms: round(outcome.registerMs, 0),
    launch_ms: round(launchSeconds * 1000, 0),
    launch_tasks_per_second: round(launch.running / launchSeconds, 1),
    launch_failures: launch.failures,
    launch_ended_after_running: launch.endedAfterRunning,
    agents_hold_tasks: outcome.held.tasks,
    agent_registrations: outcome.held.registrations,
    agent_kills: outcome.held.kills,
    agent_kill_causes: outcome.held.killCauses,
    agent_dials: outcome.held.dials,
    agent_closes: outcome.held.closes,
    agent_fleet_event_loop_delay_max_ms: outcome.held.eventLoopDelayMaxMs,
    leader_rss_max_mib: round(outcome.beforeKill.maxRssBytes / mebibyte, 0),
    get_state_p50_ms: round(median(reads.ms), 1),
    get_state_max_ms: round(Math.max(...reads.ms), 1),
    get_state_bytes: reads.bytes,
    get_state_reader: 'node:http, bytes counted',
    get_state_unanswered: reads.unanswered,
    snapshot_write_ms: round(lastSnapshot.durationMs, 0),
    snapshot_bytes: lastSnapshot.bytes,
    snapshots_seen: poller.snapshots.length,
    snapshot_restore_ms: restore.ms,
    snapshot_write_plus_restore_ms: round(lastSnapshot.durationMs + restore.ms, 0),
    snapshot_write_slices: outcome.writeTimeline,
    snapshot_writes_during_leader_write: outcome.writeOverlap?.writes ?? null,
    snapshot_write_overlap_ms: outcome.writeOverlap?.overlapMs ?? null,
    snapshot_restore_slices: restore.timeline,
    new_leader_ms: failover.newLeaderMs,
    agents_reregistered_ms: failover.reregisteredMs,
    failover_dials: failover.counts.dials,
    failover_redirects: failover.counts.redirects,
    failover_handshake_timeouts: failover.counts.handshakeTimeouts,
    failover_fleet_cpu_ms: failover.counts.fleetCpuMs,
    failover_registrations: failover.counts.registrations,
    failover_closes: failover.counts.closes,
    failover_timeline: failover.timeline,
    leader_changes_by_phase: outcome.leaderChanges,
    load_average: os.loadavg().map((load) => round(load, 1)),
    leader_event_loop_delay_max_ms: round(outcome.beforeKill.maxEventLoopDelayMs, 1),
    leader_event_loop_delay_max_ms_by_phase: phases,
    leader_event_loop_delay_worst_second_p99_ms_by_phase: phaseP99s,
    metrics_samples: poller.overall().samples,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  printTable([
    { measure: 'leader RSS, max (MiB)', value: line.leader_rss_max_mib, target: '< 1024' },
    { measure: 'GET_STATE p50 (ms)', value: line.get_state_p50_ms, target: '< 300' },
    { measure: 'snapshot write + restore (ms)', value: line.snapshot_write_plus_restore_ms, target: '< 2000' },
    { measure: 'SIGKILL leader → all agents re-registered (ms)', value: line.agents_reregistered_ms, target: '< 5000' },
    { measure: 'leader event-loop delay, max (ms)', value: line.leader_event_loop_delay_max_ms, target: '< 50' },
    { measure: 'launch (tasks/s)', value: line.launch_tasks_per_second, target: '' },
    { measure: 'launch latency p50 (ms)', value: round(percentile(launch.latenciesMs, 0.5), 0), target: '' },
  ]);
}
