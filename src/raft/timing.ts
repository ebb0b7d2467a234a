// Wall-clock side of the core's ticks. The core counts ticks; the driver ticks every `tickMs`.
// LAN: a dead leader is noticed after 10–20 ticks of 30 ms = 0.3–0.6 s of silence, but
// the common case of a leader that exits (SIGTERM) hands over at once (§3.10); heartbeats every
// 30 ms keep followers' timers far from expiring on a healthy network. A leader whose process
// dies is replaced sooner: its followers see the socket close and start PreVote at once.
// Not narrower: 20 ms ticks and a 240–300 ms timeout cost 5 elections in 6 rounds of 256 clients
// at load 23–35 on 2 cores, against none with these values (bench/peers.ts, issue 19).
// WAN (masters in different data centres, round trips of 20–150 ms): longer timeouts so a
// slow link does not start elections nobody wanted.
export interface TimingProfile {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
}

export const timingProfiles = {
  lan: { tickMs: 30, electionTicks: 10, heartbeatTicks: 1 },
  wan: { tickMs: 100, electionTicks: 20, heartbeatTicks: 2 },
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
