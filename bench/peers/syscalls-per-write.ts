// Diagnostic for issue 19 (not the side-by-side benchmark): the system calls one acknowledged
// write costs each Flotilla master, counted by `strace -c` attached to every thread of each master
// for one round of load (writes to sockets and the log, fsyncs, reads, epoll). Counts, not times:
// a shared machine's load does not move them, so a change that saves a write(2) per request shows
// here when throughput is lost in the noise. strace slows the traced process: the writes/s of a
// round are not the system's. With `--baseline <checkout>` a second cluster from another checkout's
// bin/flotilla.js runs too and rounds alternate A B A B; it prints each round and the medians.
// Usage:
//   npx tsx bench/peers/syscalls-per-write.ts [--clients 16] [--seconds 5] [--rounds 3] [--baseline <dir>]
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../_report.ts';
import { makeTempDir } from '../../test/support/tmp.ts';
import { FlotillaSystem } from './flotilla.ts';
import { benchValue, runRound } from './load.ts';

/**
 * The calls reported on their own; the rest count in `total`. libuv (Node 20) polls with
 * epoll_pwait, once per event-loop iteration that reaches the poll phase: per write, that is the
 * turns a write costs each process.
 */
const namedCalls = [
  'write',
  'writev',
  'read',
  'fsync',
  'fdatasync',
  'pwrite64',
  'epoll_wait',
  'epoll_pwait',
  'futex',
] as const;

interface Traced {
  readonly calls: Map<string, number>;
}

/** Attaches `strace -c` to every thread of `pid`; the returned function detaches and parses its summary. */
function traceProcess(pid: number): () => Promise<Traced> {
  const threads = readdirSync(`/proc/${pid}/task`);
  const tracer = spawn('strace', ['-c', '-q', ...threads.flatMap((thread) => ['-p', thread])], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  tracer.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return async () => {
    const exited = new Promise<void>((resolve) => tracer.once('exit', () => resolve()));
    tracer.kill('SIGINT');
    await exited;
    const calls = new Map<string, number>();
    for (const line of output.split('\n')) {
      // % time, seconds, usecs/call, calls, [errors], syscall
      const fields = line.trim().split(/\s+/);
      if (fields.length < 5 || !/^\d+$/.test(fields[3]!)) continue;
      calls.set(fields[fields.length - 1]!, Number(fields[3]));
    }
    return { calls };
  };
}

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    baseline: { type: 'string' },
  },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

const systems: FlotillaSystem[] = [new FlotillaSystem(makeTempDir('syscalls-peers-'))];
if (values.baseline !== undefined) {
  systems.push(
    new FlotillaSystem(
      makeTempDir('syscalls-peers-baseline-'),
      [],
      [],
      path.join(values.baseline, 'bin', 'flotilla.js'),
      'flotilla-baseline',
    ),
  );
}

type Row = Record<string, number | string>;
const rows: Row[] = [];
try {
  for (const system of systems) {
    await system.start();
    await runRound((client) => system.openClient(client), 16, 2, benchValue(0));
  }
  for (let round = 1; round <= rounds; round++) {
    for (const system of systems) {
      const views = await system.waitHealthy(30_000);
      const leader = views.find((view) => view.leader)!.index;
      const follower = views.find((view) => !view.leader)!.index;
      const stopLeader = traceProcess(system.member(leader).pid!);
      const stopFollower = traceProcess(system.member(follower).pid!);
      // strace needs a moment to attach to every thread.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const result = await runRound((client) => system.openClient(client), clients, seconds, benchValue(round));
      const [leaderCalls, followerCalls] = [await stopLeader(), await stopFollower()];
      const row: Row = { system: system.name, round, writes: result.ops };
      for (const [role, traced] of [
        ['leader', leaderCalls],
        ['follower', followerCalls],
      ] as const) {
        const perWrite = (count: number) => Number((count / result.ops).toFixed(3));
        for (const call of namedCalls) row[`${role}.${call}`] = perWrite(traced.calls.get(call) ?? 0);
        row[`${role}.total`] = perWrite(traced.calls.get('total') ?? 0);
      }
      rows.push(row);
      process.stdout.write(`${JSON.stringify(row)}\n`);
    }
  }
  for (const system of systems) {
    const mine = rows.filter((row) => row.system === system.name);
    const medians: Row = { system: system.name, round: 'median' };
    for (const key of Object.keys(mine[0]!)) {
      if (key === 'system' || key === 'round') continue;
      medians[key] = percentile(
        mine.map((row) => row[key] as number),
        0.5,
      );
    }
    process.stdout.write(`${JSON.stringify(medians)}\n`);
  }
} finally {
  for (const system of systems) await system.stop();
}
