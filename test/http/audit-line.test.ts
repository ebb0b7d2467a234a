// The audit line's exact text: its fields, their order and their JSON, through the real logger
// (pino, with the redaction every master logger has) and a real fastify app. The line is written
// by a child logger that skips redaction (issue 19, audit.ts); this pins it to what it was, and
// checks the parent logger still redacts.
import Fastify, { type FastifyInstance } from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { principalRequester } from '../../src/auth/requester.ts';
import { auditCall, registerAudit } from '../../src/http/audit.ts';
import { createLogger, type Logger } from '../../src/util/logger.ts';

function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ node: 'm1', component: 'http' }, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}

function auditedApp(logger: Logger): FastifyInstance {
  const app = Fastify({ logger: false });
  app.decorateRequest('requester', null as never);
  app.addHook('onRequest', async (request) => {
    request.requester = principalRequester('ops "east"');
  });
  registerAudit(app, logger);
  app.put('/kv/*', async (request) => {
    auditCall(request, 'KV PUT', `app/${(request.params as { '*': string })['*']}`);
    if (request.url.endsWith('/refused')) throw Object.assign(new Error('no'), { statusCode: 403 });
    return { ok: true };
  });
  app.setErrorHandler(async (_error, _request, reply) =>
    reply.code(403).send({ error: { code: 'FORBIDDEN', message: 'no' } }),
  );
  return app;
}

/** The line without the parts that vary between runs (time, pid). */
function stable(line: string): string {
  return line.replace(/"time":"[^"]+"/, '"time":"T"').replace(/"pid":\d+/, '"pid":0');
}

test('the audit line, byte for byte: fields in order, a principal with a quote escaped, the error code', async () => {
  const { logger, lines } = capturingLogger();
  const app = auditedApp(logger);
  try {
    assert.is((await app.inject({ method: 'PUT', url: '/kv/config/db', payload: {} })).statusCode, 200);
    assert.is((await app.inject({ method: 'PUT', url: '/kv/refused', payload: {} })).statusCode, 403);
  } finally {
    await app.close();
  }
  const audits = lines.filter((line) => line.includes('"audit":true'));
  assert.is(audits.length, 2);
  const head = '{"level":"info","time":"T","node":"m1","component":"http","pid":0,"audit":true,';
  const who = '"principal":"ops \\"east\\"","requester":"principal",';
  assert.is(
    stable(audits[0]!),
    `${head}${who}"call":"KV PUT","target":"app/config/db","status":200,"code":null,` +
      '"remoteAddress":"127.0.0.1","msg":"audit"}\n',
  );
  assert.is(
    stable(audits[1]!),
    `${head}${who}"call":"KV PUT","target":"app/refused","status":403,"code":"FORBIDDEN",` +
      '"remoteAddress":"127.0.0.1","msg":"audit"}\n',
  );
});

test('the logger the audit line is a child of still redacts secrets', async () => {
  const { logger, lines } = capturingLogger();
  const app = auditedApp(logger);
  await app.close();
  logger.info({ secret: 'hunter2', request: { secret: 'hunter3' } }, 'something');
  assert.is(lines.length, 1);
  assert.not.ok(lines[0]!.includes('hunter'), lines[0]);
  assert.ok(lines[0]!.includes('[redacted]'));
});

test.run();
