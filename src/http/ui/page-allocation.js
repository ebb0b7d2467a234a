// "Why is my framework not getting offers?": the leader's GET_ALLOCATION — when the allocator
// last ran, each role's weight, share and quota, and per framework its dominant share, the
// roles it suppressed, its filters, its outstanding offers and, per agent, the reason the last
// cycle passed that agent over. `#/allocation/<framework>` shows one framework.
import { append, h, routeHref } from './dom.js';
import { formatAgo, formatClock, formatMilliseconds, formatPercent, formatSpan, trimNumber } from './format.js';
import { pages } from './pages.js';
import { keyValues, section, table } from './widgets.js';

/** src/offers/skip-reasons.ts, in words (test/http/ui.test.ts checks the codes match). */
export const skipReasonTexts = {
  FILTERED: 'the framework declined this agent with a filter (refuse_seconds) that has not expired',
  SUPPRESSED: 'the framework suppressed offers for this role',
  NOTHING_FREE: 'nothing is free on the agent: its resources are used by tasks or held by offers',
  RESERVED_FOR_OTHER_ROLES: 'the free resources are reserved for other roles',
  BELOW_MIN_ALLOCATABLE: 'the free resources are below the minimum allocatable resources',
  QUOTA_LIMIT: "the role's quota limit is reached",
  HELD_FOR_QUOTA_GUARANTEE: "the free resources are held back for other roles' quota guarantees",
  AGENT_NOT_ACTIVE: 'the agent is not active (unreachable or gone)',
  AGENT_IN_MAINTENANCE: "the agent's machine is down for maintenance",
  AGENT_DEACTIVATED: 'the agent is deactivated or draining (DEACTIVATE_AGENT, DRAIN_AGENT)',
  AGENT_NOT_CONNECTED: 'the agent has not re-registered with the leading master yet, or its socket closed',
};

function quantities(record) {
  const entries = Object.entries(record ?? {});
  return entries.length === 0 ? '—' : entries.map(([name, value]) => `${name} ${trimNumber(value)}`).join(', ');
}

function rolesTable(report) {
  return table({
    caption: 'Roles: weighted DRF across roles, then across the frameworks of each role',
    columns: [
      { title: 'role' },
      { title: 'weight', className: 'number' },
      { title: 'dominant share', className: 'number' },
      { title: 'allocated' },
      { title: 'quota guarantees' },
      { title: 'quota limits' },
    ],
    rows: report.roles ?? [],
    empty: 'no role holds or asks for anything',
    cells: (role) => [
      role.role,
      trimNumber(role.weight),
      formatPercent(role.dominantShare),
      quantities(role.allocated),
      quantities(role.guarantees),
      quantities(role.limits),
    ],
  });
}

function frameworkSection(context, framework, nowMs) {
  const reasons = framework.lastSkipReasons ?? [];
  return h(
    'article',
    { class: 'allocation-framework', id: `allocation-${framework.frameworkId}` },
    h(
      'h3',
      {},
      h(
        'a',
        { href: routeHref('allocation', framework.frameworkId) },
        context.store.frameworkName(framework.frameworkId) || framework.frameworkId,
      ),
      ' ',
      h('span', { class: 'secondary' }, framework.frameworkId),
    ),
    keyValues([
      ['roles', (framework.roles ?? []).join(', ') || '—'],
      ['dominant share', formatPercent(framework.dominantShare)],
      ['outstanding offers', framework.outstandingOffers],
      ['suppressed roles', (framework.suppressedRoles ?? []).join(', ') || 'none'],
      [
        'filters',
        (framework.filters ?? []).length === 0
          ? 'none'
          : framework.filters
              .map(
                (filter) =>
                  `${filter.agentId === '*' ? 'every agent' : filter.agentId} until ${formatClock(filter.expiresAtMs)} (${formatSpan(filter.expiresAtMs - nowMs)} left)`,
              )
              .join('; '),
      ],
    ]),
    table({
      caption: 'Agents the last allocation cycle passed over for this framework, and why',
      columns: [{ title: 'agent' }, { title: 'reason' }, { title: 'what it means' }],
      rows: reasons,
      empty: 'none: the last cycle skipped no agent for this framework',
      cells: (entry) => [
        h(
          'a',
          { href: routeHref('agent', entry.agentId) },
          context.store.agentHostname(entry.agentId) || entry.agentId,
        ),
        h('code', {}, entry.reason),
        skipReasonTexts[entry.reason] ?? 'a reason this page does not know (a newer master?)',
      ],
    }),
  );
}

/** Everything the page shows for one GET_ALLOCATION answer (of one framework, or of all). */
function reportParts(context, { report, error, atMs }, frameworkId, nowMs) {
  const frameworks = (report.frameworks ?? []).filter(
    (entry) => frameworkId === null || entry.frameworkId === frameworkId,
  );
  const lastCycle =
    report.lastCycleAtMs === null
      ? 'none yet'
      : `${formatClock(report.lastCycleAtMs)} (${formatAgo(report.lastCycleAtMs, nowMs)})`;
  return [
    error === null
      ? null
      : h('p', { class: 'warning' }, `Showing the last answer (${formatAgo(atMs, nowMs)}); now: ${error}`),
    keyValues([
      ['last cycle', lastCycle],
      ['cycle took', report.lastCycleDurationMs === null ? '—' : formatMilliseconds(report.lastCycleDurationMs)],
      ['offers made', report.offersMadeLastCycle],
    ]),
    frameworkId === null
      ? rolesTable(report)
      : h('p', {}, h('a', { href: routeHref('allocation') }, 'every framework and role')),
    frameworks.length === 0
      ? h(
          'p',
          { class: 'empty' },
          frameworkId === null
            ? 'no framework is subscribed'
            : `the allocator knows no framework ${frameworkId} (completed?)`,
        )
      : frameworks.map((entry) => frameworkSection(context, entry, nowMs)),
  ];
}

function createAllocationView(context, { frameworkId }) {
  const holder = h('div', { id: 'allocation' });
  context.poller.wantsAllocation = true;
  void context.poller.pollAllocation();
  const draw = () => {
    const answer = context.poller.allocation;
    holder.replaceChildren();
    if (answer.report === null) {
      const why =
        answer.error === null ? 'asking the leader…' : `The leader's allocator cannot be asked now: ${answer.error}`;
      holder.append(h('p', { class: 'empty' }, why));
      return;
    }
    append(holder, reportParts(context, answer, frameworkId, Date.now()));
  };
  return {
    element: h(
      'div',
      { class: 'page page-allocation' },
      section(
        'Why not placed',
        'The leader allocator’s own account (GET_ALLOCATION), refreshed every few seconds.',
        holder,
      ),
    ),
    update(changes) {
      if (changes.has('allocation') || changes.has('mounted')) draw();
    },
    destroy() {
      context.poller.wantsAllocation = false;
    },
  };
}

pages.register({
  id: 'allocation',
  title: 'Why not placed',
  order: 50,
  nav: true,
  match: (parts) => (parts[0] === 'allocation' && parts.length <= 2 ? { frameworkId: parts[1] ?? null } : null),
  create: createAllocationView,
});
