// An ACCEPT made while the client re-subscribes to the same master is still sent: that master
// keeps or rescinds its own offers and sends those still outstanding again on the new stream,
// so the SDK does not judge them itself. Only another master's offers are known to be gone (a
// leader change: test/frameworks/sdk-failover.test.ts). A real master and agent, behind a real
// proxy that cuts the event stream (test/support/http-fault-proxy.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SchedulerError } from '../../src/frameworks/sdk/errors.ts';
import { matchOffer } from '../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../src/frameworks/sdk/task-info.ts';
import type { Offer } from '../../src/protocol/mesos.ts';
import { HttpFaultProxy } from '../support/http-fault-proxy.ts';
import { waitFor } from '../support/wait.ts';
import { type MasterAndAgent, newClient, startMasterAndAgent } from './support/cluster.ts';

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

test('an ACCEPT made while the client re-subscribes to the same master is sent', async () => {
  const client = newClient(proxy.address, { reconnect: { baseMs: 50, maxMs: 100 } });
  const offers: Offer[] = [];
  client.on('OFFERS', (event) => offers.push(...event.offers.offers));
  try {
    await client.subscribe();
    const firstStream = client.streamId;
    await waitFor(() => offers.length > 0, { timeoutMs: 30_000, what: 'an offer' });
    const offer = offers[0]!;
    const match = matchOffer(offer, { cpus: 0.1, memMb: 32 });
    assert.ok(match !== null, 'the agent fits a small task');
    proxy.cutStreams();
    await waitFor(() => client.state === 'connecting' || client.streamId !== firstStream, {
      timeoutMs: 20_000,
      what: 'the client to lose its stream',
    });
    const acceptsBefore = proxy.seen.filter((call) => call.type === 'ACCEPT').length;
    const task = buildTaskInfo(offer, match, {
      name: 'same',
      taskId: 'same-1',
      command: { kind: 'shell', line: 'true' },
    });
    const outcome = await client.launch(offer, [task]).then(
      () => 'answered',
      (error: unknown) => (error instanceof SchedulerError ? error.code : String(error)),
    );
    assert.is.not(client.streamId, firstStream, 'on a new stream');
    assert.is(outcome, 'answered');
    assert.is(proxy.seen.filter((call) => call.type === 'ACCEPT').length - acceptsBefore, 1, 'the ACCEPT was sent');
    await client.teardown();
  } finally {
    client.close();
  }
});

test.run();
