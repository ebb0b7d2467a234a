// Failover as a client sees it: from the signal to the leader (SIGKILL: the process crashed and
// its sockets closed; SIGSTOP: it froze, as a lost machine or a partition looks, no socket
// closes) to the first write acknowledged by a survivor. The client hedges: every
// `hedgeIntervalMs` it sends a fresh attempt to the next survivor, so the time measured is when
// the system could first acknowledge a write, not when one unlucky attempt timed out.
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../../test/support/wait.ts';
import type { PeerSystem } from './system.ts';

export type FailoverKind = 'kill' | 'freeze';

const hedgeIntervalMs = 20;
const attemptTimeoutMs = 3_000;
const giveUpMs = 30_000;
/** After the old leader is back, let the cluster settle before the next measurement. */
const settleMs = 1_000;

export async function measureFailover(system: PeerSystem, kind: FailoverKind, run: number): Promise<number> {
  const leader = await steadyLeader(system, run);
  const survivors = [0, 1, 2].filter((index) => index !== leader);
  const member = system.member(leader);
  const started = performance.now();
  // The wall-clock instant, to line up with the members' logs (FLOTILLA_KEEP_TMP=1): the failover's timeline.
  process.stderr.write(`  ${system.name} ${kind} of member ${leader + 1} at ${new Date().toISOString()}\n`);
  await member.signal(kind === 'kill' ? 'SIGKILL' : 'SIGSTOP');
  let elapsedMs: number;
  try {
    elapsedMs = await firstAcknowledgedWrite(system, survivors, started, `after-${run}`);
  } finally {
    if (kind === 'kill') member.start();
    else await member.signal('SIGCONT');
    await system.afterFailover?.();
  }
  await system.waitHealthy(90_000);
  await sleep(settleMs);
  return elapsedMs;
}

/**
 * The leader, once a write went through it and it still leads after: a leader that changed in
 * between (the last victim's return can cost an election) would make the kill hit a follower.
 */
async function steadyLeader(system: PeerSystem, run: number): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = (await system.waitHealthy(90_000)).find((view) => view.leader)!;
    await system.beforeKill?.([0, 1, 2].filter((index) => index !== before.index));
    await waitFor(() => system.attemptWrite(before.index, `before-${run}`, 2_000), {
      timeoutMs: 30_000,
      what: `a write through the ${system.name} leader before the failover`,
    });
    const after = (await system.waitHealthy(90_000)).find((view) => view.leader)!;
    if (after.index === before.index && after.term === before.term) return after.index;
    await system.afterFailover?.();
  }
  throw new Error(`${system.name}: the leader kept changing before a failover`);
}

function firstAcknowledgedWrite(
  system: PeerSystem,
  survivors: readonly number[],
  started: number,
  value: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let done = false;
    let attempt = 0;
    let hedgeTimer: NodeJS.Timeout | null = null;
    const finish = (outcome: () => void): void => {
      if (done) return;
      done = true;
      if (hedgeTimer !== null) clearTimeout(hedgeTimer);
      outcome();
    };
    const launch = (): void => {
      if (done) return;
      if (performance.now() - started > giveUpMs) {
        finish(() => reject(new Error(`${system.name}: no write acknowledged within ${giveUpMs} ms of the failover`)));
        return;
      }
      const target = survivors[attempt++ % survivors.length]!;
      void system.attemptWrite(target, value, attemptTimeoutMs).then((acknowledged) => {
        if (acknowledged) finish(() => resolve(performance.now() - started));
      });
      hedgeTimer = setTimeout(launch, hedgeIntervalMs);
    };
    launch();
  });
}
