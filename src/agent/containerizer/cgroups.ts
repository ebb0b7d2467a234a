// Per-task resource limits with Linux control groups. cgroup v2 (one unified tree with the cpu
// and memory controllers) is preferred; on a host that still mounts the v1 controllers apart
// (as this project's own machines do) the v1 memory and cpu trees are used the same way. Where
// neither is writable (no root, a read-only /sys, a v2 root busy with processes) the caller
// runs tasks without limits and says why once.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type CgroupSupport =
  | { readonly kind: 'v2'; readonly root: string }
  | { readonly kind: 'v1'; readonly memoryRoot: string; readonly cpuRoot: string }
  | { readonly kind: 'none'; readonly why: string };

export interface CgroupLimits {
  readonly memMb: number | null;
  readonly cpus: number | null;
}

/** The folder under each hierarchy that holds Flotilla's task cgroups. */
export const flotillaSubtree = 'flotilla';
// CFS period: 100 ms, the kernel's default; the quota is `cpus` times this.
const cpuPeriodMicros = 100_000;
const bytesPerMegabyte = 1024 * 1024;
/**
 * The kernel empties a cgroup a moment after its last process is reaped; under load that moment
 * comes after the task's exit is seen, and rmdir fails with EBUSY. Retried this often, this many times.
 */
const removeRetryIntervalMs = 100;
const removeRetries = 50;

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Finds what the kernel offers under `base` and prepares the flotilla subtree; never throws. */
export function detectCgroups(base = '/sys/fs/cgroup'): CgroupSupport {
  const controllers = readText(path.join(base, 'cgroup.controllers'));
  if (controllers !== null) return prepareV2(base, controllers);
  const memoryBase = path.join(base, 'memory');
  const cpuBase = path.join(base, 'cpu');
  if (
    existsSync(path.join(memoryBase, 'memory.limit_in_bytes')) &&
    existsSync(path.join(cpuBase, 'cpu.cfs_quota_us'))
  ) {
    try {
      const memoryRoot = path.join(memoryBase, flotillaSubtree);
      const cpuRoot = path.join(cpuBase, flotillaSubtree);
      mkdirSync(memoryRoot, { recursive: true });
      mkdirSync(cpuRoot, { recursive: true });
      return { kind: 'v1', memoryRoot, cpuRoot };
    } catch (error) {
      return { kind: 'none', why: `cgroup v1 memory and cpu trees under ${base} are not writable: ${describe(error)}` };
    }
  }
  return {
    kind: 'none',
    why: `neither cgroup v2 (${base}/cgroup.controllers) nor the v1 memory and cpu controllers are mounted at ${base}`,
  };
}

function prepareV2(base: string, controllers: string): CgroupSupport {
  const offered = controllers.trim().split(/\s+/);
  const missing = ['cpu', 'memory'].filter((name) => !offered.includes(name));
  if (missing.length > 0)
    return { kind: 'none', why: `cgroup v2 at ${base} does not offer the ${missing.join(' and ')} controller` };
  const root = path.join(base, flotillaSubtree);
  try {
    // A v2 cgroup hands controllers to its children only when its subtree_control lists them;
    // the kernel refuses that on a non-root cgroup that holds processes (EBUSY).
    writeFileSync(path.join(base, 'cgroup.subtree_control'), '+cpu +memory');
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, 'cgroup.subtree_control'), '+cpu +memory');
    return { kind: 'v2', root };
  } catch (error) {
    return { kind: 'none', why: `cgroup v2 at ${base} is not writable for a flotilla subtree: ${describe(error)}` };
  }
}

/** A stable cgroup name for one task of one agent, safe whatever characters the ids hold. */
export function taskCgroupName(agentId: string, frameworkId: string, taskId: string): string {
  const digest = createHash('sha256').update(`${agentId}\0${frameworkId}\0${taskId}`).digest('hex');
  return `task-${digest.slice(0, 32)}`;
}

export interface TaskCgroup {
  /** The cgroup.procs files a process writes its pid into to join (one per hierarchy). */
  readonly procsFiles: readonly string[];
  readonly folders: readonly string[];
  /** How many processes the kernel's OOM killer killed in this cgroup. */
  oomKills(): number;
  memoryBytes(): number | null;
  /** User and system CPU seconds of everything that ran in the cgroup (v2 only). */
  cpuSeconds(): { readonly user: number; readonly system: number } | null;
  /** Removes the cgroup folders; only works once no process is left in them. */
  remove(): void;
}

async function writeLimits(
  support: Exclude<CgroupSupport, { kind: 'none' }>,
  folders: readonly string[],
  limits: CgroupLimits,
): Promise<void> {
  const memoryFolder = folders[0] ?? '';
  const cpuFolder = folders[folders.length - 1] ?? '';
  const writes: Promise<void>[] = [];
  if (limits.memMb !== null) {
    const bytes = String(Math.floor(limits.memMb * bytesPerMegabyte));
    writes.push(
      writeFile(path.join(memoryFolder, support.kind === 'v2' ? 'memory.max' : 'memory.limit_in_bytes'), bytes),
    );
  }
  if (limits.cpus !== null) {
    const quota = Math.max(1_000, Math.round(limits.cpus * cpuPeriodMicros));
    // v1: a new cgroup's cfs_period_us is already the kernel's 100 ms, so only the quota is written.
    writes.push(
      support.kind === 'v2'
        ? writeFile(path.join(cpuFolder, 'cpu.max'), `${quota} ${cpuPeriodMicros}`)
        : writeFile(path.join(cpuFolder, 'cpu.cfs_quota_us'), String(quota)),
    );
  }
  await Promise.all(writes);
}

function foldersOf(support: Exclude<CgroupSupport, { kind: 'none' }>, name: string): string[] {
  return support.kind === 'v2'
    ? [path.join(support.root, name)]
    : [path.join(support.memoryRoot, name), path.join(support.cpuRoot, name)];
}

/**
 * Creates (or reuses) the task's cgroup and writes its limits; rejects when the kernel refuses.
 * In the thread pool, both hierarchies at once: the kernel's creation of a v1 memory cgroup was
 * the agent's largest file system cost per launch (9% of its main thread launching `true` tasks).
 */
export async function createTaskCgroup(
  support: Exclude<CgroupSupport, { kind: 'none' }>,
  name: string,
  limits: CgroupLimits,
): Promise<TaskCgroup> {
  const folders = foldersOf(support, name);
  await Promise.all(folders.map((folder) => mkdir(folder, { recursive: true })));
  await writeLimits(support, folders, limits);
  return taskCgroupAt(support, folders);
}

/** The task's cgroup as a restarted agent finds it; null if it is not there. */
export function openTaskCgroup(support: CgroupSupport, name: string): TaskCgroup | null {
  if (support.kind === 'none') return null;
  const folders = foldersOf(support, name);
  return folders.every((folder) => existsSync(folder)) ? taskCgroupAt(support, folders) : null;
}

function readKeyedNumber(file: string, key: string): number | null {
  const text = readText(file);
  if (text === null) return null;
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name === key && value !== undefined) return Number(value);
  }
  return null;
}

function taskCgroupAt(support: Exclude<CgroupSupport, { kind: 'none' }>, folders: readonly string[]): TaskCgroup {
  const memoryFolder = folders[0] ?? '';
  return {
    folders,
    procsFiles: folders.map((folder) => path.join(folder, 'cgroup.procs')),
    oomKills: () =>
      (support.kind === 'v2'
        ? readKeyedNumber(path.join(memoryFolder, 'memory.events'), 'oom_kill')
        : readKeyedNumber(path.join(memoryFolder, 'memory.oom_control'), 'oom_kill')) ?? 0,
    memoryBytes: () => {
      const text = readText(
        path.join(memoryFolder, support.kind === 'v2' ? 'memory.current' : 'memory.usage_in_bytes'),
      );
      return text === null ? null : Number(text.trim());
    },
    cpuSeconds: () => {
      if (support.kind !== 'v2') return null;
      const user = readKeyedNumber(path.join(memoryFolder, 'cpu.stat'), 'user_usec');
      const system = readKeyedNumber(path.join(memoryFolder, 'cpu.stat'), 'system_usec');
      return user === null || system === null ? null : { user: user / 1e6, system: system / 1e6 };
    },
    remove: () => removeFolders(folders, removeRetries),
  };
}

/** Removes what it can now and retries the busy folders later (bounded); a folder already gone is done. */
function removeFolders(folders: readonly string[], retriesLeft: number): void {
  const busy = folders.filter((folder) => {
    try {
      rmdirSync(folder);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EBUSY';
    }
  });
  // Still busy after every retry (a straggler that outlived its group): the next orphan sweep retries.
  if (busy.length === 0 || retriesLeft === 0) return;
  setTimeout(() => removeFolders(busy, retriesLeft - 1), removeRetryIntervalMs).unref();
}
