// --rate-limits (Mesos framework-rate-limiting.md): the RateLimits JSON is read and every bad file
// refused with a line naming the problem; the limiter spaces a principal's calls 1/qps apart on an
// injected clock, refuses past `capacity` waiting calls, and throttles unlisted principals (and
// frameworks without one) together under the aggregate default; a principal listed without a qps
// is never throttled. On a real master: a throttled principal's scheduler calls past its capacity
// are answered 429 RATE_LIMIT_EXCEEDED with Retry-After, while another principal's go through.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthFileError } from '../../src/auth/auth-file.ts';
import { maxRateLimitCapacity } from '../../src/auth/limits.ts';
import { parseRateLimits, readRateLimits } from '../../src/auth/rate-limits.ts';
import { SchedulerRateLimiter } from '../../src/http/scheduler/rate-limiter.ts';
import { masterConfig } from '../../src/master/config.ts';
import { OptionError } from '../../src/util/options.ts';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster } from '../support/master.ts';
import { makeTempDir } from '../support/tmp.ts';
import { frameworkInfo, SchedulerClient } from '../http/support/scheduler-client.ts';

const mesosExample = {
  limits: [{ principal: 'foo', qps: 55.5, capacity: 100_000 }, { principal: 'bar', qps: 300 }, { principal: 'baz' }],
  aggregate_default_qps: 333,
  aggregate_default_capacity: 1_000,
};

function refusal(json: unknown): string {
  try {
    parseRateLimits(json);
  } catch (error) {
    assert.instance(error, AuthFileError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(json)}`);
}

test("Mesos' example is read: own throttles, an unthrottled principal, the aggregate default", () => {
  const limits = parseRateLimits(mesosExample);
  assert.equal(limits.principals.get('foo'), { qps: 55.5, capacity: 100_000 });
  assert.equal(limits.principals.get('bar'), { qps: 300, capacity: maxRateLimitCapacity });
  assert.is(limits.principals.get('baz'), null);
  assert.equal(limits.aggregateDefault, { qps: 333, capacity: 1_000 });
  assert.is(parseRateLimits({}).aggregateDefault, null);
  assert.is(parseRateLimits({}).principals.size, 0);
});

test('the flag takes inline JSON or a file', () => {
  assert.equal(readRateLimits(JSON.stringify(mesosExample)), parseRateLimits(mesosExample));
  const file = path.join(makeTempDir('rate-limits-'), 'rate-limits.json');
  writeFileSync(file, JSON.stringify(mesosExample));
  assert.equal(readRateLimits(file), parseRateLimits(mesosExample));
  assert.equal(readRateLimits(`file://${file}`), parseRateLimits(mesosExample));
});

test('bad limits are refused, naming the problem', () => {
  assert.match(refusal([]), /must be an object/);
  assert.match(refusal({ limit: [] }), /unknown members limit/);
  assert.match(refusal({ limits: {} }), /limits must be a list/);
  assert.match(refusal({ limits: [{ qps: 1 }] }), /limits\[0\]\.principal/);
  assert.match(refusal({ limits: [{ principal: 'a', qps: 0 }] }), /limits\[0\]\.qps must be a number above 0/);
  assert.match(refusal({ limits: [{ principal: 'a', qps: '5' }] }), /limits\[0\]\.qps/);
  assert.match(refusal({ limits: [{ principal: 'a', qps: 1, capacity: 1.5 }] }), /limits\[0\]\.capacity/);
  assert.match(refusal({ limits: [{ principal: 'a', qps: 1, capacity: 0 }] }), /limits\[0\]\.capacity/);
  assert.match(refusal({ limits: [{ principal: 'a' }, { principal: 'a' }] }), /listed twice/);
  assert.match(refusal({ limits: [{ principal: 'a', burst: 1 }] }), /unknown members burst/);
  assert.match(refusal({ aggregate_default_qps: -1 }), /aggregate_default_qps/);
  assert.match(refusal({ aggregate_default_qps: 1, aggregate_default_capacity: 'x' }), /aggregate_default_capacity/);
});

test('a master refuses bad --rate-limits at start with an option error', () => {
  for (const text of ['{"limits": [', '{"limits": [{"principal": "a", "qps": -1}]}', '/no/such/rate-limits.json']) {
    assert.throws(
      () =>
        masterConfig({
          id: 'm1',
          listen: { host: '127.0.0.1', port: 1 },
          peers: { m1: '127.0.0.1:1' },
          dataDir: '/tmp/x',
          rateLimits: text,
        }),
      (error: unknown) => error instanceof OptionError && /--rate-limits/.test((error as Error).message),
      text,
    );
  }
});

test('calls are spaced 1/qps apart; past capacity they are refused; time frees the queue', () => {
  let nowMs = 1_000_000;
  const limiter = new SchedulerRateLimiter(
    parseRateLimits({ limits: [{ principal: 'p', qps: 10, capacity: 2 }] }),
    () => nowMs,
  );
  assert.is(limiter.admit('p').kind, 'now');
  const second = limiter.admit('p');
  const third = limiter.admit('p');
  assert.ok(second.kind === 'wait' && third.kind === 'wait');
  assert.is(second.delayMs, 100);
  assert.is(third.delayMs, 200);
  const fourth = limiter.admit('p');
  assert.ok(fourth.kind === 'refused');
  assert.is(fourth.error.code, 'RATE_LIMIT_EXCEEDED');
  assert.is(fourth.error.status, 429);
  assert.is(fourth.error.headers['retry-after'], '1');
  assert.is(limiter.refused, 1);
  // One waiting call ran: a place is free again, behind the queue.
  second.done();
  const fifth = limiter.admit('p');
  assert.ok(fifth.kind === 'wait');
  assert.is(fifth.delayMs, 300);
  third.done();
  fifth.done();
  // Long after, the first call runs at once again.
  nowMs += 10_000;
  assert.is(limiter.admit('p').kind, 'now');
});

test('unlisted principals and frameworks without one share the aggregate default; a listed one without qps is free', () => {
  const nowMs = 5_000;
  const limits = parseRateLimits({
    limits: [{ principal: 'free' }, { principal: 'own', qps: 1, capacity: 1 }],
    aggregate_default_qps: 1,
    aggregate_default_capacity: 1,
  });
  const limiter = new SchedulerRateLimiter(limits, () => nowMs);
  for (let call = 0; call < 100; call += 1) assert.is(limiter.admit('free').kind, 'now');
  assert.is(limiter.admit('stranger').kind, 'now');
  const waiting = limiter.admit(null);
  assert.is(waiting.kind, 'wait', 'a framework without a principal shares the aggregate with stranger');
  assert.is(limiter.admit('another-stranger').kind, 'refused');
  // 'own' has its own throttle, untouched by the aggregate's queue.
  assert.is(limiter.admit('own').kind, 'now');
  const unlimited = new SchedulerRateLimiter(parseRateLimits({ limits: [{ principal: 'own', qps: 1 }] }), () => nowMs);
  for (let call = 0; call < 100; call += 1) assert.is(unlimited.admit('stranger').kind, 'now');
});

test('on a master: a throttled principal past its capacity gets 429 RATE_LIMIT_EXCEEDED; another is not throttled', async () => {
  // One call per 100 s: the SUBSCRIBE runs at once, the next call waits its turn (capacity 1),
  // and every further one is refused while it waits — no timing in the assertions.
  const cluster = await startSingleMaster({
    rateLimits: JSON.stringify({ limits: [{ principal: 'slow', qps: 0.01, capacity: 1 }] }),
  });
  try {
    const slow = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ principal: 'slow' }));
    const fast = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ principal: 'fast' }));
    const waiting = slow.call('RECONCILE', { reconcile: { tasks: [] } });
    let refused = await slow.call('RECONCILE', { reconcile: { tasks: [] } });
    for (let attempt = 0; attempt < 50 && refused.status !== 429; attempt += 1)
      refused = await slow.call('RECONCILE', { reconcile: { tasks: [] } });
    assert.is(refused.status, 429, JSON.stringify(refused.body));
    assert.is(errorOf(refused.body).code, 'RATE_LIMIT_EXCEEDED');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    for (let call = 0; call < 20; call += 1) await fast.callOk('RECONCILE', { reconcile: { tasks: [] } });
    slow.close();
    fast.close();
    void waiting.catch(() => undefined);
  } finally {
    await cluster.stop();
  }
});

test.run();
