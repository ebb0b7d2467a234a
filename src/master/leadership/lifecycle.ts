// One place where this master's leader-only services learn that it leads (Nomad's
// establishLeadership / revokeLeadership). Nothing else polls or listens for leadership.
//
// Establish (this master became leader of term T): wait until T's no-op has committed and a
// ReadIndex barrier has passed (one `linearizableBarrier()`: the Raft core holds a leader's reads
// until its no-op commits, §6.4), so the applied state holds everything any earlier leader
// committed; check that T is still led here; then start the services in their fixed order, each
// awaited. Revoke (leadership ended: step-down, removal, transfer, shutdown): stop the services
// started, in reverse order, synchronously, inside the Raft driver's role-change callback, so
// nothing acts on stale state once Raft says this master no longer leads.
//
// Races, as numbered scenarios:
//  1. Leadership is lost while T is being established (during the barrier or a service's start).
//     The revoke stops every service whose start was called, the pending one included, and bumps
//     the generation; the establish sees the new generation after its await and gives up.
//  2. Leadership comes back in T+2 while T's establish is still awaiting. Establishes are chained:
//     T+2's starts no service before T's establish has returned, so no service is ever started
//     twice at once; revokes are synchronous, so T's revoke is complete before T+2 is noticed.
//  3. Leadership is handed over (TRANSFER_LEADERSHIP, or a leader stopping): the services stop
//     before Raft sends TimeoutNow, so the next leader, elected only once that message arrives,
//     starts its services strictly after ours stopped. Were they stopped when this master hears
//     of the new term instead, a busy leader could still run them while the new one starts. If
//     the hand-over does not complete, this master leads on and establishes again.
//  4. A service's start fails (a bug, a port in use). The services started are stopped in
//     reverse, and the establish is retried after a back-off within the same term; after
//     `establishAttemptsBeforeStepDown` failures in a term the leader asks Raft to hand
//     leadership to another voter (which may not share the fault) and keeps retrying until it
//     stops leading (a single-voter cluster has no one to hand over to).
import type { Logger } from 'pino';
import type { CoreStatus, NodeId } from '../../raft/types.ts';
import { assert } from '../../util/assert.ts';
import { backoffDelayMs } from '../../util/backoff.ts';
import { MasterError, notLeaderError } from '../errors.ts';
import {
  establishAttemptsBeforeStepDown,
  establishRetryBaseMs,
  establishRetryMaxMs,
  leaderServicesWaitMaxMs,
} from '../limits.ts';
import type { LeaderService } from './service.ts';
import type { LeaderServicesView, LeadershipState } from './view.ts';

/** What the lifecycle needs of the Raft driver (RaftNode). */
export interface LeadershipRaft {
  status(): CoreStatus;
  /** Called inside the driver's apply loop whenever the role or the known leader changes. */
  onLeaderChange(listener: (status: CoreStatus) => void): () => void;
  linearizableBarrier(): Promise<void>;
  /** Hands leadership to `to`, or to the most caught-up voter; false when that is not possible. */
  transferLeadership(to?: NodeId): boolean;
}

export interface LeadershipLifecycleParts {
  readonly raft: LeadershipRaft;
  /** A hand-over not complete after this long has failed (Raft abandons it after an election timeout). */
  readonly handOverTimeoutMs: number;
  readonly logger: Logger;
  /** The back-off's random source, in [0, 1). */
  readonly random?: () => number;
}

export class LeadershipLifecycle {
  readonly #parts: LeadershipLifecycleParts;
  /** In start order; stopped in reverse (set once, by begin). */
  #services: readonly LeaderService[] = [];
  #state: LeadershipState = 'idle';
  /** The term being established or led; null when idle. */
  #term: number | null = null;
  /** Bumped by every revoke: an establish of an older generation gives up (scenario 1). */
  #generation = 0;
  /** Services whose start was called in this generation, in start order. */
  #started: LeaderService[] = [];
  readonly #running = new Set<string>();
  /** The chain of establishes (scenario 2). */
  #establishing: Promise<void> = Promise.resolve();
  #failedAttempts = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  /** The term this master is handing over (scenario 3), and when it gives up waiting. */
  #handingOver: { readonly term: number; readonly timer: NodeJS.Timeout } | null = null;
  #unsubscribe: (() => void) | null = null;
  #shutDown = false;
  /** Callers of awaitRunning, woken on every state change. */
  readonly #waiters = new Set<() => void>();

  constructor(parts: LeadershipLifecycleParts) {
    this.#parts = parts;
  }

  /**
   * Starts following Raft's role changes with these services, in start order (and establishes at
   * once if this master leads already). The services may be built after the lifecycle, so they
   * can be given `awaitRunning`.
   */
  begin(services: readonly LeaderService[]): void {
    assert(this.#unsubscribe === null && !this.#shutDown, 'the leadership lifecycle begins once');
    const names = services.map((service) => service.name);
    assert(new Set(names).size === names.length, `leader service names must be unique: ${names.join(', ')}`);
    assert(
      names.every((name) => /^[a-z][a-z0-9-]{0,62}$/.test(name)),
      `leader service names are lowercase words joined by "-": ${names.join(', ')}`,
    );
    this.#services = services;
    this.#unsubscribe = this.#parts.raft.onLeaderChange((status) => this.#onRoleChange(status));
    this.#onRoleChange(this.#parts.raft.status());
  }

  /** The master is stopping: the services stop (as on any loss of leadership) and never start again. */
  shutDown(): void {
    if (this.#shutDown) return;
    this.#shutDown = true;
    this.#endHandOver();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#revoke('the master is stopping');
  }

  /**
   * Hands leadership to `to` (or the most caught-up voter), the services stopped first
   * (scenario 3). False when Raft cannot start the hand-over; this master then leads on.
   */
  handOver(to?: NodeId): boolean {
    const status = this.#parts.raft.status();
    if (this.#shutDown || status.role !== 'leader') return this.#parts.raft.transferLeadership(to);
    // Raft hands leadership only to another voter: asking for anything else must not cost a restart.
    const others = status.membership.voters.filter((voter) => voter !== status.id);
    if (to === undefined ? others.length === 0 : !others.includes(to)) return false;
    this.#revoke(`handing leadership over to ${to ?? 'the most caught-up voter'}`);
    if (!this.#parts.raft.transferLeadership(to)) {
      this.#scheduleEstablish(status.term);
      return false;
    }
    const timer = setTimeout(() => this.#handOverTimedOut(status.term), this.#parts.handOverTimeoutMs);
    timer.unref();
    this.#handingOver = { term: status.term, timer };
    return true;
  }

  #handOverTimedOut(term: number): void {
    if (this.#handingOver?.term !== term) return;
    this.#handingOver = null;
    const status = this.#parts.raft.status();
    if (this.#shutDown || status.role !== 'leader' || status.term !== term) return;
    this.#parts.logger.warn({ term }, 'leader services: the hand-over did not complete; leading on');
    this.#scheduleEstablish(term);
  }

  #endHandOver(): void {
    if (this.#handingOver !== null) clearTimeout(this.#handingOver.timer);
    this.#handingOver = null;
  }

  view(): LeaderServicesView {
    return {
      term: this.#term,
      state: this.#state,
      services: this.#services.map((service) => ({
        name: service.name,
        running: this.#running.has(service.name),
      })),
    };
  }

  /**
   * Resolves once every service runs in the term this master leads now, waiting up to
   * `timeoutMs` for an establish in progress. Throws NOT_LEADER or NO_LEADER on a master that
   * does not lead, STOPPING on one that is stopping, LEADER_SERVICES_NOT_RUNNING otherwise.
   */
  async awaitRunning(timeoutMs = leaderServicesWaitMaxMs): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#shutDown) throw new MasterError('STOPPING');
      const status = this.#parts.raft.status();
      const problem = notLeaderError({ role: status.role, leaderAddress: leaderAddressOf(status) });
      if (problem !== null) throw problem;
      if (this.#state === 'leading' && this.#term === status.term) return;
      const remainingMs = deadline - performance.now();
      if (remainingMs <= 0) throw new MasterError('LEADER_SERVICES_NOT_RUNNING');
      await this.#nextChange(remainingMs);
    }
  }

  #nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  #setState(state: LeadershipState): void {
    this.#state = state;
    for (const wake of [...this.#waiters]) wake();
  }

  #onRoleChange(status: CoreStatus): void {
    if (this.#shutDown) return;
    // Whoever waits for the services learns of the change (they may be told to go elsewhere).
    for (const wake of [...this.#waiters]) wake();
    if (status.role !== 'leader') {
      this.#endHandOver();
      if (this.#term !== null) this.#revoke(`now ${status.role} in term ${status.term}`);
      return;
    }
    if (this.#handingOver?.term === status.term) return; // scenario 3: not leading on
    this.#endHandOver();
    if (this.#term === status.term) return; // the leader of this term learned nothing new
    if (this.#term !== null) this.#revoke(`leader again in term ${status.term}`);
    this.#failedAttempts = 0;
    this.#scheduleEstablish(status.term);
  }

  #scheduleEstablish(term: number): void {
    assert(this.#started.length === 0, 'an establish starts with no service started');
    this.#term = term;
    this.#setState('establishing');
    const generation = this.#generation;
    this.#parts.logger.info({ term, attempt: this.#failedAttempts + 1 }, 'leader services: establishing leadership');
    this.#establishing = this.#establishing
      .then(() => this.#establish(term, generation))
      .catch((error: unknown) => {
        // #establish handles every failure it expects; anything else is a bug: crash loudly.
        queueMicrotask(() => {
          throw error;
        });
      });
  }

  #current(term: number, generation: number): boolean {
    const status = this.#parts.raft.status();
    return (
      !this.#shutDown &&
      generation === this.#generation &&
      status.role === 'leader' &&
      status.term === term &&
      this.#term === term
    );
  }

  async #establish(term: number, generation: number): Promise<void> {
    if (!this.#current(term, generation)) return;
    const beganMs = performance.now();
    try {
      await this.#parts.raft.linearizableBarrier();
    } catch (error) {
      if (this.#current(term, generation)) this.#failed(term, generation, 'the ReadIndex barrier', error);
      return;
    }
    for (const service of this.#services) {
      if (!this.#current(term, generation)) return; // scenario 1: the revoke stopped what had started
      this.#started.push(service);
      const startMs = performance.now();
      try {
        await service.start(term);
      } catch (error) {
        if (this.#current(term, generation)) this.#failed(term, generation, service.name, error);
        return;
      }
      if (!this.#current(term, generation)) return;
      this.#running.add(service.name);
      this.#parts.logger.info(
        { service: service.name, term, durationMs: elapsedMs(startMs) },
        'leader service started',
      );
    }
    this.#failedAttempts = 0;
    this.#setState('leading');
    this.#parts.logger.info({ term, durationMs: elapsedMs(beganMs) }, 'leader services: leading');
  }

  /** Scenario 4: stop what started, then retry later, or hand leadership over. */
  #failed(term: number, generation: number, what: string, error: unknown): void {
    this.#failedAttempts += 1;
    this.#parts.logger.error(
      { term, failed: what, attempt: this.#failedAttempts, err: error },
      'leader services: could not establish leadership',
    );
    const failure = this.#stopStarted(term, `${what} failed`);
    if (failure !== null) throw failure.error;
    if (this.#failedAttempts >= establishAttemptsBeforeStepDown && this.#parts.raft.transferLeadership()) {
      this.#parts.logger.warn({ term, attempts: this.#failedAttempts }, 'leader services: handing leadership over');
    }
    const delayMs = backoffDelayMs(
      this.#failedAttempts - 1,
      { baseMs: establishRetryBaseMs, maxMs: establishRetryMaxMs },
      this.#parts.random ?? Math.random,
    );
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#current(term, generation)) this.#scheduleEstablish(term);
    }, delayMs);
    this.#retryTimer.unref();
  }

  /** Scenario 1 and every loss of leadership: synchronous, called from the role-change callback. */
  #revoke(reason: string): void {
    this.#generation += 1;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const term = this.#term;
    this.#term = null;
    const failure = term === null ? null : this.#stopStarted(term, reason);
    this.#setState('idle');
    assert(this.#running.size === 0 && this.#started.length === 0, 'a revoke leaves no leader service running');
    // A stop that throws is a bug (stop must not fail): raised once every other service stopped.
    if (failure !== null) throw failure.error;
  }

  /** Stops every service whose start was called, in reverse; returns the first stop that threw. */
  #stopStarted(term: number, reason: string): { error: unknown } | null {
    const started = this.#started.splice(0).reverse();
    if (started.length === 0) return null;
    this.#setState('revoking');
    let failure: { error: unknown } | null = null;
    for (const service of started) {
      const stopMs = performance.now();
      try {
        service.stop();
      } catch (error) {
        failure ??= { error };
        this.#parts.logger.error({ service: service.name, term, err: error }, 'leader service failed to stop');
      }
      this.#running.delete(service.name);
      this.#parts.logger.info(
        { service: service.name, term, durationMs: elapsedMs(stopMs), reason },
        'leader service stopped',
      );
    }
    if (this.#term !== null) this.#setState('establishing');
    return failure;
  }
}

function leaderAddressOf(status: CoreStatus): string | null {
  return status.leader === '' ? null : (status.membership.addresses[status.leader] ?? null);
}

const elapsedMs = (sinceMs: number): number => Math.round((performance.now() - sinceMs) * 1000) / 1000;
