// The allocator's in-memory hints from frameworks (Mesos keeps them in the master's memory too,
// not in the registry): offer filters per (framework, agent) from DECLINE's `refuse_seconds`, and
// the roles a framework suppressed. Not replicated: a new leader starts with none, and a
// framework re-sends its suppressed roles in SUBSCRIBE (scheduler.proto, `suppressed_roles`).
//
// Time is passed in (`nowMs`), so the bookkeeping is testable without a clock.
import { maxFiltersPerFramework, maxFrameworksWithHints, maxRefuseSeconds } from './limits.ts';
import { compareStrings } from '../state-machine/ordering.ts';

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
      filters.set(agentId, Math.max(filters.get(agentId) ?? 0, expiresAtMs));
    }
  }

  /** REVIVE: all filters go; `roles` (all suppressed ones when empty) are un-suppressed. */
  revive(frameworkId: string, roles: readonly string[]): void {
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
    this.#filters.clear();
    this.#suppressed.clear();
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
    let next: number | null = null;
    for (const filters of this.#filters.values()) {
      for (const expiresAtMs of filters.values()) {
        if (expiresAtMs > nowMs && (next === null || expiresAtMs < next)) next = expiresAtMs;
      }
    }
    return next;
  }

  /** Drops expired filters (called once per cycle so the maps stay small). */
  prune(nowMs: number): void {
    for (const frameworkId of [...this.#filters.keys()]) this.#pruneFramework(frameworkId, nowMs);
  }

  #pruneFramework(frameworkId: string, nowMs: number): void {
    const filters = this.#filters.get(frameworkId);
    if (filters === undefined) return;
    for (const [agentId, expiresAtMs] of filters) if (expiresAtMs <= nowMs) filters.delete(agentId);
    if (filters.size === 0) this.#filters.delete(frameworkId);
  }
}
