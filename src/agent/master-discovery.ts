// Which master an agent dials next, and how long it waits first: the real agent's link
// (master-link.ts) and the benchmarks' simulated agents (bench/_simulated-agents.ts) both follow
// it, so a benchmark's fleet finds a new leader exactly as real agents do. The masters are dialled
// one at a time in a shuffled order — masters known to be in the agent's zone first, then those
// whose zone is unknown, then the others — with jittered exponential back-off between rounds that
// found no leader. A follower's answer naming the leader is dialled next. Pure: the caller runs
// the sessions and the timers, and injects the random source (tests pin it).
import { agentProtocolLimits } from '../protocol/limits.ts';
import type { WireMaster } from '../protocol/agent.ts';
import { backoffDelayMs } from '../util/backoff.ts';

export const discoveryLimits = {
  backoffBaseMs: 200,
  /** Discovery never waits longer than this between rounds. */
  backoffMaxMs: 3_000,
  /** not_leader answers followed in a row before backing off (leaders change; stale answers loop). */
  maxRedirects: 3,
  /**
   * After the leader's socket closed, the first dial waits a random [0, this) ms: every agent of
   * the cluster loses the leader at the same moment, and 10,000 dials in one burst would fill the
   * new leader's accept queue (issue 12, scale bench). Short: the cluster is without its agents meanwhile.
   */
  reconnectJitterMaxMs: 200,
  /** A dial's first wait for the handshake's answer (the socket open, or a 307). */
  handshakeTimeoutMs: 5_000,
  /** The wait doubles with each handshake in a row that timed out, up to this. */
  handshakeTimeoutMaxMs: 60_000,
} as const;

/** How a session with one master ended. */
export type SessionEnd =
  | { readonly kind: 'redirect'; readonly leader: string | null }
  | { readonly kind: 'closed'; readonly registered: boolean; readonly handshakeTimedOut?: boolean };

export interface Dial {
  readonly target: string;
  /** Wait this long before dialling (0: at once). */
  readonly delayMs: number;
}

const roundBackoff = { baseMs: discoveryLimits.backoffBaseMs, maxMs: discoveryLimits.backoffMaxMs };

/** Shuffled, then ordered by zone preference: same zone, unknown, other zones. */
export function orderMasters(
  masters: readonly string[],
  zones: ReadonlyMap<string, string | null>,
  zone: string | null,
  random: () => number = Math.random,
): string[] {
  const shuffled = [...masters];
  for (let index = shuffled.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [shuffled[index], shuffled[other]] = [shuffled[other]!, shuffled[index]!];
  }
  const rank = (address: string): number => {
    const known = zones.get(address);
    if (zone === null || known === undefined || known === null) return 1;
    return known === zone ? 0 : 2;
  };
  return shuffled.sort((left, right) => rank(left) - rank(right));
}

/**
 * The round after losing the leader at `lost`: the other masters first (that master is most
 * likely dead or no longer leading; a follower names the new leader), `lost` last.
 */
export function afterLeaderLoss(ordered: readonly string[], lost: string): string[] {
  return [...ordered.filter((address) => address !== lost), ...ordered.filter((address) => address === lost)];
}

export class MasterDiscovery {
  readonly masters: string[];
  readonly zones = new Map<string, string | null>();
  #queue: string[] = [];
  #redirects = 0;
  #failedRounds = 0;
  /** The leader whose socket closed last: until the agent registers again it is dialled last in each round. */
  #lost: string | null = null;
  /** Handshakes that timed out since the agent last registered. */
  #handshakesTimedOut = 0;

  constructor(
    masters: readonly string[],
    readonly zone: string | null,
    readonly random: () => number = Math.random,
  ) {
    this.masters = [...new Set(masters)];
  }

  /** The masters and zones a master told of (`not_leader`, `registered`). */
  learn(masters: readonly WireMaster[]): void {
    for (const master of masters) {
      if (master.address === '') continue;
      if (!this.masters.includes(master.address) && this.masters.length < agentProtocolLimits.maxMasters)
        this.masters.push(master.address);
      if (master.zone !== null || !this.zones.has(master.address)) this.zones.set(master.address, master.zone);
    }
  }

  first(): Dial {
    return this.#nextOfRound(0);
  }

  /**
   * How long the next dial waits for its handshake's answer. After a failover the new leader's
   * accept queue holds thousands of dials, answered in order: an agent that gave up after a fixed
   * 5 s dialled again, and its abandoned connection stayed in the queue for the leader to accept
   * and drop, so the queue grew faster than the leader drained it. Each timeout in a row doubles
   * the wait instead.
   */
  handshakeTimeoutMs(): number {
    const { handshakeTimeoutMs, handshakeTimeoutMaxMs } = discoveryLimits;
    return Math.min(handshakeTimeoutMaxMs, handshakeTimeoutMs * 2 ** Math.min(this.#handshakesTimedOut, 30));
  }

  /** The dial after a session with `target` ended so. */
  next(target: string, end: SessionEnd): Dial {
    if (end.kind === 'closed' && end.handshakeTimedOut === true) this.#handshakesTimedOut += 1;
    if (
      end.kind === 'redirect' &&
      end.leader !== null &&
      end.leader !== target &&
      // A follower names the leader just lost until its own election timer notices the silence:
      // dialling it is a refused connection at best, a connect timeout when its host is down.
      end.leader !== this.#lost &&
      this.#redirects < discoveryLimits.maxRedirects
    ) {
      this.#redirects += 1;
      return { target: end.leader, delayMs: 0 };
    }
    this.#redirects = 0;
    if (end.kind === 'closed' && end.registered) {
      this.#failedRounds = 0;
      this.#lost = target;
      this.#queue = this.#round();
      return this.#nextOfRound(Math.floor(this.random() * discoveryLimits.reconnectJitterMaxMs));
    }
    // Try the rest of this round at once; back off only when a whole round found no leader.
    if (this.#queue.length > 0) return this.#nextOfRound(0);
    const delayMs = backoffDelayMs(this.#failedRounds, roundBackoff, this.random);
    this.#failedRounds += 1;
    return this.#nextOfRound(delayMs);
  }

  /** Registered with `leader`: a later loss of it starts discovery afresh. */
  registered(): void {
    this.#failedRounds = 0;
    this.#handshakesTimedOut = 0;
    this.#redirects = 0;
    this.#lost = null;
  }

  #round(): string[] {
    const ordered = orderMasters(this.masters, this.zones, this.zone, this.random);
    return this.#lost === null ? ordered : afterLeaderLoss(ordered, this.#lost);
  }

  #nextOfRound(delayMs: number): Dial {
    if (this.#queue.length === 0) this.#queue = this.#round();
    return { target: this.#queue.shift()!, delayMs };
  }
}
