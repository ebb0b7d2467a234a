// Where the jobs framework reads the time. Every decision reads `now()` once and records it in
// the record it writes (README "Jobs (Metronome API)": clocks). The file clock is for tests
// only: it lets a test step through minute slots without waiting minutes of wall time.
import { readFileSync } from 'node:fs';

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Re-read the file at most this often: ticks and decisions read the clock many times a second. */
const fileClockRefreshMs = 20;

/**
 * A clock whose time is the integer (epoch ms) written in `path`, frozen between writes. Tests
 * only (`flotilla jobs --test-clock-file`). A file that cannot be read or parsed keeps the last
 * time read; the first read must succeed.
 */
export function fileClock(path: string): Clock {
  const read = (): number => {
    const text = readFileSync(path, 'utf8').trim();
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`test clock ${path}: "${text}" is not epoch ms`);
    return value;
  };
  let last = read();
  let readAt = performance.now();
  return {
    now: () => {
      if (performance.now() - readAt >= fileClockRefreshMs) {
        readAt = performance.now();
        try {
          last = read();
        } catch {
          // A test rewriting the file may be caught mid-write: keep the last good reading.
        }
      }
      return last;
    },
  };
}
