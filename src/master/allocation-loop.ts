// The allocator's driver on the leader: it owns the in-memory hints (filters, suppression),
// batches triggers (state changes, REVIVE, expiring filters) into one cycle per window, runs the
// pure allocator on the applied state and proposes its offers as `create_offers` commands.
// A leader service: cycles run only between start(term) and stop(). Followers keep the object
// (the HTTP layer calls it everywhere) but never run a cycle; each term starts with no hints,
// as Mesos' do after a master failover.
//
// Races, as numbered scenarios:
//  1. Two cycles in flight would offer the same free resources twice; apply would reject the
//     second batch. So a cycle starts only when the previous one's proposals have applied, and
//     a trigger during a cycle schedules one more cycle after it.
//  2. State changes while a long cycle yields between slices (an ACCEPT frees or takes
//     resources). Before proposing, each offer is checked again against the current state, and
//     what no longer fits is dropped (a later cycle offers it); apply checks again anyway.
//  3. A new leader may not yet have applied everything committed by the old one, and would offer
//     what is already offered. The leadership lifecycle starts this service only once a ReadIndex
//     barrier has passed in the term (leadership/lifecycle.ts), so the first cycle sees it all.
//  4. After a failover the replicated state says an agent is ACTIVE although it has not yet
//     re-registered with this leader: a task launched there went to no socket, and the agent,
//     re-registering, did not report it, so it ended TASK_LOST. As Mesos, only agents with an open
//     registered socket to this leader are offered (`agentConnected`, the agent gateway); one that
//     connects is visited by the next cycle, and the offers of one whose socket closes are rescinded.
import { defaultMaxSkipReasonsPerFramework } from '../offers/limits.ts';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { AllocationCycle, parseMinAllocatable, type AllocatorConfig } from '../offers/allocator.ts';
import type { AllocationControl, AllocationReport } from '../offers/control.ts';
import { AllocationHints } from '../offers/hints.ts';
import { AllocationMemory } from '../offers/allocation-memory.ts';
import type { Quantities } from '../offers/quantities.ts';
import { buildAllocationReport, type LastCycle } from '../offers/report.ts';
import { freeResources } from '../state-machine/agent-accounting.ts';
import { assert } from '../util/assert.ts';
import type { OfferDefinition } from '../state-machine/commands.ts';
import type { ChangeEvent } from '../state-machine/events.ts';
import { offerId, type AgentId, type FrameworkId, type OfferId } from '../state-machine/ids.ts';
import { add, contains, emptyResources, type Resources } from '../state-machine/resources.ts';
import { isTerminalTaskState } from '../protocol/task-states.ts';
import { runInSlices } from './allocation-slices.ts';
import { InheritedOffers } from './inherited-offers.ts';
import { OfferExpiries } from './offer-expiries.ts';
import type { ReplicatedMaster } from './interface.ts';
import type { LeaderService } from './leadership/service.ts';
import { fallbackCycleIntervalMs, maxRescindsPerPass, offersPerCreateCommand } from './limits.ts';

export interface AllocationSettings {
  /** Triggers within this window share one cycle (`--allocation-batch-ms`). */
  readonly batchMs: number;
  /** Outstanding offers older than this are rescinded; 0 disables (`--offer-timeout-ms`). */
  readonly offerTimeoutMs: number;
  readonly minAllocatable: readonly Quantities[];
}

/** The master's options (validated by config.ts) as the loop uses them. */
export function allocationSettings(options: {
  readonly allocationBatchMs: number;
  readonly offerTimeoutMs: number;
  readonly minAllocatableResources: string;
}): AllocationSettings {
  return {
    batchMs: options.allocationBatchMs,
    offerTimeoutMs: options.offerTimeoutMs,
    minAllocatable: parseMinAllocatable(options.minAllocatableResources),
  };
}

/** Told of every cycle that ran to the end (the master's metrics: metrics/allocation-metrics.ts). */
export interface AllocationObserver {
  cycleFinished(durationMs: number, offersMade: number): void;
}

export interface AllocationLoopParts {
  readonly master: Pick<ReplicatedMaster, 'state' | 'onChange' | 'submit'>;
  readonly settings: AllocationSettings;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly observer?: AllocationObserver;
  /**
   * Whether the agent holds an open, registered socket to this leader (scenario 4). Absent: every
   * agent in the state counts as connected (tests that put agents in the state with no socket).
   */
  readonly agentConnected?: (agentId: AgentId) => boolean;
}

export class AllocationLoop implements AllocationControl, LeaderService {
  readonly name = 'allocation-loop';
  readonly #hints = new AllocationHints();
  /** The last cycle's view, so the next one visits only what changed (allocation-memory.ts). */
  readonly #memory = new AllocationMemory();
  readonly #parts: AllocationLoopParts;
  readonly #now: () => number;
  /** The term this master leads while the service runs; null when stopped. */
  #ledTerm: number | null = null;
  #stopListening: (() => void) | null = null;
  #offerPrefix = randomUUID();
  #offerSequence = 0;
  #batchTimer: NodeJS.Timeout | null = null;
  #wakeTimer: NodeJS.Timeout | null = null;
  #fallbackTimer: NodeJS.Timeout | null = null;
  #running = false;
  #again = false;
  #lastCycle: LastCycle | null = null;
  readonly #inherited: InheritedOffers;
  /** Outstanding offers by expiry; null when offers never time out (`--offer-timeout-ms 0`). */
  readonly #expiries: OfferExpiries | null;

  constructor(parts: AllocationLoopParts) {
    this.#parts = parts;
    this.#now = parts.now ?? Date.now;
    this.#inherited = new InheritedOffers(parts.master, parts.logger);
    const timeoutMs = parts.settings.offerTimeoutMs;
    this.#expiries = timeoutMs > 0 ? new OfferExpiries(timeoutMs) : null;
  }

  /** Filters and suppression are per leadership (control.ts): a new term starts with none. */
  async start(term: number): Promise<void> {
    assert(this.#ledTerm === null && this.#stopListening === null, 'the allocation loop started twice');
    this.#hints.clear();
    this.#memory.forget();
    this.#lastCycle = null;
    this.#offerPrefix = randomUUID();
    this.#offerSequence = 0;
    this.#ledTerm = term;
    // Every offer in the state is an earlier leader's: gone before any ACCEPT is served here.
    await this.#inherited.rescindAll(term, () => this.#leading(term), this.#now);
    if (!this.#leading(term)) return;
    this.#indexOutstandingOffers();
    this.#stopListening = this.#parts.master.onChange((event) => this.#onChange(event));
    this.#fallbackTimer = setInterval(() => this.trigger('fallback interval'), fallbackCycleIntervalMs);
    this.#fallbackTimer.unref();
    this.trigger('elected');
  }

  /** A cycle in flight sees `#ledTerm` change at its next step and proposes nothing more. */
  stop(): void {
    if (this.#ledTerm === null) return;
    this.#ledTerm = null;
    this.#stopListening?.();
    this.#stopListening = null;
    this.#clearTimers();
    if (this.#fallbackTimer !== null) clearInterval(this.#fallbackTimer);
    this.#fallbackTimer = null;
    this.#hints.clear();
    this.#memory.forget();
    this.#inherited.forget();
    this.#expiries?.clear();
  }

  takeInheritedRescinds(frameworkId: string): readonly string[] {
    return this.#ledTerm === null ? [] : this.#inherited.take(frameworkId);
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
    const framework = this.#parts.master.state().frameworks.get(frameworkId as FrameworkId);
    this.#hints.suppress(frameworkId, roles, framework?.info.roles ?? []);
  }

  setSuppressedRoles(frameworkId: string, roles: readonly string[]): void {
    this.#hints.setSuppressedRoles(frameworkId, roles);
    this.trigger('suppressed roles set');
  }

  /** The agent's socket is bound to this leader: the next cycle visits it (it may be offered now). */
  agentConnected(agentId: AgentId): void {
    if (this.#ledTerm === null) return;
    this.#memory.revisit(agentId);
    this.trigger('agent connected');
  }

  /**
   * The agent's socket closed: a launch there would reach no one, so its outstanding offers are
   * rescinded (Mesos deactivates such an agent and rescinds its offers) and it gets no new ones.
   */
  agentDisconnected(agentId: AgentId): void {
    const term = this.#ledTerm;
    if (term === null) return;
    this.#memory.revisit(agentId);
    const offerIds = [...(this.#parts.master.state().derived.offersByAgent.get(agentId) ?? [])];
    void this.#rescind(term, offerIds, 'agent disconnected; offer rescinded').catch((error: unknown) => {
      this.#parts.logger.info(
        { agent: agentId, problem: (error as Error).message },
        "could not rescind a disconnected agent's offers",
      );
    });
  }

  /** Starts the batching window unless one is open or a cycle will follow the running one. */
  trigger(reason: string): void {
    if (this.#ledTerm === null) return;
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
      state: this.#parts.master.state(),
      hints: this.#hints,
      nowMs: this.#now(),
      config: this.#config(),
      lastCycle: this.#lastCycle,
    });
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
        this.#expiries?.add(event.offer);
        return; // it takes resources
      case 'STATE_RESTORED':
        this.#indexOutstandingOffers();
        this.trigger(event.type);
        return;
      case 'TASK_ADDED':
      case 'TASK_KILL_REQUESTED':
      case 'TASK_PRUNED':
      case 'FRAMEWORK_PRUNED':
      case 'AGENT_PRUNED':
        return; // they take resources or free none (history is pruned only once it holds nothing)
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

  /** Once per term (and after a restore): every offer later comes through OFFER_ADDED. */
  #indexOutstandingOffers(): void {
    const expiries = this.#expiries;
    if (expiries === null) return;
    expiries.clear();
    for (const offer of this.#parts.master.state().offers.values()) expiries.add(offer);
  }

  #clearTimers(): void {
    if (this.#batchTimer !== null) clearTimeout(this.#batchTimer);
    if (this.#wakeTimer !== null) clearTimeout(this.#wakeTimer);
    this.#batchTimer = null;
    this.#wakeTimer = null;
  }

  #leading(term: number): boolean {
    return this.#ledTerm === term;
  }

  async #runCycle(): Promise<void> {
    const term = this.#ledTerm;
    if (term === null || this.#running || !this.#leading(term)) return;
    this.#running = true;
    this.#again = false;
    try {
      await this.#rescindExpiredOffers(term);
      const offers = await this.#allocate(term);
      if (offers !== null) await this.#propose(term, offers);
    } catch (error) {
      this.#again = true;
      this.#memory.forget();
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
    const releasedAgentIds = this.#hints.prune(nowMs);
    const cycle = new AllocationCycle({
      state: this.#parts.master.state(),
      hints: this.#hints,
      nowMs,
      config: this.#config(),
      incremental: { memory: this.#memory, releasedAgentIds },
      ...(this.#parts.agentConnected === undefined ? {} : { isConnected: this.#parts.agentConnected }),
    });
    const run = await runInSlices(cycle, () => this.#leading(term));
    if (run === null) {
      this.#memory.forget();
      return null;
    }
    const result = cycle.result();
    // The state may have changed while the cycle yielded between slices: what it saw is what it
    // remembers, and the next cycle compares against that (allocation-memory.ts).
    this.#memory.remember(cycle.outcome(), cycle.full);
    this.#lastCycle = {
      atMs: nowMs,
      durationMs: run.busyMs,
      offersMade: result.offers.length,
      skipReasons: result.skipReasons,
    };
    this.#parts.observer?.cycleFinished(run.busyMs, result.offers.length);
    this.#parts.logger.debug(
      {
        offers: result.offers.length,
        full: cycle.full,
        agentsVisited: cycle.agentsVisited,
        busyMs: run.busyMs,
        longestSliceMs: run.longestSliceMs,
        slices: run.slices,
      },
      'allocation cycle',
    );
    return result.offers;
  }

  /**
   * Proposes in commands of bounded size, first dropping offers that no longer fit (scenario 2).
   * Each batch is checked just before it is proposed, after the previous one applied.
   */
  async #propose(term: number, offers: readonly OfferDefinition[]): Promise<void> {
    for (let start = 0; start < offers.length; start += offersPerCreateCommand) {
      if (!this.#leading(term)) return;
      const batch = offers.slice(start, start + offersPerCreateCommand);
      const fitting = this.#stillFitting(batch);
      if (fitting.length < batch.length) {
        this.#again = true;
        // The memory counted these offers as made: their agents must be visited again even if
        // nothing about them changes (allocation-memory.ts).
        for (const offer of batch) if (!fitting.includes(offer)) this.#memory.revisit(offer.agentId);
      }
      if (fitting.length === 0) continue;
      const { result } = await this.#parts.master.submit({ type: 'create_offers', at: this.#now(), offers: fitting });
      if (!result.ok) {
        this.#again = true;
        // Nothing of the batch was applied, so no agent of it changed: only a full cycle offers
        // them again.
        this.#memory.forget();
        this.#parts.logger.info(
          { code: result.code, message: result.message, offers: fitting.length },
          'offers rejected; allocating again',
        );
      }
    }
  }

  #stillFitting(batch: readonly OfferDefinition[]): OfferDefinition[] {
    const state = this.#parts.master.state();
    const connected = this.#parts.agentConnected ?? (() => true);
    const pending = new Map<AgentId, Resources>();
    return batch.filter((offer) => {
      const agent = state.agents.get(offer.agentId);
      const framework = state.frameworks.get(offer.frameworkId);
      const held = add(pending.get(offer.agentId) ?? emptyResources, offer.resources);
      if (agent?.state !== 'ACTIVE' || framework?.state !== 'CONNECTED' || !contains(freeResources(agent), held))
        return false;
      if (!connected(offer.agentId)) return false;
      pending.set(offer.agentId, held);
      return true;
    });
  }

  /** Mesos `--offer_timeout`: counted from the replicated `createdAt`, so a new leader continues. */
  async #rescindExpiredOffers(term: number): Promise<void> {
    if (this.#expiries === null) return;
    const expired = this.#expiries.expired(this.#now(), maxRescindsPerPass, this.#parts.master.state().offers);
    await this.#rescind(term, expired, 'offer timed out; rescinded');
  }

  /** Rescinds the offers still outstanding, one command each, while this term lasts. */
  async #rescind(term: number, offerIds: readonly OfferId[], why: string): Promise<void> {
    for (const id of offerIds) {
      if (!this.#leading(term)) return;
      const offer = this.#parts.master.state().offers.get(id);
      if (offer === undefined) continue;
      const { result } = await this.#parts.master.submit({ type: 'rescind_offer', at: this.#now(), offerId: id });
      if (result.ok)
        this.#parts.logger.info({ offerId: id, frameworkId: offer.frameworkId, agentId: offer.agentId }, why);
    }
  }

  /** One timer for the next thing that needs a cycle without an event: a filter or an offer expiring. */
  #scheduleWake(): void {
    if (this.#ledTerm === null) return;
    const nowMs = this.#now();
    const candidates: number[] = [];
    const filterExpiry = this.#hints.nextExpiryMs(nowMs);
    if (filterExpiry !== null) candidates.push(filterExpiry);
    const offerExpiry = this.#expiries?.nextExpiryMs(this.#parts.master.state().offers) ?? null;
    if (offerExpiry !== null) candidates.push(offerExpiry);
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
