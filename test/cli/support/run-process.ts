// The flotilla CLI as a child process, for tests whose masters answer in or through the test
// process: waited for synchronously, the child would stop this event loop (a master in it stops
// serving; idle keep-alive sockets to masters elsewhere close unseen and the next request fails).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const flotillaBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/flotilla.js');
const runTimeoutMs = 90_000;

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `flotilla run` without blocking this process (the master under test lives in it). */
export function flotillaRun(args: string[], environment: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return flotillaCommand(['run', ...args], environment);
}

/** Runs `flotilla <args>` without blocking this process; killed after 90 s (status null). */
export function flotillaCommand(args: readonly string[], environment: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [flotillaBin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...environment },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), runTimeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A state-change line as `flotilla run` prints it: ISO time, then the state. */
export const statusLine = (state: string): RegExp => new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${state}\\b`, 'm');
