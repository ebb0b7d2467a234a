// Finding and ending process groups that this agent started for tasks it no longer knows
// (the agent's checkpoint was lost, or the task ended on the master's side while the agent
// was away). Proof of ownership is the environment marker the wrapper was started with.
import { setTimeout as sleep } from 'node:timers/promises';
import { listGroupMembers, listPids, readProcEnvironment, readProcStat } from './proc-fs.ts';

export interface OrphanGroup {
  readonly pid: number;
  readonly startTime: string;
  readonly frameworkId: string;
  readonly taskId: string;
}

// The same names as markerVariables in process.ts (kept here so this leaf imports nothing above it).
const agentVariable = 'FLOTILLA_CONTAINER_AGENT_ID';
const frameworkVariable = 'FLOTILLA_CONTAINER_FRAMEWORK_ID';
const taskVariable = 'FLOTILLA_CONTAINER_TASK_ID';
const orphanPollMs = 50;

export function findOrphanGroups(agentId: string, knownTasks: ReadonlySet<string>): OrphanGroup[] {
  const orphans: OrphanGroup[] = [];
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    // Only group leaders: their children carry the same marker but belong to the leader's group.
    if (stat === null || stat.processGroupId !== pid || stat.state === 'Z') continue;
    const environment = readProcEnvironment(pid);
    if (environment?.get(agentVariable) !== agentId) continue;
    const frameworkId = environment.get(frameworkVariable) ?? '';
    const taskId = environment.get(taskVariable) ?? '';
    if (!knownTasks.has(`${frameworkId}/${taskId}`))
      orphans.push({ pid, startTime: stat.startTime, frameworkId, taskId });
  }
  return orphans;
}

/** SIGTERM to the group, SIGKILL after the grace period; resolves when the group is empty. */
export async function killOrphanGroup(orphan: OrphanGroup, graceMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-orphan.pid, name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (listGroupMembers(orphan.pid).length > 0 && Date.now() < deadline) await sleep(orphanPollMs);
  if (listGroupMembers(orphan.pid).length > 0) signal('SIGKILL');
}
