// A request's logger is made when first written to (src/http/deferred-request-logger.ts): no pino
// child for a request that logs nothing, and the very line fastify's own child would have written
// (its request id, the parent's fields) for one that does.
import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeferredRequestLogger } from '../../src/http/deferred-request-logger.ts';
import { buildHttpServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/util/logger.ts';
import { followerFacade } from './support/follower.ts';

function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text !== '') lines.push(JSON.parse(text));
      done();
    },
  });
  return { logger: createLogger({ node: 'm2', component: 'http' }, destination), lines };
}

/** The parent, counting the children made from it. */
function countingChildren(parent: FastifyBaseLogger): { parent: FastifyBaseLogger; made: () => number } {
  let made = 0;
  const counting = Object.create(parent) as FastifyBaseLogger;
  counting.child = (bindings, options) => {
    made += 1;
    return parent.child(bindings, options);
  };
  return { parent: counting, made: () => made };
}

test('no child until a line is written; then one, bound like the child fastify makes', () => {
  const { logger, lines } = capturingLogger();
  const { parent, made } = countingChildren(logger as unknown as FastifyBaseLogger);
  const deferred = DeferredRequestLogger.factory(parent, { reqId: 'req-7' }, {});
  assert.is(made(), 0);
  assert.is(deferred.level, 'info', 'the level reads from the parent before any child exists');
  deferred.info({ detail: 1 }, 'first');
  deferred.error('second');
  assert.is(made(), 1, 'one child, made on the first line');
  assert.is(lines.length, 2);
  assert.equal(
    lines.map((line) => [line.msg, line.reqId, line.node, line.component, line.level]),
    [
      ['first', 'req-7', 'm2', 'http', 'info'],
      ['second', 'req-7', 'm2', 'http', 'error'],
    ],
  );
  assert.is(lines[0]!.detail, 1);
});

test("a level set on the request's logger is the child's level", () => {
  const { logger, lines } = capturingLogger();
  const deferred = DeferredRequestLogger.factory(logger as unknown as FastifyBaseLogger, { reqId: 'req-8' }, {});
  deferred.level = 'error';
  deferred.info('dropped');
  deferred.error('kept');
  assert.equal(
    lines.map((line) => line.msg),
    ['kept'],
  );
  assert.is(logger.level, 'info', 'the parent keeps its level');
});

test('through fastify: an error answer is logged with the request id fastify gave the request', async () => {
  const { logger, lines } = capturingLogger();
  const app = buildHttpServer({ master: followerFacade({}), logger });
  try {
    const missing = await app.inject({ method: 'GET', url: '/no/such/route' });
    assert.is(missing.statusCode, 404);
    const answered = lines.filter((line) => line.msg === 'request completed');
    assert.is(answered.length, 1);
    assert.match(String(answered[0]!.reqId), /^req-/);
    assert.is(answered[0]!.node, 'm2');
  } finally {
    await app.close();
  }
});

test.run();
