// The jobs framework as tests run it: a real `flotilla jobs` process (node bin/flotilla.js
// jobs --masters … --listen …) against real masters and agents, restartable and killable,
// with an optional file clock the test steps, and a small client of its Metronome API.
import { type ChildProcess, spawn } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../raft/support/process-cluster.ts';
import { waitFor } from '../../support/wait.ts';

const flotillaBin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'flotilla.js');
const requestTimeoutMs = 10_000;

export interface ApiAnswer<Body = unknown> {
  readonly status: number;
  readonly body: Body;
}

export class JobsProcess {
  child: ChildProcess | null = null;
  output = '';

  private constructor(
    readonly masters: string,
    readonly port: number,
    readonly extra: readonly string[],
  ) {}

  /** Starts `flotilla jobs` and waits until its API answers (records loaded). */
  static async start(masters: string, extra: readonly string[] = []): Promise<JobsProcess> {
    const jobs = new JobsProcess(masters, await freePort(), extra);
    await jobs.launch();
    return jobs;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async launch(): Promise<void> {
    const child = spawn(
      process.execPath,
      [flotillaBin, 'jobs', '--masters', this.masters, '--listen', this.address, '--tick-ms', '200', ...this.extra],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLOTILLA_LOG_LEVEL: 'info' } },
    );
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-300_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitFor(async () => (await this.api('GET', '/v1/jobs')).status === 200, {
      timeoutMs: 60_000,
      what: `the jobs API at ${this.address} to be ready`,
      intervalMs: 100,
    }).catch((error: Error) => {
      throw new Error(`${error.message}\njobs output:\n${this.output.slice(-3000)}`);
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async api<Body = unknown>(method: string, route: string, body?: unknown): Promise<ApiAnswer<Body>> {
    const response = await fetch(`http://${this.address}${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(requestTimeoutMs),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as Body };
  }

  /** The API answer, which must have `status`. */
  async expect<Body = unknown>(status: number, method: string, route: string, body?: unknown): Promise<Body> {
    const answer = await this.api<Body>(method, route, body);
    if (answer.status !== status)
      throw new Error(
        `${method} ${route} answered ${answer.status}, expected ${status}: ${JSON.stringify(answer.body)}`,
      );
    return answer.body;
  }
}

/** A test clock: epoch ms in a file that `flotilla jobs --test-clock-file` reads. */
export class TestClock {
  constructor(
    readonly file: string,
    public nowMs: number,
  ) {
    this.set(nowMs);
  }

  set(epochMs: number): void {
    this.nowMs = epochMs;
    writeFileSync(`${this.file}.tmp`, String(epochMs));
    // rename is atomic: the reader never sees a half-written number.
    renameSync(`${this.file}.tmp`, this.file);
  }
}

export interface RunBody {
  readonly id: string;
  readonly status: string;
  readonly tasks: readonly { id: string; status: string }[];
  readonly trigger: { kind: string; scheduleId?: string; slotAt?: string };
}

export interface HistoryBody {
  readonly successCount: number;
  readonly failureCount: number;
  readonly lastSuccessAt: string | null;
  readonly successfulFinishedRuns: readonly { id: string; createdAt: string; finishedAt: string; tasks: string[] }[];
  readonly failedFinishedRuns: readonly { id: string; createdAt: string; finishedAt: string; tasks: string[] }[];
  readonly skippedSlots: readonly {
    scheduleId: string;
    firstSlotAt: string;
    lastSlotAt: string;
    count: number;
    reason: string;
  }[];
}

/** A JobSpec running `cmd` with small resources, as Metronome's schema requires them. */
export function jobSpec(
  id: string,
  cmd: string,
  extra: Record<string, unknown> = {},
  run: Record<string, unknown> = {},
): Record<string, unknown> {
  return { id, run: { cmd, cpus: 0.1, mem: 32, disk: 0, ...run }, ...extra };
}
