// One agent: its facts, its resources as bars and over time (kept by this page since it
// opened), and its tasks.
import { percentOfTotals, TimeChart } from './charts.js';
import { h } from './dom.js';
import { formatClock } from './format.js';
import { agentBars, agentStateText } from './page-agents.js';
import { taskTable } from './page-tasks.js';
import { pages } from './pages.js';
import { compareTasks } from './task-rows.js';
import { keyValues, resourceBar, section } from './widgets.js';

function createAgentView(context, { agentId }) {
  const { store } = context;
  const facts = h('div');
  const chart = new TimeChart({
    title: 'Resources used by live tasks',
    series: [{ label: 'cpus' }, { label: 'mem' }],
    unit: '%',
    percent: true,
    transform: percentOfTotals,
  });
  const tasks = taskTable(store, `Tasks on agent ${agentId}`);
  const drawFacts = () => {
    const agent = store.agents.get(agentId);
    if (agent === undefined) {
      facts.replaceChildren(h('p', { class: 'empty' }, `No agent ${agentId} is known to this master.`));
      return;
    }
    facts.replaceChildren(
      keyValues([
        ['id', agent.id],
        ['hostname', `${agent.hostname}:${agent.port}`],
        ['zone', agent.zone || '—'],
        ['state', agentStateText(agent)],
        ['attributes', agent.attributes || '—'],
        ['registered', formatClock(agent.registeredAtMs) || '—'],
        ['live tasks', store.liveTasksByAgent.get(agent.id) ?? 0],
      ]),
      h('div', { class: 'resources' }, agentBars(store, agent).map(resourceBar)),
    );
  };
  const drawTasks = () =>
    tasks.setRows(
      store
        .taskList()
        .filter((task) => task.agentId === agentId)
        .sort(compareTasks),
    );
  const element = h(
    'div',
    { class: 'page page-agent' },
    section(`Agent ${agentId}`, null, facts),
    section('Over time', 'Kept by this page since it opened.', h('div', { class: 'charts' }, chart.element)),
    section('Tasks', null, tasks.element),
  );
  return {
    element,
    update(changes) {
      if (changes.has('agents') || changes.has('tasks') || changes.has('mounted')) drawFacts();
      if (changes.has('tasks') || changes.has('mounted')) drawTasks();
      else if (changes.has('clock')) tasks.refresh();
      const series = context.history.agents.get(agentId);
      if (series !== undefined && (changes.has('history') || changes.has('mounted'))) chart.setData(series.data());
    },
    destroy() {
      chart.destroy();
    },
  };
}

pages.register({
  id: 'agent',
  title: 'Agent',
  order: 25,
  match: (parts) => (parts[0] === 'agent' && parts.length === 2 ? { agentId: parts[1] } : null),
  create: createAgentView,
});
