// Diagnostic for issue 19 (not the side-by-side benchmark): what one acknowledged write costs each
// Flotilla master in figures that a shared machine's load disturbs less than throughput does: CPU
// time per write (user + system, from /proc/<pid>/stat, so the measurement adds no request to the
// masters), less what each master spends idle (ticks, heartbeats, probes: measured for a few
// seconds before each round and subtracted at its rate, or it would dominate a slow round's
// figure), fsyncs per write and the leader's WAL checkpoints (the masters' own /metrics; a
// build without the checkpoint metrics reports null: SQLite checkpointed inside its commits). With `--baseline <checkout>` it runs a
// second cluster from another checkout's bin/flotilla.js and alternates rounds A B A B, so both
// meet the same load; it prints each round, then the medians and the ratio this ÷ baseline.
// Usage:
//   npx tsx bench/peers/cpu-per-write.ts [--clients 16,256] [--seconds 5] [--rounds 3] [--baseline <dir>]
//     [--idle-seconds 3 (0: the idle rate is not measured nor subtracted)]
//     [--flotilla-args '--raft-storage-writer thread'] [--baseline-args '...'] (master flags of each cluster)
// The leader's main thread is also measured alone (/proc/<pid>/task/<pid>/stat): what the event
// loop spends per write, apart from worker threads (the storage writer's, libuv's pool).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { percentile } from '../_report.ts';
import { makeTempDir } from '../../test/support/tmp.ts';
import { FlotillaSystem } from './flotilla.ts';
import { benchValue, runRound } from './load.ts';

/** Linux reports process times in clock ticks of 1/100 s (USER_HZ) on every architecture Node runs on. */
const clockTicksPerSecond = 100;
const warmUpSeconds = 2;
const warmUpClients = 16;
/** How long each master's idle CPU rate is measured before a round (--idle-seconds; 0: not subtracted). */
let idleSeconds = 3;

interface Sample {
  readonly cpuSeconds: number;
  readonly mainThreadCpuSeconds: number;
  /** Time the main thread was runnable but waiting for a CPU (/proc/<pid>/task/<pid>/schedstat). */
  readonly mainThreadRunqueueWaitSeconds: number;
  readonly fsyncs: number;
  /** null: a build that reports no checkpoints of its own. */
  readonly walCheckpoints: number | null;
  readonly walCheckpointFrames: number | null;
}

interface RoundFigures {
  readonly system: string;
  readonly clients: number;
  readonly round: number;
  readonly writes: number;
  readonly writesPerSecond: number;
  readonly leaderCpuMsPerWrite: number;
  readonly leaderMainThreadCpuMsPerWrite: number;
  /**
   * What the leader's event loop waited for a CPU per write, beside what it ran: on a machine whose
   * run queue is longer than its cores a single-threaded loop waits more than it computes.
   */
  readonly leaderMainThreadRunqueueWaitMsPerWrite: number;
  readonly followerCpuMsPerWrite: number;
  /** The load generator (this process, which drives one cluster at a time): the client's share. */
  readonly clientCpuMsPerWrite: number;
  readonly leaderFsyncsPerWrite: number;
  /** Per follower: more than the leader's means a follower writes appends the leader batched. */
  readonly followerFsyncsPerWrite: number;
  readonly leaderWalCheckpoints: number | null;
  readonly leaderWalFramesPerCheckpoint: number | null;
}

function processCpuSeconds(pid: number, statPath = `/proc/${pid}/stat`): number {
  // Fields after the command name (which is in parentheses and may hold spaces): utime is the 14th
  // field of the line, stime the 15th.
  const text = readFileSync(statPath, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}

/** schedstat: time on a CPU, time waiting on a run queue (both ns), timeslices. */
function runqueueWaitSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ');
  return Number(fields[1]) / 1e9;
}

async function metricCounts(address: string) {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const lines = text.split('\n');
  const value = (name: string): number | null => {
    // `name value` or `name{labels} value`.
    const line = lines.find((candidate) => candidate.startsWith(name) && /^[ {]/.test(candidate.slice(name.length)));
    return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const fsyncs = value('flotilla_raft_fsync_seconds_count');
  if (fsyncs === null) throw new Error(`no flotilla_raft_fsync_seconds_count in ${address}/metrics`);
  return {
    fsyncs,
    walCheckpoints: value('flotilla_raft_wal_checkpoint_seconds_count'),
    walCheckpointFrames: value('flotilla_raft_wal_checkpoint_frames_total'),
  };
}

async function sample(system: FlotillaSystem): Promise<Sample[]> {
  const addresses = system.memberAddresses();
  return Promise.all(
    addresses.map(async (address, index) => ({
      cpuSeconds: processCpuSeconds(system.member(index).pid!),
      mainThreadCpuSeconds: processCpuSeconds(
        system.member(index).pid!,
        `/proc/${system.member(index).pid!}/task/${system.member(index).pid!}/stat`,
      ),
      mainThreadRunqueueWaitSeconds: runqueueWaitSeconds(system.member(index).pid!),
      ...(await metricCounts(address)),
    })),
  );
}

async function measureRound(system: FlotillaSystem, clients: number, seconds: number, round: number) {
  const leader = (await system.waitHealthy(30_000)).find((view) => view.leader)!.index;
  const idleStart = await sample(system);
  await sleep(idleSeconds * 1000);
  const before = await sample(system);
  // On a machine under a load of 30 the idle rate measured over a few seconds swings more than the
  // figure it is subtracted from (negative CPU per write): --idle-seconds 0 leaves it in, the same
  // for both systems of an interleaved comparison.
  const idleCpuSecondsPerSecond = (index: number) =>
    idleSeconds === 0 ? 0 : (before[index]!.cpuSeconds - idleStart[index]!.cpuSeconds) / idleSeconds;
  const clientCpuBefore = process.cpuUsage();
  const result = await runRound((client) => system.openClient(client), clients, seconds, benchValue(round));
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const after = await sample(system);
  const cpuMs = (index: number) =>
    (after[index]!.cpuSeconds - before[index]!.cpuSeconds - idleCpuSecondsPerSecond(index) * result.seconds) * 1000;
  const mainThreadCpuMs = (index: number) =>
    (after[index]!.mainThreadCpuSeconds - before[index]!.mainThreadCpuSeconds) * 1000;
  const followers = [0, 1, 2].filter((index) => index !== leader);
  const figures: RoundFigures = {
    system: system.name,
    clients,
    round,
    writes: result.ops,
    writesPerSecond: Math.round(result.ops / result.seconds),
    leaderCpuMsPerWrite: cpuMs(leader) / result.ops,
    // Idle not subtracted: the idle rate is measured per process, not per thread.
    leaderMainThreadCpuMsPerWrite: mainThreadCpuMs(leader) / result.ops,
    leaderMainThreadRunqueueWaitMsPerWrite:
      ((after[leader]!.mainThreadRunqueueWaitSeconds - before[leader]!.mainThreadRunqueueWaitSeconds) * 1000) /
      result.ops,
    followerCpuMsPerWrite: followers.reduce((sum, index) => sum + cpuMs(index), 0) / followers.length / result.ops,
    clientCpuMsPerWrite: (clientCpu.user + clientCpu.system) / 1000 / result.ops,
    leaderFsyncsPerWrite: (after[leader]!.fsyncs - before[leader]!.fsyncs) / result.ops,
    followerFsyncsPerWrite:
      followers.reduce((sum, index) => sum + after[index]!.fsyncs - before[index]!.fsyncs, 0) /
      followers.length /
      result.ops,
    leaderWalCheckpoints: difference(after[leader]!.walCheckpoints, before[leader]!.walCheckpoints),
    leaderWalFramesPerCheckpoint: framesPerCheckpoint(before[leader]!, after[leader]!),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
  return figures;
}

function difference(after: number | null, before: number | null): number | null {
  return after === null || before === null ? null : after - before;
}

function framesPerCheckpoint(before: Sample, after: Sample): number | null {
  const checkpoints = difference(after.walCheckpoints, before.walCheckpoints);
  const frames = difference(after.walCheckpointFrames, before.walCheckpointFrames);
  return checkpoints === null || frames === null || checkpoints === 0 ? null : Math.round(frames / checkpoints);
}

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '16,256' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    baseline: { type: 'string' },
    'idle-seconds': { type: 'string', default: String(idleSeconds) },
    'flotilla-args': { type: 'string', default: '' },
    'baseline-args': { type: 'string', default: '' },
  },
});
idleSeconds = Number(values['idle-seconds']);
const clientCounts = values.clients.split(',').map(Number);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const dataRoot = makeTempDir('cpu-per-write-');
const masterFlags = (text: string) => text.split(' ').filter((flag) => flag !== '');
const systems = [new FlotillaSystem(path.join(dataRoot, 'this'), masterFlags(values['flotilla-args']))];
if (values.baseline !== undefined) {
  const binary = path.join(values.baseline, 'bin', 'flotilla.js');
  const flags = masterFlags(values['baseline-args']);
  systems.push(new FlotillaSystem(path.join(dataRoot, 'baseline'), flags, [], binary, 'flotilla-baseline'));
}
const all: RoundFigures[] = [];
try {
  for (const system of systems) {
    await system.start();
    await runRound((client) => system.openClient(client), warmUpClients, warmUpSeconds, benchValue(0));
  }
  for (const clients of clientCounts) {
    for (let round = 1; round <= rounds; round++) {
      for (const system of systems) all.push(await measureRound(system, clients, seconds, round));
    }
  }
} finally {
  await Promise.all(systems.map((system) => system.stop()));
}
summarize(all);

function summarize(figures: readonly RoundFigures[]): void {
  const median = (numbers: number[]) => percentile(numbers, 0.5);
  for (const clients of clientCounts) {
    const medians = systems.map((system) => {
      const rows = figures.filter((row) => row.system === system.name && row.clients === clients);
      return {
        system: system.name,
        clients,
        writesPerSecond: median(rows.map((row) => row.writesPerSecond)),
        leaderCpuMsPerWrite: round3(median(rows.map((row) => row.leaderCpuMsPerWrite))),
        leaderMainThreadCpuMsPerWrite: round3(median(rows.map((row) => row.leaderMainThreadCpuMsPerWrite))),
        leaderMainThreadRunqueueWaitMsPerWrite: round3(
          median(rows.map((row) => row.leaderMainThreadRunqueueWaitMsPerWrite)),
        ),
        followerCpuMsPerWrite: round3(median(rows.map((row) => row.followerCpuMsPerWrite))),
        clientCpuMsPerWrite: round3(median(rows.map((row) => row.clientCpuMsPerWrite))),
        leaderFsyncsPerWrite: round3(median(rows.map((row) => row.leaderFsyncsPerWrite))),
        followerFsyncsPerWrite: round3(median(rows.map((row) => row.followerFsyncsPerWrite))),
        leaderWalCheckpointsPerRound: rows.map((row) => row.leaderWalCheckpoints),
      };
    });
    for (const row of medians) process.stdout.write(`median ${JSON.stringify(row)}\n`);
    if (medians.length === 2) {
      const ratio = (
        key:
          | 'writesPerSecond'
          | 'leaderCpuMsPerWrite'
          | 'leaderMainThreadCpuMsPerWrite'
          | 'followerCpuMsPerWrite'
          | 'clientCpuMsPerWrite',
      ) => round3(medians[0]![key] / medians[1]![key]);
      const ratios = {
        clients,
        writesPerSecond: ratio('writesPerSecond'),
        leaderCpuMsPerWrite: ratio('leaderCpuMsPerWrite'),
        leaderMainThreadCpuMsPerWrite: ratio('leaderMainThreadCpuMsPerWrite'),
        followerCpuMsPerWrite: ratio('followerCpuMsPerWrite'),
        clientCpuMsPerWrite: ratio('clientCpuMsPerWrite'),
      };
      process.stdout.write(`ratio this/baseline ${JSON.stringify(ratios)}\n`);
    }
  }
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
