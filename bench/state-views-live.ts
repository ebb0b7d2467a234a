// GET_STATE and GET_TASKS on a live leader (`npm run bench -- state-views --live`): three real
// `flotilla master` processes, `--agents` simulated agents (bench/_agent-fleet.ts) heartbeating
// throughout, `--tasks` running tasks launched through the scheduler API, then `--runs` reads of
// each call over HTTP one after another. Reported per call: the median and longest time to the
// whole answer and to its first byte, the answer's size and HTTP chunks, and the leader's largest
// event-loop delay while that call was read (its own /metrics, bench/_leader-metrics.ts). The
// in-process figures (state-views.ts) say what building the answer costs; these say what a
// client of a busy leader gets, where a slice of the answer waits its turn among the leader's
// other work. A read that fails or takes longer than `--timeout-ms` is counted, not retried.
//
// With `--profile DIR` the masters run under `node --cpu-prof` and write their profiles there at
// the end; each line then carries `profile_windows_us`, the reads' [start, end] on the monotonic
// clock the profiles' timestamps use, so the leader's samples during the reads can be told apart
// from the launch's. `client_cpu_ms` is this process's own CPU per read (fetch, chunking);
// `leader_cpu_ms`, the leader process's CPU per read (/proc: its other work in those seconds too).
// `--reader http` reads with node:http instead of fetch (whose web streams cost the client about
// as much CPU as the leader's answer): the time then says more about the leader, less about us.
//
//   npm run bench -- state-views --live [--agents 1000] [--tasks 100000] [--runs 5] [--timeout-ms 60000] [--profile DIR] [--reader fetch|http] [--quick]
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { BenchCluster, type OperatorRead, readOperatorCall, taskShape, wholeNumber } from './_bench-cluster.ts';
import { BenchScheduler } from './_launcher.ts';
import { LeaderMetricsPoller } from './_leader-metrics.ts';
import { median, printTable, round } from './_report.ts';

const registerTimeoutMs = 900_000;
const calls = ['GET_STATE', 'GET_TASKS'] as const;
/** The leader's /metrics are scraped once a second: a pause after each call's reads lets the last scrape see them. */
const settleMs = 1_500;

type Read = OperatorRead;

/** Microseconds on the monotonic clock, as V8's --cpu-prof timestamps (both CLOCK_MONOTONIC on Linux). */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

const clockTicksPerSecond = 100;

/** The process's user + system CPU so far in ms (/proc/PID/stat), or NaN where there is no /proc. */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (in parentheses, which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return Number.NaN;
  }
}

/** One operator call on `address`, its body read chunk by chunk as the leader writes it. */
async function readCall(address: string, type: string, timeoutMs: number): Promise<Read> {
  const startedAt = performance.now();
  const response = await fetch(`http://${address}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ type }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200 || response.body === null)
    throw new Error(`${type}: ${response.status} ${(await response.text()).slice(0, 500)}`);
  let firstByteMs = Number.NaN;
  let bytes = 0;
  let chunks = 0;
  for await (const chunk of response.body) {
    if (chunks === 0) firstByteMs = performance.now() - startedAt;
    chunks += 1;
    bytes += chunk.byteLength;
  }
  return { ms: performance.now() - startedAt, firstByteMs, bytes, chunks };
}

/** The fields of the leader's "sliced answer written" lines for `type`, oldest first. */
function slicedAnswerLines(output: string, type: string): Record<string, number>[] {
  const lines: Record<string, number>[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"sliced answer written"') || !line.includes(`"call":"${type}"`)) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, number>);
    } catch {
      // A line cut by the output's end: left out.
    }
  }
  return lines;
}

const timelineFields = [
  'totalMs',
  'beforeBodyMs',
  'firstSliceMs',
  'slices',
  'chunks',
  'buildMs',
  'longestSliceMs',
  'loopWaitMs',
  'longestLoopWaitMs',
  'socketWaitMs',
  'lastSliceMs',
  'afterLastSliceMs',
] as const;

function medianTimeline(lines: readonly Record<string, number>[]): Record<string, number> | null {
  if (lines.length === 0) return null;
  return Object.fromEntries(timelineFields.map((field) => [field, round(median(lines.map((line) => line[field]!)))]));
}

export async function mainLive(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      live: { type: 'boolean', default: true },
      agents: { type: 'string' },
      tasks: { type: 'string' },
      runs: { type: 'string' },
      'timeout-ms': { type: 'string' },
      profile: { type: 'string' },
      reader: { type: 'string', default: 'fetch' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const agents = wholeNumber('agents', values.agents, quick ? 20 : 1_000);
  const tasks = wholeNumber('tasks', values.tasks, quick ? 300 : 100_000);
  const runs = wholeNumber('runs', values.runs, quick ? 2 : 5);
  const timeoutMs = wholeNumber('timeout-ms', values['timeout-ms'], 60_000);
  if (values.reader !== 'fetch' && values.reader !== 'http')
    throw new Error(`--reader must be fetch or http, got ${values.reader}`);
  const read = values.reader === 'http' ? readOperatorCall : readCall;
  process.stderr.write(
    `state-views bench, live: 3 masters, ${agents} simulated agents, ${tasks} running tasks; ${runs} reads of each call; ` +
      `reader ${values.reader === 'http' ? 'node:http counting bytes (measures the leader)' : 'fetch web streams counting bytes (its CPU competes with the leader)'}\n`,
  );
  const bench = await BenchCluster.start('state-views-live', [], values.profile ?? null);
  let leaderAddress: string | null = null;
  const poller = new LeaderMetricsPoller(() => leaderAddress);
  const scheduler = new BenchScheduler(bench.masterList, 'bench-state-views-live');
  try {
    leaderAddress = (await bench.masters.waitForLeader()).address;
    poller.start();
    await bench.startAgents(agents, 1, registerTimeoutMs);
    poller.phase = 'launch';
    const launched = await scheduler.launch(tasks, Math.ceil(tasks / agents), taskShape);
    process.stderr.write(`  ${launched.running} tasks running\n`);
    const rows: Record<string, string | number>[] = [];
    for (const type of calls) {
      const leader = await bench.masters.waitForLeader();
      leaderAddress = leader.address;
      poller.phase = type;
      const leaderPid = bench.masters.replicas.find((replica) => replica.address === leader.address)?.child?.pid;
      const leaderCpuMs: number[] = [];
      const reads: Read[] = [];
      const windows: [number, number][] = [];
      let failed = 0;
      const cpuBefore = process.cpuUsage();
      for (let run = 0; run < runs; run += 1) {
        const startedUs = monotonicUs();
        const leaderCpuBefore = processCpuMs(leaderPid);
        try {
          reads.push(await read(leader.address, type, timeoutMs));
        } catch (error) {
          failed += 1;
          process.stderr.write(`  ${type} failed: ${(error as Error).message}\n`);
        }
        windows.push([startedUs, monotonicUs()]);
        leaderCpuMs.push(processCpuMs(leaderPid) - leaderCpuBefore);
      }
      const cpu = process.cpuUsage(cpuBefore);
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      const leaderReplica = bench.masters.replicas.find((replica) => replica.address === leader.address);
      const timelines =
        leaderReplica === undefined ? [] : slicedAnswerLines(await bench.masters.wholeOutput(leaderReplica), type);
      const line = {
        bench: 'state-views',
        way: `${type} live`,
        tasks: launched.running,
        agents,
        ms: round(median(reads.map((read) => read.ms))),
        max_ms: round(Math.max(...reads.map((read) => read.ms))),
        first_byte_ms: round(median(reads.map((read) => read.firstByteMs))),
        bytes: reads[0]?.bytes ?? 0,
        chunks: reads[0]?.chunks ?? 0,
        failed,
        leader_event_loop_delay_max_ms: round(poller.phases.get(type)?.maxEventLoopDelayMs ?? Number.NaN, 1),
        leader_rss_max_mib: round((poller.phases.get(type)?.maxRssBytes ?? Number.NaN) / 2 ** 20),
        runs,
        reader: values.reader,
        client_cpu_ms: round((cpu.user + cpu.system) / 1000 / Math.max(runs, 1)),
        leader_cpu_ms: round(median(leaderCpuMs)),
        // The leader's own account of each read (routes/operator.ts "sliced answer written"), medians.
        leader_timeline: medianTimeline(timelines.slice(-runs)),
        ...(values.profile === undefined ? {} : { leader: leader.address, profile_windows_us: windows }),
        load_average: os.loadavg().map((load) => round(load, 1)),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      rows.push({
        way: line.way,
        tasks: line.tasks,
        'ms (median)': line.ms,
        'ms (max)': line.max_ms,
        'first byte ms': line.first_byte_ms,
        failed: line.failed,
        'leader loop delay max ms': line.leader_event_loop_delay_max_ms,
        'leader CPU ms': line.leader_cpu_ms,
        'client CPU ms': line.client_cpu_ms,
        MB: round(line.bytes / 1e6),
      });
    }
    process.stdout.write('\n');
    printTable(rows);
  } finally {
    await poller.stop();
    scheduler.close();
    await bench.stop();
  }
}
