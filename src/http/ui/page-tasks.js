// The tasks page: every task the master keeps, newest update first, filtered by state and by
// text (id, name, framework, agent, message), in a virtual table: 10,000 tasks draw a few
// dozen rows. The filtered, sorted list is rebuilt only when the tasks or the filter changed,
// at most once a frame; the render time of each rebuild is kept for the tests to read.
import { h, routeHref } from './dom.js';
import { formatAgo, formatClock, shortState } from './format.js';
import { pages } from './pages.js';
import { describeResources } from './resources.js';
import { compareTasks, taskFilter, taskStateNames } from './task-rows.js';
import { VirtualTable } from './virtual-table.js';
import { healthText, section, stateBadge } from './widgets.js';

export const taskColumns = [
  { title: 'task' },
  { title: 'framework' },
  { title: 'agent' },
  { title: 'state' },
  { title: 'resources' },
  { title: 'health' },
  { title: 'started' },
];
export const taskTemplate = 'minmax(12rem, 2fr) minmax(8rem, 1fr) minmax(8rem, 1fr) 7rem minmax(9rem, 1fr) 7rem 8rem';

/** The cells of one task row; `now` for the "started … ago" column. */
export function taskCells(store, record, nowMs) {
  return [
    [
      record.id,
      record.name !== '' && record.name !== record.id ? h('span', { class: 'secondary' }, record.name) : null,
    ],
    store.frameworkName(record.frameworkId) || record.frameworkId,
    store.agentHostname(record.agentId) || record.agentId,
    stateBadge(record.state),
    describeResources(record.amounts) || '—',
    healthText(record),
    record.startedAtMs === null
      ? '—'
      : h('time', { title: formatClock(record.startedAtMs) }, formatAgo(record.startedAtMs, nowMs)),
  ];
}

export function taskTable(store, label) {
  return new VirtualTable({
    label,
    columns: taskColumns,
    template: taskTemplate,
    cells: (record) => taskCells(store, record, Date.now()),
    href: (record) => routeHref('task', record.frameworkId, record.id),
    emptyText: 'no task matches',
  });
}

/** The filter outlives the page, so coming back from a task keeps what the reader had typed. */
const remembered = { state: '', text: '' };

function filterControls(onChange) {
  const text = h('input', {
    type: 'search',
    id: 'task-filter',
    placeholder: 'id, name, framework, agent, state, message',
    autocomplete: 'off',
  });
  text.value = remembered.text;
  const options = [
    ['', 'all states'],
    ['live', 'live (not terminal)'],
    ['terminal', 'terminal'],
    ...taskStateNames.map((state) => [state, shortState(state)]),
  ];
  const state = h(
    'select',
    { id: 'task-state' },
    options.map(([value, label]) => h('option', { value }, label)),
  );
  state.value = remembered.state;
  const changed = () => {
    remembered.text = text.value;
    remembered.state = state.value;
    onChange();
  };
  text.addEventListener('input', changed);
  state.addEventListener('change', changed);
  return h(
    'p',
    { class: 'filter' },
    h('label', { for: 'task-filter' }, 'Search'),
    text,
    h('label', { for: 'task-state' }, 'State'),
    state,
  );
}

function createTasksView(context) {
  const { store } = context;
  const count = h('span', { id: 'tasks-count', 'aria-live': 'polite' });
  const virtualTable = taskTable(store, 'Tasks');
  let stale = true;
  const rebuild = () => {
    const started = performance.now();
    const matches = taskFilter(remembered, {
      framework: (id) => store.frameworkName(id),
      agent: (id) => store.agentHostname(id),
    });
    const all = store.taskList();
    const rows = all.filter(matches).sort(compareTasks);
    virtualTable.setRows(rows);
    count.textContent = rows.length === all.length ? `${all.length} tasks` : `${rows.length} of ${all.length} tasks`;
    context.renderStats.note('tasks', performance.now() - started);
    stale = false;
  };
  const element = h(
    'div',
    { class: 'page page-tasks' },
    section(
      'Tasks',
      'Newest update first. Select a task for its details and live output.',
      filterControls(() => rebuild()),
      count,
      virtualTable.element,
    ),
  );
  return {
    element,
    table: virtualTable,
    update(changes) {
      if (changes.has('tasks') || changes.has('agents') || changes.has('frameworks')) stale = true;
      if (stale || changes.has('mounted')) rebuild();
      else if (changes.has('clock')) virtualTable.refresh();
    },
    destroy() {},
  };
}

pages.register({
  id: 'tasks',
  title: 'Tasks',
  order: 40,
  nav: true,
  match: (parts) => (parts[0] === 'tasks' && parts.length === 1 ? {} : null),
  create: createTasksView,
});
