// Runs a health-check command for a process-containerizer task: `/bin/sh -c` in the task's
// sandbox with the task's environment, as the task's user, in its own process group so a
// timeout can end the check and everything it started.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** Rejected with this when the command did not end within its timeout (the checker counts a failure). */
export class CheckCommandTimeoutError extends Error {
  override name = 'CheckCommandTimeoutError';
}

export function runShellCheck(
  command: string,
  options: {
    readonly cwd: string;
    readonly environment: Readonly<Record<string, string>>;
    readonly timeoutMs: number;
    /** An argv prefix that switches to the task's user (switch-user.ts); empty: the agent's user. */
    readonly runAs?: readonly string[];
  },
): Promise<number> {
  const argv = [...(options.runAs ?? []), '/bin/sh', '-c', command];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] ?? '/bin/sh', argv.slice(1), {
      cwd: options.cwd,
      env: { ...options.environment },
      detached: true,
      stdio: 'ignore',
    });
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      reject(new CheckCommandTimeoutError(`the check command did not end within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // The way a shell reports a child killed by a signal.
      resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
