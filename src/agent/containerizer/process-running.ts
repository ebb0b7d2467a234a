// A running process-containerizer task. Two ways to learn that it ended: as its parent (the
// agent launched it: the wrapper's 'exit' event), or by polling /proc (the agent re-attached
// after a restart and is no longer the parent: the pid disappears or now belongs to another
// process, then the wrapper's exit status file tells how the task ended).
import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../../util/logger.ts';
import type { TaskCgroup } from './cgroups.ts';
import { runShellCheck } from './check-command.ts';
import { exitFromStatus, readExitStatusFile } from './exit-status.ts';
import { isSameProcessAlive, listGroupMembers } from './proc-fs.ts';
import { processGroupUsage } from './process-usage.ts';
import { switchUserArgv } from './switch-user.ts';
import type { ContainerExit, ContainerHandle, ContainerSpec, ContainerUsage, RunningContainer } from './types.ts';

export class RunningProcess implements RunningContainer {
  readonly exited: Promise<ContainerExit>;
  private final: ContainerExit | null = null;
  private resolveExited: (exit: ContainerExit) => void = () => {};
  private pollTimer: NodeJS.Timeout | null = null;
  private readonly pid: number;
  private readonly startTime: string;

  constructor(
    readonly handle: ContainerHandle,
    private readonly spec: ContainerSpec,
    private readonly cgroup: TaskCgroup | null,
    private readonly logger: Logger,
  ) {
    if (handle.kind !== 'process' || handle.pid === null || handle.startTime === null) {
      throw new Error(`RunningProcess needs a process handle with pid and start time, got ${JSON.stringify(handle)}`);
    }
    this.pid = handle.pid;
    this.startTime = handle.startTime;
    this.exited = new Promise((resolve) => {
      this.resolveExited = resolve;
    });
  }

  /** The agent is the wrapper's parent. */
  watchChild(child: ChildProcess): void {
    child.once('exit', (code, signal) => {
      this.finish(signal !== null ? { kind: 'signalled', signal } : exitFromStatus(code ?? 0));
    });
  }

  /** The agent re-attached: poll until the wrapper is gone, then read the status it left. */
  watchByPolling(intervalMs: number): void {
    const check = (): void => {
      if (isSameProcessAlive(this.pid, this.startTime)) return;
      if (this.pollTimer !== null) clearInterval(this.pollTimer);
      this.pollTimer = null;
      const status = readExitStatusFile(this.spec.sandbox);
      this.finish(
        status === null
          ? {
              kind: 'vanished',
              message: `process ${this.pid} ended without leaving an exit status (killed with its wrapper, or the sandbox was cleared)`,
            }
          : exitFromStatus(status),
      );
    };
    this.pollTimer = setInterval(check, intervalMs);
    check();
  }

  private finish(raw: ContainerExit): void {
    if (this.final !== null) return;
    const oomKills = this.cgroup?.oomKills() ?? 0;
    const exit: ContainerExit =
      oomKills > 0
        ? {
            kind: 'oom',
            message: `the kernel killed ${oomKills} process(es) of the task for exceeding its memory limit of ${this.spec.memMb} MB`,
          }
        : raw;
    this.cgroup?.remove();
    this.final = exit;
    this.logger.info(
      { event: 'container_exited', pid: this.pid, exit, taskId: this.spec.taskId },
      'task process ended',
    );
    this.resolveExited(exit);
  }

  private signalGroup(signal: NodeJS.Signals): void {
    // A recovered task is signalled only while its pid is still the process we started:
    // after a pid is reused, -pid may name somebody else's group.
    if (this.pollTimer !== null && !isSameProcessAlive(this.pid, this.startTime)) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // ESRCH: the group is already empty.
    }
  }

  async kill(gracePeriodMs: number): Promise<ContainerExit> {
    if (this.final !== null) return this.final;
    this.signalGroup('SIGTERM');
    const escalation = setTimeout(() => {
      this.logger.info(
        { event: 'container_kill_escalated', pid: this.pid, gracePeriodMs },
        'task outlived its grace period: SIGKILL',
      );
      this.signalGroup('SIGKILL');
    }, gracePeriodMs);
    const exit = await this.exited;
    clearTimeout(escalation);
    // Processes the task left behind in its group (daemonised helpers) end with it.
    if (listGroupMembers(this.pid).length > 0) this.signalGroup('SIGKILL');
    return exit;
  }

  async usage(): Promise<ContainerUsage | null> {
    if (this.final !== null) return null;
    try {
      return await processGroupUsage(this.pid, this.spec, this.cgroup);
    } catch {
      return null;
    }
  }

  runCheckCommand(command: string, timeoutMs: number): Promise<number> {
    return runShellCheck(command, {
      cwd: this.spec.sandbox,
      environment: this.spec.environment,
      timeoutMs,
      runAs: switchUserArgv(this.spec.user),
    });
  }
}
