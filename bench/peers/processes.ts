// Member processes of the benchmarked clusters: spawned with their output in a log file beside
// their data (a post-mortem needs it; the bench process must not spend CPU keeping it), ended
// by pid, and never left behind: an exiting bench SIGKILLs what it started.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) if (child.pid !== undefined) child.kill('SIGKILL');
  });
}

export class MemberProcess {
  private child: ChildProcess | null = null;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly logFile: string,
    private readonly environment: NodeJS.ProcessEnv = process.env,
  ) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.alive) throw new Error(`${this.name} is already running`);
    installExitHook();
    const log = openSync(this.logFile, 'a');
    try {
      const child = spawn(this.command, [...this.args], { stdio: ['ignore', log, log], env: this.environment });
      running.add(child);
      child.once('exit', () => running.delete(child));
      this.child = child;
    } finally {
      closeSync(log);
    }
  }

  /** Sends `signal`; for SIGKILL, resolves once the process is gone. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === null || !this.alive) return;
    if (signal !== 'SIGKILL') {
      child.kill(signal);
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  async stop(): Promise<void> {
    if (this.child !== null && this.alive) {
      this.child.kill('SIGCONT');
      await this.signal('SIGKILL');
    }
    this.child = null;
  }
}
