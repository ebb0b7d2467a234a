// The `process` containerizer: each task runs under a small sh wrapper (exit-status.ts) in its
// own process group, with its sandbox as working directory and its output appended to
// <sandbox>/stdout and <sandbox>/stderr through file descriptors the task owns, so output keeps
// flowing and the task keeps running while the agent is down. Limits come from cgroups where
// the kernel offers them (cgroups.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../util/logger.ts';
import {
  createTaskCgroup,
  detectCgroups,
  openTaskCgroup,
  taskCgroupName,
  type CgroupSupport,
  type TaskCgroup,
} from './cgroups.ts';
import { clearExitStatusFile, readExitStatusFile, wrapperScript } from './exit-status.ts';
import { findOrphanGroups, killOrphanGroup } from './process-orphans.ts';
import { isSameProcessAlive, readProcStat } from './proc-fs.ts';
import { RunningProcess } from './process-running.ts';
import { switchUserArgv } from './switch-user.ts';
import {
  ContainerLaunchError,
  type ContainerHandle,
  type Containerizer,
  type ContainerSpec,
  type RunningContainer,
} from './types.ts';

export interface ProcessContainerizerOptions {
  readonly logger: Logger;
  /** 'auto': cgroups where available; 'off': never (tests, or hosts where another manager owns them). */
  readonly cgroups?: 'auto' | 'off';
  /** Where the cgroup hierarchies are mounted; tests may point elsewhere. */
  readonly cgroupBase?: string;
  /** How often a re-attached task's pid is checked. */
  readonly recoverPollIntervalMs?: number;
}

/** Environment markers that let removeOrphans prove a process group is this agent's task. */
export const markerVariables = {
  agentId: 'FLOTILLA_CONTAINER_AGENT_ID',
  frameworkId: 'FLOTILLA_CONTAINER_FRAMEWORK_ID',
  taskId: 'FLOTILLA_CONTAINER_TASK_ID',
} as const;

const defaultRecoverPollIntervalMs = 500;
/**
 * Spawns per turn of the event loop. A spawn holds the loop until the child has exec'd (fork of the
 * agent's whole address space: 5-20 ms here under load), and a launch of 1,200 tasks reached them
 * all in one turn: seconds without answering the master's pings, and the agent was marked
 * unreachable (its tasks TASK_LOST) in the launch bench. Past this many, the rest wait a turn.
 */
export const maxSpawnsPerTurn = 8;
const orphanKillGraceMs = 3_000;

function commandArgv(spec: ContainerSpec): string[] {
  const command = spec.command;
  if (command === null)
    throw new ContainerLaunchError('the process containerizer needs a command (only docker runs an image default)');
  if (command.shell) return ['/bin/sh', '-c', command.value];
  if (command.value === '') throw new ContainerLaunchError('command.value is empty: nothing to run');
  // Mesos' command executor: execvp(value, arguments) — `arguments` is the whole argv,
  // argv[0] included (mesos.proto, CommandInfo.shell). The wrapper execs `value`, so argv[0]
  // itself is dropped and the rest passed on.
  return [command.value, ...command.arguments.slice(1)];
}

/** A program that cannot be found is a launch error, not a task that fails with 127 later. */
function checkProgramExists(program: string, environment: Readonly<Record<string, string>>): void {
  const candidates = program.includes('/')
    ? [program]
    : (environment.PATH ?? process.env.PATH ?? '/usr/bin:/bin')
        .split(':')
        .filter((folder) => folder !== '')
        .map((folder) => path.join(folder, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return;
    } catch {
      // Not here.
    }
  }
  throw new ContainerLaunchError(`program "${program}" was not found or is not executable`);
}

export class ProcessContainerizer implements Containerizer {
  readonly kind = 'process';
  private support: CgroupSupport | null = null;
  private readonly recoverPollIntervalMs: number;
  #spawnsThisTurn = 0;

  constructor(private readonly options: ProcessContainerizerOptions) {
    this.recoverPollIntervalMs = options.recoverPollIntervalMs ?? defaultRecoverPollIntervalMs;
  }

  /** Detected on first use and logged once when there are no limits, with the reason. */
  cgroupSupport(): CgroupSupport {
    if (this.support === null) {
      this.support =
        this.options.cgroups === 'off'
          ? { kind: 'none', why: 'cgroups are turned off for this agent' }
          : detectCgroups(this.options.cgroupBase);
      if (this.support.kind === 'none') {
        this.options.logger.warn(
          { event: 'cgroups_unavailable', why: this.support.why },
          'tasks run without cpu and memory limits',
        );
      } else
        this.options.logger.info({ event: 'cgroups_available', cgroups: this.support }, 'tasks run with cgroup limits');
    }
    return this.support;
  }

  private async prepareCgroup(spec: ContainerSpec): Promise<TaskCgroup | null> {
    const support = this.cgroupSupport();
    if (support.kind === 'none') return null;
    const name = taskCgroupName(spec.agentId, spec.frameworkId, spec.taskId);
    try {
      return await createTaskCgroup(support, name, { memMb: spec.memMb, cpus: spec.cpus });
    } catch (error) {
      this.options.logger.warn(
        { event: 'cgroup_create_failed', taskId: spec.taskId, error: (error as Error).message },
        'task runs without limits',
      );
      return null;
    }
  }

  async launch(spec: ContainerSpec): Promise<RunningContainer> {
    if (!path.isAbsolute(spec.sandbox) || !statSync(spec.sandbox, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ContainerLaunchError(`sandbox ${spec.sandbox} is not an existing absolute directory`);
    }
    const argv = commandArgv(spec);
    if (spec.command?.shell === false) checkProgramExists(argv[0] ?? '', spec.environment);
    switchUserArgv(spec.user); // A missing setpriv is a launch error, before anything starts.
    clearExitStatusFile(spec.sandbox);
    const cgroup = await this.prepareCgroup(spec);
    await this.#turnToSpawn();
    const child = await this.spawnWrapper(spec, argv, cgroup);
    const pid = child.pid ?? 0;
    const stat = readProcStat(pid);
    // The wrapper cannot have ended and been reaped yet: Node reaps it only after 'spawn'.
    const handle: ContainerHandle = {
      kind: 'process',
      pid,
      startTime: stat?.startTime ?? '',
      containerId: null,
      user: spec.user,
    };
    const running = new RunningProcess(handle, spec, cgroup, this.options.logger);
    running.watchChild(child);
    this.options.logger.info(
      { event: 'container_launched', taskId: spec.taskId, pid, cgroup: cgroup?.folders ?? null },
      'task process started',
    );
    return running;
  }

  /** Resolves in a turn that has spawned fewer than maxSpawnsPerTurn, counting this one. */
  async #turnToSpawn(): Promise<void> {
    while (this.#spawnsThisTurn >= maxSpawnsPerTurn) await new Promise((resolve) => setImmediate(resolve));
    if (this.#spawnsThisTurn === 0)
      setImmediate(() => {
        this.#spawnsThisTurn = 0;
      });
    this.#spawnsThisTurn += 1;
  }

  private spawnWrapper(spec: ContainerSpec, argv: readonly string[], cgroup: TaskCgroup | null): Promise<ChildProcess> {
    const stdout = openSync(path.join(spec.sandbox, 'stdout'), 'a');
    const stderr = openSync(path.join(spec.sandbox, 'stderr'), 'a');
    const environment = {
      ...spec.environment,
      [markerVariables.agentId]: spec.agentId,
      [markerVariables.frameworkId]: spec.frameworkId,
      [markerVariables.taskId]: spec.taskId,
    };
    const script = wrapperScript(spec.sandbox, cgroup?.procsFiles ?? [], switchUserArgv(spec.user));
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', script, 'flotilla-task', ...argv], {
        cwd: spec.sandbox,
        env: environment,
        detached: true,
        stdio: ['ignore', stdout, stderr],
      });
      const closeFiles = (): void => {
        closeSync(stdout);
        closeSync(stderr);
      };
      child.once('spawn', () => {
        closeFiles();
        resolve(child);
      });
      child.once('error', (error) => {
        closeFiles();
        cgroup?.remove();
        reject(new ContainerLaunchError(`could not start the task: ${error.message}`));
      });
    });
  }

  async recover(handle: ContainerHandle, spec: ContainerSpec): Promise<RunningContainer | null> {
    if (handle.kind !== 'process' || handle.pid === null || handle.startTime === null) return null;
    // A task that ended while the agent was away is still recovered when its wrapper left
    // an exit status: `exited` then settles at once with the real outcome. With neither a
    // live process nor a status, there is nothing to re-attach to.
    if (!isSameProcessAlive(handle.pid, handle.startTime) && readExitStatusFile(spec.sandbox) === null) {
      const stat = readProcStat(handle.pid);
      const reason =
        stat === null ? 'pid gone' : stat.startTime !== handle.startTime ? 'pid reused by another process' : 'zombie';
      this.options.logger.info(
        { event: 'container_not_recovered', taskId: spec.taskId, pid: handle.pid, reason },
        'task process is gone',
      );
      return null;
    }
    const cgroup = openTaskCgroup(this.cgroupSupport(), taskCgroupName(spec.agentId, spec.frameworkId, spec.taskId));
    const running = new RunningProcess(handle, spec, cgroup, this.options.logger);
    running.watchByPolling(this.recoverPollIntervalMs);
    return running;
  }

  /**
   * Kills the process groups this agent started for tasks it no longer knows. A group counts
   * as ours only if its leader's environment carries our agent id (markerVariables): the pid
   * alone proves nothing after a reboot or a pid reuse. Returns the pids of the leaders killed.
   */
  async removeOrphans(agentId: string, knownTasks: ReadonlySet<string>): Promise<readonly string[]> {
    const orphans = findOrphanGroups(agentId, knownTasks);
    await Promise.all(orphans.map((orphan) => killOrphanGroup(orphan, orphanKillGraceMs)));
    for (const orphan of orphans) {
      this.options.logger.warn(
        { event: 'orphan_removed', pid: orphan.pid, frameworkId: orphan.frameworkId, taskId: orphan.taskId },
        'killed a task this agent does not know',
      );
    }
    return orphans.map((orphan) => String(orphan.pid));
  }
}
