// Agents that a test SIGKILLs leave their tasks running, as Mesos agents do so that a restarted
// agent can recover them. A test that ends must end them too, or they outlive the suite (a CI
// run once left `sleep 600` tasks of the services tests behind). A task process runs in its
// sandbox, under the agent's work directory, so the process's cwd names whose it is, whatever
// command it runs.
import { readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** Pids of the processes whose working directory is inside `directory`. */
export function processesWorkingUnder(directory: string): number[] {
  const prefix = path.resolve(directory) + path.sep;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(prefix)) found.push(pid);
    } catch {
      // Gone since the listing, or not ours to read.
    }
  }
  return found;
}

/** SIGKILLs every process working inside `directory`; returns how many there were. */
export function killProcessesWorkingUnder(directory: string): number {
  const pids = processesWorkingUnder(directory);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Ended on its own meanwhile.
    }
  }
  return pids.length;
}
