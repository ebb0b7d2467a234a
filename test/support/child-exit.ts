// Awaiting a child process's end in tests, bounded. `child.once('exit', …)` in a bare promise
// waits for ever on a child that does not end (a master that hangs in its SIGTERM shutdown, a
// start that should have failed and did not): the file then hangs until the runner's per-file
// timeout (300 s) and the report names nothing. These fail with the child and the wait named.
import type { ChildProcess } from 'node:child_process';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildExitOptions {
  readonly timeoutMs: number;
  /** The child in words, for the error message ("m2 started on a corrupt log"). */
  readonly what: string;
}

/** How long a SIGKILLed child may take to be reaped before that is itself a failure. */
const reapTimeoutMs = 30_000;

function ended(child: ChildProcess): ChildExit | null {
  if (child.exitCode === null && child.signalCode === null) return null;
  return { code: child.exitCode, signal: child.signalCode };
}

/** The child's exit code and signal once it has exited; rejects, naming it, after `timeoutMs`. */
export function exitOf(child: ChildProcess, options: ChildExitOptions): Promise<ChildExit> {
  const already = ended(child);
  if (already !== null) return Promise.resolve(already);
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      resolve({ code, signal });
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      reject(
        new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what} (pid ${child.pid}) to exit`),
      );
    }, options.timeoutMs);
    child.once('exit', onExit);
  });
}

/**
 * Sends `signal` and waits for the exit. A child still running after `timeoutMs` is SIGKILLed (so
 * the failure leaks no process) and the stop fails, naming the child and the signal it ignored:
 * a clean stop that does not end is a finding, not something to wait out.
 */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  options: ChildExitOptions,
): Promise<ChildExit> {
  const already = ended(child);
  if (already !== null) return already;
  const exited = exitOf(child, { timeoutMs: options.timeoutMs, what: `${options.what} after ${signal}` });
  child.kill(signal);
  try {
    return await exited;
  } catch (error) {
    if (signal === 'SIGKILL') throw error;
    child.kill('SIGKILL');
    await exitOf(child, { timeoutMs: reapTimeoutMs, what: `${options.what} after SIGKILL` }).catch(() => undefined);
    throw error;
  }
}
