// Log lines of a turn-buffered logger (the audit line's) leave in one write per event-loop turn, in
// order, and none is lost when the process exits or throws in the turn that wrote it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, turnBufferedChild } from '../../src/util/logger.ts';
import { TurnBufferedDestination } from '../../src/util/turn-buffered-destination.ts';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const loggerModule = fileURLToPath(new URL('../../src/util/logger.ts', import.meta.url));

const buffered = suite('turn-buffered log destination');

buffered('the lines of one turn reach the sink in one write, after the turn, in order', async () => {
  const writes: string[] = [];
  const destination = new TurnBufferedDestination({ write: (text) => writes.push(text) });
  const log = createLogger({ node: 'm1', component: 'http' }, destination);
  log.info({ call: 'KV PUT', target: 'a' }, 'audit');
  log.info({ call: 'KV PUT', target: 'b' }, 'audit');
  log.child({ role: 'leader' }).warn('slow fsync');
  assert.is(writes.length, 0, 'nothing is written during the turn');
  await nextTurn();
  assert.is(writes.length, 1);
  const lines = writes[0]!.split('\n').filter((line) => line !== '');
  assert.equal(
    lines.map((line) => (JSON.parse(line) as { target?: string; msg: string }).target ?? null),
    ['a', 'b', null],
  );
  log.info({ call: 'KV PUT', target: 'c' }, 'audit');
  await nextTurn();
  assert.is(writes.length, 2, 'a later turn has its own write');
  assert.ok(writes[1]!.includes('"target":"c"'));
});

buffered("pino's flush writes what is buffered at once and calls back", () => {
  const writes: string[] = [];
  const log = createLogger(
    { node: 'm1', component: 'raft' },
    new TurnBufferedDestination({ write: (text) => writes.push(text) }),
  );
  log.error('disk failed');
  let flushed = false;
  log.flush(() => {
    flushed = true;
  });
  assert.ok(flushed);
  assert.is(writes.length, 1);
});

buffered(
  "a turn-buffered child writes through its parent's destination, once per turn; the parent at once",
  async () => {
    const writes: string[] = [];
    const parent = createLogger({ node: 'm1', component: 'http' }, { write: (text: string) => writes.push(text) });
    const { logger: audit, destination } = turnBufferedChild(parent, { audit: true });
    audit.info({ target: 'a' }, 'audit');
    audit.info({ target: 'b' }, 'audit');
    parent.warn('not buffered');
    assert.is(writes.length, 1);
    assert.ok(writes[0]!.includes('not buffered'));
    await nextTurn();
    assert.is(writes.length, 2);
    assert.is(writes[1]!.split('\n').filter((line) => line.includes('"audit":true')).length, 2);
    destination.close();
  },
);

/** Runs `body` in a fresh process whose `log` is a turn-buffered child of a stderr logger. */
function runLogging(body: string): { status: number | null; stderr: string } {
  const program = [
    `const { createLogger, turnBufferedChild } = await import(${JSON.stringify(loggerModule)});`,
    "const { logger: log } = turnBufferedChild(createLogger({ node: 'm1', component: 'raft' }), { audit: true });",
    body,
  ].join('\n');
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stderr: result.stderr };
}

buffered('the lines of the turn a process exits in are written as it exits', () => {
  const result = runLogging("log.fatal('disk failure; stopping'); process.exit(74);");
  assert.is(result.status, 74, result.stderr);
  assert.ok(result.stderr.includes('"msg":"disk failure; stopping"'), result.stderr);
});

buffered('the lines of the turn that throws are written before the uncaught error', () => {
  const result = runLogging("log.error('about to break'); throw new Error('broken invariant');");
  assert.is.not(result.status, 0);
  const line = result.stderr.indexOf('"msg":"about to break"');
  const error = result.stderr.indexOf('broken invariant');
  assert.ok(line >= 0 && error > line, result.stderr);
});

buffered.run();
