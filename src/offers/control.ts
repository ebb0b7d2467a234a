// What the scheduler API (src/http) tells the leader's allocator beyond the replicated state:
// the per-framework hints Mesos keeps in the master's memory (filters, suppression) and the
// "why no offers?" report. Filters and suppression are not replicated, as in Mesos: after a
// failover they start empty and a framework re-sends its suppressed roles when it resubscribes.

export interface FrameworkAllocationReport {
  readonly frameworkId: string;
  readonly roles: readonly string[];
  /** The framework's dominant share (0..1) of all it holds in its roles: tasks, executors and outstanding offers. */
  readonly dominantShare: number;
  readonly suppressedRoles: readonly string[];
  /** Active filters: agent (or "*" for all agents) → ms since epoch when it expires. */
  readonly filters: readonly { readonly agentId: string; readonly expiresAtMs: number }[];
  readonly outstandingOffers: number;
  /** Per agent, the last reason it was not offered to this framework (most recent cycle). */
  readonly lastSkipReasons: readonly { readonly agentId: string; readonly reason: string }[];
}

export interface RoleAllocationReport {
  readonly role: string;
  readonly weight: number;
  readonly dominantShare: number;
  /** Quota guarantee and limit (resource name → amount), and what is allocated to the role now. */
  readonly guarantees: Readonly<Record<string, number>>;
  readonly limits: Readonly<Record<string, number>>;
  readonly allocated: Readonly<Record<string, number>>;
}

export interface AllocationReport {
  readonly lastCycleAtMs: number | null;
  readonly lastCycleDurationMs: number | null;
  readonly offersMadeLastCycle: number;
  readonly roles: readonly RoleAllocationReport[];
  readonly frameworks: readonly FrameworkAllocationReport[];
}

export interface AllocationControl {
  /** DECLINE (or ACCEPT's unused resources) with `filters.refuse_seconds`: no offers of that agent for that long. */
  refuse(frameworkId: string, agentIds: readonly string[], refuseSeconds: number): void;
  /** REVIVE: clears the framework's filters and un-suppresses `roles` (all its roles when empty). */
  revive(frameworkId: string, roles: readonly string[]): void;
  /** SUPPRESS: no offers for `roles` (all its roles when empty) until REVIVE. */
  suppress(frameworkId: string, roles: readonly string[]): void;
  /** SUBSCRIBE's `suppressed_roles`: replaces the framework's suppressed set. */
  setSuppressedRoles(frameworkId: string, roles: readonly string[]): void;
  /** Something changed that may allow new offers (also triggered by state changes on its own). */
  trigger(reason: string): void;
  report(): AllocationReport;
  /** The framework's offers of earlier leaders that this leader rescinded when its term began; once. */
  takeInheritedRescinds(frameworkId: string): readonly string[];
}
