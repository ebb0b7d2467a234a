// A leader service: every `memberProbeIntervalMs` the leader asks each other master for its
// zone and its view of the leadership (GET /health, through `probe`), keeps what it heard (the
// zone preference reads it as the members' health), and proposes the records that make the
// replicated zones (replicated-zones.ts) match: a member's zone as it reported it, the leader's
// own from its flag, and no record for a master that is no longer a member. A master that does
// not answer keeps its record: it may be down, but its zone did not change.
import type { Logger } from 'pino';
import type { CoreStatus } from '../../raft/types.ts';
import { assert } from '../../util/assert.ts';
import type { ReplicatedMaster } from '../interface.ts';
import type { LeaderService } from '../leadership/service.ts';
import { memberProbeIntervalMs } from '../limits.ts';
import { encodeZoneRecord, masterZonesNamespace, recordedMasters, zoneWrites } from './replicated-zones.ts';

/** What a master says of itself on GET /health. */
export interface ProbeAnswer {
  readonly id: string;
  readonly zone: string | null;
  readonly term: number;
  /** The address of the leader it follows; null when it knows none. */
  readonly leader: string | null;
}

/** Asks the master at `address`; rejects when it does not answer in time. */
export type ProbeMember = (address: string) => Promise<ProbeAnswer>;

export interface MemberHealth {
  readonly zone: string | null;
  /** Probes answered in a row by this member following this leader in the current term; 0 after a miss. */
  readonly followingRounds: number;
}

export interface ZoneRegistryParts {
  readonly master: Pick<ReplicatedMaster, 'state' | 'submit'>;
  readonly raft: { status(): CoreStatus };
  readonly zone: string | null;
  readonly probe: ProbeMember;
  readonly logger: Logger;
}

export class ZoneRegistry implements LeaderService {
  readonly name = 'master-zones';
  readonly #parts: ZoneRegistryParts;
  readonly #health = new Map<string, MemberHealth>();
  #term: number | null = null;
  #timer: NodeJS.Timeout | null = null;
  #roundInFlight = false;
  /** The membership the last round removed stale records for: a scan of the namespace is needed only when it changes. */
  #membershipCleaned: CoreStatus['membership'] | null = null;

  constructor(parts: ZoneRegistryParts) {
    this.#parts = parts;
  }

  /**
   * Probes this master itself once, at its start, so that the first probe round of its first
   * leadership is not the process's first fetch: undici compiles its request path on first use
   * (a bare first fetch 133 ms, the second 28 ms, at load 33), and that round runs as the clients'
   * first writes after a failover arrive (profiles of new leaders: 141-224 ms in fetch in their
   * first 1.5 s, 20-37 ms when they had led before). Its answer is not used; a failure is logged.
   */
  async warmUp(ownAddress: string): Promise<void> {
    const startedMs = performance.now();
    try {
      await this.#parts.probe(ownAddress);
      const durationMs = Math.round(performance.now() - startedMs);
      this.#parts.logger.info({ durationMs }, 'master-zones: health probe warmed up');
    } catch (error) {
      this.#parts.logger.info({ problem: (error as Error).message }, 'master-zones: health probe warm-up failed');
    }
  }

  async start(term: number): Promise<void> {
    assert(this.#timer === null && this.#term === null, 'the zone registry started twice');
    this.#term = term;
    this.#health.clear();
    this.#timer = setInterval(() => void this.#round(term), memberProbeIntervalMs);
    this.#timer.unref();
    void this.#round(term);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#term = null;
    this.#membershipCleaned = null;
    this.#health.clear();
  }

  /** What the last probes said of each other member (empty on a master that does not lead). */
  health(): ReadonlyMap<string, MemberHealth> {
    return this.#health;
  }

  async #round(term: number): Promise<void> {
    if (this.#roundInFlight || this.#term !== term) return;
    this.#roundInFlight = true;
    try {
      const status = this.#parts.raft.status();
      const known = await this.#probeMembers(status, term);
      if (this.#term !== term) return;
      await this.#write(status, known, term);
    } catch (error) {
      this.#parts.logger.info({ term, problem: (error as Error).message }, 'master zones not written this round');
    } finally {
      this.#roundInFlight = false;
    }
  }

  /** Each other member's answer, in parallel; the zones of those that answered as themselves. */
  async #probeMembers(status: CoreStatus, term: number): Promise<Map<string, string | null>> {
    const ownAddress = status.membership.addresses[status.id] ?? null;
    const known = new Map<string, string | null>([[status.id, this.#parts.zone]]);
    const others = Object.entries(status.membership.addresses).filter(([id]) => id !== status.id);
    const answers = await Promise.all(
      others.map(([id, address]) =>
        this.#parts.probe(address).then(
          (answer) => ({ id, answer }),
          () => ({ id, answer: null }),
        ),
      ),
    );
    if (this.#term !== term) return known;
    for (const { id, answer } of answers) {
      // An address now serving another master (a replaced one) tells nothing about this member.
      if (answer === null || answer.id !== id) {
        const previous = this.#health.get(id);
        this.#health.set(id, { zone: previous?.zone ?? null, followingRounds: 0 });
        continue;
      }
      known.set(id, answer.zone);
      const following = answer.term === status.term && answer.leader !== null && answer.leader === ownAddress;
      const rounds = following ? (this.#health.get(id)?.followingRounds ?? 0) + 1 : 0;
      this.#health.set(id, { zone: answer.zone, followingRounds: rounds });
    }
    for (const id of this.#health.keys()) if (status.membership.addresses[id] === undefined) this.#health.delete(id);
    return known;
  }

  async #write(status: CoreStatus, known: ReadonlyMap<string, string | null>, term: number): Promise<void> {
    const state = this.#parts.master.state();
    const members = new Set(Object.keys(status.membership.addresses));
    const recorded = status.membership === this.#membershipCleaned ? [] : recordedMasters(state);
    for (const write of zoneWrites(state, known, members, recorded)) {
      if (this.#term !== term) return;
      const { result } = await this.#parts.master.submit(
        write.type === 'put'
          ? {
              type: 'kv_put',
              namespace: masterZonesNamespace,
              key: write.id,
              value: encodeZoneRecord(write.zone),
              expectedVersion: null,
            }
          : { type: 'kv_delete', namespace: masterZonesNamespace, key: write.id, expectedVersion: null },
      );
      this.#parts.logger.info(
        { master: write.id, zone: write.type === 'put' ? write.zone : undefined, ok: result.ok, term },
        write.type === 'put' ? "master's zone recorded" : 'zone record of a former master removed',
      );
    }
    this.#membershipCleaned = status.membership;
  }
}
