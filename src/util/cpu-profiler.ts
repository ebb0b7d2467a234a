// The master's own CPU profile on demand (`--enable-profiling`, src/http/routes/profiling.ts): the
// V8 sampling profiler `node --cpu-prof` uses, started and stopped through an inspector session
// on this thread, so an operator (or the scale bench, phase by phase) can profile a live leader
// without restarting it — a --cpu-prof profile is written only when the process exits, and a
// SIGKILLed leader never writes one. One profile at a time; one left running stops by itself after
// `maxProfileMs` (the sampler's memory grows with its samples) and waits to be collected.
import { Session } from 'node:inspector';

/** The longest a profile runs before it stops by itself. */
export const maxProfileMs = 600_000;

/** A .cpuprofile document (Chrome DevTools, speedscope, /work-style summarizers read it). */
export type CpuProfile = Record<string, unknown>;

export class ProfilerBusyError extends Error {}
export class NoProfileError extends Error {}

export class CpuProfiler {
  private session: Session | null = null;
  private running = false;
  private finished: Promise<CpuProfile> | null = null;
  private selfStop: NodeJS.Timeout | null = null;

  constructor(
    private readonly samplingIntervalUs = 1_000,
    private readonly limitMs = maxProfileMs,
  ) {}

  /** Whether a profile is running or waits to be collected. */
  get busy(): boolean {
    return this.running || this.finished !== null;
  }

  async start(): Promise<void> {
    if (this.busy) throw new ProfilerBusyError('a CPU profile is already running or waits to be collected');
    this.running = true;
    try {
      const session = new Session();
      session.connect();
      this.session = session;
      await post(session, 'Profiler.enable');
      await post(session, 'Profiler.setSamplingInterval', { interval: this.samplingIntervalUs });
      await post(session, 'Profiler.start');
    } catch (error) {
      this.release();
      throw error;
    }
    this.selfStop = setTimeout(() => {
      this.finished = this.collect();
      // Collected later by stop(); a failure is reported there.
      this.finished.catch(() => {});
    }, this.limitMs);
    this.selfStop.unref();
  }

  /** Stops the running profile (or takes the one that stopped by itself) and hands it over. */
  async stop(): Promise<CpuProfile> {
    if (!this.busy) throw new NoProfileError('no CPU profile is running');
    const finished = this.finished ?? this.collect();
    this.finished = null;
    return finished;
  }

  /** Ends a running profile without keeping it (the master is stopping). */
  close(): void {
    this.release();
    this.finished = null;
  }

  private async collect(): Promise<CpuProfile> {
    const session = this.session;
    if (session === null) throw new NoProfileError('no CPU profile is running');
    this.running = false;
    if (this.selfStop !== null) clearTimeout(this.selfStop);
    this.selfStop = null;
    try {
      const { profile } = (await post(session, 'Profiler.stop')) as { profile: CpuProfile };
      return profile;
    } finally {
      this.release();
    }
  }

  private release(): void {
    if (this.selfStop !== null) clearTimeout(this.selfStop);
    this.selfStop = null;
    this.running = false;
    this.session?.disconnect();
    this.session = null;
  }
}

function post(session: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result)));
  });
}
