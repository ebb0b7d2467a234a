// Resource usage of a process-containerizer task: pidusage over every live member of its
// process group (CPU percent and resident memory), CPU times from /proc, or from the cgroup
// when it is v2 (which also counts children that already ended).
import pidusage from 'pidusage';
import { clockTicksPerSecond } from './proc-fs.ts';
import { groupMembersThisTurn } from './process-groups.ts';
import type { TaskCgroup } from './cgroups.ts';
import type { ContainerSpec, ContainerUsage } from './types.ts';

const bytesPerMegabyte = 1024 * 1024;

/** null when the group has no live member (the task has ended). */
export async function processGroupUsage(
  groupId: number,
  spec: Pick<ContainerSpec, 'memMb' | 'cpus'>,
  cgroup: TaskCgroup | null,
): Promise<ContainerUsage | null> {
  const members = groupMembersThisTurn(groupId);
  if (members.length === 0) return null;
  // One pid at a time: pidusage rejects a whole batch when one member ended meanwhile.
  const samples = await Promise.allSettled(members.map((member) => pidusage(member.pid)));
  let cpuPercent = 0;
  let memRssBytes = 0;
  for (const sample of samples) {
    if (sample.status !== 'fulfilled') continue;
    cpuPercent += sample.value.cpu;
    memRssBytes += sample.value.memory;
  }
  const fromCgroup = cgroup?.cpuSeconds() ?? null;
  const userTicks = members.reduce((sum, member) => sum + member.userTicks, 0);
  const systemTicks = members.reduce((sum, member) => sum + member.systemTicks, 0);
  return {
    cpusUserTimeSecs: fromCgroup?.user ?? userTicks / clockTicksPerSecond,
    cpusSystemTimeSecs: fromCgroup?.system ?? systemTicks / clockTicksPerSecond,
    cpuPercent,
    memRssBytes,
    memLimitBytes: spec.memMb === null ? null : Math.floor(spec.memMb * bytesPerMegabyte),
    cpusLimit: spec.cpus,
    timestampMs: Date.now(),
  };
}
