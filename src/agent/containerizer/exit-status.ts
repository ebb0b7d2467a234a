// The tiny sh wrapper that every process-containerizer task runs under, and how its result is
// read back. The wrapper is the process group leader: it joins the task's cgroups, starts the
// task as its child, waits, and writes the task's exit status into the sandbox before it exits.
// A restarted agent is no longer the parent of anything, so that file is the only way it can
// learn how a task that ended while it was away (or after it re-attached) ended.
import { constants } from 'node:os';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ContainerExit } from './types.ts';

export const exitStatusFileName = '.exit_status';

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The script for `/bin/sh -c <script> flotilla-task <program> <args…>`.
 *
 * Why the TERM handling, as numbered scenarios (the agent's kill signals the whole group):
 * 1. The wrapper must outlive SIGTERM, or a task that traps TERM and exits late with its own
 *    status would have nobody to record it. So the wrapper traps TERM (a trap, not an ignore:
 *    an ignored signal would be inherited by the task).
 * 2. The trap is set only after the task is forked. Set before, a TERM landing in the child
 *    between fork and exec would be caught by the inherited handler and lost at exec, and
 *    the task would run on until SIGKILL. Now the child has the default disposition from the
 *    start; a TERM that hits the wrapper before its trap ends the wrapper (the agent, as the
 *    parent, sees SIGTERM) and the task with it.
 * 3. A trapped signal interrupts `wait` with a status above 128 but leaves the job known to the
 *    shell, so the wrapper waits again for the real status. 127 from that second wait means
 *    the first wait had already returned the real status (TERM arrived just after it).
 * SIGKILL ends both; then there is no status file and the parent sees the wrapper killed.
 */
export function wrapperScript(
  sandbox: string,
  cgroupProcsFiles: readonly string[],
  /** Prepended to the task's argv (switch-user.ts), so the task runs as its user and the wrapper stays root. */
  runAs: readonly string[] = [],
): string {
  const statusFile = path.join(sandbox, exitStatusFileName);
  const prefix = runAs.map((argument) => `${shellQuote(argument)} `).join('');
  const join = cgroupProcsFiles.map(
    (file) => `echo $$ > ${shellQuote(file)} || echo "flotilla: could not join cgroup ${file.replaceAll('"', '')}" >&2`,
  );
  return [
    ...join,
    `${prefix}"$@" &`,
    'child=$!',
    'term=0',
    "trap 'term=1' TERM",
    'wait "$child"; status=$?',
    'while [ "$term" = 1 ] && [ "$status" -gt 128 ]; do',
    '  term=0',
    '  wait "$child"; next=$?',
    '  [ "$next" = 127 ] && break',
    '  status=$next',
    'done',
    `echo "$status" > ${shellQuote(`${statusFile}.tmp`)} && mv -f ${shellQuote(`${statusFile}.tmp`)} ${shellQuote(statusFile)}`,
    'exit "$status"',
  ].join('\n');
}

const signalNamesByNumber = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

/**
 * A shell status as a ContainerExit. A shell reports a child killed by signal N as 128 + N
 * (the same convention Docker follows for a container's exit code), so 129…192 read as
 * signals; a task that itself exits 143 is indistinguishable, as in Mesos' own launcher.
 */
export function exitFromStatus(status: number): ContainerExit {
  const signalName = status > 128 ? signalNamesByNumber.get(status - 128) : undefined;
  return signalName === undefined ? { kind: 'exited', code: status } : { kind: 'signalled', signal: signalName };
}

/** The status the wrapper wrote; null when there is none (the wrapper was killed, or never ended). */
export function readExitStatusFile(sandbox: string): number | null {
  let text: string;
  try {
    text = readFileSync(path.join(sandbox, exitStatusFileName), 'utf8').trim();
  } catch {
    return null;
  }
  return /^\d+$/.test(text) ? Number(text) : null;
}

/** A relaunch in the same sandbox must not read the previous run's status. */
export function clearExitStatusFile(sandbox: string): void {
  rmSync(path.join(sandbox, exitStatusFileName), { force: true });
}
