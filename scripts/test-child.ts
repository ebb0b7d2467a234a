// Runs one test file in its own process group, streams its lines and counts them.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { TestOutputParser, mergeSummaries, type FileExit, type OutputSummary } from './test-summary.ts';

export type StreamName = 'stdout' | 'stderr';

export interface ChildRun {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly timeoutSeconds: number;
  readonly onLine: (stream: StreamName, line: string) => void;
}

export interface ChildOutcome {
  readonly summary: OutputSummary;
  readonly exit: FileExit;
  readonly seconds: number;
}

// After SIGTERM a test gets this long to clean up (stop its servers) before SIGKILL.
const killGraceMs = 5_000;
// A grandchild that escaped the process group may hold our pipes open after the child exits;
// wait this long for the pipes to close, then stop reading them.
const pipeDrainMs = 2_000;
// Longer lines are cut into pieces of this length; nothing we count is anywhere near it.
const maxLineChars = 64 * 1024;

const runningChildren = new Set<ChildProcess>();

/** Ends every test process group still running (the runner was interrupted). */
export function killRunningChildren(signal: NodeJS.Signals): void {
  for (const child of runningChildren) killGroup(child, signal);
}

export function runChild(run: ChildRun): Promise<ChildOutcome> {
  const startedAt = performance.now();
  // detached: the child leads a new process group, so a timeout also ends the servers it started.
  const child = spawn(run.command, [...run.args], {
    cwd: run.cwd,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runningChildren.add(child);
  const stdoutParser = new TestOutputParser();
  const stderrParser = new TestOutputParser();
  const stdoutDone = readLines(child.stdout, (line) => {
    stdoutParser.feedLine(line);
    run.onLine('stdout', line);
  });
  const stderrDone = readLines(child.stderr, (line) => {
    stderrParser.feedLine(line);
    run.onLine('stderr', line);
  });
  const stopTimer = startTimeout(child, run.timeoutSeconds);

  return new Promise((resolve) => {
    let settled = false;
    const settle = async (code: number | null, signal: string | null): Promise<void> => {
      if (settled) return;
      settled = true;
      const timedOut = stopTimer();
      // Whatever the test left running in its group is a leak: end it so our pipes close.
      killGroup(child, 'SIGKILL');
      await Promise.race([Promise.all([stdoutDone, stderrDone]), delay(pipeDrainMs)]);
      child.stdout?.destroy();
      child.stderr?.destroy();
      runningChildren.delete(child);
      resolve({
        summary: mergeSummaries(stdoutParser.result(), stderrParser.result()),
        exit: { code, signal, timedOut, timeoutSeconds: run.timeoutSeconds },
        seconds: (performance.now() - startedAt) / 1000,
      });
    };
    // 'exit' may not follow 'error' (a command that cannot be started), so both settle.
    child.once('error', (error) => {
      run.onLine('stderr', `could not run ${run.command}: ${error.message}`);
      void settle(null, null);
    });
    child.once('exit', (code, signal) => void settle(code, signal));
  });
}

/** Arms the timeout; the returned function disarms it and tells whether it fired. */
function startTimeout(child: ChildProcess, timeoutSeconds: number): () => boolean {
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const termTimer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), killGraceMs);
  }, timeoutSeconds * 1000);
  return () => {
    clearTimeout(termTimer);
    if (killTimer) clearTimeout(killTimer);
    return timedOut;
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Calls onLine for each complete line; resolves when the stream ends. */
function readLines(stream: Readable | null, onLine: (line: string) => void): Promise<void> {
  if (stream === null) return Promise.resolve();
  stream.setEncoding('utf8');
  let pending = '';
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      onLine(pending.slice(0, newline).replace(/\r$/, ''));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    while (pending.length > maxLineChars) {
      onLine(pending.slice(0, maxLineChars));
      pending = pending.slice(maxLineChars);
    }
  });
  return new Promise((resolve) => {
    const finish = (): void => {
      if (pending.length > 0) onLine(pending);
      pending = '';
      resolve();
    };
    stream.once('end', finish);
    stream.once('close', finish);
  });
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds).unref());
}
