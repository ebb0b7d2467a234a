// The live processes by process group, read from /proc once per event-loop turn. The agent
// samples every task's usage in one turn; when each task scanned /proc for its own group, a round
// read tasks × processes stat files (20% of the agent's CPU in `launch --real-agent`, 400 tasks).
import { listPids, readProcStat, type ProcStat } from './proc-fs.ts';

let groupsThisTurn: Map<number, ProcStat[]> | null = null;
let scans = 0;

function scanGroups(): Map<number, ProcStat[]> {
  scans++;
  const groups = new Map<number, ProcStat[]>();
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    if (stat === null || stat.state === 'Z') continue;
    const members = groups.get(stat.processGroupId);
    if (members === undefined) groups.set(stat.processGroupId, [stat]);
    else members.push(stat);
  }
  return groups;
}

/**
 * The live members of process group `groupId` as /proc showed them at this turn's first call (the
 * leader included, if it still runs). For sampling only: a caller that must see a signal's effect
 * reads /proc itself (`listGroupMembers`).
 */
export function groupMembersThisTurn(groupId: number): readonly ProcStat[] {
  if (groupsThisTurn === null) {
    groupsThisTurn = scanGroups();
    setImmediate(() => {
      groupsThisTurn = null;
    });
  }
  return groupsThisTurn.get(groupId) ?? [];
}

/** How many times /proc was scanned (tests count them). */
export function processTableScans(): number {
  return scans;
}
