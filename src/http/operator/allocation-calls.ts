// GET_ALLOCATION (Flotilla's own call): "why is my framework not getting offers?" — per role
// its weight, share and quota; per framework its dominant share, filters, suppressed roles,
// outstanding offers and, per agent, the last reason the allocator passed it over. The
// allocator's filters and reasons live in the leader's memory only, so a follower redirects.
// Roles and frameworks the caller may not view (view_roles, view_frameworks) are left out.
import type { FrameworkId } from '../../state-machine/ids.ts';
import type { OperatorCallTable } from './registry.ts';
import { visibilityOf } from './visibility.ts';

export const allocationCalls: OperatorCallTable = {
  GET_ALLOCATION: {
    // Not a write, but leader-only: `write` is what makes the route redirect a follower (307).
    write: true,
    mutates: false,
    async handle({ master, access }) {
      const report = master.allocation.report();
      const visibility = visibilityOf(access);
      if (visibility.everything) return { type: 'GET_ALLOCATION', get_allocation: report };
      const state = master.state();
      const frameworkVisible = (id: string): boolean => {
        const framework = state.frameworks.get(id as FrameworkId);
        return framework !== undefined && visibility.framework(framework);
      };
      return {
        type: 'GET_ALLOCATION',
        get_allocation: {
          ...report,
          roles: report.roles.filter((role) => visibility.role(role.role)),
          frameworks: report.frameworks.filter((framework) => frameworkVisible(framework.frameworkId)),
        },
      };
    },
  },
};
