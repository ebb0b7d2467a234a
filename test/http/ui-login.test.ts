// The web UI against a master with --credentials, in a real headless Chromium: the page loads
// (it is public) and shows the login form instead of the cluster; a wrong token is refused and
// the form says so; the right one brings the dashboard live. The token is never in the URL and
// is kept in this tab's sessionStorage only; every call the page makes carries it as Bearer.
// flotilla-test-timeout-seconds: 300
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chromiumUnavailableReason, launchBrowser, screenshot, type UiBrowser } from '../support/browser.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';

const token = 'ui-operator-secret-5a1f9e3c7b20d846';
const whyNot = chromiumUnavailableReason();
let cluster: SingleMaster;
let browser: UiBrowser;

test.before(async () => {
  const credentials = path.join(makeTempDir('ui-login-'), 'credentials.json');
  writeFileSync(credentials, JSON.stringify({ credentials: [{ principal: 'operator', secret: token }] }));
  cluster = await startSingleMaster({ credentials });
  if (whyNot === undefined) browser = await launchBrowser();
});
test.after(async () => {
  await browser?.close();
  await cluster?.stop();
});

testUnless(test, whyNot, 'the login form, a refused token, then the dashboard live with the right one', async () => {
  const answer = await fetch(`${cluster.url}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'GET_STATE' }),
  });
  assert.is(answer.status, 401, 'the master wants credentials');

  const page = await browser.newPage();
  await page.goto(`${cluster.url}/#/cluster`);
  await page.waitForSelector('#login:not([hidden])', { timeout: 60_000 });
  assert.ok(await page.isHidden('#login-refused'), 'no complaint before a token was tried');
  assert.ok(await page.isHidden('#main'), 'the dashboard waits behind the form');
  await screenshot(page, 'login-form');

  await page.fill('#login-token', 'not-the-right-token-at-all');
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#login-refused:not([hidden])', { timeout: 60_000 });
  assert.ok(await page.isVisible('#login'), 'the form is back after a 401');

  await page.fill('#login-token', token);
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => document.getElementById('connection')?.textContent?.startsWith('live from'), null, {
    timeout: 60_000,
  });
  await page.waitForSelector('#masters tbody tr .tag-leader', { timeout: 30_000 });
  assert.ok(await page.isHidden('#login'), 'the form is gone once logged in');
  assert.not.match(page.url(), token, 'the token is not in the URL');
  const stored = await page.evaluate(() => ({
    session: sessionStorage.getItem('flotilla-token'),
    local: Object.keys(localStorage).length,
    cookie: document.cookie,
  }));
  assert.is(stored.session, token, 'kept in this tab');
  assert.is(stored.local, 0, 'nothing in localStorage');
  assert.is(stored.cookie, '', 'no cookie');
  await screenshot(page, 'logged-in');
  const trouble = browser.problems.filter(
    (problem) => problem.startsWith('page error') || /Content.Security.Policy|Refused to/i.test(problem),
  );
  assert.equal(trouble, [], trouble.join('\n'));
  await page.close();
});

test.run();
