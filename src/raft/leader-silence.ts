// How long a follower went without a message from its leader, in both clocks that matter:
// wall milliseconds (a stalled or descheduled leader, a slow link) and the driver's ticks (what
// the election timer counts: a follower that was itself frozen ticks once when it wakes, so its
// wall gap is long but its tick count is not). The largest silences under load, set against the
// election timeout, are the false-election risk of a tighter timeout (issue 19).
import type { Message } from './types.ts';

export interface Silence {
  readonly durationMs: number;
  readonly ticks: number;
}

export class LeaderSilence {
  private lastHeardAtMs: number | null = null;
  private ticksSinceHeard = 0;

  /** One tick of the driver: counts toward the silence in progress, if any. */
  tick(): void {
    if (this.lastHeardAtMs !== null) this.ticksSinceHeard++;
  }

  /**
   * Messages arrived at `nowMs`. Returns the silence they ended when it lasted at least one tick
   * (at rest a heartbeat per tick: every gap; under load appends follow each other: none), else null.
   */
  heard(messages: readonly Message[], nowMs: number): Silence | null {
    if (!messages.some(fromLeader)) return null;
    const previousMs = this.lastHeardAtMs;
    const ticks = this.ticksSinceHeard;
    this.lastHeardAtMs = nowMs;
    this.ticksSinceHeard = 0;
    if (previousMs === null || ticks === 0) return null;
    return { durationMs: nowMs - previousMs, ticks };
  }

  /** This replica leads or campaigns: the next leader message starts a fresh count. */
  forget(): void {
    this.lastHeardAtMs = null;
    this.ticksSinceHeard = 0;
  }
}

/**
 * Worth a log line: half the election timeout or more. An election needs both followers of a
 * three-member cluster silent that long, which the metric (summed over followers) cannot show.
 */
export function nearElection(silence: Silence, electionTicks: number): boolean {
  return 2 * silence.ticks >= electionTicks;
}

function fromLeader(message: Message): boolean {
  return message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot-chunk';
}
