// The page registry: every page of the dashboard is an entry here, found by the location hash
// ("#/tasks", "#/task/<framework>/<task>"). Adding a page — the services (Marathon /v2) and
// jobs (Metronome /v1/jobs) frameworks will — is one module that calls `pages.register` and one
// line in app.js's import list (and the UI's allow-list, src/http/routes/ui.ts):
//
//   pages.register({
//     id: 'services', title: 'Services', order: 60, nav: true,
//     match: (parts) => (parts[0] === 'services' ? {} : null),
//     create: (context, params) => {
//       const element = h('div');
//       // context.client() is a MasterClient on the master the page follows (the leader);
//       // context.client().getJson('/v2/apps') reads the services framework's API.
//       return { element, update(changes) {}, destroy() {} };
//     },
//   });
//
// `create` returns a view: its `element` goes into <main>; `update(changes)` is called with the
// set of what changed since the last frame ("tasks", "agents", "frameworks", "raft",
// "allocation", "history", "connection", "clock"); `destroy()` when the reader leaves.
// `context` holds the store, history, poller, connection and `navigate(href)`.

/** "#/task/f1/t1" → ["task", "f1", "t1"]; parts decoded; an empty or odd hash is []. */
export function parseRoute(hash) {
  const path = typeof hash === 'string' && hash.startsWith('#/') ? hash.slice(2) : '';
  const parts = [];
  for (const part of path.split('/')) {
    if (part === '') continue;
    try {
      parts.push(decodeURIComponent(part));
    } catch {
      // A malformed escape: the route names no page, and the default page shows.
      return [];
    }
  }
  return parts;
}

export class PageRegistry {
  #pages = [];

  register(page) {
    for (const field of ['id', 'title', 'match', 'create']) {
      if (page?.[field] === undefined) throw new Error(`a page needs ${field}`);
    }
    if (this.#pages.some((existing) => existing.id === page.id)) throw new Error(`page ${page.id} is registered twice`);
    this.#pages.push({ order: 100, nav: false, ...page });
    this.#pages.sort((left, right) => left.order - right.order);
  }

  /** Pages shown in the navigation bar, in order. */
  navigation() {
    return this.#pages.filter((page) => page.nav);
  }

  /** The page and its params for route `parts`; the first navigation page when none matches. */
  resolve(parts) {
    for (const page of this.#pages) {
      const params = page.match(parts);
      if (params !== null && params !== undefined) return { page, params };
    }
    const fallback = this.navigation()[0];
    if (fallback === undefined) throw new Error('no page is registered');
    return { page: fallback, params: {} };
  }
}

/** The dashboard's registry; page modules register themselves on import. */
export const pages = new PageRegistry();
