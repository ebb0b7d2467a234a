// How answers become ok / fail / info, on the master's real codes, and the HTTP client's
// "was it sent?" on real sockets: a refused connect never reached the master (a definite
// failure), a connection that dies after the request went out did (indeterminate).
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sendRequest, type HttpResult } from './client/http.ts';
import { classifyRead, classifyWrite, locationAddress } from './client/outcome.ts';
import { freePort } from '../raft/support/process-cluster.ts';

const classify = suite('classification');

const answer = (status: number, code?: string, message = '', headers: Record<string, string> = {}): HttpResult => ({
  kind: 'answer',
  status,
  headers,
  body: code === undefined ? null : { error: { code, message } },
});

classify('writes: definite failures are the ones that cannot have been applied', () => {
  assert.is(classifyWrite(answer(200)).kind, 'ok');
  assert.equal(classifyWrite(answer(307, 'NOT_LEADER', '', { location: '//127.0.0.1:5051/api/v1/kv/ns/k' })), {
    kind: 'redirect',
    location: '//127.0.0.1:5051/api/v1/kv/ns/k',
    code: 'NOT_LEADER',
  });
  assert.equal(classifyWrite(answer(412, 'VERSION_MISMATCH')), { kind: 'fail', code: 'VERSION_MISMATCH' });
  assert.equal(classifyWrite(answer(503, 'NO_LEADER')), { kind: 'retry', code: 'NO_LEADER' });
  assert.equal(
    classifyWrite(answer(503, 'UNAVAILABLE', 'the write was lost in a leader change and not applied; retry')),
    { kind: 'retry', code: 'UNAVAILABLE' },
  );
  assert.equal(classifyWrite(answer(429, 'TOO_MANY_REQUESTS')), { kind: 'retry', code: 'TOO_MANY_REQUESTS' });
  assert.equal(classifyWrite(answer(409, 'CONFLICT')), { kind: 'fail', code: 'CONFLICT' });
});

classify(
  'writes: timeouts, stops with a pending proposal, server errors and lost connections are indeterminate',
  () => {
    assert.equal(classifyWrite(answer(504, 'TIMEOUT')), { kind: 'unknown', code: 'TIMEOUT' });
    assert.equal(classifyWrite(answer(503, 'UNAVAILABLE', 'leadership is moving (stopped); retry shortly')), {
      kind: 'unknown',
      code: 'UNAVAILABLE_STOPPED',
    });
    assert.equal(classifyWrite(answer(500, 'INTERNAL')), { kind: 'unknown', code: 'INTERNAL' });
    assert.equal(classifyWrite({ kind: 'transport', sent: true, code: 'ECONNRESET' }), {
      kind: 'unknown',
      code: 'ECONNRESET',
    });
    assert.equal(classifyWrite({ kind: 'transport', sent: false, code: 'ECONNREFUSED' }), {
      kind: 'retry',
      code: 'ECONNREFUSED',
    });
  },
);

classify('reads: absent is an answer; anything else but 200 is retried', () => {
  assert.equal(classifyRead(answer(404, 'KEY_NOT_FOUND')), { kind: 'absent' });
  assert.is(classifyRead(answer(404, 'NOT_FOUND')).kind, 'retry');
  assert.is(classifyRead(answer(504, 'TIMEOUT')).kind, 'retry');
  assert.is(classifyRead({ kind: 'transport', sent: true, code: 'TIMEOUT' }).kind, 'retry');
  assert.is(locationAddress('//10.77.0.2:5050/api/v1/kv/a/b'), '10.77.0.2:5050');
  assert.is(locationAddress('http://127.0.0.1:1/x'), '127.0.0.1:1');
});

const transport = suite('http client on real sockets');

transport('a refused connection was never sent', async () => {
  const port = await freePort();
  const result = await sendRequest(
    { kind: 'tcp', host: '127.0.0.1', port },
    { method: 'PUT', path: '/x', body: { value: 'v' }, timeoutMs: 1_000 },
  );
  assert.equal(result, { kind: 'transport', sent: false, code: 'ECONNREFUSED' });
});

transport('a connection reset after the request went out was sent; a silent server times out as sent', async () => {
  const resetting = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
  const silent = net.createServer(() => {});
  await new Promise<void>((resolve) => resetting.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const reset = await sendRequest(
      { kind: 'tcp', host: '127.0.0.1', port: (resetting.address() as net.AddressInfo).port },
      { method: 'PUT', path: '/x', body: {}, timeoutMs: 1_000 },
    );
    assert.is(reset.kind, 'transport');
    assert.ok(reset.kind === 'transport' && reset.sent, 'a reset after sending is indeterminate');
    const quiet = await sendRequest(
      { kind: 'tcp', host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port },
      { method: 'PUT', path: '/x', body: {}, timeoutMs: 200 },
    );
    assert.equal(quiet, { kind: 'transport', sent: true, code: 'TIMEOUT' });
  } finally {
    resetting.close();
    silent.close();
  }
});

classify.run();
transport.run();
