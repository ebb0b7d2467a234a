// The page a master serves may talk to the other Raft members (it follows the leader, and must
// outlive the master that served it): its CSP lists the members' origins in connect-src, and
// the masters answer cross-origin requests from those origins — and from no other — through
// CORS. Against a real master: the policy, preflights, and the answers' headers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { corsPreflightMaxAgeSeconds } from '../../src/http/routes/cors.ts';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';

let cluster: SingleMaster;
let memberOrigin: string;
test.before(async () => {
  cluster = await startSingleMaster();
  memberOrigin = cluster.url;
});
test.after(async () => {
  await cluster.stop();
});

const strangers = ['http://evil.example', 'null', 'http://127.0.0.1:1', `${'https'}://127.0.0.1:0`, 'file://'];

test("the page's connect-src is itself and the members' origins; nothing else widens", async () => {
  const response = await fetch(`${cluster.url}/`);
  const policy = response.headers.get('content-security-policy') ?? '';
  const directives = new Map(
    policy.split(';').map((directive) => {
      const [name, ...values] = directive.trim().split(/\s+/);
      return [name!, values];
    }),
  );
  assert.equal(directives.get('connect-src'), ["'self'", memberOrigin]);
  assert.equal(directives.get('script-src'), ["'self'"]);
  assert.equal(directives.get('style-src'), ["'self'"]);
  assert.equal(directives.get('default-src'), ["'none'"]);
  const asset = await fetch(`${cluster.url}/ui/app.js`);
  assert.match(asset.headers.get('content-security-policy') ?? '', "connect-src 'self';");
});

test("a member's preflight is answered with what the page sends", async () => {
  const response = await fetch(`${cluster.url}/api/v1`, {
    method: 'OPTIONS',
    headers: {
      origin: memberOrigin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, message-accept',
    },
  });
  assert.is(response.status, 204);
  assert.is(response.headers.get('access-control-allow-origin'), memberOrigin);
  assert.match(response.headers.get('access-control-allow-methods') ?? '', 'POST');
  assert.match(response.headers.get('access-control-allow-headers') ?? '', 'message-accept');
  assert.is(response.headers.get('access-control-max-age'), String(corsPreflightMaxAgeSeconds));
  assert.is(response.headers.get('access-control-allow-credentials'), null, 'no credentials, ever');
  assert.match(response.headers.get('vary') ?? '', 'origin');
});

test("a member's calls are answered with its origin allowed; the body is the usual one", async () => {
  for (const [path, init] of [
    ['/health', { method: 'GET' }],
    ['/api/v1', { method: 'POST', body: '{"type":"GET_RAFT"}', headers: { 'content-type': 'application/json' } }],
  ] as const) {
    const response = await fetch(`${cluster.url}${path}`, {
      ...init,
      headers: { ...('headers' in init ? init.headers : {}), origin: memberOrigin },
    });
    assert.is(response.status, 200, path);
    assert.is(response.headers.get('access-control-allow-origin'), memberOrigin, path);
    assert.match(response.headers.get('access-control-expose-headers') ?? '', 'retry-after', path);
    assert.ok(((await response.json()) as object) !== null);
  }
});

test('any other origin gets no CORS header, and its preflight is refused in the envelope', async () => {
  for (const origin of strangers) {
    const preflight = await fetch(`${cluster.url}/api/v1`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    assert.is(preflight.status, 403, origin);
    assert.is(errorOf(await preflight.json(), origin).code, 'FORBIDDEN');
    assert.is(preflight.headers.get('access-control-allow-origin'), null, origin);
    const call = await fetch(`${cluster.url}/api/v1`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: '{"type":"GET_HEALTH"}',
    });
    // The master still answers (a browser would keep the answer from the page), and says why it varies.
    assert.is(call.status, 200, origin);
    assert.is(call.headers.get('access-control-allow-origin'), null, origin);
    assert.match(call.headers.get('vary') ?? '', 'origin', origin);
  }
});

test('without an Origin (curl, the CLI, agents) nothing changes', async () => {
  const response = await fetch(`${cluster.url}/health`);
  assert.is(response.status, 200);
  assert.is(response.headers.get('access-control-allow-origin'), null);
  assert.is(response.headers.get('vary'), null);
  const options = await fetch(`${cluster.url}/api/v1`, { method: 'OPTIONS' });
  assert.is(options.status, 404, 'an OPTIONS without an Origin is no preflight');
});

test.run();
