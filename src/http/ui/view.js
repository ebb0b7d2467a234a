// The web UI's DOM half: builds elements from the rows model.js makes. Text only ever enters
// the page as text nodes or attribute values, never parsed as markup, so a framework named
// "<img onerror=…>" shows as those characters.
import {
  agentRows,
  filterTasks,
  formatAgo,
  frameworkRows,
  leaderUrl,
  maxRowsPerTable,
  memberRows,
  taskRows,
} from './model.js';

/** An element with attributes (`class`, `title`, …) and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false)
      element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function byId(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html has no #${id}`);
  return element;
}

function fillBody(tableBodyId, rows, columns, emptyText) {
  const body = byId(tableBodyId);
  const shown = rows.slice(0, maxRowsPerTable);
  const columnCount = body.closest('table')?.querySelectorAll('thead th').length ?? 1;
  const trs = shown.map((row) => h('tr', {}, columns(row)));
  if (rows.length === 0) trs.push(h('tr', {}, h('td', { colspan: columnCount, class: 'empty' }, emptyText)));
  if (rows.length > shown.length) {
    trs.push(
      h('tr', {}, h('td', { colspan: columnCount, class: 'empty' }, `${rows.length - shown.length} more not shown`)),
    );
  }
  body.replaceChildren(...trs);
}

function renderSummary(snapshot) {
  const { health } = snapshot;
  const leaderLink = leaderUrl(health.leader, location.protocol);
  byId('summary').replaceChildren(
    h('div', {}, h('dt', {}, 'master'), h('dd', { id: 'master-id' }, health.id)),
    h('div', {}, h('dt', {}, 'role'), h('dd', { id: 'master-role', class: `role-${health.role}` }, health.role)),
    h('div', {}, h('dt', {}, 'term'), h('dd', {}, health.term)),
    h(
      'div',
      {},
      h('dt', {}, 'leader'),
      h('dd', {}, leaderLink === null ? 'none known' : h('a', { href: leaderLink }, health.leader)),
    ),
    h('div', {}, h('dt', {}, 'commit index'), h('dd', {}, health.commitIndex)),
    h('div', {}, h('dt', {}, 'applied index'), h('dd', {}, health.appliedIndex)),
  );
  document.title = `Flotilla — ${health.id} (${health.role})`;
}

function renderMembers(raft) {
  const rows = memberRows(raft);
  fillBody(
    'members-body',
    rows,
    (row) => [
      h(
        'th',
        { scope: 'row' },
        row.id,
        row.isLeader ? h('span', { class: 'tag' }, 'leader') : null,
        row.isSelf ? h('span', { class: 'tag' }, 'this master') : null,
      ),
      h('td', {}, row.address),
      h('td', {}, row.role),
      h('td', { class: 'number' }, row.match),
      h('td', {}, row.progress),
    ],
    raft === null ? 'GET_RAFT did not answer' : 'no members',
  );
}

/** A segment's width goes through the CSSOM: the CSP forbids style attributes, not this. */
function segment(className, share) {
  const element = h('span', { class: className });
  element.style.width = `${(share * 100).toFixed(1)}%`;
  return element;
}

function bar(resource) {
  return h(
    'div',
    { class: 'resource' },
    h('span', { class: 'resource-label' }, resource.label),
    h(
      'span',
      { class: 'bar', 'aria-hidden': 'true' },
      segment('bar-used', resource.usedFraction),
      segment('bar-offered', resource.offeredFraction),
    ),
  );
}

function renderAgents(state) {
  fillBody(
    'agents-body',
    agentRows(state.get_agents),
    (row) => [
      h('th', { scope: 'row' }, row.id),
      h('td', {}, row.hostname, row.zone === '' ? null : h('span', { class: 'tag' }, `zone ${row.zone}`)),
      h('td', { class: `agent-${row.state.toLowerCase()}` }, row.state),
      h('td', { class: 'resources' }, row.bars.map(bar)),
      h('td', {}, row.attributes),
    ],
    'no agents registered',
  );
}

function renderFrameworks(state, allocation) {
  fillBody(
    'frameworks-body',
    frameworkRows(state.get_frameworks, state.get_tasks, allocation),
    (row) => [
      h('th', { scope: 'row' }, row.id),
      h('td', {}, row.name),
      h('td', {}, row.roles),
      h('td', { class: `framework-${row.state.toLowerCase()}` }, row.state),
      h('td', { class: 'number' }, row.tasks),
      h('td', { class: 'number' }, row.dominantShare),
    ],
    'no frameworks',
  );
}

/** Redrawn on every refresh and on every keystroke in the filter. */
export function renderTasks(state, filterText, nowMs) {
  const all = taskRows(state);
  const rows = filterTasks(all, filterText);
  byId('tasks-count').textContent =
    rows.length === all.length ? `${all.length} tasks` : `${rows.length} of ${all.length} tasks match`;
  fillBody(
    'tasks-body',
    rows,
    (row) => {
      const updated = row.updatedSeconds > 0 ? new Date(row.updatedSeconds * 1000) : null;
      return [
        h(
          'th',
          { scope: 'row' },
          row.id,
          row.name !== '' && row.name !== row.id ? h('span', { class: 'secondary' }, row.name) : null,
        ),
        h('td', {}, row.frameworkName === '' ? row.frameworkId : `${row.frameworkName} (${row.frameworkId})`),
        h('td', {}, row.hostname === '' ? row.agentId : `${row.hostname} (${row.agentId})`),
        h('td', {}, h('span', { class: `state ${row.stateClass}` }, row.state)),
        h('td', {}, row.message),
        h(
          'td',
          {},
          updated === null
            ? ''
            : h(
                'time',
                { datetime: updated.toISOString(), title: updated.toISOString() },
                formatAgo(updated.getTime(), nowMs),
              ),
        ),
      ];
    },
    filterText.trim() === '' ? 'no tasks' : 'no task matches the filter',
  );
}

export function renderSnapshot(snapshot, filterText, nowMs) {
  renderSummary(snapshot);
  renderMembers(snapshot.raft);
  renderAgents(snapshot.state);
  renderFrameworks(snapshot.state, snapshot.allocation);
  renderTasks(snapshot.state, filterText, nowMs);
}

/**
 * The banner: an error when the master stopped answering (the tables keep the last view), a
 * note on a follower (its own view; allocation on the leader) or when the view is stale.
 */
export function renderBanner({ snapshot, error, updatedAtMs, nowMs }) {
  byId('freshness').textContent = updatedAtMs === null ? 'loading…' : `updated ${formatAgo(updatedAtMs, nowMs)}`;
  const banner = byId('banner');
  const notes = [];
  if (error !== null) {
    notes.push(
      h(
        'p',
        { class: 'error' },
        `This master is not answering: ${error}.`,
        updatedAtMs === null ? '' : ` Showing what it said ${formatAgo(updatedAtMs, nowMs)}.`,
      ),
    );
  }
  if (snapshot?.stale)
    notes.push(
      h(
        'p',
        { class: 'warning' },
        "No linearizable read is possible now (no leader?): this is this master's applied state, possibly behind.",
      ),
    );
  if (snapshot !== null && snapshot.health.role !== 'leader') {
    const link = leaderUrl(snapshot.health.leader, location.protocol);
    notes.push(
      h(
        'p',
        { class: 'note' },
        `This is follower ${snapshot.health.id}'s view. Dominant shares are known on the leader only`,
        link === null
          ? ', and no leader is known now.'
          : [': ', h('a', { href: link }, `open the leader's page (${snapshot.health.leader})`), '.'],
      ),
    );
  }
  banner.replaceChildren(...notes);
  banner.hidden = notes.length === 0;
  banner.setAttribute('role', error !== null ? 'alert' : 'status');
}
