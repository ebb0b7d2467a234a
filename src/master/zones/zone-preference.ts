// `--preferred-leader-zones dc1,dc2`: a leader service that moves leadership into the preferred
// zones (where the clients, or most of the agents, are). A leader outside them hands leadership
// to a voter inside them that is healthy and caught up; a leader inside them never moves.
//
// No flapping, by construction and by hysteresis (limits.ts):
//  1. Only a leader outside every preferred zone acts, and only towards one inside: after a move
//     the new leader is preferred and stays. Zones are tried in the order given; the list is a
//     preference, not a ranking between preferred zones, so dc2 never yields to dc1.
//  2. A target must have answered `zonePreferenceStableRounds` probes in a row, following this
//     leader in this term (zone-registry.ts), and be at most `zonePreferenceMaxLagEntries`
//     behind: a master just restarted, or cut off, is not handed anything.
//  3. A leader acts only after leading `zonePreferenceMinLeadershipMs` (an election is not
//     answered with a hand-over at once), and after an attempt that did not take (the target
//     did not win), waits `zonePreferenceRetryMs` before the next.
import type { Logger } from 'pino';
import type { CoreStatus, NodeId } from '../../raft/types.ts';
import { compareStrings } from '../../state-machine/ordering.ts';
import type { LeaderService } from '../leadership/service.ts';
import {
  zonePreferenceCheckIntervalMs,
  zonePreferenceMaxLagEntries,
  zonePreferenceMinLeadershipMs,
  zonePreferenceRetryMs,
  zonePreferenceStableRounds,
} from '../limits.ts';
import type { MemberHealth } from './zone-registry.ts';

export interface PreferenceInput {
  readonly status: CoreStatus;
  readonly preferred: readonly string[];
  readonly ownZone: string | null;
  /** The replicated zone of a member (replicated-zones.ts); null or undefined when it has none known. */
  readonly zoneOf: (id: string) => string | null | undefined;
  readonly health: ReadonlyMap<string, MemberHealth>;
}

export interface PreferredTarget {
  readonly id: NodeId;
  readonly zone: string;
}

/** The voter to hand leadership to, or null when this leader should stay. Pure. */
export function preferredTarget(input: PreferenceInput): PreferredTarget | null {
  const { status, preferred } = input;
  if (status.role !== 'leader' || preferred.length === 0) return null;
  if (input.ownZone !== null && preferred.includes(input.ownZone)) return null;
  const candidates: { id: NodeId; zone: string; rank: number; match: number }[] = [];
  for (const id of status.membership.voters) {
    if (id === status.id) continue;
    const zone = input.zoneOf(id);
    const rank = typeof zone === 'string' ? preferred.indexOf(zone) : -1;
    const progress = status.progress[id];
    const healthy = (input.health.get(id)?.followingRounds ?? 0) >= zonePreferenceStableRounds;
    if (rank < 0 || progress === undefined || !healthy || progress.state !== 'replicate') continue;
    if (status.lastIndex - progress.match > zonePreferenceMaxLagEntries) continue;
    candidates.push({ id, zone: zone as string, rank, match: progress.match });
  }
  // Ties in code-unit order, not localeCompare (whose first call loads ICU: see zoneWrites).
  candidates.sort(
    (left, right) => left.rank - right.rank || right.match - left.match || compareStrings(left.id, right.id),
  );
  const best = candidates[0];
  return best === undefined ? null : { id: best.id, zone: best.zone };
}

export interface ZonePreferenceParts {
  readonly preferred: readonly string[];
  readonly input: () => Omit<PreferenceInput, 'preferred'>;
  /** The leadership lifecycle's hand-over (leader services stop first); false when it could not start. */
  readonly handOver: (to: NodeId) => boolean;
  /** Told of every hand-over started (the master's metrics). */
  readonly onHandOver?: (target: PreferredTarget) => void;
  readonly logger: Logger;
}

export class ZonePreference implements LeaderService {
  readonly name = 'zone-preference';
  readonly #parts: ZonePreferenceParts;
  #timer: NodeJS.Timeout | null = null;
  #leadingSinceMs = 0;
  #nextAttemptMs = 0;

  constructor(parts: ZonePreferenceParts) {
    this.#parts = parts;
  }

  async start(term: number): Promise<void> {
    if (this.#parts.preferred.length === 0) return;
    this.#leadingSinceMs = performance.now();
    this.#nextAttemptMs = this.#leadingSinceMs + zonePreferenceMinLeadershipMs;
    this.#timer = setInterval(() => this.#check(term), zonePreferenceCheckIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #check(term: number): void {
    const nowMs = performance.now();
    if (nowMs < this.#nextAttemptMs) return;
    const input = this.#parts.input();
    if (input.status.term !== term) return;
    const target = preferredTarget({ ...input, preferred: this.#parts.preferred });
    if (target === null) return;
    this.#nextAttemptMs = nowMs + zonePreferenceRetryMs;
    const fields = { term, from: input.status.id, fromZone: input.ownZone, to: target.id, toZone: target.zone };
    this.#parts.logger.info(fields, 'leader outside the preferred zones: handing leadership over');
    // On success this service is stopped inside handOver (the lifecycle revokes every service).
    if (this.#parts.handOver(target.id)) this.#parts.onHandOver?.(target);
    else this.#parts.logger.info(fields, 'zone preference: the hand-over could not start; retrying later');
  }
}
