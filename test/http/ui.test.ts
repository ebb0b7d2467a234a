// The web UI: the page and its allow-listed assets on a real single-voter master, traversal
// attempts refused in the JSON error envelope, the scripts parse as ES modules, the pure model
// on its own, and — when a Chromium is installed — the page drawn by a real headless browser.
// flotilla-test-timeout-seconds: 240
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { uiAssetTypes } from '../../src/http/routes/ui.ts';
import { ProcessCluster } from '../raft/support/process-cluster.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import {
  A1,
  F1,
  O1,
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
import { proposeOk } from './support/operator.ts';

const run = promisify(execFile);
const uiFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/http/ui');
const scriptNames = Object.keys(uiAssetTypes).filter((name) => name.endsWith('.js'));
/** Rendered into the page by the browser test: it must show as text, never become an element. */
const hostileName = '<img src=x id=injected>';

let cluster: SingleMaster;
test.before(async () => {
  cluster = await startSingleMaster();
  // The allocator runs on this master; with f1 suppressed the offer made here is the only one.
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

test('GET / is the HTML page that loads the UI module', async () => {
  const response = await fetch(`${cluster.url}/`);
  assert.is(response.status, 200);
  assert.is(response.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.is(response.headers.get('cache-control'), 'no-cache');
  assert.match(response.headers.get('content-security-policy') ?? '', "script-src 'self'");
  const html = await response.text();
  assert.match(html, '<script type="module" src="/ui/app.js"></script>');
  assert.match(html, '<link rel="stylesheet" href="/ui/style.css">');
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
  const head = await fetch(`${cluster.url}/ui/app.js`, { method: 'HEAD' });
  assert.is(head.status, 200);
});

test('the page references only allow-listed assets, and every module import is allow-listed too', async () => {
  const html = await (await fetch(`${cluster.url}/`)).text();
  const references = [...html.matchAll(/(?:src|href)="\/ui\/([^"]+)"/g)].map((match) => match[1]!);
  assert.ok(references.length >= 2);
  for (const name of references) assert.ok(Object.hasOwn(uiAssetTypes, name), name);
  for (const name of scriptNames) {
    const source = await (await fetch(`${cluster.url}/ui/${name}`)).text();
    for (const match of source.matchAll(/^import .* from '\.\/([^']+)';$/gm))
      assert.ok(Object.hasOwn(uiAssetTypes, match[1]!), `${name} imports ${match[1]}`);
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

test('every UI script parses as an ES module (node --check) and never writes markup', async () => {
  assert.ok(scriptNames.length >= 1);
  for (const name of scriptNames) {
    await run(process.execPath, ['--check', path.join(uiFolder, name)]);
    // Text reaches the page as text nodes only: these are the ways data could become markup.
    const source = readFileSync(path.join(uiFolder, name), 'utf8');
    assert.not.match(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, name);
  }
});

interface UiModel {
  sumResources(resources: unknown): Map<string, number>;
  resourceBars(agent: unknown): { name: string; usedFraction: number; offeredFraction: number; label: string }[];
  frameworkRows(
    frameworks: unknown,
    tasks: unknown,
    allocation: unknown,
  ): { id: string; name: string; tasks: number; dominantShare: string }[];
  taskRows(state: unknown): { id: string; state: string; stateClass: string; message: string }[];
  filterTasks<Row>(rows: Row[], text: string): Row[];
  formatAgo(thenMs: number, nowMs: number): string;
  leaderUrl(address: unknown, protocol: string): string | null;
}

async function loadModel(): Promise<UiModel> {
  const moduleUrl = pathToFileURL(path.join(uiFolder, 'model.js')).href;
  return (await import(moduleUrl)) as UiModel;
}

test("the UI model draws rows from the master's own GET_STATE and GET_ALLOCATION answers", async () => {
  const model = await loadModel();
  const call = async (type: string): Promise<unknown> => {
    const response = await fetch(`${cluster.url}/api/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type }),
    });
    assert.is(response.status, 200, type);
    return ((await response.json()) as Record<string, unknown>)[type.toLowerCase()];
  };
  const state = (await call('GET_STATE')) as {
    get_agents: { agents: unknown[] };
    get_frameworks: unknown;
    get_tasks: unknown;
  };
  const allocation = await call('GET_ALLOCATION');
  const bars = model.resourceBars(state.get_agents.agents[0]);
  const cpuBar = bars.find((bar) => bar.name === 'cpus')!;
  assert.ok(cpuBar.usedFraction > 0 && cpuBar.usedFraction <= 1, cpuBar.label);
  assert.equal(bars.map((bar) => bar.name).slice(0, 2), ['cpus', 'mem']);
  const [framework] = model.frameworkRows(state.get_frameworks, state.get_tasks, allocation);
  assert.is(framework!.name, hostileName);
  assert.is(framework!.tasks, 1, 'the failed task is not live');
  assert.match(framework!.dominantShare, /^\d+\.\d%$/);
  assert.is(model.frameworkRows(state.get_frameworks, state.get_tasks, null)[0]!.dominantShare, 'on the leader');
  const tasks = model.taskRows(state);
  const failed = tasks.find((row) => row.id === 't2')!;
  assert.is(failed.stateClass, 'state-failed');
  assert.match(failed.message, 'exited with status 3');
  assert.equal(
    model.filterTasks(tasks, '  RUNNING ').map((row) => row.id),
    ['t1'],
  );
  assert.is(model.filterTasks(tasks, '').length, 2);
});

test("the UI model's small pieces: sums, ages, and links only to a host:port", async () => {
  const model = await loadModel();
  const sums = model.sumResources([
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
  assert.equal(model.sumResources('not a list'), new Map());
  assert.is(model.formatAgo(10_000, 10_500), 'just now');
  assert.is(model.formatAgo(0, 12_000), '12s ago');
  assert.is(model.formatAgo(0, 125_000), '2m ago');
  assert.is(model.leaderUrl('127.0.0.1:5050', 'http:'), 'http://127.0.0.1:5050/');
  assert.is(model.leaderUrl('m1.example:5050', 'https:'), 'https://m1.example:5050/');
  for (const hostile of ['javascript:alert(1)', '127.0.0.1:5050/../x', 'evil.com:80"><b', null, 7, '']) {
    assert.is(model.leaderUrl(hostile, 'http:'), null, String(hostile));
  }
});

/** The Chromium binary on PATH, or undefined. */
function findChromium(): string | undefined {
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
      const candidate = path.join(folder, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // Not here: keep looking.
      }
    }
  }
  return undefined;
}

const chromium = findChromium();

const noChromium = chromium === undefined ? 'no chromium' : undefined;

/** The page's DOM after a couple of refreshes, as a headless Chromium drew it. */
async function browserDom(pageUrl: string): Promise<string> {
  const args = [
    '--headless',
    '--disable-gpu',
    '--no-first-run',
    `--user-data-dir=${makeTempDir('chromium-')}`,
    // Virtual time runs the page's timers fast and waits for its fetches: a couple of refreshes.
    '--virtual-time-budget=3000',
    '--dump-dom',
    pageUrl,
  ];
  // Chromium refuses to run as root with its sandbox on (CI runs as root).
  if (process.getuid?.() === 0) args.unshift('--no-sandbox');
  const { stdout } = await run(chromium!, args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

testUnless(
  test,
  noChromium,
  'a headless Chromium draws the page: this master as leader, its tasks, names as text',
  async () => {
    const stdout = await browserDom(`${cluster.url}/`);
    assert.match(stdout, '<dd id="master-id">m1</dd>');
    assert.match(stdout, /<dd id="master-role" class="role-leader">leader<\/dd>/);
    assert.match(stdout, 'exited with status 3');
    assert.match(stdout, /class="state state-running">TASK_RUNNING</);
    assert.match(stdout, '&lt;img src=x id=injected&gt;', 'the hostile framework name is shown as text');
    assert.not.match(stdout, 'id="injected"', 'and never becomes an element');
    assert.not.match(stdout, 'not answering', stdout);
  },
);

testUnless(
  test,
  noChromium,
  'on a follower the page shows its own view and links to the leader; without a quorum, its stale state',
  async () => {
    const masters = await ProcessCluster.start(makeTempDir('ui-masters-'), 3, [], 'master');
    try {
      const leader = await masters.waitForLeader();
      const [follower, other] = masters.replicas.filter((replica) => replica.id !== leader.id);
      await waitFor(async () => (await masters.status(follower!))?.leader === leader.address, {
        timeoutMs: 20_000,
        what: `${follower!.id} to know the leader`,
      });
      const followerView = await browserDom(`http://${follower!.address}/`);
      assert.match(followerView, `<dd id="master-id">${follower!.id}</dd>`);
      assert.match(followerView, /class="role-follower">follower</);
      assert.match(followerView, `<a href="http://${leader.address}/">open the leader's page (${leader.address})</a>`);
      assert.match(followerView, '<span class="tag">leader</span>', 'the members table marks the leader');
      assert.not.match(followerView, 'not answering', followerView);

      await Promise.all([masters.kill(leader), masters.kill(other!)]);
      await waitFor(async () => (await masters.status(follower!))?.leader === '', {
        timeoutMs: 30_000,
        what: `${follower!.id} to lose the leader`,
      });
      const alone = await browserDom(`http://${follower!.address}/`);
      assert.match(alone, `<dd id="master-id">${follower!.id}</dd>`);
      assert.match(alone, 'possibly behind', 'GET_STATE fell back to ?stale=true');
      assert.match(alone, 'no leader is known now');
      assert.not.match(alone, 'not answering', alone);
    } finally {
      await masters.stop();
    }
  },
);

test.run();
