// The launch bench's live view: once a second, a line on stderr with where the launch stands
// (tasks running and launching, offers received and declined, failures, subscriptions, the
// acknowledgements still on their way) and the load average, so a slow run shows where it waited.
// And the optional leader stall: the leader stopped (SIGSTOP) for a while once so many tasks run,
// as a machine too busy to schedule it would, to see what a leader change costs the launch.
import { loadAverage } from './_launch-counters.ts';
import { round } from './_report.ts';

const timelineIntervalMs = 1_000;
/** Longer than the LAN profile's election timeout (0.3–0.6 s): the followers elect another leader. */
export const leaderStallMs = 2_000;

export interface LaunchStatus {
  readonly running: number;
}

export class LeaderStall {
  #stoppedPid: number | null = null;
  #done = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    readonly pid: number | undefined,
    readonly atRunning: number,
  ) {
    if (pid === undefined) throw new Error('--stall-leader-at: the leader has no process of its own to stop');
  }

  /** Stops the leader once `running` reached the mark (once), and lets it go on `leaderStallMs` later. */
  observe(running: number): void {
    if (this.#done || running < this.atRunning) return;
    this.#done = true;
    this.#stoppedPid = this.pid!;
    process.stderr.write(`  leader (pid ${this.pid}) stopped for ${leaderStallMs} ms at ${running} tasks running\n`);
    process.kill(this.#stoppedPid, 'SIGSTOP');
    this.#timer = setTimeout(() => this.resume(), leaderStallMs);
  }

  resume(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#stoppedPid === null) return;
    const pid = this.#stoppedPid;
    this.#stoppedPid = null;
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // Gone already (the cluster stopped it): nothing to resume.
    }
  }
}

export class LaunchTimeline {
  readonly #startedAtMs = performance.now();
  readonly #timer: NodeJS.Timeout;

  constructor(status: () => LaunchStatus, stall: LeaderStall | null) {
    this.#timer = setInterval(() => {
      const now = status();
      stall?.observe(now.running);
      const seconds = round((performance.now() - this.#startedAtMs) / 1000, 0);
      process.stderr.write(`  ${seconds} s: ${JSON.stringify(now)} load ${loadAverage()}\n`);
    }, timelineIntervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
