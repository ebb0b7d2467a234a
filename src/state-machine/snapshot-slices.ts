// The clock of a sliced snapshot write or restore (machine.ts). It decides when a step yields the
// event loop, and keeps the job's timeline: its slices, the gaps between them, and, where Linux
// tells (util/thread-clock.ts), how much of each gap this thread ran the loop's other callbacks
// against waited for a core (the machine's load). Logged as "snapshot slices", read by bench/scale.ts.

import { mainThreadTimes, type ThreadTimes } from '../util/thread-clock.ts';

export interface SliceTimeline {
  /** Slices run: the job gave the loop back one fewer times. */
  readonly slices: number;
  /** Wall time in the job's own slices, and the longest. */
  readonly sliceMs: number;
  readonly longestSliceMs: number;
  /** This thread's CPU in the job's slices, and its time waiting for a core in them (null: unknown). */
  readonly sliceCpuMs: number | null;
  readonly sliceRunqueueMs: number | null;
  /** Wall time between slices, the longest gap, and of it what this thread ran and waited for a core. */
  readonly gapMs: number;
  readonly longestGapMs: number;
  readonly gapCpuMs: number | null;
  readonly gapRunqueueMs: number | null;
}

export class SliceClock {
  readonly #budgetMs: number;
  readonly #now: () => number;
  readonly #threadTimes: () => ThreadTimes | null;
  #sliceStartMs: number;
  #sliceStartTimes: ThreadTimes | null;
  #timesKnown: boolean;
  #pausedMs = 0;
  #pausedTimes: ThreadTimes | null = null;
  #slices = 1;
  #sliceMs = 0;
  #longestSliceMs = 0;
  #sliceCpuNs = 0;
  #sliceWaitNs = 0;
  #gapMs = 0;
  #longestGapMs = 0;
  #gapRunNs = 0;
  #gapWaitNs = 0;

  /** `now` and `threadTimes` are the real clocks but in tests. */
  constructor(budgetMs: number, now: () => number = () => performance.now(), threadTimes = mainThreadTimes) {
    if (!(budgetMs >= 0)) throw new RangeError(`slice budget ${budgetMs} ms`);
    this.#budgetMs = budgetMs;
    this.#now = now;
    this.#threadTimes = threadTimes;
    this.#sliceStartMs = now();
    this.#sliceStartTimes = threadTimes();
    this.#timesKnown = this.#sliceStartTimes !== null;
  }

  /** When the current slice began. */
  get sliceStartMs(): number {
    return this.#sliceStartMs;
  }

  /** Whether the slice has used its budget: then the caller yields, calling paused() and resumed() around it. */
  due(): boolean {
    return this.#now() - this.#sliceStartMs >= this.#budgetMs;
  }

  /** Awaits the next turn if the slice has used its budget. */
  async yieldIfDue(): Promise<void> {
    if (!this.due()) return;
    this.paused();
    await new Promise((resolve) => setImmediate(resolve));
    this.resumed();
  }

  paused(): void {
    this.#pausedMs = this.#now();
    this.#pausedTimes = this.#timesKnown ? this.#threadTimes() : null;
    const sliceMs = this.#pausedMs - this.#sliceStartMs;
    this.#sliceMs += sliceMs;
    this.#longestSliceMs = Math.max(this.#longestSliceMs, sliceMs);
    if (this.#pausedTimes !== null && this.#sliceStartTimes !== null) {
      this.#sliceCpuNs += this.#pausedTimes.runNs - this.#sliceStartTimes.runNs;
      this.#sliceWaitNs += this.#pausedTimes.waitNs - this.#sliceStartTimes.waitNs;
    } else this.#timesKnown = false;
  }

  resumed(): void {
    this.#sliceStartMs = this.#now();
    this.#sliceStartTimes = this.#timesKnown ? this.#threadTimes() : null;
    const gapMs = this.#sliceStartMs - this.#pausedMs;
    this.#gapMs += gapMs;
    this.#longestGapMs = Math.max(this.#longestGapMs, gapMs);
    this.#slices += 1;
    if (this.#sliceStartTimes !== null && this.#pausedTimes !== null) {
      this.#gapRunNs += this.#sliceStartTimes.runNs - this.#pausedTimes.runNs;
      this.#gapWaitNs += this.#sliceStartTimes.waitNs - this.#pausedTimes.waitNs;
    } else this.#timesKnown = false;
  }

  /** The timeline so far; with `openSlice`, the current slice counts, closed at now. */
  timeline(openSlice = true): SliceTimeline {
    const now = openSlice && this.#timesKnown ? this.#threadTimes() : null;
    const lastSliceMs = openSlice ? this.#now() - this.#sliceStartMs : 0;
    const lastSliceCpuNs = now !== null && this.#sliceStartTimes !== null ? now.runNs - this.#sliceStartTimes.runNs : 0;
    const lastSliceWaitNs =
      now !== null && this.#sliceStartTimes !== null ? now.waitNs - this.#sliceStartTimes.waitNs : 0;
    const known = this.#timesKnown && (!openSlice || now !== null);
    const rounded = (ms: number): number => Math.round(ms * 10) / 10;
    return {
      slices: openSlice ? this.#slices : this.#slices - 1,
      sliceMs: rounded(this.#sliceMs + lastSliceMs),
      longestSliceMs: rounded(Math.max(this.#longestSliceMs, lastSliceMs)),
      sliceCpuMs: known ? rounded((this.#sliceCpuNs + lastSliceCpuNs) / 1e6) : null,
      sliceRunqueueMs: known ? rounded((this.#sliceWaitNs + lastSliceWaitNs) / 1e6) : null,
      gapMs: rounded(this.#gapMs),
      longestGapMs: rounded(this.#longestGapMs),
      gapCpuMs: known ? rounded(this.#gapRunNs / 1e6) : null,
      gapRunqueueMs: known ? rounded(this.#gapWaitNs / 1e6) : null,
    };
  }
}
