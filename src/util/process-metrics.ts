// The Node.js process metrics (prom-client's default set, same names and meaning), with the
// ones that list every open handle made cheap: a leader holds a socket per agent, and prom-client
// lists /proc/self/fd (one directory entry per descriptor) and every libuv handle and resource
// twice per scrape (once for the count by type, once for the total), all inside one event-loop turn.
// Here the descriptors are counted by one stat(2) of /proc/self/fd (Linux >= 6.2 reports the
// count as its size), and handles and resources are listed once per scrape for both gauges.
import { readdirSync, statSync } from 'node:fs';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

const openFdsName = 'process_open_fds';
const handlesName = 'nodejs_active_handles';
const handlesTotalName = 'nodejs_active_handles_total';
const resourcesName = 'nodejs_active_resources';
const resourcesTotalName = 'nodejs_active_resources_total';
const procFdDirectory = '/proc/self/fd';

/** Process internals that list handles; optional (underscored, removed in some Node versions). */
interface HandleLister {
  readonly _getActiveHandles?: () => unknown[];
}

/** Open file descriptors: the size of /proc/self/fd, or its entries where the kernel reports no size. */
export function openFileDescriptors(): number | null {
  try {
    const size = statSync(procFdDirectory).size;
    if (size > 0) return size;
    // Older kernels report 0: list it (the listing itself holds one descriptor).
    return readdirSync(procFdDirectory).length - 1;
  } catch {
    return null;
  }
}

/** Counts by name, as prom-client's gauges label them by `type`. */
function countByName(names: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

function handleTypes(handles: readonly unknown[]): string[] {
  const types: string[] = [];
  for (const handle of handles) {
    const name = (handle as { constructor?: { name?: string } } | null)?.constructor?.name;
    if (name !== undefined) types.push(name);
  }
  return types;
}

/**
 * `list` at most once per scrape: a scrape collects every gauge in one synchronous run, so the
 * listing is kept until the next microtask and both gauges of a pair read the same one.
 */
function oncePerScrape<T>(list: () => T): () => T {
  let listed: { value: T } | null = null;
  return () => {
    if (listed === null) {
      listed = { value: list() };
      queueMicrotask(() => {
        listed = null;
      });
    }
    return listed.value;
  };
}

function countPair(
  registry: Registry,
  prefix: string,
  names: { byType: string; total: string },
  help: { byType: string; total: string },
  types: () => readonly string[],
): void {
  const listing = oncePerScrape(types);
  new Gauge({
    name: prefix + names.byType,
    help: help.byType,
    labelNames: ['type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [type, count] of countByName(listing())) this.set({ type }, count);
    },
  });
  new Gauge({
    name: prefix + names.total,
    help: help.total,
    registers: [registry],
    collect() {
      this.set(listing().length);
    },
  });
}

/** prom-client's default metrics under `prefix`, the descriptor, handle and resource counts made cheap. */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of [openFdsName, handlesName, handlesTotalName, resourcesName, resourcesTotalName])
    registry.removeSingleMetric(prefix + name);
  new Gauge({
    name: prefix + openFdsName,
    help: 'Number of open file descriptors.',
    registers: [registry],
    collect() {
      const count = openFileDescriptors();
      if (count !== null) this.set(count);
    },
  });
  const lister = process as unknown as HandleLister;
  if (typeof lister._getActiveHandles === 'function') {
    countPair(
      registry,
      prefix,
      { byType: handlesName, total: handlesTotalName },
      {
        byType: 'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.',
        total: 'Total number of active handles.',
      },
      () => handleTypes(lister._getActiveHandles?.() ?? []),
    );
  }
  countPair(
    registry,
    prefix,
    { byType: resourcesName, total: resourcesTotalName },
    {
      byType:
        'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
      total: 'Total number of active resources.',
    },
    () => process.getActiveResourcesInfo(),
  );
}
