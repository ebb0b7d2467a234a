// Runs an allocation cycle in slices of about `sliceBudgetMs`, yielding the event loop between
// them (DESIGN.md, "One event loop, never blocked"): at 10,000 agents a whole cycle takes a few
// hundred ms (bench/allocator.ts), far more than a Raft heartbeat may wait.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AllocationCycle } from '../offers/allocator.ts';
import { sliceBudgetMs, stepsPerClockCheck } from './limits.ts';

export interface SlicedRun {
  /** Time spent computing (not waiting between slices). */
  readonly busyMs: number;
  /** The longest slice: how long the event loop was held at once. */
  readonly longestSliceMs: number;
  readonly slices: number;
}

/** Null when `keepGoing` said stop between slices (leadership lost, master stopping). */
export async function runInSlices(cycle: AllocationCycle, keepGoing: () => boolean): Promise<SlicedRun | null> {
  let busyMs = 0;
  let longestSliceMs = 0;
  let slices = 0;
  for (;;) {
    const sliceStart = performance.now();
    let done = false;
    while (!done && performance.now() - sliceStart < sliceBudgetMs) done = cycle.runSlice(stepsPerClockCheck);
    const sliceMs = performance.now() - sliceStart;
    busyMs += sliceMs;
    longestSliceMs = Math.max(longestSliceMs, sliceMs);
    slices += 1;
    if (done) return { busyMs, longestSliceMs, slices };
    await nextTurn();
    if (!keepGoing()) return null;
  }
}
