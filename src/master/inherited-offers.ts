// The offers an earlier leader made, rescinded when this master's term begins. Offers are
// replicated, so a new leader inherits every one still outstanding; a framework could accept one
// for an agent that has not re-registered with the new leader yet, and the task, launched to no
// socket, ended TASK_LOST (reason RECONCILIATION) once the agent re-registered without it. Mesos
// has no such offers after a failover (its offers live in the master's memory). So the allocation
// loop rescinds them all, through the replicated `rescind_offer`, before its start returns: the
// scheduler API serves no call before the leader services run (leadership/lifecycle.ts
// awaitRunning), so no ACCEPT reaches this leader ahead of the rescinds. A framework cannot be
// subscribed then (it subscribes through the same API), so it hears the RESCINDs when it
// subscribes to this leader (scheduler/subscribe.ts).
import type { Logger } from 'pino';
import type { OfferId } from '../state-machine/ids.ts';
import { assert } from '../util/assert.ts';
import type { ReplicatedMaster } from './interface.ts';
import { maxInheritedRescindsInFlight } from './limits.ts';

export class InheritedOffers {
  /** Rescinded at the start of this term, by framework, until the framework subscribes here. */
  readonly #rescinded = new Map<string, OfferId[]>();

  constructor(
    private readonly master: Pick<ReplicatedMaster, 'state' | 'submit'>,
    private readonly logger: Logger,
  ) {}

  /**
   * Rescinds every offer in the state, all made by earlier leaders (this term has made none yet).
   * Stops early once `leading()` turns false; a failed proposal rejects (the start is retried).
   */
  async rescindAll(term: number, leading: () => boolean, nowMs: () => number): Promise<void> {
    this.#rescinded.clear();
    const offers = [...this.master.state().offers.values()];
    let rescinded = 0;
    for (let start = 0; start < offers.length && leading(); start += maxInheritedRescindsInFlight) {
      const batch = offers.slice(start, start + maxInheritedRescindsInFlight);
      const results = await Promise.all(
        batch.map((offer) => this.master.submit({ type: 'rescind_offer', at: nowMs(), offerId: offer.id })),
      );
      for (const [position, { result }] of results.entries()) {
        if (!result.ok) continue; // accepted, declined or rescinded meanwhile
        const offer = batch[position]!;
        const ids = this.#rescinded.get(offer.frameworkId) ?? [];
        ids.push(offer.id);
        this.#rescinded.set(offer.frameworkId, ids);
        rescinded += 1;
      }
    }
    assert(rescinded <= offers.length, 'rescinded more inherited offers than there were');
    if (offers.length > 0) {
      this.logger.info(
        { term, offers: offers.length, rescinded, frameworks: this.#rescinded.size },
        "an earlier leader's outstanding offers rescinded",
      );
    }
  }

  /** The offers of `frameworkId` rescinded at the start of this term, once: for its SUBSCRIBED. */
  take(frameworkId: string): readonly OfferId[] {
    const ids = this.#rescinded.get(frameworkId) ?? [];
    this.#rescinded.delete(frameworkId);
    return ids;
  }

  forget(): void {
    this.#rescinded.clear();
  }
}
