// The web UI in a real headless Chromium (playwright-core), against one real master whose state
// the test writes through the state machine: every page draws under the strict CSP with no
// script error; hostile names stay text; and 10,000 tasks keep the tasks page responsive — the
// render times are measured in the browser and printed (no wall-clock assertion: the machine is
// shared), and the DOM is checked to hold only a window of rows while the table has them all.
// Screenshots go to .artifacts/ui/ (the lines "screenshot: …" name them).
// flotilla-test-timeout-seconds: 600
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agentId, frameworkId, offerId, taskId } from '../../src/state-machine/ids.ts';
import { chromiumUnavailableReason, launchBrowser, screenshot, type Page, type UiBrowser } from '../support/browser.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { testUnless } from '../support/skip.ts';
import {
  A1,
  F1,
  baseTime,
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
import { proposeOk, propose } from './support/operator.ts';

/** Rendered by every page that names the framework: it must show as text, never become an element. */
const hostileName = '<img src=x id=injected>';
const bulkTasks = 10_000;
const tasksPerOffer = 250;
const bulkFramework = frameworkId('bulk');
const bulkAgent = agentId('big-agent');
const bulkId = (index: number): string => `bulk-${String(index).padStart(5, '0')}`;
/** Rows a tall viewport can show plus overscan; far below 10,000. */
const maxWindowRows = 120;

const whyNot = chromiumUnavailableReason();
let cluster: SingleMaster;
let browser: UiBrowser;

test.before(async () => {
  // The fixtures stamp commands in 2023: without offerTimeoutMs 0 their offers would expire at once.
  cluster = await startSingleMaster({ agentReregistrationGraceMs: 600_000, offerTimeoutMs: 0 });
  cluster.master.allocation.setSuppressedRoles(F1, ['web']);
  await proposeOk(
    cluster,
    registerAgent(A1, { attributes: { rack: 'r1' }, zone: 'zone-a' }),
    subscribe(F1, { name: hostileName, roles: ['web'] }),
    createOffers(offerDefinition(O1, resources(cpus(2), mem(256)), { role: 'web' })),
    accept(
      [O1],
      [launch(taskDefinition(T1, resources(cpus(1), mem(128))), taskDefinition(T2, resources(cpus(1), mem(128))))],
    ),
    updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1), source: 'SOURCE_EXECUTOR' }),
    updateStatus(T2, 'TASK_FAILED', { uuid: uuid(2), message: 'exited with status 3' }),
  );
  if (whyNot === undefined) browser = await launchBrowser();
});
test.after(async () => {
  await browser?.close();
  await cluster.stop();
});

async function open(page: Page, route: string): Promise<void> {
  await page.goto(`${cluster.url}/${route}`);
  await page.waitForFunction(() => document.getElementById('connection')?.textContent?.startsWith('live from'), null, {
    timeout: 60_000,
  });
}

function assertNoScriptTrouble(): void {
  const trouble = browser.problems.filter(
    (problem) => problem.startsWith('page error') || /Content.Security.Policy|Refused to/i.test(problem),
  );
  assert.equal(trouble, [], trouble.join('\n'));
}

testUnless(test, whyNot, 'every page draws live from the master, with hostile names as text', async () => {
  const page = await browser.newPage();
  await open(page, '#/cluster');
  await page.waitForSelector('#masters tbody tr .tag-leader', { timeout: 30_000 });
  assert.match((await page.textContent('#masters')) ?? '', 'leader');
  assert.match((await page.textContent('#cluster-summary')) ?? '', 'm1');
  await page.waitForSelector('.chart canvas', { timeout: 30_000 });
  await screenshot(page, 'single-cluster');

  await open(page, '#/frameworks');
  await page.waitForSelector('#frameworks-table tbody a', { timeout: 30_000 });
  assert.is(await page.textContent('#frameworks-table tbody a'), hostileName, 'the hostile name shows as text');
  assert.is(await page.$('#injected'), null, 'and never becomes an element');
  await page.waitForFunction(() => /\d+\.\d%/.test(document.getElementById('frameworks-table')?.textContent ?? ''));
  await screenshot(page, 'single-frameworks');

  await open(page, '#/agents');
  await page.waitForSelector('#agents-table .bar-used', { timeout: 30_000 });
  const agents = (await page.textContent('#agents-table')) ?? '';
  for (const expected of ['node1', 'zone-a', 'rack=r1', 'cpus: 1 used', 'active']) assert.match(agents, expected);
  await screenshot(page, 'single-agents');

  await open(page, '#/tasks');
  await page.waitForFunction(() => document.getElementById('tasks-count')?.textContent === '2 tasks');
  const rows = (await page.textContent('.vtable-spacer')) ?? '';
  assert.match(rows, 't1');
  assert.match(rows, 'running');
  assert.match(rows, 'failed');
  await page.click('.vtable-spacer >> text=t2');
  await page.waitForSelector('#task-facts dd', { timeout: 30_000 });
  assert.match((await page.textContent('#task-facts')) ?? '', 'exited with status 3');
  assert.match(page.url(), '#/task/f1/t2');
  await screenshot(page, 'single-task');

  await open(page, '#/allocation');
  await page.waitForSelector('#allocation table', { timeout: 30_000 });
  assert.match((await page.textContent('#allocation')) ?? '', hostileName);
  assert.is(await page.$('#injected'), null);
  await screenshot(page, 'single-allocation');
  assertNoScriptTrouble();
  await page.close();
});

/** 10,000 tasks through the state machine: 40 offers of 250 launches, then some updates. */
async function createBulkTasks(): Promise<void> {
  const offers = bulkTasks / tasksPerOffer;
  cluster.master.allocation.setSuppressedRoles(bulkFramework, ['bulk']);
  await proposeOk(
    cluster,
    registerAgent(bulkAgent, {
      hostname: 'big-node',
      resources: resources(cpus(bulkTasks), mem(bulkTasks * 16)),
    }),
    subscribe(bulkFramework, { name: 'bulk-framework', roles: ['bulk'] }),
    createOffers(
      ...Array.from({ length: offers }, (_, offer) =>
        offerDefinition(offerId(`bulk-offer-${offer}`), resources(cpus(tasksPerOffer), mem(tasksPerOffer * 16)), {
          frameworkId: bulkFramework,
          agentId: bulkAgent,
          role: 'bulk',
        }),
      ),
    ),
  );
  for (let offer = 0; offer < offers; offer += 1) {
    const tasks = Array.from({ length: tasksPerOffer }, (_, position) =>
      taskDefinition(taskId(bulkId(offer * tasksPerOffer + position)), resources(cpus(1), mem(16))),
    );
    await proposeOk(cluster, accept([offerId(`bulk-offer-${offer}`)], [launch(...tasks)], bulkFramework));
  }
  // Every tenth task runs, so the states differ; proposals in parallel share Raft's fsyncs.
  const running = Array.from({ length: bulkTasks / 10 }, (_, index) =>
    updateStatus(taskId(bulkId(index * 10)), 'TASK_RUNNING', {}, bulkFramework, bulkAgent),
  );
  const results = await Promise.all(running.map((command) => propose(cluster, command)));
  assert.ok(
    results.every((result) => result.ok),
    'every update applied',
  );
}

interface TableState {
  readonly count: string;
  readonly rowCount: number;
  readonly drawnRows: number;
  readonly firstRow: string;
}

const tableState = (page: Page): Promise<TableState> =>
  page.evaluate(() => {
    const table = document.querySelector('.vtable');
    const spacer = document.querySelector('.vtable-spacer');
    return {
      count: document.getElementById('tasks-count')?.textContent ?? '',
      rowCount: Number(table?.getAttribute('aria-rowcount') ?? 0) - 1,
      drawnRows: spacer?.childElementCount ?? 0,
      firstRow: spacer?.firstElementChild?.textContent ?? '',
    };
  });

testUnless(
  test,
  whyNot,
  `${bulkTasks.toLocaleString('en')} tasks: the tasks page draws a window of rows, live`,
  async () => {
    const setupStarted = performance.now();
    await createBulkTasks();
    const total = bulkTasks + 2;
    process.stdout.write(`created ${bulkTasks} tasks in ${Math.round(performance.now() - setupStarted)} ms\n`);
    const page = await browser.newPage();
    const loadStarted = performance.now();
    await page.goto(`${cluster.url}/#/tasks`);
    await page.waitForFunction(
      (count) => document.getElementById('tasks-count')?.textContent === `${count} tasks`,
      total,
      {
        timeout: 120_000,
      },
    );
    const firstDrawMs = performance.now() - loadStarted;
    const loaded = await tableState(page);
    assert.is(loaded.rowCount, total, 'the table has every task');
    assert.ok(
      loaded.drawnRows > 0 && loaded.drawnRows <= maxWindowRows,
      `only a window is drawn: ${loaded.drawnRows} rows`,
    );
    await screenshot(page, 'bulk-tasks');

    const keystrokeMs = await page.evaluate(() => {
      const input = document.getElementById('task-filter') as HTMLInputElement;
      const started = performance.now();
      input.value = 'bulk-0999';
      input.dispatchEvent(new Event('input'));
      return performance.now() - started;
    });
    const filtered = await tableState(page);
    assert.is(filtered.count, `10 of ${total} tasks`);
    assert.is(filtered.drawnRows, 10);
    const clearMs = await page.evaluate(() => {
      const input = document.getElementById('task-filter') as HTMLInputElement;
      const started = performance.now();
      input.value = '';
      input.dispatchEvent(new Event('input'));
      return performance.now() - started;
    });

    const scroll = await page.evaluate(async () => {
      const viewport = document.querySelector('.vtable-viewport') as HTMLElement;
      const started = performance.now();
      viewport.scrollTop = viewport.scrollHeight;
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      const rows = [...document.querySelectorAll('.vtable-spacer > .vtable-row')];
      return {
        ms: performance.now() - started,
        drawn: rows.length,
        lastIndex: Math.max(...rows.map((row) => Number(row.getAttribute('aria-rowindex')))),
      };
    });
    assert.is(scroll.lastIndex, total + 1, 'scrolled to the end, the last task is drawn');
    assert.ok(scroll.drawn <= maxWindowRows, `still a window after scrolling: ${scroll.drawn} rows`);
    await screenshot(page, 'bulk-tasks-end');

    // A live change among 10,000: the stream's TASK_UPDATED moves the task to the top.
    await page.evaluate(() => {
      (document.querySelector('.vtable-viewport') as HTMLElement).scrollTop = 0;
    });
    await proposeOk(
      cluster,
      updateStatus(
        taskId(bulkId(4321)),
        'TASK_FAILED',
        { message: 'seen live by the UI', timestampMs: baseTime + 60_000 },
        bulkFramework,
        bulkAgent,
      ),
    );
    await page.waitForFunction(
      () => document.querySelector('.vtable-spacer')?.textContent?.includes('bulk-04321'),
      null,
      {
        timeout: 30_000,
      },
    );
    const live = await tableState(page);
    assert.match(live.firstRow, 'bulk-04321');
    assert.match(live.firstRow, 'failed');
    const rebuilds = await page.evaluate(() => {
      const times = (globalThis as unknown as { flotillaUi: { renderStats: { times: Map<string, number[]> } } })
        .flotillaUi.renderStats.times;
      return times.get('tasks') ?? [];
    });
    const sorted = [...rebuilds].sort((left, right) => left - right);
    const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    process.stdout.write(
      `tasks page with ${total} tasks: first draw after ${Math.round(firstDrawMs)} ms (page load, snapshot, render); ` +
        `list rebuild median ${median.toFixed(1)} ms, max ${Math.max(...sorted).toFixed(1)} ms over ${sorted.length}; ` +
        `filter keystroke ${keystrokeMs.toFixed(1)} ms, clearing it ${clearMs.toFixed(1)} ms; ` +
        `scroll to the end drawn in ${scroll.ms.toFixed(1)} ms; ${loaded.drawnRows} of ${total} rows in the DOM\n`,
    );
    assertNoScriptTrouble();
    await page.close();
  },
);

test.run();
