// Reading events (RecordIO records → typed events), the event queue, and call errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { rejectionError } from '../../src/frameworks/sdk/errors.ts';
import { EventQueue } from '../../src/frameworks/sdk/event-queue.ts';
import { parseEvent } from '../../src/frameworks/sdk/wire.ts';

const record = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

test('events parse by type; unknown event types are skipped, malformed ones refused', () => {
  const subscribed = parseEvent(
    record({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'f1' }, heartbeat_interval_seconds: 15 } }),
  );
  assert.is(subscribed?.type, 'SUBSCRIBED');
  assert.equal(parseEvent(record({ type: 'HEARTBEAT' })), { type: 'HEARTBEAT' });
  assert.is(parseEvent(record({ type: 'UPDATE_OPERATION_STATUS', update_operation_status: {} })), null);
  assert.throws(() => parseEvent(record([1])), /string "type"/);
  assert.throws(() => parseEvent(record({ type: 'OFFERS' })), /no "offers" object/);
  assert.throws(() => parseEvent(record({ type: 'SUBSCRIBED', subscribed: {} })), /framework_id/);
  assert.throws(() => parseEvent(record({ type: 'UPDATE', update: { status: {} } })), /task_id/);
  assert.throws(() => parseEvent(new TextEncoder().encode('{not json')));
});

test('the event queue hands items to one reader in order, ends, and fails a reader that falls behind', async () => {
  const queue = new EventQueue<number>(2);
  queue.push(1);
  const pending = queue.next();
  assert.equal(await pending, { value: 1, done: false });
  const waiting = queue.next();
  queue.push(2);
  assert.equal(await waiting, { value: 2, done: false });
  queue.push(3);
  queue.push(4);
  queue.push(5);
  assert.equal(await queue.next(), { value: 3, done: false });
  assert.equal(await queue.next(), { value: 4, done: false });
  await queue.next().then(
    () => assert.unreachable('the overflow must fail the reader'),
    (error: Error) => assert.match(error.message, /fell more than 2 events behind/),
  );
  const ended = new EventQueue<number>(5);
  ended.push(1);
  ended.end();
  const seen: number[] = [];
  for await (const item of ended) seen.push(item);
  assert.equal(seen, [1]);
});

test("a refused call carries the status and the server's code; plain-text bodies (Apache Mesos) are kept as the message", () => {
  const flotilla = rejectionError(
    400,
    JSON.stringify({ error: { code: 'INVALID_BODY', message: 'kill.task_id is missing' } }),
    'KILL at m1',
  );
  assert.is(flotilla.code, 'CALL_REJECTED');
  assert.is(flotilla.status, 400);
  assert.is(flotilla.serverCode, 'INVALID_BODY');
  assert.is(flotilla.message, 'KILL at m1: 400 INVALID_BODY: kill.task_id is missing');
  const mesos = rejectionError(403, 'Framework is not subscribed', 'ACCEPT at m1');
  assert.is(mesos.serverCode, null);
  assert.is(mesos.message, 'ACCEPT at m1: 403: Framework is not subscribed');
});

test.run();
