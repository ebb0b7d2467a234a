// The JSON nesting bound (src/util/json-depth.ts): the scanner counts only brackets outside
// strings, and every API refuses a body nested deeper than maxJsonNestingDepth with a 400 in its
// own error shape. Regression: the fuzz test's 20,000-deep object made POST /v1/jobs answer 500
// (JSON.stringify overflowed the stack in the jobs API's size check).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonNestsDeeperThan, maxJsonNestingDepth } from '../../src/util/json-depth.ts';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';

const nested = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

test('the scanner counts brackets outside strings only', () => {
  assert.not.ok(jsonNestsDeeperThan('[[1]]', 2));
  assert.ok(jsonNestsDeeperThan('[[[1]]]', 2));
  assert.not.ok(jsonNestsDeeperThan('{"a":"[[[[{{{{"}', 1));
  assert.not.ok(jsonNestsDeeperThan('{"a":"\\"[[[["}', 1));
  assert.ok(jsonNestsDeeperThan('{"a":"\\\\",[[1]]}', 2));
  assert.not.ok(jsonNestsDeeperThan(nested(maxJsonNestingDepth), maxJsonNestingDepth));
  assert.ok(jsonNestsDeeperThan(nested(maxJsonNestingDepth + 1), maxJsonNestingDepth));
  assert.ok(jsonNestsDeeperThan(`${'['.repeat(20_000)}`, maxJsonNestingDepth));
});

test('a master refuses a too-deep body with 400 on its own API, Metronome and Marathon; at the bound it parses', async () => {
  const master = await startSingleMaster({ services: 'hosted', jobs: 'hosted' });
  try {
    await waitFor(async () => (await fetch(`${master.url}/v1/jobs`)).status === 200, {
      timeoutMs: 30_000,
      what: 'the hosted jobs framework to answer',
    });
    const post = async (path: string, body: string) => {
      const response = await fetch(`${master.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const deep = nested(20_000);
    const operator = await post('/api/v1', deep);
    assert.is(operator.status, 400);
    assert.is(errorOf(operator.body).code, 'BAD_REQUEST');
    assert.match(errorOf(operator.body).message, /nests deeper than 100/);
    const jobs = await post('/v1/jobs', deep);
    assert.is(jobs.status, 400, JSON.stringify(jobs.body));
    assert.is(jobs.body.code, 'JOB_BAD_REQUEST');
    const apps = await post('/v2/apps', deep);
    assert.is(apps.status, 400, JSON.stringify(apps.body));
    assert.is(apps.body.message, 'Invalid JSON');
    // At the bound the body is parsed, and refused for what it says.
    const atBound = await post('/api/v1', nested(maxJsonNestingDepth));
    assert.is(atBound.status, 400);
    assert.is(errorOf(atBound.body).code, 'INVALID_BODY');
  } finally {
    await master.stop();
  }
});

test.run();
