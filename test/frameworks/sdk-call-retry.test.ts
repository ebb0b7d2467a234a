// The SDK's calls carry a fresh Idempotency-Key each and are retried with it (call-retry.ts):
// against a real master and agent, through a proxy that answers 503 or cuts the connection after
// forwarding (the call applied, the answer lost). An ACCEPT so broken launches its task once.
// flotilla-test-timeout-seconds: 240
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isRetryable } from '../../src/frameworks/sdk/call-retry.ts';
import { SchedulerError } from '../../src/frameworks/sdk/errors.ts';
import type { Offer } from '../../src/protocol/mesos.ts';
import { matchOffer } from '../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../src/frameworks/sdk/task-info.ts';
import { waitFor } from '../support/wait.ts';
import { newClient, startMasterAndAgent, type MasterAndAgent } from './support/cluster.ts';
import { HttpFaultProxy } from '../support/http-fault-proxy.ts';

let cluster: MasterAndAgent;
let proxy: HttpFaultProxy;
test.before(async () => {
  cluster = await startMasterAndAgent();
  proxy = await HttpFaultProxy.start(cluster.masterAddress);
});
test.after(async () => {
  await proxy?.close();
  await cluster?.stop();
});

const fastRetries = { maxAttempts: 4, backoff: { baseMs: 20, maxMs: 100 } };

test('which failures are retried: 503, 504, 307 and a lost connection; not 4xx', () => {
  const rejected = (status: number) => new SchedulerError('CALL_REJECTED', 'x', status, null);
  for (const status of [503, 504, 307]) assert.ok(isRetryable(rejected(status)), String(status));
  for (const status of [400, 403, 409, 422, 500]) assert.not.ok(isRetryable(rejected(status)), String(status));
  assert.ok(isRetryable(new SchedulerError('NETWORK', 'reset')));
  assert.not.ok(isRetryable(new SchedulerError('NOT_SUBSCRIBED', 'x')));
  assert.not.ok(isRetryable(new Error('not ours')));
});

test('an ACCEPT whose answer is lost, then refused with 503, is retried with its key and launches once', async () => {
  const client = newClient(proxy.address, { callRetry: fastRetries });
  const updates: string[] = [];
  client.on('UPDATE', (event) => {
    if (event.update.status.task_id.value === 'retry-1') updates.push(event.update.status.state);
  });
  try {
    const offers: Offer[] = [];
    client.on('OFFERS', (event) => offers.push(...event.offers.offers));
    await client.subscribe();
    const offer = await waitFor(() => offers.find((each) => matchOffer(each, { cpus: 0.1, memMb: 32 }) !== null), {
      timeoutMs: 30_000,
      what: 'an offer that fits',
    });
    const match = matchOffer(offer, { cpus: 0.1, memMb: 32 })!;
    const task = buildTaskInfo(offer, match, {
      name: 'retry',
      taskId: 'retry-1',
      command: { kind: 'shell', line: 'echo once' },
    });
    proxy.faults.set('ACCEPT', ['forward-then-cut', 'answer-503']);
    await client.launch(offer, [task]);
    const keys = proxy.keysOf('ACCEPT');
    assert.is(keys.length, 3, 'three attempts');
    assert.ok(keys[0] !== null && keys.every((key) => key === keys[0]), `one key for all: ${keys.join(', ')}`);
    await waitFor(() => updates.includes('TASK_FINISHED'), { timeoutMs: 60_000, what: 'retry-1 to finish' });
    // Unkeyed, the third attempt would have found its offer used: TASK_LOST / REASON_INVALID_OFFERS.
    assert.not.ok(updates.includes('TASK_LOST') || updates.includes('TASK_DROPPED'), updates.join(', '));
    const tasks = [...cluster.master.master.machine.state.tasks.values()].filter((each) => each.id === 'retry-1');
    assert.is(tasks.length, 1);
    // The next logical call has a key of its own.
    await client.revive();
    const reviveKey = proxy.keysOf('REVIVE').at(-1);
    assert.ok(reviveKey !== null && reviveKey !== undefined && reviveKey !== keys[0]);
    await client.teardown();
  } finally {
    client.close();
  }
});

test('retries are bounded; a final refusal is not retried', async () => {
  const client = newClient(proxy.address, { callRetry: fastRetries });
  try {
    await client.subscribe();
    proxy.faults.set('SUPPRESS', ['answer-503', 'answer-503', 'answer-503', 'answer-503', 'answer-503']);
    const error = await client.suppress().then(
      () => null,
      (caught: unknown) => caught,
    );
    assert.instance(error, SchedulerError);
    assert.is((error as SchedulerError).status, 503);
    assert.is(proxy.keysOf('SUPPRESS').length, fastRetries.maxAttempts);
    assert.is(new Set(proxy.keysOf('SUPPRESS')).size, 1);
    proxy.faults.set('SUPPRESS', []);
    const before = proxy.keysOf('ACKNOWLEDGE').length;
    const refused = await client
      .acknowledge({
        task_id: { value: 'nope' },
        state: 'TASK_RUNNING',
        agent_id: { value: 'no-agent' },
        uuid: 'not base64!',
      })
      .then(
        () => null,
        (caught: unknown) => caught,
      );
    assert.instance(refused, SchedulerError);
    assert.is((refused as SchedulerError).status, 400, (refused as Error).message);
    assert.is(proxy.keysOf('ACKNOWLEDGE').length, before + 1, 'a 400 is final');
    await client.teardown();
  } finally {
    client.close();
  }
});

test('many calls waiting out a back-off at once raise no listener-leak warning', async () => {
  const client = newClient(proxy.address, { callRetry: { maxAttempts: 3, backoff: { baseMs: 300, maxMs: 300 } } });
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  try {
    await client.subscribe();
    const calls = 12;
    proxy.faults.set(
      'REVIVE',
      Array.from({ length: calls }, () => 'answer-503' as const),
    );
    await Promise.all(Array.from({ length: calls }, () => client.revive()));
    assert.is(proxy.keysOf('REVIVE').length >= calls * 2, true, 'each call was refused once and sent again');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(
      warnings.filter((each) => each.startsWith('MaxListenersExceededWarning')),
      [],
    );
    await client.teardown();
  } finally {
    process.off('warning', onWarning);
    client.close();
  }
});

test.run();
