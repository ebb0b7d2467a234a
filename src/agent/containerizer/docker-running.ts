// A running Docker task: its output copied from the engine's log stream into the sandbox
// files, its end learnt from `wait` (or, when the engine connection breaks, by polling
// `inspect`), then the container removed. The agent may be restarted at any moment; a
// container it did not remove is found again by recover() or removeOrphans().
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { Logger } from '../../util/logger.ts';
import { CheckCommandTimeoutError } from './check-command.ts';
import { engineMessage, engineStatus } from './docker-client.ts';
import { limitsUpdate } from './docker-options.ts';
import { exitFromStatus } from './exit-status.ts';
import type { ContainerExit, ContainerHandle, ContainerSpec, ContainerUsage, RunningContainer } from './types.ts';

// After the container ended, the log stream should end too; past this, stop waiting for it.
const logDrainTimeoutMs = 10_000;
const inspectPollMs = 1_000;
const bytesPerMegabyte = 1024 * 1024;

export class RunningDocker implements RunningContainer {
  readonly exited: Promise<ContainerExit>;
  readonly handle: ContainerHandle;
  private final: ContainerExit | null = null;
  private readonly container: Docker.Container;
  /** The spec's limits, until resize() changes them. */
  private limits: { cpus: number | null; memMb: number | null };

  constructor(
    private readonly docker: Docker,
    containerId: string,
    private readonly spec: ContainerSpec,
    private readonly logger: Logger,
    /** Unix seconds: copy the log from here (0 at launch; about where the agent stopped copying on recovery). */
    logsSinceSeconds: number,
  ) {
    this.handle = { kind: 'docker', pid: null, startTime: null, containerId, user: spec.user };
    this.limits = { cpus: spec.cpus, memMb: spec.memMb };
    this.container = docker.getContainer(containerId);
    const logsCopied = this.copyLogs(logsSinceSeconds);
    this.exited = this.watch(logsCopied);
  }

  private async copyLogs(sinceSeconds: number): Promise<void> {
    const stdout = createWriteStream(path.join(this.spec.sandbox, 'stdout'), { flags: 'a' });
    const stderr = createWriteStream(path.join(this.spec.sandbox, 'stderr'), { flags: 'a' });
    try {
      const stream = await this.container.logs({ follow: true, stdout: true, stderr: true, since: sinceSeconds });
      this.docker.modem.demuxStream(stream, stdout, stderr);
      await Promise.race([once(stream, 'end'), once(stream, 'close')]);
    } catch (error) {
      this.logger.warn(
        { event: 'container_logs_failed', containerId: this.handle.containerId, error: engineMessage(error) },
        'could not copy the container output',
      );
    } finally {
      stdout.end();
      stderr.end();
      await Promise.all([once(stdout, 'close'), once(stderr, 'close')]).catch(() => undefined);
    }
  }

  /** Never rejects: every failure becomes an exit of some kind. */
  private async watch(logsCopied: Promise<void>): Promise<ContainerExit> {
    let exit = await this.waitForEnd();
    await Promise.race([logsCopied, sleep(logDrainTimeoutMs)]);
    if (exit.kind === 'exited' || exit.kind === 'signalled') exit = await this.refineWithInspect(exit);
    try {
      await this.container.remove({ force: true });
    } catch (error) {
      if (engineStatus(error) !== 404)
        this.logger.warn(
          { event: 'container_remove_failed', containerId: this.handle.containerId, error: engineMessage(error) },
          'the next orphan sweep retries',
        );
    }
    this.final = exit;
    this.logger.info(
      { event: 'container_exited', containerId: this.handle.containerId, taskId: this.spec.taskId, exit },
      'task container ended',
    );
    return exit;
  }

  private async waitForEnd(): Promise<ContainerExit> {
    try {
      const result = (await this.container.wait({ condition: 'not-running' })) as { StatusCode?: number };
      return exitFromStatus(result.StatusCode ?? 0);
    } catch (error) {
      this.logger.warn(
        { event: 'container_wait_failed', containerId: this.handle.containerId, error: engineMessage(error) },
        'polling the container instead',
      );
    }
    for (;;) {
      try {
        const info = await this.container.inspect();
        if (!info.State.Running) return exitFromStatus(info.State.ExitCode);
      } catch (error) {
        if (engineStatus(error) === 404)
          return { kind: 'vanished', message: `container ${this.handle.containerId} was removed by someone else` };
      }
      await sleep(inspectPollMs);
    }
  }

  private async refineWithInspect(exit: ContainerExit): Promise<ContainerExit> {
    try {
      const info = await this.container.inspect();
      if (info.State.OOMKilled) {
        return {
          kind: 'oom',
          message: `the container exceeded its memory limit of ${this.limits.memMb} MB (OOMKilled)`,
        };
      }
    } catch {
      // The exit code from wait is all there is.
    }
    return exit;
  }

  async kill(gracePeriodMs: number): Promise<ContainerExit> {
    if (this.final !== null) return this.final;
    try {
      // docker stop: the image's stop signal (SIGTERM by default), SIGKILL after t seconds.
      await this.container.stop({ t: Math.max(1, Math.ceil(gracePeriodMs / 1000)) });
    } catch (error) {
      const status = engineStatus(error);
      // 304: already stopped; 404: already removed.
      if (status !== 304 && status !== 404) {
        this.logger.warn(
          { event: 'container_stop_failed', containerId: this.handle.containerId, error: engineMessage(error) },
          'killing it',
        );
        await this.container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
      }
    }
    return this.exited;
  }

  async usage(): Promise<ContainerUsage | null> {
    if (this.final !== null) return null;
    try {
      const stats = await this.container.stats({ stream: false });
      const cpu = stats.cpu_stats;
      const previous = stats.precpu_stats;
      const cpuDelta = cpu.cpu_usage.total_usage - (previous?.cpu_usage?.total_usage ?? 0);
      const systemDelta = (cpu.system_cpu_usage ?? 0) - (previous?.system_cpu_usage ?? 0);
      const onlineCpus = cpu.online_cpus ?? cpu.cpu_usage.percpu_usage?.length ?? 1;
      const memoryStats = stats.memory_stats as { usage?: number; stats?: Record<string, number> };
      const cache =
        memoryStats.stats?.total_inactive_file ?? memoryStats.stats?.inactive_file ?? memoryStats.stats?.cache ?? 0;
      return {
        cpusUserTimeSecs: cpu.cpu_usage.usage_in_usermode / 1e9,
        cpusSystemTimeSecs: cpu.cpu_usage.usage_in_kernelmode / 1e9,
        cpuPercent: systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * onlineCpus * 100 : 0,
        memRssBytes: Math.max(0, (memoryStats.usage ?? 0) - cache),
        memLimitBytes: this.limits.memMb === null ? null : Math.floor(this.limits.memMb * bytesPerMegabyte),
        cpusLimit: this.limits.cpus,
        timestampMs: Date.now(),
      };
    } catch {
      return null;
    }
  }

  async resize(cpus: number | null, memMb: number | null): Promise<void> {
    if (this.final !== null) return;
    await this.container.update(limitsUpdate(cpus, memMb));
    this.limits = { cpus: cpus ?? this.limits.cpus, memMb: memMb ?? this.limits.memMb };
    this.logger.info(
      { event: 'container_resized', containerId: this.handle.containerId, taskId: this.spec.taskId, cpus, memMb },
      'container limits changed',
    );
  }

  async runCheckCommand(command: string, timeoutMs: number): Promise<number> {
    const run = async (): Promise<number> => {
      const exec = await this.container.exec({ Cmd: ['sh', '-c', command], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({});
      stream.resume();
      await Promise.race([once(stream, 'end'), once(stream, 'close')]);
      const info = await exec.inspect();
      return info.ExitCode ?? 1;
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CheckCommandTimeoutError(`the check command did not end within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([run(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
