// `bin/flotilla.js` as a child process, as a user runs it: whole runs (output and exit status)
// and long-running ones (tasks --watch, logs --follow) whose output is read while they run.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../../support/wait.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const flotillaBin = path.join(repoRoot, 'bin', 'flotilla.js');
const runTimeoutMs = 120_000;

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment a user without FLOTILLA_MASTERS or colour settings has, plus `extra`. */
function cleanEnvironment(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const environment = { ...process.env };
  delete environment.FLOTILLA_MASTERS;
  delete environment.FORCE_COLOR;
  delete environment.NO_COLOR;
  return { ...environment, ...extra };
}

/** Runs `flotilla ARGS…` to the end, without blocking this process. */
export function flotilla(args: readonly string[], environment: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const running = startFlotilla(args, environment);
  return running.done;
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout matches `pattern` (bounded). */
  waitForOutput(pattern: RegExp, what: string, timeoutMs?: number): Promise<void>;
}

export function startFlotilla(args: readonly string[], environment: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [flotillaBin, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnvironment(environment),
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
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
  return {
    child,
    done,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForOutput: async (pattern, what, timeoutMs = 60_000) => {
      await waitFor(() => pattern.test(stdout), { timeoutMs, what, intervalMs: 100 }).catch((error: Error) => {
        throw new Error(`${error.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
      });
    },
  };
}

/** The transcript for an assertion message. */
export function transcript(result: CliResult): string {
  return `status ${result.status}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** Parses --json output, failing with the transcript when it is not JSON. */
export function parseJson<Value>(result: CliResult): Value {
  try {
    return JSON.parse(result.stdout) as Value;
  } catch {
    throw new Error(`not JSON:\n${transcript(result)}`);
  }
}
