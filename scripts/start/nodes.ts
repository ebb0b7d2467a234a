// The node processes of `npm start`: each `flotilla master`/`flotilla agent` writes its JSON
// log lines to its own file (appended, so a restart keeps the history); with --verbose they
// are streamed to the terminal as well. Stopping is SIGTERM to every child, then waiting for
// each to exit (a leader hands over first), with SIGKILL for any that outstays the bound.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodePlan } from './layout.ts';

const flotillaBin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'flotilla.js');
/** A master's SIGTERM waits for a leadership transfer; this is far more than one takes. */
export const stopTimeoutMs = 20_000;
/** Lines of a node's log shown when it dies during start-up. */
const tailLines = 8;

export interface RunningNode {
  readonly plan: NodePlan;
  readonly child: ChildProcess;
  /** Resolves with "code 1" / "signal SIGTERM" once the process has exited. */
  readonly exited: Promise<string>;
  exitedWith: string | null;
}

export function startNode(plan: NodePlan, args: readonly string[], verbose: boolean): RunningNode {
  const logFd = verbose ? null : openSync(plan.logFile, 'a');
  const child = spawn(process.execPath, [flotillaBin, plan.kind, ...args], {
    stdio: ['ignore', logFd ?? 'pipe', logFd ?? 'pipe'],
    env: { ...process.env, FLOTILLA_LOG_LEVEL: process.env.FLOTILLA_LOG_LEVEL ?? 'info' },
  });
  if (logFd !== null) closeSync(logFd);
  else {
    const file = createWriteStream(plan.logFile, { flags: 'a' });
    const tee = (chunk: Buffer): void => {
      file.write(chunk);
      process.stderr.write(chunk);
    };
    child.stdout?.on('data', tee);
    child.stderr?.on('data', tee);
    child.once('close', () => file.end());
  }
  const node: RunningNode = {
    plan,
    child,
    exitedWith: null,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        node.exitedWith = signal === null ? `code ${code}` : `signal ${signal}`;
        resolve(node.exitedWith);
      });
    }),
  };
  return node;
}

/** SIGTERM to all, then wait; SIGKILL what is still there after stopTimeoutMs. */
export async function stopNodes(nodes: readonly RunningNode[]): Promise<void> {
  const running = nodes.filter((node) => node.exitedWith === null);
  for (const node of running) node.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const node of running) if (node.exitedWith === null) node.child.kill('SIGKILL');
  }, stopTimeoutMs);
  await Promise.all(running.map((node) => node.exited));
  clearTimeout(timer);
}

/** The last lines of a node's log, indented, for a start-up failure report. */
export function logTail(plan: NodePlan): string {
  try {
    const lines = readFileSync(plan.logFile, 'utf8').trimEnd().split('\n');
    return lines
      .slice(-tailLines)
      .map((line) => `    ${line.slice(0, 300)}`)
      .join('\n');
  } catch {
    return '    (no log written)';
  }
}
