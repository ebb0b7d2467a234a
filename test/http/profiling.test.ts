// /debug/pprof on a real master: a profile started, stopped and answered as a V8 .cpuprofile that
// holds the work done meanwhile; one at a time; bad input refused; off without --enable-profiling.
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';

let profiled: SingleMaster;
let plain: SingleMaster;
test.before(async () => {
  profiled = await startSingleMaster({ enableProfiling: true });
  plain = await startSingleMaster();
});
test.after(async () => {
  await profiled.stop();
  await plain.stop();
});

async function call(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
}

interface Profile {
  nodes: { callFrame: { functionName: string } }[];
  samples: number[];
  startTime: number;
  endTime: number;
}

/** Work the profile must see: the master runs in this process, on this thread. */
function profiledBusyWork(): string {
  let digest = 'seed';
  for (let round = 0; round < 200_000; round++) digest = createHash('sha256').update(digest).digest('hex');
  return digest;
}

test('start, work, stop: the profile holds the work; one profile at a time', async () => {
  assert.is((await call(profiled.url, 'POST', '/debug/pprof/start')).status, 204);
  const again = await call(profiled.url, 'POST', '/debug/pprof/start');
  assert.is(again.status, 409);
  assert.is(errorOf(again.body).code, 'CONFLICT');
  profiledBusyWork();
  const stopped = await call(profiled.url, 'POST', '/debug/pprof/stop');
  assert.is(stopped.status, 200);
  const profile = stopped.body as Profile;
  assert.ok(profile.samples.length > 0);
  assert.ok(profile.endTime > profile.startTime);
  assert.ok(profile.nodes.some((node) => node.callFrame.functionName === 'profiledBusyWork'));
  const nothing = await call(profiled.url, 'POST', '/debug/pprof/stop');
  assert.is(nothing.status, 409);
  assert.is(errorOf(nothing.body).code, 'CONFLICT');
});

test('a profile of N seconds; out-of-range or malformed seconds and bodies are refused', async () => {
  const timed = await call(profiled.url, 'GET', '/debug/pprof/profile?seconds=1');
  assert.is(timed.status, 200);
  assert.ok((timed.body as Profile).nodes.length > 0);
  for (const query of ['seconds=0', 'seconds=301', 'seconds=abc', 'seconds=-1', 'other=1']) {
    const refused = await call(profiled.url, 'GET', `/debug/pprof/profile?${query}`);
    assert.is(refused.status, 400, query);
  }
  const withBody = await call(profiled.url, 'POST', '/debug/pprof/start', { seconds: 5 });
  assert.is(withBody.status, 400);
  assert.is(errorOf(withBody.body).code, 'INVALID_BODY');
  // Nothing was left running by the refusals.
  assert.is((await call(profiled.url, 'POST', '/debug/pprof/stop')).status, 409);
});

test('without --enable-profiling every route is a 404 that says how to turn it on', async () => {
  for (const [method, path] of [
    ['GET', '/debug/pprof/profile?seconds=1'],
    ['POST', '/debug/pprof/start'],
    ['POST', '/debug/pprof/stop'],
  ] as const) {
    const answer = await call(plain.url, method, path);
    assert.is(answer.status, 404, path);
    assert.match(errorOf(answer.body).message, '--enable-profiling');
  }
});

test.run();
