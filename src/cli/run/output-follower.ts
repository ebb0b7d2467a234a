// `tail -f` of a task's stdout and stderr through its agent's READ_FILE, for `flotilla run`.
// Polls (the agent API has no push for files); a file that does not exist yet (404) is
// retried; an agent that cannot be reached is reported once and no longer polled, since the
// state changes still arrive through the master.
import type { ClientTls } from '../../protocol/tls-client.ts';
import { maxReadsPerPoll } from '../limits.ts';
import { readAgentFile, sandboxFilePath, type FileChunk } from '../../frameworks/sdk/agent-files.ts';
import { SchedulerError } from '../../frameworks/sdk/errors.ts';
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';

export const pollIntervalMs = 500;

export interface OutputSinks {
  readonly stdout: (data: Buffer) => void;
  readonly stderr: (data: Buffer) => void;
  /** One human line (the "cannot follow output" notice). */
  readonly notice: (line: string) => void;
}

type FileName = 'stdout' | 'stderr';

export class OutputFollower {
  readonly #offsets: Record<FileName, number> = { stdout: 0, stderr: 0 };
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> = Promise.resolve();
  #unreachable = false;

  constructor(
    readonly agent: MasterAddress,
    readonly frameworkId: string,
    readonly taskId: string,
    readonly sinks: OutputSinks,
    /** The CLI's Authorization, for an agent with --credentials. */
    readonly headers: Readonly<Record<string, string>> = {},
    /** An agent with --tls-*: HTTPS trusting this CA; null: plain HTTP. */
    readonly tls: ClientTls | null = null,
  ) {}

  start(): void {
    if (this.#timer !== null) return;
    const tick = (): void => {
      this.#polling = this.#pollOnce().finally(() => {
        if (this.#timer !== null && !this.#unreachable) this.#timer = setTimeout(tick, pollIntervalMs);
      });
    };
    this.#timer = setTimeout(tick, 0);
  }

  /** Stops polling after one last read, so output written just before the end is not lost. */
  async stop(): Promise<void> {
    const wasRunning = this.#timer !== null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#polling;
    if (wasRunning && !this.#unreachable) await this.#pollOnce();
  }

  async #pollOnce(): Promise<void> {
    for (const file of ['stdout', 'stderr'] as const) {
      if (this.#unreachable) return;
      await this.#drain(file);
    }
  }

  async #drain(file: FileName): Promise<void> {
    const path = sandboxFilePath(this.frameworkId, this.taskId, file);
    for (let read = 0; read < maxReadsPerPoll; read++) {
      let chunk: FileChunk;
      try {
        chunk = await readAgentFile(this.agent, path, this.#offsets[file], undefined, this.headers, this.tls);
      } catch (error) {
        // Not there yet (the sandbox is made at launch): try again at the next poll.
        if (error instanceof SchedulerError && error.status === 404) return;
        this.#unreachable = true;
        this.sinks.notice(`cannot follow the task's output on agent ${this.agent}: ${(error as Error).message}`);
        return;
      }
      if (chunk.data.byteLength === 0) return;
      this.#offsets[file] += chunk.data.byteLength;
      (file === 'stdout' ? this.sinks.stdout : this.sinks.stderr)(chunk.data);
    }
  }
}
