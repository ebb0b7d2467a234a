// The allocator's driver on the leader: it owns the in-memory hints (filters, suppression),
// batches triggers (state changes, REVIVE, expiring filters) into one cycle per window, runs the
// pure allocator on the applied state and proposes its offers as `create_offers` commands.
// Followers keep the object (the HTTP layer calls it everywhere) but never run a cycle; a
// leadership change clears the hints, as Mesos' do on master failover.
//
// Races, as numbered scenarios:
//  1. Two cycles in flight would offer the same free resources twice; apply would reject the
//     second batch. So a cycle starts only when the previous one's proposals have applied, and
//     a trigger during a cycle schedules one more cycle after it.
//  2. State changes while a long cycle yields between slices (an ACCEPT frees or takes
//     resources). Before proposing, each offer is checked again against the current state, and
//     what no longer fits is dropped (a later cycle offers it); apply checks again anyway.
//  3. A new leader may not yet have applied everything committed by the old one. Its first
//     cycle waits for a ReadIndex barrier, so it does not offer what is already offered.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChangeListener } from '../http/facade.ts';
import {
  AllocationCycle,
  defaultMaxSkipReasonsPerFramework,
  defaultMinAllocatable,
  parseMinAllocatable,
  type AllocatorConfig,
} from '../offers/allocator.ts';
import type { AllocationControl, AllocationReport } from '../offers/control.ts';
import { AllocationHints } from '../offers/hints.ts';
import type { Quantities } from '../offers/quantities.ts';
import { buildAllocationReport, type LastCycle } from '../offers/report.ts';
import { freeResources } from '../state-machine/agent-accounting.ts';
import type { Command, OfferDefinition } from '../state-machine/commands.ts';
import type { ApplyResult } from '../state-machine/errors.ts';
import type { ChangeEvent } from '../state-machine/events.ts';
import { offerId, type AgentId, type FrameworkId } from '../state-machine/ids.ts';
import { maxDurationMs, maxOffersPerCommand } from '../state-machine/limits.ts';
import { add, contains, emptyResources, type Resources } from '../state-machine/resources.ts';
import type { ReadonlyState } from '../state-machine/state.ts';
import { isTerminalTaskState } from '../state-machine/task-states.ts';
import { runInSlices } from './allocation-slices.ts';

export interface AllocationSettings {
  /** Triggers within this window share one cycle (`--allocation-batch-ms`). */
  readonly batchMs: number;
  /** Outstanding offers older than this are rescinded; 0 disables (`--offer-timeout-ms`). */
  readonly offerTimeoutMs: number;
  readonly minAllocatable: readonly Quantities[];
}

export const defaultAllocationBatchMs = 50;
export const defaultOfferTimeoutMs = 60_000;
export const maxAllocationBatchMs = 60_000;
/** Changes that emit no event (quota, weights, maintenance ending) are picked up at least this often. */
export const fallbackCycleIntervalMs = 5_000;
/** Rescinds proposed per pass, so a huge backlog cannot flood the Raft log at once. */
const maxRescindsPerPass = 1000;

/** The master's options with their defaults, checked (a bad value stops the master at start). */
export function allocationSettings(options: {
  readonly allocationBatchMs?: number;
  readonly offerTimeoutMs?: number;
  readonly minAllocatableResources?: string;
}): AllocationSettings {
  const batchMs = options.allocationBatchMs ?? defaultAllocationBatchMs;
  const offerTimeoutMs = options.offerTimeoutMs ?? defaultOfferTimeoutMs;
  if (!Number.isInteger(batchMs) || batchMs < 0 || batchMs > maxAllocationBatchMs) {
    throw new Error(
      `allocation batch window must be a whole number of ms from 0 to ${maxAllocationBatchMs}, not ${batchMs}`,
    );
  }
  if (!Number.isInteger(offerTimeoutMs) || offerTimeoutMs < 0 || offerTimeoutMs > maxDurationMs) {
    throw new Error(`offer timeout must be a whole number of ms (0 for none), not ${offerTimeoutMs}`);
  }
  const minAllocatable = parseMinAllocatable(options.minAllocatableResources ?? defaultMinAllocatable);
  return { batchMs, offerTimeoutMs, minAllocatable };
}

export interface AllocationLoopParts {
  readonly state: () => ReadonlyState;
  readonly onChange: (listener: ChangeListener) => () => void;
  readonly submit: (command: Command) => Promise<{ index: number; result: ApplyResult }>;
  /** Resolves once everything committed before the call is applied here. */
  readonly linearizableRead: () => Promise<void>;
  /** The current term while this master leads, else null. */
  readonly leaderTerm: () => number | null;
  readonly onLeaderChange: (listener: () => void) => () => void;
  readonly settings: AllocationSettings;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class AllocationLoop implements AllocationControl {
  readonly #hints = new AllocationHints();
  readonly #parts: AllocationLoopParts;
  readonly #now: () => number;
  readonly #stops: (() => void)[] = [];
  #ledTerm: number | null = null;
  #offerPrefix = randomUUID();
  #offerSequence = 0;
  #needsBarrier = true;
  #batchTimer: NodeJS.Timeout | null = null;
  #wakeTimer: NodeJS.Timeout | null = null;
  #fallbackTimer: NodeJS.Timeout | null = null;
  #running = false;
  #again = false;
  #stopped = false;
  #lastCycle: LastCycle | null = null;

  constructor(parts: AllocationLoopParts) {
    this.#parts = parts;
    this.#now = parts.now ?? Date.now;
    this.#stops.push(parts.onChange((event) => this.#onChange(event)));
    this.#stops.push(parts.onLeaderChange(() => this.#onLeaderChange()));
    this.#fallbackTimer = setInterval(() => this.trigger('fallback interval'), fallbackCycleIntervalMs);
    this.#fallbackTimer.unref();
    this.#onLeaderChange();
  }

  refuse(frameworkId: string, agentIds: readonly string[], refuseSeconds: number): void {
    this.#hints.refuse(frameworkId, agentIds, refuseSeconds, this.#now());
    this.#scheduleWake();
  }

  revive(frameworkId: string, roles: readonly string[]): void {
    this.#hints.revive(frameworkId, roles);
    this.trigger('revive');
  }

  suppress(frameworkId: string, roles: readonly string[]): void {
    const framework = this.#parts.state().frameworks.get(frameworkId as FrameworkId);
    this.#hints.suppress(frameworkId, roles, framework?.info.roles ?? []);
  }

  setSuppressedRoles(frameworkId: string, roles: readonly string[]): void {
    this.#hints.setSuppressedRoles(frameworkId, roles);
    this.trigger('suppressed roles set');
  }

  /** Starts the batching window unless one is open or a cycle will follow the running one. */
  trigger(reason: string): void {
    if (this.#stopped || this.#ledTerm === null) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#batchTimer !== null) return;
    this.#parts.logger.debug({ reason }, 'allocation triggered');
    this.#batchTimer = setTimeout(() => {
      this.#batchTimer = null;
      void this.#runCycle();
    }, this.#parts.settings.batchMs);
  }

  report(): AllocationReport {
    return buildAllocationReport({
      state: this.#parts.state(),
      hints: this.#hints,
      nowMs: this.#now(),
      config: this.#config(),
      lastCycle: this.#lastCycle,
    });
  }

  stop(): void {
    this.#stopped = true;
    for (const stop of this.#stops.splice(0)) stop();
    this.#clearTimers();
    if (this.#fallbackTimer !== null) clearInterval(this.#fallbackTimer);
  }

  #config(): AllocatorConfig {
    return {
      minAllocatable: this.#parts.settings.minAllocatable,
      maxSkipReasonsPerFramework: defaultMaxSkipReasonsPerFramework,
      newOfferId: () => {
        this.#offerSequence += 1;
        return offerId(`${this.#offerPrefix}-O${this.#offerSequence}`);
      },
    };
  }

  #onChange(event: ChangeEvent): void {
    switch (event.type) {
      case 'OFFER_ADDED':
      case 'TASK_ADDED':
      case 'TASK_KILL_REQUESTED':
        return; // they take resources or free none
      case 'TASK_UPDATED':
        if (isTerminalTaskState(event.task.state)) this.trigger('task finished');
        return;
      case 'FRAMEWORK_REMOVED':
        this.#hints.forget(event.framework.id);
        return;
      default:
        this.trigger(event.type);
    }
  }

  #onLeaderChange(): void {
    const term = this.#parts.leaderTerm();
    if (term === this.#ledTerm) return;
    // Filters and suppression are per leadership (control.ts): a new term starts empty.
    this.#hints.clear();
    this.#lastCycle = null;
    this.#clearTimers();
    this.#ledTerm = term;
    if (term === null) return;
    this.#offerPrefix = randomUUID();
    this.#offerSequence = 0;
    this.#needsBarrier = true;
    this.trigger('elected');
  }

  #clearTimers(): void {
    if (this.#batchTimer !== null) clearTimeout(this.#batchTimer);
    if (this.#wakeTimer !== null) clearTimeout(this.#wakeTimer);
    this.#batchTimer = null;
    this.#wakeTimer = null;
  }

  #leading(term: number): boolean {
    return !this.#stopped && this.#ledTerm === term && this.#parts.leaderTerm() === term;
  }

  async #runCycle(): Promise<void> {
    const term = this.#ledTerm;
    if (term === null || this.#running || !this.#leading(term)) return;
    this.#running = true;
    this.#again = false;
    try {
      if (this.#needsBarrier) {
        await this.#parts.linearizableRead();
        this.#needsBarrier = false;
      }
      if (!this.#leading(term)) return;
      await this.#rescindExpiredOffers(term);
      const offers = await this.#allocate(term);
      if (offers !== null) await this.#propose(term, offers);
    } catch (error) {
      this.#again = true;
      this.#parts.logger.warn({ err: error, term }, 'allocation cycle failed; retrying on the next trigger');
    } finally {
      this.#running = false;
      this.#scheduleWake();
      if (this.#again) this.trigger('changes during the last cycle');
    }
  }

  /** Runs the pure cycle in slices (allocation-slices.ts), yielding the event loop between them. */
  async #allocate(term: number): Promise<OfferDefinition[] | null> {
    const nowMs = this.#now();
    this.#hints.prune(nowMs);
    const cycle = new AllocationCycle({
      state: this.#parts.state(),
      hints: this.#hints,
      nowMs,
      config: this.#config(),
    });
    const run = await runInSlices(cycle, () => this.#leading(term));
    if (run === null) return null;
    const result = cycle.result();
    this.#lastCycle = {
      atMs: nowMs,
      durationMs: run.busyMs,
      offersMade: result.offers.length,
      skipReasons: result.skipReasons,
    };
    this.#parts.logger.debug(
      { offers: result.offers.length, busyMs: run.busyMs, longestSliceMs: run.longestSliceMs, slices: run.slices },
      'allocation cycle',
    );
    return result.offers;
  }

  /**
   * Proposes in commands of bounded size, first dropping offers that no longer fit (scenario 2).
   * Each batch is checked just before it is proposed, after the previous one applied.
   */
  async #propose(term: number, offers: readonly OfferDefinition[]): Promise<void> {
    for (let start = 0; start < offers.length; start += maxOffersPerCommand) {
      if (!this.#leading(term)) return;
      const batch = offers.slice(start, start + maxOffersPerCommand);
      const fitting = this.#stillFitting(batch);
      if (fitting.length < batch.length) this.#again = true;
      if (fitting.length === 0) continue;
      const { result } = await this.#parts.submit({ type: 'create_offers', at: this.#now(), offers: fitting });
      if (!result.ok) {
        this.#again = true;
        this.#parts.logger.info(
          { code: result.code, message: result.message, offers: fitting.length },
          'offers rejected; allocating again',
        );
      }
    }
  }

  #stillFitting(batch: readonly OfferDefinition[]): OfferDefinition[] {
    const state = this.#parts.state();
    const pending = new Map<AgentId, Resources>();
    return batch.filter((offer) => {
      const agent = state.agents.get(offer.agentId);
      const framework = state.frameworks.get(offer.frameworkId);
      const held = add(pending.get(offer.agentId) ?? emptyResources, offer.resources);
      if (agent?.state !== 'ACTIVE' || framework?.state !== 'CONNECTED' || !contains(freeResources(agent), held))
        return false;
      pending.set(offer.agentId, held);
      return true;
    });
  }

  /** Mesos `--offer_timeout`: counted from the replicated `createdAt`, so a new leader continues. */
  async #rescindExpiredOffers(term: number): Promise<void> {
    const timeoutMs = this.#parts.settings.offerTimeoutMs;
    if (timeoutMs <= 0) return;
    const deadline = this.#now() - timeoutMs;
    const expired = [...this.#parts.state().offers.values()]
      .filter((offer) => offer.createdAt <= deadline)
      .slice(0, maxRescindsPerPass);
    for (const offer of expired) {
      if (!this.#leading(term)) return;
      const { result } = await this.#parts.submit({ type: 'rescind_offer', at: this.#now(), offerId: offer.id });
      if (result.ok)
        this.#parts.logger.info(
          { offerId: offer.id, frameworkId: offer.frameworkId, agentId: offer.agentId },
          'offer timed out; rescinded',
        );
    }
  }

  /** One timer for the next thing that needs a cycle without an event: a filter or an offer expiring. */
  #scheduleWake(): void {
    if (this.#ledTerm === null || this.#stopped) return;
    const nowMs = this.#now();
    const candidates: number[] = [];
    const filterExpiry = this.#hints.nextExpiryMs(nowMs);
    if (filterExpiry !== null) candidates.push(filterExpiry);
    const timeoutMs = this.#parts.settings.offerTimeoutMs;
    if (timeoutMs > 0) {
      for (const offer of this.#parts.state().offers.values()) candidates.push(offer.createdAt + timeoutMs);
    }
    if (candidates.length === 0) return;
    let wakeAtMs = candidates[0]!;
    for (const candidate of candidates) wakeAtMs = Math.min(wakeAtMs, candidate);
    if (this.#wakeTimer !== null) clearTimeout(this.#wakeTimer);
    this.#wakeTimer = setTimeout(
      () => {
        this.#wakeTimer = null;
        this.trigger('filter or offer expiry');
      },
      Math.max(this.#parts.settings.batchMs, wakeAtMs - nowMs + 1),
    );
    this.#wakeTimer.unref();
  }
}
