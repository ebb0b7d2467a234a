// GET_ALLOCATION (Flotilla's own call): "why is my framework not getting offers?" — per role
// its weight, share and quota; per framework its dominant share, filters, suppressed roles,
// outstanding offers and, per agent, the last reason the allocator passed it over. The
// allocator's filters and reasons live in the leader's memory only, so a follower redirects.
import type { OperatorCallTable } from './registry.ts';

export const allocationCalls: OperatorCallTable = {
  GET_ALLOCATION: {
    // Not a write, but leader-only: `write` is what makes the route redirect a follower (307).
    write: true,
    async handle({ master }) {
      return { type: 'GET_ALLOCATION', get_allocation: master.allocation.report() };
    },
  },
};
