// The SDK's explicit reconciliation of many tasks, against a real master through a recording
// proxy (test/support/http-fault-proxy.ts). A master refuses a body over 1 MiB (413); the SDK sent
// every known task in one RECONCILE after each re-subscription, so a framework that knew 100,000
// tasks (the scale and launch benches' launcher) had every such call refused, and its tasks were
// never reconciled. Now the tasks go in calls of at most maxTasksPerReconcile, one after another.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maxTasksPerReconcile } from '../../src/frameworks/sdk/limits.ts';
import { maxBodyBytes } from '../../src/http/limits.ts';
import { maxIdLength } from '../../src/state-machine/limits.ts';
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

const reconcileBodies = (): { tasks: unknown[] }[] =>
  proxy.seen.filter((call) => call.type === 'RECONCILE').map((call) => JSON.parse(call.body).reconcile);

test('reconciling more tasks than one body may hold is sent in several calls, each answered', async () => {
  const client = newClient(proxy.address);
  const unknownAnswers = new Set<string>();
  const events = client.events();
  try {
    await client.subscribe();
    const count = 3 * maxTasksPerReconcile + 17;
    // Ids of 100 characters: all of them in one call would be ~2.4 MiB, over the master's limit.
    const id = (index: number, kind: string): string => `${kind}-${String(index).padStart(95, '0')}`;
    const tasks = Array.from({ length: count }, (_, index) => ({
      task_id: { value: id(index, 'task') },
      agent_id: { value: id(index, 'agnt') },
    }));
    assert.ok(JSON.stringify({ reconcile: { tasks } }).length > maxBodyBytes, 'one call would be refused');
    const before = reconcileBodies().length;
    await client.reconcile(tasks);
    const sent = reconcileBodies().slice(before);
    assert.equal(
      sent.map((body) => body.tasks.length),
      [maxTasksPerReconcile, maxTasksPerReconcile, maxTasksPerReconcile, 17],
    );
    // Every task asked about is answered (a task the master never heard of: TASK_UNKNOWN or TASK_LOST).
    for await (const event of events) {
      if (event.type === 'UPDATE') unknownAnswers.add(event.update.status.task_id.value);
      if (unknownAnswers.size === count) break;
    }
    assert.is(unknownAnswers.size, count);
    // An empty list is one implicit reconciliation, as before.
    await client.reconcile();
    await waitFor(() => reconcileBodies().length === before + 5, { timeoutMs: 10_000, what: 'the implicit call' });
    assert.equal(reconcileBodies().at(-1)?.tasks, []);
  } finally {
    client.close();
  }
});

test('tasks with ids near their 255-character limit go in calls the master accepts, each answered', async () => {
  const client = newClient(proxy.address);
  const answered = new Set<string>();
  const events = client.events();
  try {
    await client.subscribe();
    // 2,000 tasks (one call by count) of ~550 bytes each: ~1.1 MB in one call, over the limit.
    const id = (index: number, kind: string): string => `${kind}-${String(index).padStart(maxIdLength - 5, '0')}`;
    const tasks = Array.from({ length: maxTasksPerReconcile }, (_, index) => ({
      task_id: { value: id(index, 'task') },
      agent_id: { value: id(index, 'agnt') },
    }));
    assert.ok(JSON.stringify({ reconcile: { tasks } }).length > maxBodyBytes, 'one call would be refused');
    const before = proxy.seen.filter((call) => call.type === 'RECONCILE').length;
    await client.reconcile(tasks);
    const sent = proxy.seen.filter((call) => call.type === 'RECONCILE').slice(before);
    assert.ok(sent.length >= 3, `${sent.length} calls`);
    for (const call of sent) assert.ok(Buffer.byteLength(call.body) < maxBodyBytes, `a body of ${call.body.length}`);
    assert.is(
      sent.reduce((sum, call) => sum + (JSON.parse(call.body).reconcile.tasks as unknown[]).length, 0),
      tasks.length,
    );
    for await (const event of events) {
      if (event.type === 'UPDATE') answered.add(event.update.status.task_id.value);
      if (answered.size === tasks.length) break;
    }
    assert.is(answered.size, tasks.length);
  } finally {
    client.close();
  }
});

test.run();
