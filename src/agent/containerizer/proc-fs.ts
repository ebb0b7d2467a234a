// What Linux's /proc says about a process: its state, group and start time (so a reused pid is
// not mistaken for the task's), its CPU times and its environment. Reads only; every function
// answers null or [] when the process is gone, since a task may end between two reads.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  readonly pid: number;
  /** R, S, D, Z (zombie), T… (field 3). */
  readonly state: string;
  /** The process group id (field 5). */
  readonly processGroupId: number;
  /** Clock ticks after boot when the process started (field 22), as text: it is compared, never added. */
  readonly startTime: string;
  /** User and system CPU time in clock ticks (fields 14 and 15). */
  readonly userTicks: number;
  readonly systemTicks: number;
}

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every Linux architecture Node runs on. */
export const clockTicksPerSecond = 100;

/** Parses the text of /proc/<pid>/stat; null if it does not have the fields we need. */
export function parseProcStat(pid: number, text: string): ProcStat | null {
  // Field 2 is the command name in parentheses and may itself hold spaces and ')'.
  const closing = text.lastIndexOf(')');
  if (closing < 0) return null;
  const fields = text
    .slice(closing + 2)
    .trim()
    .split(' ');
  // fields[0] is field 3 of the man page, so field N is fields[N - 3].
  const state = fields[0];
  const processGroupId = Number(fields[2]);
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  const startTime = fields[19];
  if (state === undefined || startTime === undefined || !Number.isInteger(processGroupId)) return null;
  return { pid, state, processGroupId, startTime, userTicks, systemTicks };
}

export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** True while `pid` runs and is the process that started at `startTime` (a zombie has ended). */
export function isSameProcessAlive(pid: number, startTime: string): boolean {
  const stat = readProcStat(pid);
  return stat !== null && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}

export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (/^\d+$/.test(name)) pids.push(Number(name));
  }
  return pids;
}

/** The live members of process group `groupId` (the leader included, if it still runs). */
export function listGroupMembers(groupId: number): ProcStat[] {
  const members: ProcStat[] = [];
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    if (stat !== null && stat.processGroupId === groupId && stat.state !== 'Z') members.push(stat);
  }
  return members;
}

/** The environment a process started with; null if it is gone or not readable. */
export function readProcEnvironment(pid: number): Map<string, string> | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return null;
  }
  const environment = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const equals = entry.indexOf('=');
    if (equals > 0) environment.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return environment;
}
