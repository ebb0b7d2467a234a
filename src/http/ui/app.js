// The dashboard's entry point: wires the store, the live connection (the leader's event
// stream), the poller (Raft views, agents, allocation), the history the charts draw, and the
// page registry; draws the page the location hash names, and redraws what changed at most
// every minFrameSpacingMs, in an animation frame (a hidden tab draws nothing and catches up
// when shown: the changes wait in a set, never in a queue that grows).
import { onLoginRequired, setToken } from './auth.js';
import { ClusterPoller } from './cluster-poller.js';
import { LiveConnection } from './connection.js';
import { byId, h } from './dom.js';
import { formatAgo } from './format.js';
import { MasterDirectory } from './leader-finder.js';
import { pages, parseRoute } from './pages.js';
import { ClusterHistory, sampleIntervalMs } from './sampler.js';
import { ClusterStore } from './store.js';
// Each page module registers itself with `pages`; a new page (services, jobs) is one more import.
import './page-cluster.js';
import './page-agents.js';
import './page-agent.js';
import './page-frameworks.js';
import './page-tasks.js';
import './page-task.js';
import './page-allocation.js';
import './page-services.js';
import './page-jobs.js';

/** At most this many redraws a second, however fast events come. */
const minFrameSpacingMs = 250;
const clockTickMs = 1000;
/** Render times kept per page, for the tests and for anyone curious (globalThis.flotillaUi). */
const keptRenderTimes = 100;

class RenderStats {
  times = new Map();
  note(what, milliseconds) {
    const list = this.times.get(what) ?? [];
    list.push(milliseconds);
    if (list.length > keptRenderTimes) list.shift();
    this.times.set(what, list);
  }
}

const directory = new MasterDirectory(location.origin, location.protocol);
const store = new ClusterStore();
const history = new ClusterHistory();
const renderStats = new RenderStats();
const pending = new Set();
let frameTimer = null;
let lastFrameAtMs = 0;
let current = null;

function changed(what) {
  pending.add(what);
  if (frameTimer !== null) return;
  const waitMs = Math.max(0, minFrameSpacingMs - (performance.now() - lastFrameAtMs));
  frameTimer = setTimeout(() => requestAnimationFrame(render), waitMs);
}

const connection = new LiveConnection({ directory, store, onChange: changed });
const poller = new ClusterPoller({ directory, connection, store, onChange: changed, isHidden: () => document.hidden });
const context = { store, history, poller, connection, directory, renderStats };

function connectionText(status) {
  const since = formatAgo(status.sinceMs, Date.now());
  if (status.phase === 'live' && status.master.role === 'leader') {
    return { className: 'live', text: `live from ${status.master.id}, the leader` };
  }
  if (status.phase === 'live') {
    return {
      className: 'degraded',
      text: `live from ${status.master.id} (${status.master.role}): no leader reachable`,
    };
  }
  if (status.phase === 'finding') return { className: 'finding', text: 'finding the leader…' };
  return { className: 'down', text: `no master answers (${since}); retrying` };
}

function drawHeader() {
  const { className, text } = connectionText(connection.status);
  const pill = byId('connection');
  pill.className = `connection connection-${className}`;
  pill.textContent = text;
  const error = connection.status.error;
  byId('connection-detail').textContent =
    error === null ? `${connection.status.reconnects} reconnects` : `last trouble: ${error}`;
  document.title = `Flotilla — ${text}`;
}

function drawNavigation(activeId) {
  byId('nav').replaceChildren(
    ...pages
      .navigation()
      .map((page) =>
        h('a', { href: `#/${page.id}`, 'aria-current': page.id === activeId ? 'page' : null }, page.title),
      ),
  );
}

function render() {
  frameTimer = null;
  lastFrameAtMs = performance.now();
  const changes = new Set(pending);
  pending.clear();
  if (changes.has('connection') || changes.has('clock')) drawHeader();
  const started = performance.now();
  current?.view.update(changes);
  renderStats.note(`frame ${current?.page.id}`, performance.now() - started);
}

function showRoute() {
  const { page, params } = pages.resolve(parseRoute(location.hash));
  current?.view.destroy();
  const view = page.create(context, params);
  byId('main').replaceChildren(view.element);
  current = { page, view };
  drawNavigation(page.id);
  const started = performance.now();
  view.update(new Set(['mounted', 'tasks', 'agents', 'frameworks', 'raft', 'allocation', 'history', 'connection']));
  renderStats.note(`mount ${page.id}`, performance.now() - started);
}

/**
 * The login form (docs/security.md): shown when a master answers 401, it takes the token and
 * reloads the page, which then starts over with it. The token never goes into the URL.
 */
function wireLogin() {
  const form = byId('login');
  onLoginRequired(({ refused }) => {
    // Several calls may answer 401 at once; only those that carried the token say it was refused.
    if (refused) byId('login-refused').hidden = false;
    if (!form.hidden) return;
    form.hidden = false;
    byId('main').hidden = true;
    byId('login-token').focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = byId('login-token').value.trim();
    if (token === '') return;
    setToken(token);
    location.reload();
  });
}

wireLogin();
window.addEventListener('hashchange', showRoute);
setInterval(() => {
  if (!store.loaded) return;
  history.sample(store, poller.leaderView()?.raft.commitIndex ?? null, Date.now());
  changed('history');
}, sampleIntervalMs);
setInterval(() => changed('clock'), clockTickMs);

// A read-only handle for tests and the curious: the model, the connection, render timings.
globalThis.flotillaUi = Object.freeze({
  store,
  connection,
  poller,
  history,
  renderStats,
  pages,
  current: () => current,
});

showRoute();
drawHeader();
connection.start();
poller.start();
