// Wall-clock side of the core's ticks. The core counts ticks; the driver ticks every `tickMs`.
// LAN: a dead leader is noticed after 10–20 ticks of 30 ms = 0.3–0.6 s of silence, but
// the common case of a leader that exits (SIGTERM) hands over at once (§3.10); heartbeats every
// 30 ms keep followers' timers far from expiring on a healthy network. A leader whose process
// dies is replaced sooner: its followers see the socket close and start PreVote at once.
// Not narrower: 20 ms ticks and a 240–300 ms timeout cost 5 elections in 6 rounds of 256 clients
// at load 23–35 on 2 cores, against none with these values (bench/peers.ts, issue 19). Nor
// fixed (campaign after exactly electionTicks): at 10 or 11 ticks it would replace a frozen
// leader within 400 ms on a quiet machine, but it elects on every stall both followers count
// that long, where these values elect on some; at 256 clients and load 32, fixed at 11 ticks
// deposed 2 stalled leaders in 3 minutes, these values 3 in 10 (session 15: too few to rank,
// the same direction as sessions 9 and 10).
// WAN (masters in different data centres, round trips of 20–150 ms): longer timeouts so a
// slow link does not start elections nobody wanted.
/**
 * When a follower that hears a leader campaigns once that leader falls silent. `randomized`:
 * after a timeout drawn from [electionTicks, 2 × electionTicks) ticks. `fixed`: after exactly
 * electionTicks (CoreConfig.preVoteAtElectionTicks). A replica that knows no leader (after a
 * refused, lost or split campaign) waits a randomized timeout in both, which keeps retries apart.
 */
export type ElectionTimer = 'randomized' | 'fixed';

import type { CoreConfig } from './config.ts';

/**
 * The liveness beacon (beacon.ts): a follower that hears its leader's beacon campaigns after
 * `electionTicks` of silence once the beacon is older than `freshMs` too, and waits while it is
 * fresh, up to `boundMs` of silence (so does the leader's beacon thread for its own main loop).
 */
export interface BeaconTiming {
  readonly electionTicks: number;
  readonly freshMs: number;
  readonly boundMs: number;
}

export interface TimingProfile {
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Absent: randomized. */
  readonly electionTimer?: ElectionTimer;
  /** Absent or null: no beacon, the election timer alone. */
  readonly beacon?: BeaconTiming | null;
}

/**
 * The LAN beacon (`--raft-beacon`). 8 ticks (240 ms) of silence, and a beacon older than 200 ms:
 * a frozen leader's last beacon went out about when its last heartbeat did, so both run out
 * together and the follower campaigns at 8-9 ticks. 200 ms of freshness covers the beacon
 * thread's own scheduling delay on a loaded 2-core machine (the thread is not held by the main
 * thread's GC or turns, but it waits for a core like any thread). 2 s bounds how long a leader
 * whose main loop stopped turning (livelock) is kept.
 */
export const lanBeacon: BeaconTiming = { electionTicks: 8, freshMs: 200, boundMs: 2_000 };

export const timingProfiles = {
  lan: { tickMs: 30, electionTicks: 10, heartbeatTicks: 1 },
  wan: { tickMs: 100, electionTicks: 20, heartbeatTicks: 2 },
} as const satisfies Record<string, TimingProfile>;

export type TimingProfileName = keyof typeof timingProfiles;

export function electionTimerOf(timing: TimingProfile): ElectionTimer {
  return timing.electionTimer ?? 'randomized';
}

/** The core's side of a profile: what RaftNode gives its RaftCore. */
export function coreTiming(
  timing: TimingProfile,
): Pick<
  CoreConfig,
  | 'electionTicks'
  | 'electionJitterTicks'
  | 'heartbeatTicks'
  | 'preVoteAtElectionTicks'
  | 'beaconElectionTicks'
  | 'beaconBoundTicks'
> {
  const beacon = timing.beacon ?? null;
  return {
    beaconElectionTicks: beacon === null ? 0 : beacon.electionTicks,
    beaconBoundTicks: beacon === null ? 0 : Math.ceil(beacon.boundMs / timing.tickMs),
    electionTicks: timing.electionTicks,
    // Randomized: [electionTicks, 2 × electionTicks). Fixed: only after a campaign that went nowhere.
    electionJitterTicks: timing.electionTicks,
    heartbeatTicks: timing.heartbeatTicks,
    preVoteAtElectionTicks: electionTimerOf(timing) === 'fixed',
  };
}

export function validateTiming(timing: TimingProfile): void {
  for (const key of ['tickMs', 'electionTicks', 'heartbeatTicks'] as const) {
    const value = timing[key];
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`raft timing: ${key} must be a positive integer, got ${String(value)}`);
  }
  const beacon = timing.beacon ?? null;
  if (beacon !== null) {
    if (!Number.isInteger(beacon.electionTicks) || beacon.electionTicks <= timing.heartbeatTicks)
      throw new Error(`raft timing: the beacon's electionTicks must be an integer above heartbeatTicks`);
    if (!(beacon.freshMs >= timing.tickMs * timing.heartbeatTicks))
      throw new Error('raft timing: the beacon must stay fresh for at least a heartbeat interval');
    if (!(beacon.boundMs > beacon.electionTicks * timing.tickMs))
      throw new Error("raft timing: the beacon's bound must be above its election timeout");
  }
  if (timing.heartbeatTicks >= timing.electionTicks) {
    throw new Error(
      `raft timing: heartbeatTicks (${timing.heartbeatTicks}) must be below electionTicks (${timing.electionTicks})`,
    );
  }
}
