// The process metrics' scrape cost in listed items, with 200 sockets open (a leader holds one per
// agent): prom-client's defaults list every libuv handle and resource twice per scrape and every
// descriptor in /proc/self/fd once; src/util/process-metrics.ts lists handles and resources once
// and counts descriptors by one stat(2). The counts stay what they were.
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from 'prom-client';
import { collectProcessMetrics } from '../../src/util/process-metrics.ts';

const sockets = 200;
const prefix = 'p_';
const commonJsFs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');

interface Listed {
  handles: number;
  resources: number;
  fdEntries: number;
}

/** One scrape's listed items, counted by wrapping what lists them (prom-client reads fs through CommonJS). */
async function scrapeCounting(registry: Registry): Promise<{ listed: Listed; text: string }> {
  const listed: Listed = { handles: 0, resources: 0, fdEntries: 0 };
  const internals = process as unknown as { _getActiveHandles: () => unknown[] };
  const { _getActiveHandles: handles } = internals;
  const { getActiveResourcesInfo: resources } = process;
  const { readdirSync } = commonJsFs;
  internals._getActiveHandles = () => {
    const all = handles.call(process);
    listed.handles += all.length;
    return all;
  };
  process.getActiveResourcesInfo = () => {
    const all = resources.call(process);
    listed.resources += all.length;
    return all;
  };
  commonJsFs.readdirSync = ((path: string, ...rest: unknown[]) => {
    const entries = (readdirSync as (...args: unknown[]) => unknown[])(path, ...rest);
    if (String(path).startsWith('/proc/self/fd')) listed.fdEntries += entries.length;
    return entries;
  }) as typeof readdirSync;
  try {
    return { listed, text: await registry.metrics() };
  } finally {
    internals._getActiveHandles = handles;
    process.getActiveResourcesInfo = resources;
    commonJsFs.readdirSync = readdirSync;
  }
}

const sampleValue = (text: string, name: string): number => {
  const line = text.split('\n').find((each) => each.startsWith(`${name} `));
  assert.ok(line !== undefined, `${name} in the scrape`);
  return Number(line.split(' ')[1]);
};

test('a scrape lists each handle and resource once and no descriptor, and counts the same', async () => {
  let accepted = 0;
  let allAccepted = (): void => {};
  const server = net.createServer(() => {
    accepted += 1;
    if (accepted === sockets) allAccepted();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const clients = await Promise.all(
    Array.from(
      { length: sockets },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
        }),
    ),
  );
  if (accepted < sockets) await new Promise<void>((resolve) => (allAccepted = resolve));
  try {
    const registry = new Registry();
    collectProcessMetrics(registry, prefix);
    await registry.metrics();
    const { listed, text } = await scrapeCounting(registry);
    const handles = sampleValue(text, `${prefix}nodejs_active_handles_total`);
    assert.ok(handles >= 2 * sockets, `${handles} handles: both ends of each connection`);
    assert.is(listed.handles, handles, 'every handle listed once per scrape');
    assert.is(
      listed.resources,
      sampleValue(text, `${prefix}nodejs_active_resources_total`),
      'every resource listed once',
    );
    const openFds = sampleValue(text, `${prefix}process_open_fds`);
    assert.is(openFds, readdirSyncCount());
    // Kernels before 6.2 report no size for /proc/self/fd: there it is still listed.
    if (statSync('/proc/self/fd').size > 0) assert.is(listed.fdEntries, 0, 'descriptors counted by one stat');
  } finally {
    for (const client of clients) client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** The descriptors a listing sees, less the one the listing itself holds open. */
const readdirSyncCount = (): number => commonJsFs.readdirSync('/proc/self/fd').length - 1;

test.run();
