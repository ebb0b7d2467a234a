// The allocator's in-memory hints from frameworks (Mesos keeps them in the master's memory too,
// not in the registry): offer filters per (framework, agent) from DECLINE's `refuse_seconds`, and
// the roles a framework suppressed. Not replicated: a new leader starts with none, and a
// framework re-sends its suppressed roles in SUBSCRIBE (scheduler.proto, `suppressed_roles`).
//
// Time is passed in (`nowMs`), so the bookkeeping is testable without a clock.
//
// For the incremental cycle (allocation-memory.ts) the hints also say what may have widened
// since the last cycle: `generation` counts the changes that can give a framework back offers it
// did not get (REVIVE, un-suppression, SUBSCRIBE's suppressed roles), and `prune` returns the
// agents whose filters lapsed, found through an index by expiry time (expiry-heap.ts).
import { maxFiltersPerFramework, maxFrameworksWithHints, maxRefuseSeconds } from './limits.ts';
import { compareStrings } from '../state-machine/ordering.ts';
import { ExpiryHeap, type ExpiryEntry } from './expiry-heap.ts';

/** The expiry index is compacted once it holds this many entries and then twice its live size. */
const minimumCompactionSize = 1024;

/** A filter on every agent of a framework (not made by DECLINE today; kept for the report's shape). */
export const allAgents = '*';

export interface FilterView {
  readonly agentId: string;
  readonly expiresAtMs: number;
}

export class AllocationHints {
  /** frameworkId → agentId → expiry (ms since epoch). */
  readonly #filters = new Map<string, Map<string, number>>();
  /** frameworkId → suppressed roles. */
  readonly #suppressed = new Map<string, Set<string>>();
  /** One entry per filter value ever set; stale ones (extended, revived) are dropped as they surface. */
  readonly #expiries = new ExpiryHeap();
  #compactAtSize = minimumCompactionSize;
  /** Agents whose filters lapsed, found while looking for the next expiry, until `prune` hands them out. */
  readonly #released = new Set<string>();
  #generation = 0;

  /** Changes when a framework may want offers it did not want before (not on DECLINE, which only narrows). */
  get generation(): number {
    return this.#generation;
  }

  /** DECLINE: no offers of these agents to the framework until `nowMs + refuseSeconds`. */
  refuse(frameworkId: string, agentIds: readonly string[], refuseSeconds: number, nowMs: number): void {
    // Mesos: a non-positive or invalid refuse_seconds means no filter (Filters docs, master.cpp).
    if (!Number.isFinite(refuseSeconds) || refuseSeconds <= 0) return;
    const expiresAtMs = nowMs + Math.min(refuseSeconds, maxRefuseSeconds) * 1000;
    let filters = this.#filters.get(frameworkId);
    if (filters === undefined) {
      if (this.#filters.size >= maxFrameworksWithHints) return;
      filters = new Map();
      this.#filters.set(frameworkId, filters);
    }
    for (const agentId of agentIds) {
      if (filters.size >= maxFiltersPerFramework && !filters.has(agentId)) this.#pruneFramework(frameworkId, nowMs);
      if (filters.size >= maxFiltersPerFramework && !filters.has(agentId)) return;
      // A longer filter is never shortened by a shorter one (Mesos keeps both; the longer wins).
      const before = filters.get(agentId) ?? 0;
      if (expiresAtMs <= before) continue;
      filters.set(agentId, expiresAtMs);
      this.#expiries.push({ expiresAtMs, frameworkId, agentId });
    }
    if (this.#expiries.size >= this.#compactAtSize) this.#compact();
  }

  /** REVIVE: all filters go; `roles` (all suppressed ones when empty) are un-suppressed. */
  revive(frameworkId: string, roles: readonly string[]): void {
    this.#generation += 1;
    this.#filters.delete(frameworkId);
    const suppressed = this.#suppressed.get(frameworkId);
    if (suppressed === undefined) return;
    if (roles.length === 0) suppressed.clear();
    for (const role of roles) suppressed.delete(role);
    if (suppressed.size === 0) this.#suppressed.delete(frameworkId);
  }

  /**
   * SUPPRESS: `roles`, or every role of the framework (`allRoles`) when `roles` is empty. Roles
   * the framework is not subscribed to are ignored, as Mesos drops them: kept, they would let
   * repeated SUPPRESS calls grow the leader's memory without bound.
   */
  suppress(frameworkId: string, roles: readonly string[], allRoles: readonly string[]): void {
    const chosen = roles.length === 0 ? allRoles : roles.filter((role) => allRoles.includes(role));
    if (chosen.length === 0) return;
    let suppressed = this.#suppressed.get(frameworkId);
    if (suppressed === undefined) {
      if (this.#suppressed.size >= maxFrameworksWithHints) return;
      suppressed = new Set();
      this.#suppressed.set(frameworkId, suppressed);
    }
    for (const role of chosen) suppressed.add(role);
  }

  setSuppressedRoles(frameworkId: string, roles: readonly string[]): void {
    this.#generation += 1;
    if (roles.length === 0) this.#suppressed.delete(frameworkId);
    else if (this.#suppressed.has(frameworkId) || this.#suppressed.size < maxFrameworksWithHints) {
      this.#suppressed.set(frameworkId, new Set(roles));
    }
  }

  /** Leadership changed, or the framework is gone: nothing of it survives. */
  forget(frameworkId: string): void {
    this.#filters.delete(frameworkId);
    this.#suppressed.delete(frameworkId);
  }

  clear(): void {
    this.#generation += 1;
    this.#filters.clear();
    this.#suppressed.clear();
    this.#expiries.clear();
    this.#released.clear();
    this.#compactAtSize = minimumCompactionSize;
  }

  isFiltered(frameworkId: string, agentId: string, nowMs: number): boolean {
    const filters = this.#filters.get(frameworkId);
    if (filters === undefined) return false;
    const expiry = Math.max(filters.get(agentId) ?? 0, filters.get(allAgents) ?? 0);
    return expiry > nowMs;
  }

  isSuppressed(frameworkId: string, role: string): boolean {
    return this.#suppressed.get(frameworkId)?.has(role) ?? false;
  }

  suppressedRoles(frameworkId: string): string[] {
    return [...(this.#suppressed.get(frameworkId) ?? [])].sort(compareStrings);
  }

  /** Filters still in force, agent id order. */
  filtersOf(frameworkId: string, nowMs: number): FilterView[] {
    const filters = this.#filters.get(frameworkId);
    if (filters === undefined) return [];
    return [...filters]
      .filter(([, expiresAtMs]) => expiresAtMs > nowMs)
      .map(([agentId, expiresAtMs]) => ({ agentId, expiresAtMs }))
      .sort((left, right) => compareStrings(left.agentId, right.agentId));
  }

  /** Earliest expiry in the future, so the driver can run a cycle when a filter lapses. */
  nextExpiryMs(nowMs: number): number | null {
    this.#settle(nowMs);
    return this.#expiries.peek()?.expiresAtMs ?? null;
  }

  /**
   * Drops expired filters (once per cycle, so the maps stay small) and returns the agents that
   * some framework's filter no longer keeps from it since the last call: "*" when it was a filter
   * on every agent. It may name an agent more than needed (a filter revived, then lapsed), never less.
   */
  prune(nowMs: number): string[] {
    this.#settle(nowMs);
    const released = [...this.#released];
    this.#released.clear();
    return released;
  }

  /** Pops every entry that is stale or expired at `nowMs`, noting the agents of expired ones. */
  #settle(nowMs: number): void {
    for (let top = this.#expiries.peek(); top !== undefined; top = this.#expiries.peek()) {
      const current = this.#filters.get(top.frameworkId)?.get(top.agentId);
      const extended = current !== undefined && current > top.expiresAtMs;
      if (!extended && top.expiresAtMs > nowMs) return;
      this.#expiries.pop();
      if (extended) continue;
      if (current !== undefined) this.#filters.get(top.frameworkId)!.delete(top.agentId);
      if (this.#filters.get(top.frameworkId)?.size === 0) this.#filters.delete(top.frameworkId);
      this.#released.add(top.agentId);
    }
  }

  /** Drops stale entries (filters extended or revived) once they outnumber the live ones. */
  #compact(): void {
    const live = (entry: ExpiryEntry): boolean =>
      this.#filters.get(entry.frameworkId)?.get(entry.agentId) === entry.expiresAtMs;
    this.#expiries.retain(live);
    this.#compactAtSize = Math.max(minimumCompactionSize, 2 * this.#expiries.size);
  }

  #pruneFramework(frameworkId: string, nowMs: number): void {
    const filters = this.#filters.get(frameworkId);
    if (filters === undefined) return;
    for (const [agentId, expiresAtMs] of filters) {
      if (expiresAtMs > nowMs) continue;
      filters.delete(agentId);
      this.#released.add(agentId);
    }
    if (filters.size === 0) this.#filters.delete(frameworkId);
  }
}
