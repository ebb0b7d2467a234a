// The frameworks page: each framework's state, roles, dominant share and outstanding offers
// (from the leader's GET_ALLOCATION), and its live and total tasks (from the stream).
import { h, routeHref } from './dom.js';
import { formatAgo, formatPercent } from './format.js';
import { pages } from './pages.js';
import { section, table } from './widgets.js';

const columns = [
  { title: 'framework' },
  { title: 'roles' },
  { title: 'state' },
  { title: 'dominant share', className: 'number' },
  { title: 'offers', className: 'number' },
  { title: 'live tasks', className: 'number' },
  { title: 'all tasks', className: 'number' },
  { title: 'registered' },
];

const stateOrder = { CONNECTED: 0, DISCONNECTED: 1, COMPLETED: 2 };

export function frameworkRows(store, report) {
  const reports = new Map((report?.frameworks ?? []).map((entry) => [entry.frameworkId, entry]));
  return [...store.frameworks.values()]
    .sort((left, right) => stateOrder[left.state] - stateOrder[right.state] || (left.name < right.name ? -1 : 1))
    .map((framework) => {
      const allocation = reports.get(framework.id);
      return {
        ...framework,
        dominantShare: typeof allocation?.dominantShare === 'number' ? allocation.dominantShare : null,
        outstandingOffers: allocation?.outstandingOffers ?? framework.offers,
        liveTasks: store.liveTasksByFramework.get(framework.id) ?? 0,
        allTasks: store.tasksByFramework.get(framework.id) ?? 0,
      };
    });
}

function createFrameworksView(context) {
  const holder = h('div');
  const note = h('p', { class: 'note' });
  context.poller.wantsAllocation = true;
  void context.poller.pollAllocation();
  const draw = () => {
    const { report, error } = context.poller.allocation;
    note.textContent =
      error === null ? 'Dominant shares and offers from the leader’s allocator.' : `Dominant shares unknown: ${error}`;
    const now = Date.now();
    const element = table({
      columns,
      rows: frameworkRows(context.store, report),
      empty: 'no framework has subscribed',
      rowClass: (row) => `framework-${row.state.toLowerCase()}`,
      cells: (row) => [
        [
          h('a', { href: routeHref('allocation', row.id) }, row.name || row.id),
          h('span', { class: 'secondary' }, row.id),
        ],
        row.roles.join(', '),
        row.state.toLowerCase(),
        row.dominantShare === null ? '—' : formatPercent(row.dominantShare),
        row.outstandingOffers,
        row.liveTasks,
        row.allTasks,
        row.registeredAtMs > 0 ? formatAgo(row.registeredAtMs, now) : '—',
      ],
    });
    element.id = 'frameworks-table';
    holder.replaceChildren(element);
  };
  return {
    element: h('div', { class: 'page page-frameworks' }, section('Frameworks', null, note, holder)),
    update(changes) {
      if (['frameworks', 'tasks', 'allocation', 'mounted'].some((what) => changes.has(what))) draw();
    },
    destroy() {
      context.poller.wantsAllocation = false;
    },
  };
}

pages.register({
  id: 'frameworks',
  title: 'Frameworks',
  order: 30,
  nav: true,
  match: (parts) => (parts[0] === 'frameworks' && parts.length === 1 ? {} : null),
  create: createFrameworksView,
});
