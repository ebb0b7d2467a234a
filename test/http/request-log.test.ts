// The request log (src/http/request-log.ts): an error answer gets one line, a quick success none
// (fastify's two lines per request were the leader's largest cost outside the fsync, issue 19).
// The real HTTP layer and a real pino logger, over a facade that says "follower of m1".
import { Writable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildHttpServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/util/logger.ts';
import { followerFacade } from './support/follower.ts';

interface LogLine {
  readonly msg: string;
  readonly res?: { statusCode: number };
  readonly reqId?: string;
  readonly responseTime?: number;
}

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text !== '') lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  return { logger: createLogger({ node: 'm2', component: 'http' }, destination), lines };
}

test('a quick success writes no line; an error answer writes one, with its status and time', async () => {
  const { logger, lines } = capturingLogger();
  const app = buildHttpServer({ master: followerFacade({}), logger });
  try {
    const healthy = await app.inject({ method: 'GET', url: '/health' });
    assert.is(healthy.statusCode, 200);
    assert.equal(lines, [], 'a quick 200 is counted in the metrics, not logged');
    const missing = await app.inject({ method: 'GET', url: '/no/such/route?x=1' });
    assert.is(missing.statusCode, 404);
    const answered = lines.filter((line) => line.msg === 'request completed');
    assert.is(answered.length, 1);
    assert.equal(answered[0]!.res, { statusCode: 404 });
    assert.type(answered[0]!.reqId, 'string');
    assert.type(answered[0]!.responseTime, 'number');
    assert.not.ok(lines.some((line) => line.msg === 'incoming request'));
  } finally {
    await app.close();
  }
});

test.run();
