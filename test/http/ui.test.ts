// The web UI without a browser: the page and its allow-listed assets on a real single-voter
// master (the chart library from node_modules too), traversal attempts refused in the JSON error
// envelope, every script parses as an ES module and never writes markup, and the UI's pure
// modules run in Node against the master's real answers — the store kept from the real
// SUBSCRIBE stream (read by the page's own api.js) agrees with a fresh snapshot after live
// changes, RecordIO split anywhere, bounded series, the leader search order, routes.
// The browser tests are ui-browser.test.ts (one master) and test/e2e/ui-cluster.test.ts.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { uiAssetTypes, uiVendorFiles } from '../../src/http/routes/ui.ts';
import { renderUiTaskStates, uiTaskStatesFile } from '../../src/http/ui-task-states.ts';
import { skipReasonCodes } from '../../src/offers/skip-reasons.ts';
import { taskStates } from '../../src/protocol/task-states.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import {
  A1,
  F1,
  O1,
  O2,
  T1,
  T2,
  accept,
  cpus,
  createOffers,
  launch,
  mem,
  offerDefinition,
  registerAgent,
  resources,
  subscribe,
  taskDefinition,
  updateStatus,
  uuid,
} from '../state-machine/support/fixtures.ts';
import { taskId } from '../../src/state-machine/ids.ts';
import { proposeOk } from './support/operator.ts';

const run = promisify(execFile);
const uiFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/http/ui');
const ownScripts = Object.keys(uiAssetTypes).filter((name) => name.endsWith('.js') && !(name in uiVendorFiles));
const hostileName = '<img src=x id=injected>';
const T3 = taskId('t3');

// biome-ignore lint/suspicious/noExplicitAny: the UI's modules are plain JavaScript, typed by use here.
type Module = Record<string, any>;
const load = (name: string): Promise<Module> => import(pathToFileURL(path.join(uiFolder, name)).href);

let cluster: SingleMaster;
test.before(async () => {
  // No agent process: the fixture agent must not be marked unreachable while the tests run.
  cluster = await startSingleMaster({ agentReregistrationGraceMs: 600_000 });
  cluster.master.allocation.setSuppressedRoles(F1, ['web']);
  await proposeOk(
    cluster,
    registerAgent(A1, { attributes: { rack: 'r1' } }),
    subscribe(F1, { name: hostileName, roles: ['web'] }),
    createOffers(offerDefinition(O1, resources(cpus(2), mem(256)), { role: 'web' })),
    accept(
      [O1],
      [launch(taskDefinition(T1, resources(cpus(1), mem(128))), taskDefinition(T2, resources(cpus(1), mem(128))))],
    ),
    updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1), source: 'SOURCE_EXECUTOR' }),
    updateStatus(T2, 'TASK_FAILED', { uuid: uuid(2), message: 'exited with status 3' }),
  );
});
test.after(async () => {
  await cluster.stop();
});

/** A GET with the path sent exactly as written (fetch would normalise `..` away first). */
function rawGet(rawPath: string): Promise<{ status: number; contentType: string; body: string }> {
  const { hostname, port } = new URL(cluster.url);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: hostname, port, path: rawPath, method: 'GET' }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: String(response.headers['content-type'] ?? ''),
          body,
        }),
      );
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

test("the UI's task states are generated from src/protocol/task-states.ts and up to date", () => {
  const written = readFileSync(uiTaskStatesFile, 'utf8');
  assert.is(
    written,
    renderUiTaskStates(),
    'src/http/ui/task-states.js is stale: run npx tsx scripts/generate-ui-modules.ts',
  );
});

test('GET / is the HTML page that loads the UI module and its styles', async () => {
  const response = await fetch(`${cluster.url}/`);
  assert.is(response.status, 200);
  assert.is(response.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.is(response.headers.get('cache-control'), 'no-cache');
  assert.match(response.headers.get('content-security-policy') ?? '', "script-src 'self'");
  const html = await response.text();
  assert.match(html, '<script type="module" src="/ui/app.js"></script>');
  assert.match(html, '<link rel="stylesheet" href="/ui/style.css">');
  assert.match(html, '<link rel="stylesheet" href="/ui/uplot.css">');
  assert.not.match(html, /https?:\/\//, 'nothing of the page comes from another host');
});

test('every allow-listed asset is served with its content type, and revalidates with its ETag', async () => {
  const expected: Record<string, string> = {
    html: 'text/html; charset=utf-8',
    js: 'text/javascript; charset=utf-8',
    css: 'text/css; charset=utf-8',
  };
  for (const [name, contentType] of Object.entries(uiAssetTypes)) {
    assert.is(contentType, expected[name.split('.').pop()!], name);
    const response = await fetch(`${cluster.url}/ui/${name}`);
    assert.is(response.status, 200, name);
    assert.is(response.headers.get('content-type'), contentType, name);
    assert.is(response.headers.get('x-content-type-options'), 'nosniff', name);
    const etag = response.headers.get('etag') ?? '';
    assert.ok(etag.startsWith('"'), name);
    assert.ok((await response.text()).length > 0, name);
    const again = await fetch(`${cluster.url}/ui/${name}`, { headers: { 'if-none-match': etag } });
    assert.is(again.status, 304, name);
    assert.is(await again.text(), '', name);
  }
  const chartLibrary = await (await fetch(`${cluster.url}/ui/uplot.js`)).text();
  assert.match(chartLibrary, 'export { uPlot as default }', 'uPlot comes from node_modules, as an ES module');
});

test('the allow-list and the folder agree, and every import and stylesheet is allow-listed', async () => {
  const files = readdirSync(uiFolder).sort();
  const own = Object.keys(uiAssetTypes)
    .filter((name) => !(name in uiVendorFiles))
    .sort();
  assert.equal(files, own, 'a file in src/http/ui/ is served exactly when it is allow-listed');
  const html = await (await fetch(`${cluster.url}/`)).text();
  const references = [...html.matchAll(/(?:src|href)="\/ui\/([^"]+)"/g)].map((match) => match[1]!);
  assert.ok(references.length >= 3);
  for (const name of references) assert.ok(Object.hasOwn(uiAssetTypes, name), name);
  for (const name of ownScripts) {
    const source = readFileSync(path.join(uiFolder, name), 'utf8');
    const imports = [...source.matchAll(/^import (?:.+ from )?'\.\/([^']+)';$/gm)].map((match) => match[1]!);
    for (const imported of imports) assert.ok(Object.hasOwn(uiAssetTypes, imported), `${name} imports ${imported}`);
    assert.not.match(source, /^import .*'(?!\.\/)[^']*';$/m, `${name} imports only the UI's own files`);
  }
});

test('unknown UI files and traversal attempts are 404 in the JSON error envelope', async () => {
  const attempts = [
    '/ui/nope.js',
    '/ui/',
    '/ui',
    '/ui/APP.JS',
    '/ui/app.js/',
    '/ui/__proto__',
    '/ui/constructor',
    '/ui/hasOwnProperty',
    '/ui/toString',
    '/ui/../server.ts',
    '/ui/../routes/ui.ts',
    '/ui/..%2fserver.ts',
    '/ui/..%2Froutes%2Fui.ts',
    '/ui/%2e%2e/server.ts',
    '/ui/%2e%2e%2fserver.ts',
    '/ui/..%5cserver.ts',
    '/ui/%2E%2E%2F%2E%2E%2Fpackage.json',
    '/ui/app.js%00',
    '/ui//etc/passwd',
    '/ui/ui.ts',
    '/ui/uPlot.esm.js',
    '/ui/uplot%2fdist%2fuPlot.esm.js',
    '/ui/index.html/..',
    '/index.html',
    '/ui.ts',
  ];
  for (const attempt of attempts) {
    const response = await rawGet(attempt);
    assert.is(response.status, 404, attempt);
    assert.match(response.contentType, 'application/json', attempt);
    assert.is((JSON.parse(response.body) as { error: { code: string } }).error.code, 'NOT_FOUND', attempt);
  }
});

test('every UI script parses as an ES module, and none (uPlot included) writes markup', async () => {
  assert.ok(ownScripts.length >= 20);
  const vendor = Object.values(uiVendorFiles).map((file) => fileURLToPath(import.meta.resolve(file)));
  for (const file of [...ownScripts.map((name) => path.join(uiFolder, name)), ...vendor]) {
    if (file.endsWith('.js')) await run(process.execPath, ['--check', file]);
    // Text reaches the page as text nodes only: these are the ways data could become markup.
    assert.not.match(
      readFileSync(file, 'utf8'),
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(['"]style/,
      file,
    );
  }
});

/** The first events of a real SUBSCRIBE stream, read by the page's own api.js in Node. */
async function openStream(signal: AbortSignal): Promise<AsyncGenerator<Module>> {
  const { MasterClient } = await load('api.js');
  return new MasterClient(cluster.url).subscribe({ signal });
}

async function next(events: AsyncGenerator<Module>, type: string): Promise<Module> {
  for (;;) {
    const { value, done } = await events.next();
    if (done) assert.unreachable(`the stream ended before ${type}`);
    if (value.type === type) return value;
  }
}

const plain = (map: Map<string, unknown>): Record<string, unknown> =>
  Object.fromEntries([...map].map(([key, value]) => [key, value instanceof Map ? plain(value) : value]));

test("the store follows the master's real event stream and agrees with a fresh snapshot after it", async () => {
  const { ClusterStore } = await load('store.js');
  const abort = new AbortController();
  const events = await openStream(abort.signal);
  try {
    const store = new ClusterStore();
    store.reset((await next(events, 'SUBSCRIBED')).subscribed.get_state);
    assert.equal(plain(store.stateCounts), { TASK_RUNNING: 1, TASK_FAILED: 1 });
    assert.equal(plain(store.usedByAgent), { a1: { cpus: 1, mem: 128 } }, 'only the live task uses the agent');
    assert.is(store.frameworkName('f1'), hostileName);
    assert.is(store.agentHostname('a1'), 'node1');
    assert.is(store.agents.get('a1').attributes, 'rack=r1');
    assert.is(store.tasks.get('f1/t2').message, 'exited with status 3');
    const before = store.revision.tasks;
    await proposeOk(
      cluster,
      createOffers(offerDefinition(O2, resources(cpus(1), mem(64)), { role: 'web' })),
      accept([O2], [launch(taskDefinition(T3, resources(cpus(0.5), mem(64)), { name: 'third' }))]),
      updateStatus(T3, 'TASK_RUNNING', { uuid: uuid(3), healthy: true }),
      updateStatus(T1, 'TASK_FINISHED', { uuid: uuid(4), message: 'done' }),
    );
    for (const type of ['TASK_ADDED', 'TASK_UPDATED', 'TASK_UPDATED'])
      assert.is(store.apply(await next(events, type)), 'tasks');
    assert.ok(store.revision.tasks > before);
    const third = store.tasks.get('f1/t3');
    assert.is(third.state, 'TASK_RUNNING');
    assert.is(third.healthy, true);
    assert.is(third.name, 'third');
    assert.ok(third.startedAtMs > 0);
    assert.equal(
      store.taskList().map((record: Module) => record.id),
      ['t1', 't2', 't3'],
      'arrival order; updated records swapped in place',
    );
    assert.is(store.taskList()[0], store.tasks.get('f1/t1'));
    const fresh = new ClusterStore();
    fresh.reset(
      (
        await (
          await fetch(`${cluster.url}/api/v1`, {
            method: 'POST',
            body: '{"type":"GET_STATE"}',
            headers: { 'content-type': 'application/json' },
          })
        ).json()
      ).get_state,
    );
    for (const field of [
      'stateCounts',
      'usedByAgent',
      'liveTasksByFramework',
      'tasksByFramework',
      'liveTasksByAgent',
    ]) {
      assert.equal(plain(store[field]), plain(fresh[field]), `${field}: incremental = snapshot`);
    }
    assert.equal(plain(store.usedByAgent), { a1: { cpus: 0.5, mem: 64 } });
  } finally {
    abort.abort();
  }
});

test("GET_AGENTS merges into the store, but never undoes a newer event or another snapshot's state", async () => {
  const { ClusterStore } = await load('store.js');
  const call = async (type: string): Promise<Module> =>
    (
      await (
        await fetch(`${cluster.url}/api/v1`, {
          method: 'POST',
          body: JSON.stringify({ type }),
          headers: { 'content-type': 'application/json' },
        })
      ).json()
    )[type.toLowerCase()];
  const store = new ClusterStore();
  store.reset(await call('GET_STATE'));
  const asked = store.position();
  const answer = await call('GET_AGENTS');
  store.apply({ type: 'AGENT_REMOVED', agent_removed: { agent_id: { value: 'a1' } } });
  assert.is(store.mergeAgents(answer, asked), true);
  assert.is(store.agents.get('a1').state, 'REMOVED', 'the removal came after the question: it stands');
  const later = store.position();
  assert.is(store.mergeAgents({ agents: [] }, later), true);
  store.reset(await call('GET_STATE'));
  assert.is(store.mergeAgents({ agents: [] }, later), false, 'an answer about the previous snapshot is dropped');
  assert.is(store.agents.get('a1').state, 'ACTIVE');
  assert.is(store.mergeAgents({ agents: [] }, store.position()), true);
  assert.is(store.agents.get('a1').state, 'REMOVED', 'an agent GET_AGENTS no longer lists was removed');
});

test('frameworks show the dominant share of the real GET_ALLOCATION', async () => {
  const { ClusterStore } = await load('store.js');
  const { frameworkRows } = await load('page-frameworks.js');
  const post = async (type: string): Promise<Module> =>
    (
      await (
        await fetch(`${cluster.url}/api/v1`, {
          method: 'POST',
          body: JSON.stringify({ type }),
          headers: { 'content-type': 'application/json' },
        })
      ).json()
    )[type.toLowerCase()];
  const store = new ClusterStore();
  store.reset(await post('GET_STATE'));
  const [row] = frameworkRows(store, await post('GET_ALLOCATION'));
  assert.is(row.name, hostileName);
  assert.ok(row.dominantShare > 0 && row.dominantShare <= 1, String(row.dominantShare));
  assert.is(row.liveTasks, 1);
  assert.is(row.allTasks, 3);
  assert.is(frameworkRows(store, null)[0].dominantShare, null);
});

test('RecordIO decodes records however the chunks split them', async () => {
  const { RecordIoDecoder, RecordIoError } = await load('recordio.js');
  const records = ['{"type":"SUBSCRIBED"}', '', '{"type":"HEARTBEAT","note":"é ✓"}', 'x'.repeat(70_000)];
  const wire = Buffer.concat(
    records.map((record) => Buffer.concat([Buffer.from(`${Buffer.byteLength(record)}\n`), Buffer.from(record)])),
  );
  for (const size of [1, 2, 3, 7, 64, 4096, wire.length]) {
    const decoder = new RecordIoDecoder();
    const out: string[] = [];
    for (let start = 0; start < wire.length; start += size)
      out.push(...decoder.push(new Uint8Array(wire.subarray(start, start + size))));
    assert.equal(out, records, `chunks of ${size}`);
    assert.ok(decoder.idle);
  }
  assert.throws(
    () => new RecordIoDecoder().push(new TextEncoder().encode('12x\n')),
    (error: Error) => error instanceof RecordIoError,
  );
  assert.throws(
    () => new RecordIoDecoder().push(new TextEncoder().encode('\n')),
    (error: Error) => error instanceof RecordIoError,
  );
  assert.throws(() => new RecordIoDecoder(10).push(new TextEncoder().encode('11\n')), /exceeds 10/);
  assert.throws(
    () => new RecordIoDecoder().push(new TextEncoder().encode('12345678901234567\n')),
    (error: Error) => error instanceof RecordIoError,
  );
});

test('series keep their last samples only; rates skip a counter that went back', async () => {
  const { TimeSeries, RateMeter } = await load('series.js');
  const series = new TimeSeries(['a', 'b'], 3);
  for (let step = 1; step <= 5; step += 1) series.push(step * 1000, [step, step === 4 ? Number.NaN : step * 10]);
  assert.equal(series.data(), [
    [3, 4, 5],
    [3, 4, 5],
    [30, null, 50],
  ]);
  assert.equal(series.latest(), [5, 50]);
  assert.throws(() => series.push(6000, [1]), /1 values for 2 columns/);
  const rate = new RateMeter();
  assert.ok(Number.isNaN(rate.read(100, 0)));
  assert.is(rate.read(150, 2000), 25);
  assert.ok(Number.isNaN(rate.read(120, 3000)), 'a counter that went back gives no rate');
  assert.is(rate.read(130, 4000), 10);
});

test('the history samples cluster, agents and task states from the store', async () => {
  const { ClusterStore } = await load('store.js');
  const { ClusterHistory, taskStateGroups } = await load('sampler.js');
  const grouped = taskStateGroups.flatMap((group: Module) => group.states).sort();
  assert.equal(grouped, [...taskStates].sort(), 'every Mesos task state is in exactly one chart group');
  const store = new ClusterStore();
  store.reset(
    (
      await (
        await fetch(`${cluster.url}/api/v1`, {
          method: 'POST',
          body: '{"type":"GET_STATE"}',
          headers: { 'content-type': 'application/json' },
        })
      ).json()
    ).get_state,
  );
  const history = new ClusterHistory();
  history.sample(store, 10, 1000);
  history.sample(store, 30, 3000);
  assert.equal(history.cluster.latest(), [0.5, 4, 64, 4096]);
  assert.equal(history.agents.get('a1').latest(), [0.5, 4, 64, 4096]);
  const groups = Object.fromEntries(
    taskStateGroups.map((group: Module, index: number) => [group.name, history.taskStates.latest()[index]]),
  );
  assert.equal(groups, { running: 1, starting: 0, finished: 1, killed: 0, 'failed or lost': 1, unreachable: 0 });
  assert.equal(history.commitRate.latest(), [10]);
});

test('tasks filter by state and text (names from lookups too), newest update first', async () => {
  const { taskRecord, updatedRecord, taskFilter, compareTasks, isLive } = await load('task-rows.js');
  const task = (id: string, state: string, seconds: number) =>
    taskRecord({
      task_id: { value: id },
      framework_id: { value: 'f1' },
      agent_id: { value: 'a1' },
      name: `name-${id}`,
      state,
      resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }],
      statuses: [{ state, timestamp: seconds, message: state === 'TASK_FAILED' ? 'exit 3' : undefined }],
    });
  const rows = [task('a', 'TASK_RUNNING', 10), task('b', 'TASK_FAILED', 30), task('c', 'TASK_STAGING', 20)];
  const names = { framework: () => 'Services', agent: () => 'node-7' };
  const ids = (filter: Module) =>
    rows
      .filter(taskFilter(filter, names))
      .sort(compareTasks)
      .map((row: Module) => row.id);
  assert.equal(ids({}), ['b', 'c', 'a']);
  assert.equal(ids({ state: 'live' }), ['c', 'a']);
  assert.equal(ids({ state: 'terminal' }), ['b']);
  assert.equal(ids({ state: 'TASK_STAGING' }), ['c']);
  assert.equal(ids({ text: ' EXIT ' }), ['b']);
  assert.equal(ids({ text: 'services' }), ['b', 'c', 'a'], 'the framework name matches');
  assert.equal(ids({ text: 'node-7', state: 'live' }), ['c', 'a'], 'the agent hostname matches');
  assert.equal(ids({ text: 'nothing' }), []);
  const running = updatedRecord(rows[2], {
    state: 'TASK_RUNNING',
    status: { state: 'TASK_RUNNING', timestamp: 40, healthy: false },
  });
  assert.is(running.startedAtMs, 40_000);
  assert.is(running.healthy, false);
  assert.is(rows[2].state, 'TASK_STAGING', 'records are replaced, never changed');
  assert.ok(Object.isFrozen(running));
  assert.ok(isLive('TASK_UNREACHABLE') && !isLive('TASK_GONE_BY_OPERATOR'));
});

test('formatting, resource bars, and master origins made only from a host:port', async () => {
  const format = await load('format.js');
  const { sumResources, resourceBars } = await load('resources.js');
  const sums = sumResources([
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1.5 } },
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } },
    {
      name: 'ports',
      type: 'RANGES',
      ranges: {
        range: [
          { begin: 31000, end: 31009 },
          { begin: 32000, end: 32000 },
        ],
      },
    },
    { type: 'SCALAR' },
    null,
  ]);
  assert.equal(
    [...sums],
    [
      ['cpus', 2],
      ['ports', 11],
    ],
  );
  assert.equal(sumResources('not a list'), new Map());
  const [bar] = resourceBars(new Map([['cpus', 4]]), new Map([['cpus', 1]]), new Map([['cpus', 2]]));
  assert.equal([bar.usedFraction, bar.offeredFraction], [0.25, 0.5]);
  assert.is(bar.label, 'cpus: 1 used, 2 offered of 4');
  assert.is(format.formatAgo(10_000, 10_500), 'just now');
  assert.is(format.formatAgo(0, 125_000), '2m ago');
  assert.is(format.formatAmount('mem', 2048), '2 GiB');
  assert.is(format.masterOrigin('127.0.0.1:5050', 'http:'), 'http://127.0.0.1:5050');
  assert.is(format.masterOrigin('[::1]:5050', 'https:'), 'https://[::1]:5050');
  for (const hostile of ['javascript:alert(1)', '127.0.0.1:5050/../x', 'evil.com:80"><b', 'a@b:1', null, 7, '']) {
    assert.is(format.masterOrigin(hostile, 'http:'), null, String(hostile));
  }
});

test('the leader search asks the named leader, the followed master, the page, then the members', async () => {
  const { MasterDirectory } = await load('leader-finder.js');
  const directory = new MasterDirectory('http://localhost:5050', 'http:');
  assert.equal(directory.candidates(null, null), ['http://localhost:5050']);
  const members = [
    { id: 'm1', address: '127.0.0.1:5050' },
    { id: 'm2', address: '127.0.0.1:5051' },
    { id: 'm3', address: 'javascript:x' },
  ];
  directory.learn({ id: 'm1', members }, 'http://localhost:5050');
  assert.is(directory.originOf('127.0.0.1:5050'), 'http://localhost:5050', "the page's own master by the page's name");
  assert.equal(
    directory.members().map((member: Module) => member.origin),
    ['http://localhost:5050', 'http://127.0.0.1:5051'],
    'a strange address is never a member',
  );
  assert.equal(directory.candidates('127.0.0.1:5051', 'http://localhost:5050'), [
    'http://127.0.0.1:5051',
    'http://localhost:5050',
  ]);
  directory.learn({ id: 'm2', members: [] }, 'http://127.0.0.1:5051');
  assert.is(directory.members().length, 2, 'an empty member list teaches nothing');
});

test('routes: parts decoded, pages registered once, the first navigation page by default', async () => {
  const { parseRoute, PageRegistry } = await load('pages.js');
  const { routeHref } = await load('dom.js');
  assert.equal(parseRoute('#/task/f%2F1/t1'), ['task', 'f/1', 't1']);
  assert.equal(parseRoute(routeHref('task', 'a b', 'ü@x')), ['task', 'a b', 'ü@x']);
  assert.equal(parseRoute('#/%E0%A4%A'), []);
  assert.equal(parseRoute(''), []);
  const registry = new PageRegistry();
  const page = (id: string, order: number, nav: boolean) => ({
    id,
    title: id,
    order,
    nav,
    match: (parts: string[]) => (parts[0] === id ? { id } : null),
    create: () => null,
  });
  registry.register(page('b', 20, true));
  registry.register(page('a', 10, true));
  registry.register(page('hidden', 5, false));
  assert.throws(() => registry.register(page('a', 1, true)), /twice/);
  assert.equal(
    registry.navigation().map((entry: Module) => entry.id),
    ['a', 'b'],
  );
  assert.is(registry.resolve(['b']).page.id, 'b');
  assert.is(registry.resolve(['hidden']).page.id, 'hidden');
  assert.is(registry.resolve(['nothing']).page.id, 'a');
});

test('a 401 to a call sent without the token just typed does not wipe it (the login reload race)', async () => {
  const { loginRequired, onLoginRequired, setToken, tokenInUse } = await load('auth.js');
  const told: { refused: boolean }[] = [];
  const stopListening = onLoginRequired((event: { refused: boolean }) => told.push(event));
  try {
    setToken('typed-in-the-form');
    // A poll sent before the login, answered 401 before the page reloads.
    loginRequired(null);
    assert.is(tokenInUse(), 'typed-in-the-form');
    assert.equal(told, []);
    loginRequired('typed-in-the-form');
    assert.is(tokenInUse(), null);
    assert.equal(told, [{ refused: true }]);
  } finally {
    stopListening();
  }
});

test('the why-not-placed page explains every allocator skip reason, and no other', async () => {
  const { skipReasonTexts } = await load('page-allocation.js');
  assert.equal(Object.keys(skipReasonTexts).sort(), Object.keys(skipReasonCodes).sort());
});

test.run();
