// The frameworks' answers to inverse offers (ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS),
// for GET_MAINTENANCE_STATUS: the latest answer per (agent, framework), for the unavailability
// it answered. Mesos keeps these in the leading master's memory only (the allocator's
// `Slave::Maintenance::statuses`), and so does Flotilla: a failover loses them, and the
// frameworks answer the new leader's inverse offers again. An answer holds while the agent's
// unavailability is the one answered; a changed window, a machine taken out of the schedule or
// down, an agent gone or a framework removed forgets it (Mesos resets the statuses on
// `updateUnavailability` too). An answer is a hint for the operator: it changes nothing else.
import type { AgentId, FrameworkId } from '../../state-machine/ids.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import type { InverseOfferView } from './events.ts';
import { maintenanceWindowOf } from './inverse-offers.ts';

/** allocator.proto InverseOfferStatus.Status. */
export type InverseOfferStatusKind = 'UNKNOWN' | 'ACCEPT' | 'DECLINE';

/** One (agent, framework) pair's standing, for GET_MAINTENANCE_STATUS. */
export interface InverseOfferStatusView {
  readonly agentId: string;
  readonly frameworkId: string;
  readonly status: InverseOfferStatusKind;
  /** When the answer came, or (UNKNOWN) when the inverse offer was sent. */
  readonly timestampMs: number;
}

interface Answer {
  readonly agentId: string;
  readonly frameworkId: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly status: 'ACCEPT' | 'DECLINE';
  readonly atMs: number;
}

const pairKey = (agentId: string, frameworkId: string): string => `${agentId}\n${frameworkId}`;

export class InverseOfferAnswers {
  /** (agent, framework) → latest answer; at most one per pair, and pairs are bounded by the state. */
  readonly #answers = new Map<string, Answer>();

  record(offer: InverseOfferView, status: 'ACCEPT' | 'DECLINE', atMs: number): void {
    this.#answers.set(pairKey(offer.agent.id, offer.frameworkId), {
      agentId: offer.agent.id,
      frameworkId: offer.frameworkId,
      startMs: offer.startMs,
      durationMs: offer.durationMs,
      status,
      atMs,
    });
  }

  clear(): void {
    this.#answers.clear();
  }

  /** Drops the answers that no longer hold in `state` (see the head of this file). */
  prune(state: ReadonlyState): void {
    for (const [key, answer] of this.#answers) if (!stillHolds(state, answer)) this.#answers.delete(key);
  }

  /**
   * Every pair with an answer, and (UNKNOWN) every pair with an outstanding inverse offer not yet
   * answered, sorted by agent then framework so every call lists them alike.
   */
  statuses(
    state: ReadonlyState,
    outstanding: Iterable<{ readonly offer: InverseOfferView; readonly sentAtMs: number }>,
  ): InverseOfferStatusView[] {
    this.prune(state);
    const views = new Map<string, InverseOfferStatusView>();
    for (const answer of this.#answers.values()) {
      views.set(pairKey(answer.agentId, answer.frameworkId), {
        agentId: answer.agentId,
        frameworkId: answer.frameworkId,
        status: answer.status,
        timestampMs: answer.atMs,
      });
    }
    for (const { offer, sentAtMs } of outstanding) {
      const key = pairKey(offer.agent.id, offer.frameworkId);
      if (!views.has(key))
        views.set(key, {
          agentId: offer.agent.id,
          frameworkId: offer.frameworkId,
          status: 'UNKNOWN',
          timestampMs: sentAtMs,
        });
    }
    return [...views.values()].sort((left, right) =>
      left.agentId === right.agentId
        ? compare(left.frameworkId, right.frameworkId)
        : compare(left.agentId, right.agentId),
    );
  }
}

const compare = (left: string, right: string): number => (left < right ? -1 : left > right ? 1 : 0);

function stillHolds(state: ReadonlyState, answer: Answer): boolean {
  const framework = state.frameworks.get(answer.frameworkId as FrameworkId);
  if (framework === undefined || framework.state === 'COMPLETED') return false;
  const agent = state.agents.get(answer.agentId as AgentId);
  if (agent === undefined) return false;
  const window = maintenanceWindowOf(state, agent);
  return window !== null && window.startMs === answer.startMs && window.durationMs === answer.durationMs;
}
