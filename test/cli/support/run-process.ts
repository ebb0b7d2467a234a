// `flotilla run` as a child process, for tests whose master lives in the test process (so the
// child must not be waited for synchronously: that would stop the master's event loop).
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

/** Runs the CLI without blocking this process (the master under test lives in it). */
export function flotillaRun(args: string[], environment: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [flotillaBin, 'run', ...args], {
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
