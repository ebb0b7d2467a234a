// Logs are data: one JSON object per line, carrying node and component.
import { Writable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pino from 'pino';
import { createLogger, isoTimeField, logLevelFromEnvironment, silentLogger } from '../../src/util/logger.ts';

/** A destination that keeps what pino writes. */
function memoryDestination(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line !== ''),
  };
}

const logger = suite('logger');

logger('one JSON line per event with node, component, level label and child fields', () => {
  const destination = memoryDestination();
  const log = createLogger({ node: 'm1', component: 'raft' }, destination.stream);
  log.info({ term: 7 }, 'became leader');
  log.child({ role: 'leader' }).warn('slow fsync');
  const [first, second, ...rest] = destination.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.is(rest.length, 0);
  assert.equal(
    { node: first?.node, component: first?.component, level: first?.level, term: first?.term, msg: first?.msg },
    { node: 'm1', component: 'raft', level: 'info', term: 7, msg: 'became leader' },
  );
  assert.is(second?.role, 'leader');
  assert.is(second?.level, 'warn');
  assert.match(String(first?.time), /^\d{4}-\d\d-\d\dT/);
});

logger('FLOTILLA_LOG_LEVEL is checked', () => {
  assert.is(logLevelFromEnvironment({}), 'info');
  assert.is(logLevelFromEnvironment({ FLOTILLA_LOG_LEVEL: 'debug' }), 'debug');
  assert.throws(() => logLevelFromEnvironment({ FLOTILLA_LOG_LEVEL: 'verbose' }), /FLOTILLA_LOG_LEVEL must be one of/);
});

logger('credentials in a logged object are redacted', () => {
  const destination = memoryDestination();
  const log = createLogger({ node: 'm1', component: 'http' }, destination.stream);
  const secret = 'hunter2-hunter2-hunter2';
  log.info({ req: { headers: { authorization: `Bearer ${secret}`, 'x-flotilla-secret': secret } } }, 'request');
  log.info({ credential: { principal: 'ops', secret } }, 'loaded');
  const text = destination.lines().join('\n');
  assert.not.ok(text.includes(secret), text);
  assert.ok(text.includes('[redacted]'));
  assert.ok(text.includes('"principal":"ops"'), 'what is not secret stays');
});

logger("the time field is pino's isoTime text, formatted once per millisecond", () => {
  // Date.now stands still, then moves: the field is the cached text, then a new one.
  const realNow = Date.now;
  let nowMs = Date.UTC(2026, 11, 7, 0, 59, 1, 5);
  Date.now = () => nowMs;
  try {
    const first = isoTimeField();
    assert.is(first, pino.stdTimeFunctions.isoTime());
    assert.is(first, ',"time":"2026-12-07T00:59:01.005Z"');
    assert.is(isoTimeField(), first);
    nowMs += 1;
    assert.is(isoTimeField(), ',"time":"2026-12-07T00:59:01.006Z"');
    assert.is(isoTimeField(), pino.stdTimeFunctions.isoTime());
  } finally {
    Date.now = realNow;
  }
});

logger('silentLogger logs nothing', () => {
  assert.is(silentLogger.isLevelEnabled('fatal'), false);
});

logger.run();
