// The services and jobs pages of the web UI, in a real headless Chromium, on three real master
// processes hosting both frameworks and a real agent. The services page shows an app with its
// running and healthy instances, each instance (state, where), the deployment in progress with
// its step, and an app that cannot be placed (more cpus than any agent has) in the waiting
// list with why (InsufficientCpus, from /v2/queue); the jobs page shows a
// job with its schedule and next run, and its finished run in the history. Both pages update
// by themselves (no reload) as the frameworks' state changes.
// Screenshots go to .artifacts/ui/ (the lines "screenshot: …" name them).
// flotilla-test-timeout-seconds: 600
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { callApi, hostBoth, waitForApi } from '../frameworks/support/hosted.ts';
import { jobSpec } from '../frameworks/support/jobs.ts';
import { chromiumUnavailableReason, launchBrowser, screenshot, type Page, type UiBrowser } from '../support/browser.ts';
import { testUnless } from '../support/skip.ts';
import { E2eCluster } from './support/cluster.ts';

const whyNot = chromiumUnavailableReason();
const liveTimeoutMs = 120_000;

let cluster: E2eCluster;
let browser: UiBrowser;

test.before(async () => {
  if (whyNot !== undefined) return;
  cluster = await E2eCluster.start('ui-frameworks', ['cpus:2;mem:1024;disk:1000;ports:[31000-31009]'], [...hostBoth]);
  browser = await launchBrowser();
});
test.after(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function open(page: Page, address: string, route: string): Promise<void> {
  await page.goto(`http://${address}/${route}`);
  // A fresh Chromium's first page on a loaded CI machine took over 60 s once: the bound is for liveness only.
  await page.waitForFunction(() => document.getElementById('connection')?.textContent?.startsWith('live from'), null, {
    timeout: liveTimeoutMs,
  });
}

const textOf = (page: Page, selector: string): Promise<string> => page.textContent(selector).then((text) => text ?? '');

function assertNoScriptTrouble(): void {
  const trouble = browser.problems.filter(
    (problem) => problem.startsWith('page error') || /Content.Security.Policy|Refused to/i.test(problem),
  );
  assert.equal(trouble, [], trouble.join('\n'));
}

testUnless(test, whyNot, 'the services page: apps with their instances, and why an app waits', async () => {
  const leader = await cluster.leader();
  await waitForApi(leader.address, '/v2/apps');
  const web = { id: '/ui/web', cmd: 'sleep 600', cpus: 0.1, mem: 16, instances: 2 };
  assert.is((await callApi(leader.address, 'POST', '/v2/apps', web)).status, 201);
  const huge = { id: '/ui/huge', cmd: 'sleep 600', cpus: 64, mem: 16, instances: 1 };
  assert.is((await callApi(leader.address, 'POST', '/v2/apps', huge)).status, 201);

  const page = await browser.newPage();
  await open(page, leader.address, '#/services');
  await page.waitForSelector('#services-apps', { timeout: liveTimeoutMs });
  // Running 2 of 2, drawn by the page's own polling: no reload.
  await page.waitForFunction(
    () => {
      const row = [...document.querySelectorAll('#services-apps tbody tr')].find((tr) =>
        tr.textContent?.includes('/ui/web'),
      );
      return row !== undefined && row.querySelectorAll('td')[1]?.textContent === '2';
    },
    null,
    { timeout: liveTimeoutMs },
  );
  await page.waitForFunction(
    () => /\/ui\/huge.*InsufficientCpus/.test(document.getElementById('services-queue')?.textContent ?? ''),
    null,
    { timeout: liveTimeoutMs },
  );
  assert.match(await textOf(page, '#services-apps'), 'sleep 600');
  // Each instance of /ui/web, running, with where it runs; /ui/huge's deployment stuck on its step.
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('#services-instances tbody tr')].filter(
        (tr) => tr.textContent?.includes('/ui/web') && tr.textContent.includes('TASK_RUNNING'),
      ).length === 2,
    null,
    { timeout: liveTimeoutMs },
  );
  assert.match(await textOf(page, '#services-deployments'), /\/ui\/huge.*of 2.*ScaleApplication \/ui\/huge/);
  await screenshot(page, 'cluster-services');
  assertNoScriptTrouble();
  await page.close();
});

testUnless(test, whyNot, 'the jobs page: a job with its schedule, next run and history', async () => {
  const leader = await cluster.leader();
  await waitForApi(leader.address, '/v1/jobs');
  const job = jobSpec('ui-job', 'true', {
    description: 'nightly report',
    schedules: [{ id: 'nightly', cron: '30 2 * * *' }],
  });
  assert.is((await callApi(leader.address, 'POST', '/v1/jobs', job)).status, 201);

  const page = await browser.newPage();
  await open(page, leader.address, '#/jobs');
  await page.waitForFunction(() => /ui-job/.test(document.getElementById('jobs-table')?.textContent ?? ''), null, {
    timeout: liveTimeoutMs,
  });
  const before = await textOf(page, '#jobs-table');
  assert.match(before, 'nightly report');
  assert.match(before, '30 2 * * *');
  assert.match(before, /T02:30:00/, 'the next run of the schedule');

  const run = await callApi<{ id: string }>(leader.address, 'POST', '/v1/jobs/ui-job/runs');
  assert.is(run.status, 201);
  await page.waitForFunction(
    (runId) => (document.getElementById('jobs-table')?.textContent ?? '').includes(`${runId} SUCCESS`),
    run.body.id,
    { timeout: liveTimeoutMs },
  );
  await screenshot(page, 'cluster-jobs');
  assertNoScriptTrouble();
  await page.close();
});

test.run();
