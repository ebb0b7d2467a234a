// The SDK against a real master and a real agent process: subscribe, offer, launch, updates,
// acknowledgements, typed call errors.
// flotilla-test-timeout-seconds: 240
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SchedulerError } from '../../src/frameworks/sdk/errors.ts';
import { newClient, OneTaskScheduler, startMasterAndAgent, type MasterAndAgent } from './support/cluster.ts';

let cluster: MasterAndAgent;
test.before(async () => {
  cluster = await startMasterAndAgent();
});
test.after(async () => {
  await cluster?.stop();
});

test('subscribe, get an offer, launch echo hello, see RUNNING and FINISHED, acknowledge each update', async () => {
  const client = newClient(cluster.masterAddress, { autoAcknowledge: false });
  const acknowledged: string[] = [];
  client.on('UPDATE', (event) => {
    if (event.update.status.uuid === undefined) return;
    client.acknowledge(event.update.status).then(
      () => acknowledged.push(event.update.status.state),
      (error: Error) => acknowledged.push(`failed: ${error.message}`),
    );
  });
  const scheduler = new OneTaskScheduler(client, 'hello-1', 'echo hello');
  const frameworkId = await client.subscribe();
  assert.match(frameworkId, /.+/);
  assert.is(client.master, cluster.masterAddress);
  assert.ok(client.streamId);
  await scheduler.waitForState('TASK_FINISHED');
  assert.ok(scheduler.states().includes('TASK_RUNNING'), `states: ${scheduler.states().join(', ')}`);
  const finished = scheduler.updates.find((status) => status.state === 'TASK_FINISHED')!;
  assert.is(finished.source, 'SOURCE_EXECUTOR');
  assert.ok(finished.uuid);
  await import('../support/wait.ts').then(({ waitFor }) =>
    waitFor(() => acknowledged.includes('TASK_FINISHED'), { timeoutMs: 10_000, what: 'the FINISHED acknowledgement' }),
  );
  assert.not.ok(
    acknowledged.some((entry) => entry.startsWith('failed')),
    acknowledged.join('; '),
  );
  await client.teardown();
  assert.is(client.state, 'closed');
});

test('the events() iterator sees SUBSCRIBED then OFFERS; calls refused by the master are typed errors', async () => {
  const client = newClient(cluster.masterAddress);
  const events = client.events();
  await client.subscribe();
  const seen: string[] = [];
  for await (const event of events) {
    seen.push(event.type);
    if (event.type === 'OFFERS') break;
  }
  assert.is(seen[0], 'SUBSCRIBED');
  const error = await client.decline([{ value: 'no-such-offer' }]).then(
    () => null,
    (caught: unknown) => caught,
  );
  // Mesos accepts a DECLINE of an unknown offer (202); anything else must be a typed rejection.
  if (error !== null) {
    assert.instance(error, SchedulerError);
    assert.is((error as SchedulerError).code, 'CALL_REJECTED');
  }
  const kill = await client.call('KILL', { task_id: { value: '' } }).then(
    () => null,
    (caught: unknown) => caught,
  );
  assert.instance(kill, SchedulerError);
  assert.is((kill as SchedulerError).code, 'CALL_REJECTED');
  assert.is((kill as SchedulerError).status, 400);
  assert.type((kill as SchedulerError).serverCode, 'string');
  await client.teardown();
});

test("a refused SUBSCRIBE (bad FrameworkInfo) closes the client with the server's error", async () => {
  const client = newClient(cluster.masterAddress, { framework: { user: 'root', name: '', roles: ['not a role!'] } });
  const error = await client.subscribe().then(
    () => null,
    (caught: unknown) => caught,
  );
  assert.instance(error, SchedulerError);
  assert.is((error as SchedulerError).code, 'CLOSED');
  assert.instance((error as SchedulerError).cause, SchedulerError);
  assert.is(((error as SchedulerError).cause as SchedulerError).status, 400);
  assert.is(client.state, 'closed');
});

test.run();
