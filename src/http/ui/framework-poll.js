// Reading a hosted framework's API for a page (the services and jobs pages): GET the given
// paths from the master the page follows — the leader, which runs the framework; any master
// would forward — every few seconds while the page is shown, and hand the answers (or the
// first error, as text) to `draw`. `stop()` when the reader leaves.

/** The frameworks' state changes by deployments and runs, not by the frame: every 3 s is enough. */
export const frameworkPollIntervalMs = 3000;

export function pollFramework(context, paths, draw) {
  let stopped = false;
  let timer = null;
  const once = async () => {
    let answers = null;
    let error = null;
    try {
      const client = context.connection.client();
      answers = await Promise.all(paths.map((path) => client.getJson(path)));
    } catch (failure) {
      error = failure?.message ?? String(failure);
    }
    if (stopped) return;
    draw(answers, error);
    timer = setTimeout(() => void once(), frameworkPollIntervalMs);
  };
  void once();
  return {
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}
