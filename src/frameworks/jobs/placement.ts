// Does an offer hold a job run's task? Resources through the SDK's matcher, Metronome's
// placement constraints (IS, EQ, LIKE, UNLIKE on an agent attribute or "hostname"), and, when
// it does not fit, why — in Marathon's vocabulary of unused-offer reasons, as the services
// framework reports them, so `flotilla jobs show` and the API say why a run waits.
import type { Offer } from '../../protocol/mesos.ts';
import { explainMismatch, matchOffer, type OfferMatch } from '../sdk/offer-matching.ts';
import type { Constraint, RunSpec } from './model.ts';

export type UnusedOfferReason =
  | 'InsufficientCpus'
  | 'InsufficientMemory'
  | 'InsufficientDisk'
  | 'UnfulfilledConstraint'
  | 'AgentMaintenance';

export type Placement =
  | { readonly fits: true; readonly match: OfferMatch }
  | { readonly fits: false; readonly reasons: UnusedOfferReason[] };

function attributeValue(offer: Offer, name: string): string | undefined {
  if (name === 'hostname') return offer.hostname;
  const attribute = offer.attributes.find((candidate) => candidate.name === name);
  if (attribute === undefined) return undefined;
  if (attribute.text !== undefined) return attribute.text.value;
  if (attribute.scalar !== undefined) return String(attribute.scalar.value);
  return undefined;
}

export function satisfies(offer: Offer, constraint: Constraint): boolean {
  const value = attributeValue(offer, constraint.attribute);
  const wanted = constraint.value ?? '';
  switch (constraint.operator) {
    case 'IS':
    case 'EQ':
      return value === wanted;
    case 'LIKE':
      return value !== undefined && new RegExp(`^(?:${wanted})$`).test(value);
    case 'UNLIKE':
      return value === undefined || !new RegExp(`^(?:${wanted})$`).test(value);
  }
}

export function placeTask(offer: Offer, run: RunSpec): Placement {
  const reasons: UnusedOfferReason[] = [];
  if (offer.unavailability !== undefined) reasons.push('AgentMaintenance');
  if (!run.placement.constraints.every((constraint) => satisfies(offer, constraint)))
    reasons.push('UnfulfilledConstraint');
  const requirement = { cpus: run.cpus, memMb: run.mem, diskMb: run.disk };
  const match = reasons.length === 0 ? matchOffer(offer, requirement) : null;
  if (match !== null) return { fits: true, match };
  const short = explainMismatch(offer, requirement) ?? '';
  if (short.includes('cpus')) reasons.push('InsufficientCpus');
  if (short.includes('mem')) reasons.push('InsufficientMemory');
  if (short.includes('disk')) reasons.push('InsufficientDisk');
  return { fits: false, reasons };
}

/** Per waiting run: how many offers were looked at, and how often each reason refused one. */
export class PlacementReport {
  readonly #byRun = new Map<string, { offers: number; reasons: Map<UnusedOfferReason, number>; lastAt: number }>();

  record(runId: string, reasons: readonly UnusedOfferReason[], now: number): void {
    const entry = this.#byRun.get(runId) ?? { offers: 0, reasons: new Map(), lastAt: now };
    entry.offers += 1;
    entry.lastAt = now;
    for (const reason of reasons) entry.reasons.set(reason, (entry.reasons.get(reason) ?? 0) + 1);
    this.#byRun.set(runId, entry);
  }

  forget(runId: string): void {
    this.#byRun.delete(runId);
  }

  /** Marathon-like summary of one run, or null if no offer was looked at for it. */
  summary(runId: string): { processedOffers: number; unusedOffers: Record<string, number> } | null {
    const entry = this.#byRun.get(runId);
    if (entry === undefined) return null;
    return { processedOffers: entry.offers, unusedOffers: Object.fromEntries(entry.reasons) };
  }

  /** In words, for a run that failed to launch in time. */
  explain(runId: string): string {
    const summary = this.summary(runId);
    if (summary === null) return 'no offer was received (no agent with free resources, or no leader)';
    const reasons = Object.entries(summary.unusedOffers)
      .map(([reason, count]) => `${reason} ×${count}`)
      .join(', ');
    return `${summary.processedOffers} offers did not fit (${reasons || 'none recorded'})`;
  }
}
