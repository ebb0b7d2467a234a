// Samples a master's own /metrics once a second while a benchmark runs: resident memory, the
// event-loop delay (the master's histogram: the maximum and the 99th percentile since the previous
// scrape, which this poller is the only one to take), and each snapshot's write time (the duration histogram's sum
// and count moving between two scrapes). Maxima are kept per phase of the benchmark.
const pollIntervalMs = 1_000;
const scrapeTimeoutMs = 10_000;

export interface PhaseFigures {
  maxRssBytes: number;
  maxEventLoopDelayMs: number;
  /** The worst second's 99th percentile: the highest p99 one scrape read (each covers the second before it). */
  maxEventLoopDelayP99Ms: number;
  samples: number;
}

/** `name{labels} value` lines of the Prometheus text format, by name (the first series). */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
    if (match !== null && !values.has(match[1]!)) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

export class LeaderMetricsPoller {
  readonly phases = new Map<string, PhaseFigures>();
  /** Every snapshot whose write a scrape saw end: its duration and the latest snapshot size then. */
  readonly snapshots: { durationMs: number; bytes: number }[] = [];
  phase = 'start';
  #stopped = false;
  #loop: Promise<void> | null = null;
  #lastSnapshot = new Map<string, { count: number; sum: number }>();

  /** `leader()`: the address of the master that leads now, or null while none does. */
  constructor(readonly leader: () => string | null) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const address = this.leader();
      if (address !== null) await this.#scrape(address).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
    }
  }

  async #scrape(address: string): Promise<void> {
    const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(scrapeTimeoutMs) });
    if (response.status !== 200) return;
    const values = parseMetrics(await response.text());
    const figures = this.phases.get(this.phase) ?? {
      maxRssBytes: 0,
      maxEventLoopDelayMs: 0,
      maxEventLoopDelayP99Ms: 0,
      samples: 0,
    };
    figures.samples += 1;
    figures.maxRssBytes = Math.max(
      figures.maxRssBytes,
      values.get('flotilla_process_process_resident_memory_bytes') ?? 0,
    );
    figures.maxEventLoopDelayMs = Math.max(
      figures.maxEventLoopDelayMs,
      (values.get('flotilla_event_loop_delay_max_seconds') ?? 0) * 1000,
    );
    figures.maxEventLoopDelayP99Ms = Math.max(
      figures.maxEventLoopDelayP99Ms,
      (values.get('flotilla_event_loop_delay_p99_seconds') ?? 0) * 1000,
    );
    this.phases.set(this.phase, figures);
    const count = values.get('flotilla_raft_snapshot_duration_seconds_count') ?? 0;
    const sum = values.get('flotilla_raft_snapshot_duration_seconds_sum') ?? 0;
    const last = this.#lastSnapshot.get(address);
    // One new snapshot since the last scrape of this master: the sum moved by exactly its duration.
    if (last !== undefined && count === last.count + 1) {
      this.snapshots.push({
        durationMs: (sum - last.sum) * 1000,
        bytes: values.get('flotilla_raft_snapshot_bytes') ?? 0,
      });
    }
    this.#lastSnapshot.set(address, { count, sum });
  }

  /** The maxima over every phase. */
  overall(): PhaseFigures {
    const all = [...this.phases.values()];
    return {
      maxRssBytes: Math.max(0, ...all.map((figures) => figures.maxRssBytes)),
      maxEventLoopDelayMs: Math.max(0, ...all.map((figures) => figures.maxEventLoopDelayMs)),
      maxEventLoopDelayP99Ms: Math.max(0, ...all.map((figures) => figures.maxEventLoopDelayP99Ms)),
      samples: all.reduce((total, figures) => total + figures.samples, 0),
    };
  }
}
