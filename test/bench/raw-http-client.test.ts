// The peers bench's lean HTTP client (bench/peers/raw-http-client.ts) against Node's own HTTP
// server: bodies by Content-Length and chunked, statuses and Location, one keep-alive connection
// for consecutive requests, answers split across reads, a request that gets no answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAnswer, RawJsonClient } from '../../bench/peers/raw-http-client.ts';

async function withServer(
  handler: http.RequestListener,
  run: (client: RawJsonClient, connections: () => number) => Promise<void>,
): Promise<void> {
  const server = http.createServer(handler);
  let connections = 0;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new RawJsonClient('127.0.0.1', (server.address() as AddressInfo).port);
  try {
    await run(client, () => connections);
  } finally {
    client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      text += chunk;
    });
    request.on('end', () => resolve(text));
  });
}

test('sends the JSON body and reads Content-Length answers, all on one connection', async () => {
  await withServer(
    async (request, response) => {
      const body = await readBody(request);
      const echo = JSON.stringify({
        method: request.method,
        url: request.url,
        type: request.headers['content-type'],
        body: JSON.parse(body),
      });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(echo) });
      response.end(echo);
    },
    async (client, connections) => {
      for (let round = 0; round < 3; round++) {
        const answer = await client.request('PUT', '/api/v1/kv/bench/k1', { value: `v${round}é` });
        assert.is(answer.status, 200);
        assert.equal(JSON.parse(answer.body), {
          method: 'PUT',
          url: '/api/v1/kv/bench/k1',
          type: 'application/json',
          body: { value: `v${round}é` },
        });
      }
      assert.is(connections(), 1);
    },
  );
});

test('reads chunked answers, statuses and Location', async () => {
  await withServer(
    async (request, response) => {
      await readBody(request);
      if (request.url === '/moved') {
        response.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere', 'content-length': 0 });
        response.end();
        return;
      }
      response.writeHead(500, { 'content-type': 'application/json' });
      response.write('{"error":');
      response.end('"boom"}');
    },
    async (client) => {
      const failed = await client.request('POST', '/v3/kv/put', {});
      assert.is(failed.status, 500);
      assert.is(failed.body, '{"error":"boom"}');
      const moved = await client.request('PUT', '/moved', {});
      assert.is(moved.status, 307);
      assert.is(moved.location, 'http://127.0.0.1:1/elsewhere');
    },
  );
});

test('an answer split across reads is parsed only once complete', () => {
  const whole = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{"ok":true}HTTP/1.1 204');
  for (let cut = 0; cut < whole.indexOf('HTTP/1.1 204'); cut++) {
    assert.is(parseAnswer(whole.subarray(0, cut)), null, `complete after ${cut} bytes`);
  }
  const parsed = parseAnswer(whole);
  assert.ok(parsed);
  assert.is(parsed.answer.body, '{"ok":true}');
  assert.is(parsed.bytes, whole.indexOf('HTTP/1.1 204'));
  const chunked = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
  assert.is(parseAnswer(chunked.subarray(0, chunked.length - 1)), null);
  assert.is(parseAnswer(chunked)?.answer.body, 'abcde');
});

test('a request that gets no answer fails, and the next one opens a new connection', async () => {
  let silent = true;
  await withServer(
    async (request, response) => {
      await readBody(request);
      if (silent) return;
      response.writeHead(200, { 'content-length': 2 });
      response.end('{}');
    },
    async (client, connections) => {
      let failure: unknown = null;
      try {
        await client.request('PUT', '/quiet', {}, 50);
      } catch (error) {
        failure = error;
      }
      assert.instance(failure, Error);
      assert.match((failure as Error).message, /no answer/);
      silent = false;
      const answer = await client.request('PUT', '/loud', {});
      assert.is(answer.status, 200);
      assert.is(connections(), 2);
    },
  );
});

test.run();
