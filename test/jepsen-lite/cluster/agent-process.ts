// Real `flotilla agent` processes for the tasks workload: spawned as node itself (SIGKILL must
// reach the agent), logs to a file in the run folder, tasks in the agent's own work dir. The
// nemeses fault masters only; agents follow the leader through every fault on their own.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentPlacement } from '../net/network.ts';

const flotillaBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/flotilla.js');

const liveAgents = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveAgents) child.kill('SIGKILL');
});

/** Small fixed agents, so that over-commitment would show quickly. */
export const agentResources = 'cpus:1;mem:256;disk:1000;ports:[31000-31099]';

export class AgentProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly placement: AgentPlacement,
    readonly workDir: string,
    readonly logFile: string,
  ) {
    mkdirSync(workDir, { recursive: true });
  }

  get id(): string {
    return this.placement.id;
  }

  start(masters: readonly string[]): void {
    if (this.child !== null) throw new Error(`${this.id} is already running`);
    const agentArguments = [
      flotillaBin,
      'agent',
      '--masters',
      masters.map((id) => this.placement.masterAddress(id)).join(','),
      '--work-dir',
      this.workDir,
      '--listen',
      this.placement.listen,
      '--hostname',
      this.id,
      '--resources',
      agentResources,
      // A private namespace address, as the masters' (master-process.ts).
      '--insecure-allow-anonymous',
    ];
    const [command, ...prefix] = [...this.placement.commandPrefix, process.execPath];
    const log = openSync(this.logFile, 'a');
    const child = spawn(command!, [...prefix, ...agentArguments], {
      stdio: ['ignore', log, log],
      env: { ...process.env, FLOTILLA_LOG_LEVEL: process.env.FLOTILLA_LOG_LEVEL ?? 'info' },
    });
    closeSync(log);
    liveAgents.add(child);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        liveAgents.delete(child);
        if (this.child === child) this.child = null;
        resolve();
      }),
    );
  }

  /** SIGTERM leaves its tasks running (they are the agent's to recover), then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}
