// One real `flotilla master` process. It is spawned as node itself (with the repository's
// bin/flotilla.js), never through a wrapper, so SIGKILL and SIGSTOP reach the master; in
// namespace mode `ip netns exec` execs node in place, so the pid is still the master's.
// Its stdout and stderr (JSON log lines) go to a file in the run's folder, for post-mortems.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testStorageWriter } from '../../raft/support/process-cluster.ts';
import type { NodePlacement } from '../net/network.ts';

const flotillaBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/flotilla.js');

export type MasterState = 'running' | 'paused' | 'stopped';

// Masters must not outlive the runner, however it ends (an error, Ctrl-C, SIGTERM): every live
// one is SIGKILLed from a synchronous exit handler.
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export interface MasterLaunch {
  readonly peers: string;
  readonly join: boolean;
  /** Extra flags for every master (timing). */
  readonly extraArguments: readonly string[];
}

export class MasterProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  state: MasterState = 'stopped';
  starts = 0;

  constructor(
    readonly placement: NodePlacement,
    readonly dataDir: string,
    readonly logFile: string,
  ) {
    mkdirSync(dataDir, { recursive: true });
  }

  get id(): string {
    return this.placement.id;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(launch: MasterLaunch): void {
    if (this.child !== null) throw new Error(`${this.id} is already running`);
    const masterArguments = [
      flotillaBin,
      'master',
      '--id',
      this.id,
      '--listen',
      this.placement.listen,
      '--peers',
      launch.peers,
      '--data-dir',
      this.dataDir,
      // In network namespaces the masters listen on the test's private 10.77/16 bridge, which the
      // exposure rule (src/auth/exposure.ts) would refuse without credentials: the workloads'
      // clients are anonymous, as on loopback.
      '--insecure-allow-anonymous',
      // FLOTILLA_TEST_RAFT_STORAGE_WRITER=thread: the worker-thread storage writer (issue 19).
      '--raft-storage-writer',
      testStorageWriter(),
      ...launch.extraArguments,
      ...(launch.join ? ['--join'] : []),
    ];
    const [command, ...prefixArguments] =
      this.placement.commandPrefix.length > 0
        ? [...this.placement.commandPrefix, process.execPath]
        : [process.execPath];
    const log = openSync(this.logFile, 'a');
    const child = spawn(command!, [...prefixArguments, ...masterArguments], {
      stdio: ['ignore', log, log],
      env: { ...process.env, FLOTILLA_LOG_LEVEL: process.env.FLOTILLA_LOG_LEVEL ?? 'info' },
    });
    closeSync(log);
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    this.child = child;
    this.state = 'running';
    this.starts += 1;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      if (this.child === child) {
        this.child = null;
        this.state = 'stopped';
      }
    });
  }

  /** Sends `signal` and waits for the process to end (SIGTERM: up to `graceMs`, then SIGKILL). */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL', graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (child === null) return;
    if (this.state === 'paused') child.kill('SIGCONT');
    child.kill(signal);
    const timer = signal === 'SIGTERM' ? setTimeout(() => child.kill('SIGKILL'), graceMs) : null;
    await this.exited;
    if (timer !== null) clearTimeout(timer);
  }

  pause(): void {
    if (this.child === null || this.state !== 'running') return;
    this.child.kill('SIGSTOP');
    this.state = 'paused';
  }

  resume(): void {
    if (this.child === null || this.state !== 'paused') return;
    this.child.kill('SIGCONT');
    this.state = 'running';
  }
}
