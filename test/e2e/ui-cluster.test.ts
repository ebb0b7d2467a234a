// The web UI on a real cluster, in a real headless Chromium: three `flotilla master` processes
// (each with a --zone) and a real agent process. The dashboard shows the three masters with
// their zones and the agent; a task launched
// through the scheduler API appears live (no reload) and its stdout and stderr are shown, read
// through the masters; and SIGKILL of the leader — the very master that served the page — moves
// the page to the new leader without a reload: it keeps following the task's output, and a task
// launched after the failover appears live from the new leader's stream.
// Screenshots go to .artifacts/ui/ (the lines "screenshot: …" name them).
// flotilla-test-timeout-seconds: 600
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SchedulerClient } from '../../src/frameworks/sdk/client.ts';
import { newClient, OneTaskScheduler } from '../frameworks/support/cluster.ts';
import { chromiumUnavailableReason, launchBrowser, screenshot, type Page, type UiBrowser } from '../support/browser.ts';
import { testUnless } from '../support/skip.ts';
import { E2eCluster } from './support/cluster.ts';

const whyNot = chromiumUnavailableReason();
/** Writes to both files, then a numbered line a second for ten minutes at most. */
const taskCommand =
  'echo hello from stdout; echo hello from stderr >&2; i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo tick $i; sleep 1; done';
const liveTimeoutMs = 90_000;
/** Each master in a zone of its own (m1 in dc-m1, …): the page shows every member's zone. */
const zoneOf = (id: string): string => `dc-${id}`;

let cluster: E2eCluster;
let browser: UiBrowser;
const clients: SchedulerClient[] = [];

test.before(async () => {
  if (whyNot !== undefined) return;
  cluster = await E2eCluster.start('ui', ['cpus:2;mem:1024;disk:1000;ports:[31000-31009]'], [], (id) => [
    '--zone',
    zoneOf(id),
  ]);
  browser = await launchBrowser();
});
test.after(async () => {
  // A torn down framework's tasks are killed by the agent: nothing outlives the test.
  await Promise.all(clients.map((client) => client.teardown().catch(() => client.close())));
  await browser?.close();
  await cluster?.stop();
});

async function launchTask(taskId: string): Promise<{ frameworkId: string; scheduler: OneTaskScheduler }> {
  const client = newClient(cluster.masterList, { reconnect: { baseMs: 250, maxMs: 2_000 } });
  clients.push(client);
  const scheduler = new OneTaskScheduler(client, taskId, taskCommand);
  const frameworkId = await client.subscribe();
  await scheduler.waitForState('TASK_RUNNING', liveTimeoutMs);
  return { frameworkId, scheduler };
}

const connectionText = (page: Page): Promise<string> => page.textContent('#connection').then((text) => text ?? '');

/** The highest "tick N" the stdout pane shows. */
const lastTick = (page: Page): Promise<number> =>
  page.evaluate(() => {
    const ticks = [...(document.getElementById('output-stdout')?.textContent ?? '').matchAll(/tick (\d+)/g)];
    return ticks.length === 0 ? 0 : Number(ticks[ticks.length - 1]![1]);
  });

testUnless(test, whyNot, 'the dashboard shows three masters and the agent, live from the leader', async () => {
  const leader = await cluster.leader();
  const page = await browser.newPage();
  await page.goto(`http://${leader.address}/#/cluster`);
  await page.waitForFunction(
    (id) => document.getElementById('connection')?.textContent === `live from ${id}, the leader`,
    leader.id,
    { timeout: liveTimeoutMs },
  );
  // Every master answers its own GET_RAFT to the page: cross-origin for the two it was not served by.
  await page.waitForFunction(
    () => {
      const rows = [...document.querySelectorAll('#masters tbody tr')];
      return rows.length === 3 && rows.every((row) => !row.textContent?.includes('not answering'));
    },
    null,
    { timeout: liveTimeoutMs },
  );
  // Zones are learned through the replicated records: every row shows its member's zone.
  await page.waitForFunction(
    (zones) => {
      const rows = [...document.querySelectorAll('#masters tbody tr')];
      return zones.every(([id, zone]) =>
        rows.some((row) => row.textContent?.startsWith(id!) && row.textContent.includes(zone!)),
      );
    },
    cluster.masters.replicas.map((replica) => [replica.id, zoneOf(replica.id)]),
    { timeout: liveTimeoutMs },
  );
  const masters = (await page.textContent('#masters')) ?? '';
  for (const replica of cluster.masters.replicas) {
    assert.match(masters, replica.id);
    assert.match(masters, replica.address);
    assert.match(masters, zoneOf(replica.id));
  }
  assert.is(await page.textContent('#masters .tag-leader'), 'leader');
  assert.match((await page.textContent('#masters tr:has(.tag-leader)')) ?? '', leader.id);
  await page.waitForSelector('.chart canvas', { timeout: liveTimeoutMs });
  await screenshot(page, 'cluster-masters');

  await page.click('nav >> text=Agents');
  await page.waitForSelector('#agents-table tbody a', { timeout: liveTimeoutMs });
  const agents = (await page.textContent('#agents-table')) ?? '';
  assert.match(agents, cluster.agents[0]!.hostname);
  assert.match(agents, 'cpus: 0 used');
  assert.match(agents, '1 of 1 agents');
  await screenshot(page, 'cluster-agents');
  await page.close();
});

testUnless(
  test,
  whyNot,
  "a launched task appears live with its output; SIGKILL of the page's own leader moves the page without a reload",
  async () => {
    const leader = await cluster.leader();
    const page = await browser.newPage();
    await page.goto(`http://${leader.address}/#/tasks`);
    await page.waitForFunction(() => document.getElementById('tasks-count')?.textContent === '0 tasks', null, {
      timeout: liveTimeoutMs,
    });
    // Set in this document: a reload would lose it.
    await page.evaluate(() => {
      (globalThis as unknown as { loadedOnce: string }).loadedOnce = 'the same document';
    });

    const first = await launchTask('ui-task-1');
    await page.waitForFunction(
      () => /ui-task-1.*running/.test(document.querySelector('.vtable-spacer')?.textContent ?? ''),
      null,
      { timeout: liveTimeoutMs },
    );
    await page.click('.vtable-spacer >> text=ui-task-1');
    await page.waitForFunction(
      () =>
        (document.getElementById('output-stdout')?.textContent ?? '').includes('hello from stdout') &&
        (document.getElementById('output-stderr')?.textContent ?? '').includes('hello from stderr'),
      null,
      { timeout: liveTimeoutMs },
    );
    assert.match(page.url(), `#/task/${first.frameworkId}/ui-task-1`);
    await page.waitForFunction(() => /tick [2-9]/.test(document.getElementById('output-stdout')?.textContent ?? ''));
    await screenshot(page, 'cluster-task-output');

    const tickBeforeKill = await lastTick(page);
    await cluster.masters.kill(leader);
    const killedAt = performance.now();
    await page.waitForFunction(
      (dead) => {
        const text = document.getElementById('connection')?.textContent ?? '';
        return text.startsWith('live from ') && text.endsWith(', the leader') && !text.startsWith(`live from ${dead},`);
      },
      leader.id,
      { timeout: liveTimeoutMs, polling: 100 },
    );
    const movedAfterMs = performance.now() - killedAt;
    const newLeader = await cluster.leader(liveTimeoutMs, [leader.id]);
    assert.is(await connectionText(page), `live from ${newLeader.id}, the leader`);
    assert.is(
      await page.evaluate(() => (globalThis as unknown as { loadedOnce?: string }).loadedOnce),
      'the same document',
      'no reload',
    );
    // The output goes on, now read through another master.
    await page.waitForFunction(
      (before) => {
        const ticks = [...(document.getElementById('output-stdout')?.textContent ?? '').matchAll(/tick (\d+)/g)];
        return ticks.length > 0 && Number(ticks[ticks.length - 1]![1]) > before + 2;
      },
      tickBeforeKill,
      { timeout: liveTimeoutMs },
    );

    // A task launched now reaches the page through the new leader's stream.
    await page.click('nav >> text=Tasks');
    await launchTask('ui-task-2');
    await page.waitForFunction(
      () => /ui-task-2.*running/.test(document.querySelector('.vtable-spacer')?.textContent ?? ''),
      null,
      { timeout: liveTimeoutMs },
    );
    assert.match((await page.textContent('#tasks-count')) ?? '', '2 tasks');
    await screenshot(page, 'cluster-after-failover-tasks');

    await page.click('nav >> text=Cluster');
    await page.waitForFunction(
      (dead) =>
        [...document.querySelectorAll('#masters tbody tr')].some(
          (row) =>
            row.textContent?.startsWith(dead) &&
            row.textContent.includes('not answering') &&
            // A master that is down still shows its zone, from the leader's replicated view of the members.
            row.textContent.includes(`dc-${dead}`),
        ),
      leader.id,
      { timeout: liveTimeoutMs },
    );
    assert.match((await page.textContent('#masters tr:has(.tag-leader)')) ?? '', newLeader.id);
    await screenshot(page, 'cluster-after-failover');
    process.stdout.write(
      `the page followed ${leader.id} → ${newLeader.id} ${Math.round(movedAfterMs)} ms after the SIGKILL, without a reload\n`,
    );
    const trouble = browser.problems.filter(
      (problem) => problem.startsWith('page error') || /Content.Security.Policy|Refused to|CORS/i.test(problem),
    );
    assert.equal(trouble, [], trouble.join('\n'));
    await page.close();
  },
);

test.run();
