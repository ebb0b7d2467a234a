// Waiting in tests is bounded, and a timeout names what was awaited: "timed out after 5000 ms
// waiting for a leader among m1, m2, m3" is a bug report; "timeout" is not.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  readonly timeoutMs: number;
  /** What the condition means, in words, for the error message. */
  readonly what: string;
  readonly intervalMs?: number;
}

const defaultIntervalMs = 25;
// A wait longer than the runner's default per-file timeout can only hide a hang.
const maxTimeoutMs = 300_000;

/**
 * Polls `condition` until it returns a value other than undefined, null or false, and returns
 * that value. A condition that throws counts as "not yet"; its last error is quoted if the
 * wait times out (a server that is still starting refuses connections, for instance).
 */
export async function waitFor<Value>(
  condition: () => Value | undefined | null | false | Promise<Value | undefined | null | false>,
  options: WaitOptions,
): Promise<Value> {
  const intervalMs = options.intervalMs ?? defaultIntervalMs;
  if (!(options.timeoutMs > 0 && options.timeoutMs <= maxTimeoutMs)) {
    throw new Error(`waitFor(${options.what}): timeoutMs must be in (0, ${maxTimeoutMs}], got ${options.timeoutMs}`);
  }
  if (!(intervalMs > 0)) throw new Error(`waitFor(${options.what}): intervalMs must be positive, got ${intervalMs}`);
  const deadline = performance.now() + options.timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  for (;;) {
    attempts += 1;
    try {
      const value = await condition();
      if (value !== undefined && value !== null && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) break;
    await sleep(Math.min(intervalMs, remainingMs));
  }
  const cause =
    lastError === undefined
      ? ''
      : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
  throw new Error(
    `timed out after ${options.timeoutMs} ms waiting for ${options.what} (${attempts} attempts${cause})`,
    { cause: lastError },
  );
}

/**
 * `promise`, or a named failure once `timeoutMs` has passed: for what is awaited as an event (a
 * socket's 'open', a first message) rather than polled. Without it a promise that never settles
 * hangs its file until the runner's timeout, which names nothing.
 */
export function withTimeout<Value>(promise: Promise<Value>, timeoutMs: number, what: string): Promise<Value> {
  if (!(timeoutMs > 0)) throw new Error(`withTimeout(${what}): timeoutMs must be positive, got ${timeoutMs}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
