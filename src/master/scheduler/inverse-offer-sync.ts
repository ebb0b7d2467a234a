// Keeps the leader's inverse offers current between heartbeats. A changed maintenance schedule
// brings every session's inverse offers up to date (and forgets answers that no longer hold); a
// framework whose use of agents changed (a task or an offer came or went) while machines are
// scheduled gets its own brought up to date. Both at the next refresh, every
// `inverseOfferRefreshIntervalMs`, as Mesos' allocator makes inverse offers in its next cycle.
import type { ChangeEvent } from '../../state-machine/events.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import type { InverseOfferAnswers } from './inverse-offer-answers.ts';
import type { SchedulerSession } from './session.ts';

export class InverseOfferSync {
  #scheduleIndexSeen = -1;
  /** Frameworks whose inverse offers may be stale; bounded by the frameworks in the state. */
  readonly #stale = new Set<string>();

  /** A new term starts from nothing: the first refresh looks at every session. */
  reset(): void {
    this.#scheduleIndexSeen = -1;
    this.#stale.clear();
  }

  /** Runs inside apply (from the change listener): notes, never sends. */
  noteChange(event: ChangeEvent, state: ReadonlyState, sessionFrameworks: Iterable<string>): void {
    if (state.maintenanceSchedule.windows.length === 0) return;
    switch (event.type) {
      case 'TASK_ADDED':
      case 'TASK_UPDATED':
        this.#stale.add(event.task.frameworkId);
        return;
      case 'OFFER_ADDED':
      case 'OFFER_REMOVED':
        this.#stale.add(event.offer.frameworkId);
        return;
      case 'AGENT_ADDED':
      case 'AGENT_REMOVED':
        for (const frameworkId of sessionFrameworks) this.#stale.add(frameworkId);
        return;
      default:
        return;
    }
  }

  refresh(
    state: ReadonlyState,
    answers: InverseOfferAnswers,
    session: (frameworkId: string) => SchedulerSession | null,
    sessions: Iterable<SchedulerSession>,
    nowMs: number,
  ): void {
    const scheduleIndex = state.maintenanceSchedule.modifyIndex;
    if (scheduleIndex !== this.#scheduleIndexSeen) {
      this.#scheduleIndexSeen = scheduleIndex;
      answers.prune(state);
      this.#stale.clear();
      for (const each of sessions) each.refreshInverseOffers(state, nowMs);
      return;
    }
    for (const frameworkId of this.#stale) session(frameworkId)?.refreshInverseOffers(state, nowMs);
    this.#stale.clear();
  }
}
