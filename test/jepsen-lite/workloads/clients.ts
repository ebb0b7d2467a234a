// Runs the clients: each loops over its workload's operations until the stop time, paced so
// that all of them together stay near the requested rate (Jepsen's stagger), with a random
// phase so they do not march in step.
import { setTimeout as sleep } from 'node:timers/promises';
import type { MonotonicClock } from '../history/clock.ts';
import type { ClientSlot, Workload } from './workload.ts';

export async function runClients(
  workload: Workload,
  slots: readonly ClientSlot[],
  clock: MonotonicClock,
  stopAtMs: number,
  ratePerSecond: number,
): Promise<void> {
  const intervalMs = (1000 * slots.length) / ratePerSecond;
  await Promise.all(
    slots.map(async (slot) => {
      let nextStartMs = clock.nowMs() + slot.random.next() * intervalMs;
      while (clock.nowMs() < stopAtMs) {
        const waitMs = nextStartMs - clock.nowMs();
        if (waitMs > 0) await sleep(waitMs);
        if (clock.nowMs() >= stopAtMs) break;
        await workload.step(slot);
        // Gaps of 0.5–1.5 mean intervals; a slow operation is not made up for with a burst.
        nextStartMs = Math.max(nextStartMs + intervalMs * (0.5 + slot.random.next()), clock.nowMs());
      }
    }),
  );
}
