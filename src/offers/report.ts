// GET_ALLOCATION's answer, "why is my framework not getting offers?": per role its weight,
// weighted dominant share, quota and what it holds; per framework its dominant share (of everything it holds, in all its roles), filters,
// suppressed roles, outstanding offers and the last cycle's skip reasons. Built from the current
// state (a cycle set up but not run gives the shares and quota books) and the driver's memory.
import type { AgentId, FrameworkId } from '../state-machine/ids.ts';
import { compareStrings, sortedValues } from '../state-machine/ordering.ts';
import { mergeQuantities } from '../state-machine/quantities.ts';
import type { ReadonlyState } from '../state-machine/state.ts';
import { AllocationCycle, type AllocatorConfig } from './allocation-cycle.ts';
import type { AllocationReport, FrameworkAllocationReport, RoleAllocationReport } from './control.ts';
import type { AllocationHints } from './hints.ts';
import { dominantShare, toRecord, type Quantities } from './quantities.ts';
import type { SkipReason } from './skip-reasons.ts';

export interface LastCycle {
  readonly atMs: number;
  readonly durationMs: number;
  readonly offersMade: number;
  readonly skipReasons: ReadonlyMap<FrameworkId, ReadonlyMap<AgentId, SkipReason>>;
}

export interface ReportInput {
  readonly state: ReadonlyState;
  readonly hints: AllocationHints;
  readonly nowMs: number;
  readonly config: AllocatorConfig;
  readonly lastCycle: LastCycle | null;
}

export function buildAllocationReport(input: ReportInput): AllocationReport {
  const { state, hints, nowMs, lastCycle } = input;
  const cycle = new AllocationCycle({ state, hints, nowMs, config: input.config });
  cycle.prepare();
  const roles: RoleAllocationReport[] = cycle.tree.roles().map((role) => {
    const node = cycle.tree.findNode(role)!;
    const quota = state.quotas.get(role);
    return {
      role,
      weight: node.weight,
      dominantShare: node.share,
      guarantees: quota?.guarantees ?? {},
      limits: quota?.limits ?? {},
      allocated: toRecord(cycle.tree.quantitiesOf(node.allocation)),
    };
  });
  const offersByFramework = new Map<string, number>();
  for (const offer of state.offers.values())
    offersByFramework.set(offer.frameworkId, (offersByFramework.get(offer.frameworkId) ?? 0) + 1);
  const heldByFramework = heldPerFramework(state);
  const frameworks = sortedValues(state.frameworks)
    .filter((framework) => framework.state !== 'COMPLETED')
    .map((framework): FrameworkAllocationReport => {
      const held = heldByFramework.get(framework.id) ?? new Map();
      const reasons = lastCycle?.skipReasons.get(framework.id) ?? new Map<AgentId, SkipReason>();
      return {
        frameworkId: framework.id,
        roles: framework.info.roles,
        dominantShare: dominantShare(held, cycle.totals),
        suppressedRoles: hints.suppressedRoles(framework.id),
        filters: hints.filtersOf(framework.id, nowMs),
        outstandingOffers: offersByFramework.get(framework.id) ?? 0,
        lastSkipReasons: [...reasons]
          .map(([agentId, reason]) => ({ agentId, reason }))
          .sort((left, right) => compareStrings(left.agentId, right.agentId)),
      };
    });
  return {
    lastCycleAtMs: lastCycle?.atMs ?? null,
    lastCycleDurationMs: lastCycle?.durationMs ?? null,
    offersMadeLastCycle: lastCycle?.offersMade ?? 0,
    roles,
    frameworks,
  };
}

/** What each framework holds in live tasks, executors and outstanding offers, in any of its roles (the book's sums). */
function heldPerFramework(state: ReadonlyState): Map<string, Quantities> {
  const out = new Map<string, Quantities>();
  for (const byFramework of state.derived.allocation.heldByRole.values()) {
    for (const [frameworkId, quantities] of byFramework) {
      let held = out.get(frameworkId);
      if (held === undefined) {
        held = new Map();
        out.set(frameworkId, held);
      }
      mergeQuantities(held, quantities);
    }
  }
  return out;
}
