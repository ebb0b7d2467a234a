// Wall-clock side of the core's ticks. The core counts ticks; the driver ticks every `tickMs`.
// LAN: heartbeats every 20 ms; a follower that hears nothing for 12–14 ticks (240–300 ms)
// stands for election, so a frozen or unreachable leader is replaced within about 400 ms
// (issue 19). The jitter is narrow because two followers that time out together no longer
// split the vote: between pre-candidates only the better log, then the lower id, is granted
// (core.ts ranksBelow). A leader whose process dies is replaced sooner still: its followers see
// the socket close and start PreVote at once. A leader that exits (SIGTERM) hands over (§3.10).
// WAN (masters in different data centres, round trips of 20–150 ms): longer timeouts so a
// slow link does not start elections nobody wanted.
export interface TimingProfile {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** The election timeout is drawn from [electionTicks, electionTicks + jitter); electionTicks when absent. */
  readonly electionJitterTicks?: number;
}

export const timingProfiles = {
  lan: { tickMs: 20, electionTicks: 12, heartbeatTicks: 1, electionJitterTicks: 3 },
  wan: { tickMs: 100, electionTicks: 20, heartbeatTicks: 2, electionJitterTicks: 20 },
} as const satisfies Record<string, TimingProfile>;

export type TimingProfileName = keyof typeof timingProfiles;

export function validateTiming(timing: TimingProfile): void {
  for (const [key, value] of Object.entries(timing)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`raft timing: ${key} must be a positive integer, got ${String(value)}`);
  }
  if (timing.heartbeatTicks >= timing.electionTicks) {
    throw new Error(
      `raft timing: heartbeatTicks (${timing.heartbeatTicks}) must be below electionTicks (${timing.electionTicks})`,
    );
  }
}
