// The agents page: each agent with its resources as bars (used by live tasks, offered to
// frameworks, of the total), zone, attributes, state and drain state, and its live tasks.
import { h, routeHref } from './dom.js';
import { pages } from './pages.js';
import { resourceBars } from './resources.js';
import { resourceBar, section, table, tag } from './widgets.js';

/** Agents drawn at most; a cluster of more is narrowed with the filter. */
export const maxAgentRows = 500;

export function agentStateText(agent) {
  if (agent.state === 'REMOVED') return 'removed (unreachable or gone)';
  if (agent.state === 'DRAINING') return agent.drainState ? `draining (${agent.drainState.toLowerCase()})` : 'draining';
  return agent.state.toLowerCase();
}

export function agentMatches(agent, needle) {
  if (needle === '') return true;
  return [agent.id, agent.hostname, agent.zone, agent.attributes, agent.state].some((field) =>
    field.toLowerCase().includes(needle),
  );
}

/** The agent's bars from the store: used from its live tasks, offered from the last GET_AGENTS. */
export function agentBars(store, agent) {
  return resourceBars(agent.total, store.usedByAgent.get(agent.id) ?? new Map(), agent.offered);
}

const columns = [
  { title: 'agent' },
  { title: 'zone' },
  { title: 'state' },
  { title: 'resources (used, offered, total)', className: 'resources' },
  { title: 'attributes' },
  { title: 'live tasks', className: 'number' },
];

function agentsTable(store, needle) {
  const all = [...store.agents.values()].sort((left, right) => (left.hostname < right.hostname ? -1 : 1));
  const matching = all.filter((agent) => agentMatches(agent, needle));
  const shown = matching.slice(0, maxAgentRows);
  const element = table({
    caption: `${matching.length} of ${all.length} agents${matching.length > shown.length ? `; the first ${shown.length} shown` : ''}`,
    columns,
    rows: shown,
    empty: needle === '' ? 'no agent registered' : 'no agent matches the filter',
    rowClass: (agent) => `agent-${agent.state.toLowerCase()}`,
    cells: (agent) => [
      [
        h('a', { href: routeHref('agent', agent.id) }, agent.hostname || agent.id),
        h('span', { class: 'secondary' }, agent.id),
      ],
      agent.zone === '' ? '—' : tag(agent.zone),
      agentStateText(agent),
      agentBars(store, agent).map(resourceBar),
      agent.attributes || '—',
      store.liveTasksByAgent.get(agent.id) ?? 0,
    ],
  });
  element.id = 'agents-table';
  return element;
}

function createAgentsView(context) {
  const filter = h('input', {
    type: 'search',
    id: 'agent-filter',
    placeholder: 'hostname, id, zone, attribute',
    autocomplete: 'off',
  });
  const holder = h('div');
  const draw = () => holder.replaceChildren(agentsTable(context.store, filter.value.trim().toLowerCase()));
  filter.addEventListener('input', draw);
  const element = h(
    'div',
    { class: 'page page-agents' },
    section(
      'Agents',
      'Bars: dark is used by live tasks, light is offered to frameworks (as of the last GET_AGENTS).',
      h('p', { class: 'filter' }, h('label', { for: 'agent-filter' }, 'Filter'), filter),
      holder,
    ),
  );
  return {
    element,
    update(changes) {
      if (changes.has('agents') || changes.has('tasks') || changes.has('mounted')) draw();
    },
    destroy() {},
  };
}

pages.register({
  id: 'agents',
  title: 'Agents',
  order: 20,
  nav: true,
  match: (parts) => (parts[0] === 'agents' && parts.length === 1 ? {} : null),
  create: createAgentsView,
});
