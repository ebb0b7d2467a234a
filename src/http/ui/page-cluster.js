// The cluster page: health at a glance, the Raft members as each answers for itself (role,
// term, commit and applied index, zone) and as the leader sees them (match index, lag,
// replication state), and the charts: Raft commit rate, resource use, tasks by state.
import { percentOfTotals, TimeChart } from './charts.js';
import { h } from './dom.js';
import { formatAmount, formatPercent } from './format.js';
import { pages } from './pages.js';
import { taskStateGroups } from './sampler.js';
import { isLive } from './task-rows.js';
import { keyValues, section, table, tag } from './widgets.js';

/** One row per known master: its own view, and the leader's view of it. */
export function masterRows(views, leaderView, followedOrigin) {
  const leaderRaft = leaderView?.raft ?? null;
  const progress = new Map((leaderRaft?.members ?? []).map((member) => [member.id, member]));
  return [...views.values()].map((view) => {
    const own = view.raft;
    const seen = progress.get(view.id) ?? null;
    const isLeader = leaderRaft !== null && view.id === leaderRaft.id;
    const lag =
      leaderRaft === null || isLeader || typeof seen?.match !== 'number' ? null : leaderRaft.lastIndex - seen.match;
    return {
      id: view.id ?? '(unknown)',
      address: view.address ?? view.origin,
      // Its own answer, else the zone the leader's replicated view holds for it (a master that is down).
      zone: own?.zone ?? seen?.zone ?? '',
      member: seen?.role ?? '',
      role: own?.role ?? '',
      term: own?.term ?? null,
      commitIndex: own?.commitIndex ?? null,
      appliedIndex: own?.appliedIndex ?? null,
      lag,
      replication: isLeader ? 'leads' : (seen?.state ?? ''),
      answers: view.ok,
      error: view.error,
      isLeader,
      followed: view.origin === followedOrigin,
    };
  });
}

function summary(context) {
  const { store, poller } = context;
  const leader = poller.leaderView();
  let cpusUsed = 0;
  let cpusTotal = 0;
  let memUsed = 0;
  let memTotal = 0;
  let activeAgents = 0;
  for (const agent of store.agents.values()) {
    if (agent.state === 'REMOVED') continue;
    if (agent.state === 'ACTIVE') activeAgents += 1;
    cpusUsed += store.usedByAgent.get(agent.id)?.get('cpus') ?? 0;
    memUsed += store.usedByAgent.get(agent.id)?.get('mem') ?? 0;
    cpusTotal += agent.total.get('cpus') ?? 0;
    memTotal += agent.total.get('mem') ?? 0;
  }
  let live = 0;
  for (const [state, count] of store.stateCounts) if (isLive(state)) live += count;
  const answering = [...poller.views.values()].filter((view) => view.ok).length;
  const connected = [...store.frameworks.values()].filter((framework) => framework.state === 'CONNECTED').length;
  return keyValues(
    [
      ['leader', leader === null ? 'none known' : `${leader.raft.id} (${leader.address ?? leader.origin})`],
      ['term', leader?.raft.term ?? '—'],
      ['commit index', leader?.raft.commitIndex ?? '—'],
      ['masters answering', `${answering} of ${poller.views.size}`],
      ['agents active', `${activeAgents} of ${store.agents.size}`],
      ['frameworks connected', `${connected} of ${store.frameworks.size}`],
      ['tasks running', `${store.stateCounts.get('TASK_RUNNING') ?? 0} (${live} live, ${store.tasks.size} in all)`],
      [
        'cpus used',
        `${formatAmount('cpus', cpusUsed)} of ${formatAmount('cpus', cpusTotal)} (${formatPercent(cpusTotal > 0 ? cpusUsed / cpusTotal : 0)})`,
      ],
      [
        'mem used',
        `${formatAmount('mem', memUsed)} of ${formatAmount('mem', memTotal)} (${formatPercent(memTotal > 0 ? memUsed / memTotal : 0)})`,
      ],
    ],
    'facts summary-cards',
  );
}

const masterColumns = [
  { title: 'master' },
  { title: 'address' },
  { title: 'zone' },
  { title: 'member' },
  { title: 'role (its own word)' },
  { title: 'term', className: 'number' },
  { title: 'commit', className: 'number' },
  { title: 'applied', className: 'number' },
  { title: 'lag (entries)', className: 'number' },
  { title: 'replication' },
];

function mastersTable(context) {
  const rows = masterRows(context.poller.views, context.poller.leaderView(), context.connection.status.master?.origin);
  return table({
    caption: 'Each master as it answers GET_RAFT itself; member, lag and replication as the leader sees it',
    columns: masterColumns,
    rows,
    rowClass: (row) => (row.answers ? null : 'unreachable'),
    empty: 'asking the masters…',
    cells: (row) => [
      [row.id, row.isLeader ? tag('leader', 'tag-leader') : null, row.followed ? tag('followed') : null],
      row.address,
      row.zone || '—',
      row.member || '—',
      row.answers ? row.role : h('span', { class: 'error-text' }, `not answering: ${row.error ?? ''}`),
      row.term ?? '—',
      row.commitIndex ?? '—',
      row.appliedIndex ?? '—',
      row.lag ?? '—',
      row.replication || '—',
    ],
  });
}

function createClusterView(context) {
  const charts = {
    commits: new TimeChart({ title: 'Raft commit rate', series: [{ label: 'entries/s' }], unit: '/s' }),
    resources: new TimeChart({
      title: 'Cluster resources used',
      series: [{ label: 'cpus' }, { label: 'mem' }],
      unit: '%',
      percent: true,
      transform: percentOfTotals,
    }),
    tasks: new TimeChart({ title: 'Tasks by state', series: taskStateGroups.map((group) => ({ label: group.name })) }),
  };
  const summaryHolder = h('div', { id: 'cluster-summary' });
  const mastersHolder = h('div', { id: 'masters' });
  const element = h(
    'div',
    { class: 'page page-cluster' },
    section('Cluster', null, summaryHolder),
    section('Masters', 'Raft members; a master that does not answer is marked.', mastersHolder),
    section(
      'Over time',
      'Kept by this page since it opened (30 minutes at most).',
      h(
        'div',
        { class: 'charts' },
        Object.values(charts).map((chart) => chart.element),
      ),
    ),
  );
  const drawCharts = () => {
    charts.commits.setData(context.history.commitRate.data());
    charts.resources.setData(context.history.cluster.data());
    charts.tasks.setData(context.history.taskStates.data());
  };
  return {
    element,
    update(changes) {
      if (changes.has('raft') || changes.has('tasks') || changes.has('agents') || changes.has('frameworks')) {
        summaryHolder.replaceChildren(summary(context));
      }
      if (changes.has('raft') || changes.has('connection')) mastersHolder.replaceChildren(mastersTable(context));
      if (changes.has('history') || changes.has('mounted')) drawCharts();
    },
    destroy() {
      for (const chart of Object.values(charts)) chart.destroy();
    },
  };
}

pages.register({
  id: 'cluster',
  title: 'Cluster',
  order: 10,
  nav: true,
  match: (parts) => (parts.length === 0 || (parts[0] === 'cluster' && parts.length === 1) ? {} : null),
  create: createClusterView,
});
