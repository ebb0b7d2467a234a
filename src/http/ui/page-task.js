// One task: its facts, its status history, and its stdout and stderr followed live through the
// masters' sandbox read (log-follower.js). Output shown is bounded: the oldest text leaves the
// page once a pane holds more than maxShownCharacters.
import { h, routeHref } from './dom.js';
import { formatClock } from './format.js';
import { LogFollower } from './log-follower.js';
import { pages } from './pages.js';
import { describeResources } from './resources.js';
import { isLive } from './task-rows.js';
import { healthText, keyValues, section, stateBadge, table } from './widgets.js';

export const maxShownCharacters = 1024 * 1024;

/** A <pre> that takes text as it comes and drops the oldest beyond the bound. */
function outputPane(file) {
  const text = h('pre', { class: 'output', id: `output-${file}`, tabindex: '0', 'aria-live': 'off' });
  const status = h('span', { class: 'output-status', id: `output-${file}-status` }, 'starting');
  let shown = 0;
  return {
    element: h('figure', { class: 'output-pane' }, h('figcaption', {}, file, ' ', status), text),
    append(chunk) {
      const stick = text.scrollTop + text.clientHeight >= text.scrollHeight - 4;
      text.append(document.createTextNode(chunk));
      shown += chunk.length;
      while (shown > maxShownCharacters && text.firstChild !== null) {
        shown -= text.firstChild.textContent.length;
        text.firstChild.remove();
      }
      if (stick) text.scrollTop = text.scrollHeight;
    },
    note(remark) {
      text.append(h('span', { class: 'output-note' }, `[${remark}]\n`));
    },
    status(words) {
      status.textContent = words;
    },
  };
}

function facts(store, record) {
  return keyValues([
    ['task', record.id],
    ['name', record.name || '—'],
    [
      'framework',
      [
        h(
          'a',
          { href: routeHref('allocation', record.frameworkId) },
          store.frameworkName(record.frameworkId) || record.frameworkId,
        ),
      ],
    ],
    [
      'agent',
      [h('a', { href: routeHref('agent', record.agentId) }, store.agentHostname(record.agentId) || record.agentId)],
    ],
    ['state', stateBadge(record.state)],
    ['health', healthText(record)],
    ['resources', describeResources(record.amounts) || '—'],
    ['runs as', record.container],
    ['started', formatClock(record.startedAtMs) || '—'],
    ['last update', formatClock(record.updatedAtMs) || '—'],
    ['message', record.message || '—'],
  ]);
}

function history(record) {
  return table({
    caption: 'Status updates, oldest first',
    columns: [{ title: 'state' }, { title: 'time' }, { title: 'source' }, { title: 'reason' }, { title: 'message' }],
    rows: record.statuses,
    empty: 'no status update yet',
    cells: (status) => [
      stateBadge(status.state),
      formatClock(status.timestampMs),
      status.source,
      status.reason || '—',
      status.message || '—',
    ],
  });
}

function createTaskView(context, { frameworkId, taskId }) {
  const { store } = context;
  const key = `${frameworkId}/${taskId}`;
  const factsHolder = h('div', { id: 'task-facts' });
  const historyHolder = h('div');
  const panes = { stdout: outputPane('stdout'), stderr: outputPane('stderr') };
  const followers = Object.entries(panes).map(
    ([file, pane]) =>
      new LogFollower({
        client: () => context.connection.client(),
        frameworkId,
        taskId,
        path: file,
        onText: (text) => pane.append(text),
        onNote: (remark) => pane.note(remark),
        onStatus: (status) => pane.status(status),
        taskEnded: () => {
          const record = store.tasks.get(key);
          return record !== undefined && !isLive(record.state);
        },
      }),
  );
  let started = false;
  const draw = () => {
    const record = store.tasks.get(key);
    if (record === undefined) {
      factsHolder.replaceChildren(
        h('p', { class: 'empty' }, store.loaded ? `Framework ${frameworkId} has no task ${taskId}.` : 'loading…'),
      );
      return;
    }
    factsHolder.replaceChildren(facts(store, record));
    historyHolder.replaceChildren(history(record));
    if (!started) {
      started = true;
      for (const follower of followers) follower.start();
    }
  };
  const element = h(
    'div',
    { class: 'page page-task' },
    section(`Task ${taskId}`, null, factsHolder),
    section(
      'Output',
      'Read from the task’s sandbox through the masters, followed live.',
      h('div', { class: 'outputs' }, panes.stdout.element, panes.stderr.element),
    ),
    section('History', null, historyHolder),
  );
  return {
    element,
    update(changes) {
      if (changes.has('tasks') || changes.has('agents') || changes.has('frameworks') || changes.has('mounted')) draw();
    },
    destroy() {
      for (const follower of followers) follower.stop();
    },
  };
}

pages.register({
  id: 'task',
  title: 'Task',
  order: 45,
  match: (parts) => (parts[0] === 'task' && parts.length === 3 ? { frameworkId: parts[1], taskId: parts[2] } : null),
  create: createTaskView,
});
