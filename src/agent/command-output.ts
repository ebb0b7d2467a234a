// What a short helper program prints (getent, id), read to the end and bounded in time.
//
// Not execFile with a timeout: when its timer fires, execFile destroys the child's output streams
// and then kills it, and if the child had already exited 0 by then it reports success with the
// output cut short or empty (Node 20's child_process checks only the exit code and signal). The
// timer fires late, after the child exited, whenever the agent's event loop stalls past the
// timeout: at load 30 with hundreds of launches, `getent passwd root` "answered" an empty line and
// the shared lookup failed every launch in its cache window ("answered a line that is not a
// passwd entry"). Here the timer only kills: a child that exited 0 answered, and its whole output
// is kept.
import { spawn } from 'node:child_process';

/** More than any passwd line or group list; a helper printing more is not the one we meant to run. */
export const maxCommandOutputBytes = 1024 * 1024;

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

export class CommandOutputError extends Error {
  override name = 'CommandOutputError';

  constructor(
    message: string,
    /** The exit status; null when the program did not start, was killed, or printed too much. */
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

/**
 * Runs `program` with `args` (no shell) and resolves with its output once it exits 0. A program
 * that exits otherwise, cannot start, prints more than maxCommandOutputBytes, or has not exited
 * `timeoutMs` after it started (it is then SIGKILLed) rejects with a CommandOutputError.
 */
export function readCommandOutput(program: string, args: readonly string[], timeoutMs: number): Promise<CommandOutput> {
  if (!(timeoutMs > 0)) throw new Error(`readCommandOutput: timeoutMs must be positive, got ${timeoutMs}`);
  return new Promise((resolve, reject) => {
    const child = spawn(program, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    let overflowed = false;
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const keep = (into: Buffer[]) => (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > maxCommandOutputBytes) {
        overflowed = true;
        child.kill('SIGKILL');
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', keep(stdout));
    child.stderr.on('data', keep(stderr));
    const fail = (message: string, exitCode: number | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new CommandOutputError(`${program} ${message}`, exitCode));
    };
    child.on('error', (error) => fail(`could not run: ${error.message}`, null));
    child.on('close', (code, signal) => {
      const said = Buffer.concat(stderr).toString('utf8').trim().slice(0, 200);
      if (overflowed) return fail(`printed more than ${maxCommandOutputBytes} bytes`, null);
      // Exited 0, even after the timer fired: it answered, and its output was read to the end.
      if (code === 0 && signal === null) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        return resolve({
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        });
      }
      if (timedOut) return fail(`did not finish within ${timeoutMs} ms`, null);
      const how = signal === null ? `exited with status ${code}` : `was ended by ${signal}`;
      fail(`${how}${said === '' ? '' : `: ${said}`}`, code);
    });
  });
}
