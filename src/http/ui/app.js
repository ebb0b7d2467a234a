// The web UI's entry point (DESIGN.md "Operating it"): asks the master that served the page for
// its view every refreshIntervalMs, one refresh at a time, and redraws. When the master stops
// answering the last view stays on screen under an error banner, with its age. A hidden tab
// asks nothing (every refresh costs the leader a ReadIndex round) and refreshes when shown.
import { loadSnapshot } from './api.js';
import { renderBanner, renderSnapshot, renderTasks } from './view.js';

const refreshIntervalMs = 2000;
const freshnessTickMs = 1000;

const page = { snapshot: null, error: null, updatedAtMs: null };
const polling = { timer: null, inFlight: false };
const filter = document.getElementById('task-filter');

function filterText() {
  return filter instanceof HTMLInputElement ? filter.value : '';
}

function drawBanner() {
  renderBanner({ ...page, nowMs: Date.now() });
}

async function refresh() {
  polling.timer = null;
  if (polling.inFlight || document.hidden) return;
  polling.inFlight = true;
  try {
    const snapshot = await loadSnapshot();
    renderSnapshot(snapshot, filterText(), Date.now());
    page.snapshot = snapshot;
    page.error = null;
    page.updatedAtMs = Date.now();
  } catch (error) {
    // A master that does not answer, or an answer this page cannot draw: say so and try again.
    page.error = error instanceof Error ? error.message : String(error);
  } finally {
    polling.inFlight = false;
  }
  drawBanner();
  polling.timer = setTimeout(refresh, refreshIntervalMs);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && polling.timer === null) void refresh();
});
filter?.addEventListener('input', () => {
  if (page.snapshot !== null) renderTasks(page.snapshot.state, filterText(), Date.now());
});
setInterval(drawBanner, freshnessTickMs);
void refresh();
