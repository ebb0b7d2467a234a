// Diagnostic for issue 19 (not the side-by-side benchmark): where one acknowledged write waits.
// Three Flotilla masters under one round of load, each traced with `strace -f -tt -T` (every
// thread) for that round; write-timeline-analysis.ts then counts per write the fsyncs of each
// member, the leader's event-loop turns and frames to its peers, the followers' acknowledgements
// and how many of those reached the leader inside a later write's fsync, and splits each
// request's time on the leader into its own fsyncs, epoll (waiting for the followers or the
// network) and the rest (running, or waiting for a CPU). strace slows every system call: the
// counts hold, the durations are the traced processes'. The raw traces stay in <out-dir>.
// Usage:
//   npx tsx bench/peers/write-timeline.ts [--clients 1] [--seconds 1] [--out-dir /tmp/flotilla-timeline]
//     [--flotilla-args='--raft-storage-writer thread']
//   npx tsx bench/peers/write-timeline.ts --analyze <out-dir of an earlier run>
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../_report.ts';
import { makeTempDir } from '../../test/support/tmp.ts';
import { FlotillaSystem } from './flotilla.ts';
import { benchValue, runRound } from './load.ts';
import { mainThreadOf, parseStrace, summarizeWritePath } from './write-timeline-analysis.ts';

const tracedCalls =
  'read,readv,write,writev,fsync,fdatasync,pwrite64,epoll_wait,epoll_pwait,sendto,sendmsg,recvfrom,recvmsg';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '1' },
    'out-dir': { type: 'string', default: '/tmp/flotilla-timeline' },
    'flotilla-args': { type: 'string', default: '' },
    analyze: { type: 'string' },
  },
});
const outDirectory = values['out-dir']!;
mkdirSync(outDirectory, { recursive: true });

/** Attaches strace to every thread of `pid`, writing to `file`; the returned function detaches. */
function trace(pid: number, file: string): () => Promise<void> {
  const threads = readdirSync(`/proc/${pid}/task`).flatMap((thread) => ['-p', thread]);
  const tracer = spawn(
    'strace',
    ['-tt', '-T', '-q', '-s', '64', '-e', `trace=${tracedCalls}`, '-o', file, ...threads],
    {
      stdio: 'ignore',
    },
  );
  return async () => {
    const exited = new Promise<void>((resolve) => tracer.once('exit', () => resolve()));
    tracer.kill('SIGINT');
    await exited;
  };
}

/** One line of counts and medians from the traces in `directory` (leader-*.strace, follower-*.strace). */
function report(directory: string, round: Record<string, number>): void {
  const files = readdirSync(directory).filter((file) => file.endsWith('.strace'));
  const calls = (file: string) => parseStrace(readFileSync(path.join(directory, file), 'utf8'));
  const leader = calls(files.find((file) => file.startsWith('leader-'))!);
  const followers = files.filter((file) => file.startsWith('follower-')).map(calls);
  const { requests, ...counts } = summarizeWritePath(leader, mainThreadOf(leader), followers);
  const writes = requests.filter((request) => request.method === 'PUT');
  const median = (pick: (wait: (typeof writes)[number]) => number) =>
    Number(percentile(writes.map(pick), 0.5).toFixed(3));
  const rounded = (value: number) => Number(value.toFixed(3));
  process.stdout.write(
    `${JSON.stringify({
      ...round,
      ...Object.fromEntries(
        Object.entries(counts).map(([key, value]) => [
          key,
          typeof value === 'number'
            ? rounded(value)
            : 'count' in value
              ? { count: value.count, share: rounded(value.share), meanWaitMs: rounded(value.meanWaitMs) }
              : value.map(rounded),
        ]),
      ),
      writeMedianMs: median((wait) => wait.totalMs),
      writeMedianFsyncMs: median((wait) => wait.fsyncMs),
      writeMedianPollMs: median((wait) => wait.pollMs),
      writeMedianOtherMs: median((wait) => wait.otherMs),
      load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    })}\n`,
  );
}

if (values.analyze !== undefined) {
  report(values.analyze, {});
} else {
  const flotillaArgs = values['flotilla-args']!.split(' ').filter((arg) => arg !== '');
  const system = new FlotillaSystem(makeTempDir('timeline-peers-'), flotillaArgs);
  try {
    await system.start();
    await runRound((client) => system.openClient(client), 16, 2, benchValue(0));
    const views = await system.waitHealthy(30_000);
    const stops = views.map((view) =>
      trace(
        system.member(view.index).pid!,
        path.join(outDirectory, `${view.leader ? 'leader' : 'follower'}-m${view.index + 1}.strace`),
      ),
    );
    // strace needs a moment to attach to every thread.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const clients = Number(values.clients);
    const result = await runRound(
      (client) => system.openClient(client),
      clients,
      Number(values.seconds),
      benchValue(1),
    );
    for (const stop of stops) await stop();
    report(outDirectory, {
      clients,
      roundWrites: result.ops,
      roundP50Ms: Number(result.p50Ms.toFixed(3)),
      roundP99Ms: Number(result.p99Ms.toFixed(3)),
    });
  } finally {
    await system.stop();
  }
}
