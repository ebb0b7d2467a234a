// The SDK's ACKNOWLEDGEs under a burst, against a real master through a real proxy
// (test/support/http-fault-proxy.ts). The churn bench stalled with thousands of finished tasks
// unacknowledged: the master sent pending updates again while their acknowledgements still
// waited for one of the client's sockets, each copy queued another ACKNOWLEDGE, and a call's
// time out ran while it waited in that queue, so queued calls expired unsent and went to the back
// again, until none got through. Now an update's acknowledgement is sent once while it is on its
// way, and a call's time out starts when it has a socket. And a client has sockets enough for a
// burst's acknowledgements to be on their way together (maxAcknowledgeSockets).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maxAcknowledgeSockets } from '../../src/frameworks/sdk/limits.ts';
import type { TaskStatus } from '../../src/protocol/mesos.ts';
import { HttpFaultProxy } from '../support/http-fault-proxy.ts';
import { type SingleMaster, startSingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';
import { newClient } from './support/cluster.ts';

let master: SingleMaster;
let proxy: HttpFaultProxy;
test.before(async () => {
  master = await startSingleMaster();
  proxy = await HttpFaultProxy.start(master.url.replace('http://', ''));
});
test.after(async () => {
  await proxy?.close();
  await master?.stop();
});

/** An update of a task the master never heard of: acknowledging it is no error (202, as Mesos). */
const status = (taskId: string, uuid: string, state: TaskStatus['state'] = 'TASK_FINISHED'): TaskStatus => ({
  task_id: { value: taskId },
  agent_id: { value: 'no-such-agent' },
  state,
  source: 'SOURCE_EXECUTOR',
  uuid,
});

const acknowledgements = (): number => proxy.seen.filter((call) => call.type === 'ACKNOWLEDGE').length;

test('an update received again while its acknowledgement is on its way is acknowledged once', async () => {
  const client = newClient(proxy.address);
  try {
    await client.subscribe();
    const before = acknowledgements();
    const update = status('twice', Buffer.alloc(16, 1).toString('base64'));
    // As the master's resend arrives: the first ACKNOWLEDGE has not been answered yet.
    const first = client.acknowledge(update);
    const second = client.acknowledge(update);
    assert.is(client.acknowledgementsOnTheirWay, 1);
    await Promise.all([first, second]);
    assert.is(acknowledgements() - before, 1, 'one ACKNOWLEDGE reached the master');
    assert.is(client.acknowledgementsOnTheirWay, 0);
    // Answered: a later copy of the update is acknowledged again (the master may not have it yet).
    await client.acknowledge(update);
    assert.is(acknowledgements() - before, 2);
  } finally {
    client.close();
  }
});

test("a task's updates acknowledged in one turn with its terminal one cost one ACKNOWLEDGE, the terminal one's", async () => {
  // The churn bench's tasks start and finish at once: TASK_RUNNING and TASK_FINISHED reach the
  // framework together, and the terminal acknowledgement completes the task (command format 10).
  const client = newClient(proxy.address);
  try {
    await client.subscribe();
    const before = proxy.seen.length;
    const uuid = (fill: number): string => Buffer.alloc(16, fill).toString('base64');
    const tasks = ['together-1', 'together-2', 'together-3'];
    const acknowledged = tasks.flatMap((taskId, index) => [
      client.acknowledge(status(taskId, uuid(200 + index), 'TASK_RUNNING')),
      client.acknowledge(status(taskId, uuid(210 + index), 'TASK_FINISHED')),
    ]);
    // A task still running: its update is acknowledged on its own.
    acknowledged.push(client.acknowledge(status('running-alone', uuid(220), 'TASK_RUNNING')));
    assert.is(client.acknowledgementsOnTheirWay, 7);
    await Promise.all(acknowledged);
    const sent = proxy.seen.slice(before).filter((call) => call.type === 'ACKNOWLEDGE');
    assert.equal(
      sent.map((call) => (JSON.parse(call.body) as { acknowledge: { uuid: string } }).acknowledge.uuid).sort(),
      [uuid(210), uuid(211), uuid(212), uuid(220)].sort(),
      "each finished task's terminal update, and the running one's",
    );
    assert.is(client.callsMade.get('ACKNOWLEDGE'), 4);
    assert.is(client.acknowledgementsOnTheirWay, 0);
    // In a later turn, the running task's terminal update is acknowledged as it comes.
    await client.acknowledge(status('running-alone', uuid(221), 'TASK_FINISHED'));
    assert.is(client.callsMade.get('ACKNOWLEDGE'), 5);
  } finally {
    client.close();
  }
});

test('an acknowledgement queued behind busy sockets is not timed out before it is sent', async () => {
  // One attempt each, 2 s each: every socket held by a call the master never answers.
  const client = newClient(proxy.address, {
    callTimeoutMs: 2_000,
    callRetry: { maxAttempts: 1, backoff: { baseMs: 10, maxMs: 10 } },
  });
  try {
    await client.subscribe();
    proxy.faults.set(
      'ACKNOWLEDGE',
      Array.from({ length: maxAcknowledgeSockets }, () => 'never-answer' as const),
    );
    const before = acknowledgements();
    const stuck = Array.from({ length: maxAcknowledgeSockets }, (_, index) =>
      client.acknowledge(status(`stuck-${index}`, Buffer.alloc(16, 10 + index).toString('base64'))).then(
        () => 'answered',
        (error: Error) => error.message,
      ),
    );
    // Waits for a socket until the stuck calls time out; then it is sent, and answered.
    const queued = client.acknowledge(status('queued', Buffer.alloc(16, 99).toString('base64'))).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    for (const outcome of await Promise.all(stuck)) assert.match(outcome, 'no answer within 2000 ms');
    assert.is(await queued, 'answered');
    assert.is(acknowledgements() - before, maxAcknowledgeSockets + 1, 'the queued call reached the master');
  } finally {
    proxy.faults.delete('ACKNOWLEDGE');
    client.close();
  }
});

test('a burst of acknowledgements is on its way together, not eight at a time', async () => {
  // The master answers an ACKNOWLEDGE once it is committed: with eight sockets, a framework
  // acknowledged at most eight updates per commit (the churn bench's ~4,000 waiting for one).
  const burst = 64;
  const client = newClient(proxy.address);
  try {
    await client.subscribe();
    proxy.faults.set(
      'ACKNOWLEDGE',
      Array.from({ length: burst }, () => 'hold' as const),
    );
    const before = acknowledgements();
    const acknowledged = Array.from({ length: burst }, (_, index) =>
      client.acknowledge(status(`burst-${index}`, Buffer.alloc(16, 150 + index).toString('base64'))),
    );
    // None is answered until all are held: each one held has a socket of its own.
    await waitFor(() => proxy.heldCalls === burst, { timeoutMs: 20_000, what: `${burst} ACKNOWLEDGEs held at once` });
    assert.ok(maxAcknowledgeSockets >= burst);
    proxy.release();
    await Promise.all(acknowledged);
    assert.is(acknowledgements() - before, burst);
    assert.is(client.acknowledgementsOnTheirWay, 0);
  } finally {
    proxy.faults.delete('ACKNOWLEDGE');
    client.close();
  }
});

test('an acknowledgement stamped with a stream replaced while it waited is sent again on the new stream', async () => {
  const client = newClient(proxy.address, { reconnect: { baseMs: 50, maxMs: 100 } });
  try {
    await client.subscribe();
    const firstStream = client.streamId;
    proxy.faults.set('ACKNOWLEDGE', ['hold']);
    const before = proxy.keysOf('ACKNOWLEDGE').length;
    const acknowledged = client.acknowledge(status('replaced-stream', Buffer.alloc(16, 42).toString('base64'))).then(
      () => 'answered',
      (error: Error) => error.message,
    );
    await waitFor(() => proxy.heldCalls === 1, { timeoutMs: 10_000, what: 'the ACKNOWLEDGE to be held' });
    // The connection to the master is lost; the client subscribes again, on a new stream.
    proxy.cutStreams();
    await waitFor(() => client.streamId !== null && client.streamId !== firstStream, {
      timeoutMs: 20_000,
      what: 'a new stream',
    });
    // The held call reaches the master with the old stream id (refused STREAM_ID_MISMATCH), and
    // is sent again, with the same key, stamped with the new one.
    proxy.release();
    assert.is(await acknowledged, 'answered');
    const keys = proxy.keysOf('ACKNOWLEDGE').slice(before);
    console.log(`ACKNOWLEDGE attempts across the re-subscription: ${keys.length}`);
    assert.is(keys.length, 2);
    assert.is(keys[0], keys[1], 'one call, one Idempotency-Key');
  } finally {
    proxy.faults.delete('ACKNOWLEDGE');
    client.close();
  }
});

test('acknowledgements waiting for a socket across a re-subscription are sent once, on the new stream', async () => {
  const client = newClient(proxy.address, { reconnect: { baseMs: 50, maxMs: 100 } });
  const queuedCount = 20;
  try {
    await client.subscribe();
    const firstStream = client.streamId;
    // Every socket busy with a call held on its way; more acknowledgements wait for one.
    proxy.faults.set(
      'ACKNOWLEDGE',
      Array.from({ length: maxAcknowledgeSockets }, () => 'hold' as const),
    );
    const before = proxy.keysOf('ACKNOWLEDGE').length;
    const acknowledge = (taskId: string, fill: number): Promise<string> =>
      client.acknowledge(status(taskId, Buffer.alloc(16, fill).toString('base64'))).then(
        () => 'answered',
        (error: Error) => error.message,
      );
    const held = Array.from({ length: maxAcknowledgeSockets }, (_, index) => acknowledge(`held-${index}`, 100 + index));
    await waitFor(() => proxy.heldCalls === maxAcknowledgeSockets, { timeoutMs: 10_000, what: 'every socket held' });
    const queued = Array.from({ length: queuedCount }, (_, index) => acknowledge(`queued-${index}`, 150 + index));
    proxy.cutStreams();
    await waitFor(() => client.streamId !== null && client.streamId !== firstStream, {
      timeoutMs: 20_000,
      what: 'a new stream',
    });
    proxy.release();
    for (const outcome of await Promise.all([...held, ...queued])) assert.is(outcome, 'answered');
    // The held calls carry the old stream and are each sent again; the queued ones were not
    // stamped yet, so each goes once, with the new stream.
    const attempts = proxy.keysOf('ACKNOWLEDGE').length - before;
    console.log(`ACKNOWLEDGE attempts for ${maxAcknowledgeSockets} held and ${queuedCount} queued: ${attempts}`);
    assert.is(attempts, 2 * maxAcknowledgeSockets + queuedCount);
  } finally {
    proxy.faults.delete('ACKNOWLEDGE');
    client.close();
  }
});

test.run();
