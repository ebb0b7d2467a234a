// The SDK across a leader failure: three real master processes and a real agent; the leader is
// SIGKILLed while a task runs; the client re-subscribes (same framework id) on the new leader
// and still receives every update of the task, including those sent while it was away.
// flotilla-test-timeout-seconds: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ConnectionChange } from '../../src/frameworks/sdk/client.ts';
import { SchedulerError } from '../../src/frameworks/sdk/errors.ts';
import { matchOffer } from '../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../src/frameworks/sdk/task-info.ts';
import type { Offer, TaskStatus } from '../../src/protocol/mesos.ts';
import { AgentProcess } from '../agent/support/daemon-support.ts';
import { ProcessCluster } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { newClient, OneTaskScheduler } from './support/cluster.ts';

let cluster: ProcessCluster;
let agent: AgentProcess;
let masters: string;
test.before(async () => {
  cluster = await ProcessCluster.start(makeTempDir('sdk-failover-'), 3, [], 'master');
  masters = cluster.replicas.map((replica) => replica.address).join(',');
  agent = await AgentProcess.start(masters);
});
test.after(async () => {
  await agent?.stop();
  await cluster?.stop();
});

test('a client that dials a follower first follows the 307 to the leader, and its calls go there', async () => {
  const leader = await cluster.waitForLeader();
  const followersFirst = [...cluster.replicas.filter((replica) => replica !== leader), leader].map(
    (replica) => replica.address,
  );
  const client = newClient(followersFirst.join(','));
  try {
    await client.subscribe();
    assert.is(client.master, leader.address);
    await client.revive();
    await client.teardown();
  } finally {
    client.close();
  }
});

test('after a SIGKILL of the leader the client re-subscribes with its framework id and gets the updates it missed', async () => {
  const changes: (ConnectionChange & { atMs: number })[] = [];
  // The first retry waits 3–6 s, so the task below ends while no scheduler is connected.
  const client = newClient(masters, { reconnect: { baseMs: 6_000, maxMs: 6_000 } });
  client.onConnectionChange((change) => changes.push({ ...change, atMs: Date.now() }));
  const scheduler = new OneTaskScheduler(client, 'failover-1', 'sleep 1; echo done');
  const withAgentOutput = (error: Error): never => {
    throw new Error(`${error.message}\nagent output:\n${agent.output.slice(-3000)}`);
  };
  const leader = await cluster.waitForLeader();
  try {
    const frameworkId = await client.subscribe();
    assert.is(client.master, leader.address, 'the stream is held by the leader (after a redirect when needed)');
    await scheduler.waitForState('TASK_RUNNING', 120_000).catch(withAgentOutput);
    await cluster.kill(leader, 'SIGKILL');
    const resubscribed = await waitFor(
      () =>
        changes.find(
          (change, index) => change.state === 'subscribed' && index > 0 && changes[index - 1]!.state === 'connecting',
        ),
      {
        timeoutMs: 60_000,
        what: 'the client to re-subscribe',
      },
    );
    const finished = await scheduler.waitForState('TASK_FINISHED', 120_000).catch(withAgentOutput);
    assert.ok(finished.uuid, 'the FINISHED update is a real (acknowledgeable) one, not only a reconciliation answer');
    assert.ok(
      finished.timestamp! * 1000 < resubscribed.atMs,
      'FINISHED happened while the scheduler was away, and was delivered later',
    );
    // The task was still known (RUNNING) when the stream broke: it was reconciled on re-subscription.
    await waitFor(
      () => scheduler.updates.some((status) => status.reason === 'REASON_RECONCILIATION' && status.uuid === undefined),
      {
        timeoutMs: 30_000,
        what: `a reconciliation answer for the task (seen ${scheduler.updates.map((status) => `${status.state}/${status.reason}`).join(', ')})`,
      },
    );
    assert.is(client.frameworkId, frameworkId);
    assert.is(client.state, 'subscribed');
    assert.is(client.master, (await cluster.waitForLeader(30_000, [leader.id])).address);
    await client.teardown();
  } finally {
    client.close();
  }
  // Back to three masters, so the next test can lose one.
  cluster.launch(leader);
  await waitFor(() => cluster.status(leader), { timeoutMs: 60_000, what: `${leader.id} to serve again` });
});

test('a leader that goes silent (SIGSTOP) is left after the heartbeat timeout for the new leader', async () => {
  const client = newClient(masters, { heartbeatTimeoutFactor: 1, reconnect: { baseMs: 200, maxMs: 1_000 } });
  const changes: string[] = [];
  client.onConnectionChange((change) =>
    changes.push(`${change.state} ${change.master} ${change.error?.message ?? ''}`),
  );
  const frameworkId = await client.subscribe();
  const leader = await cluster.waitForLeader();
  assert.is(client.master, leader.address);
  leader.child!.kill('SIGSTOP');
  try {
    // One heartbeat interval (15 s on Flotilla masters) of silence, an election, a re-subscription.
    await waitFor(() => client.state === 'subscribed' && client.master !== leader.address, {
      timeoutMs: 90_000,
      what: 'the client to leave the silent leader',
      intervalMs: 200,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; connection changes:\n${changes.join('\n')}`);
    });
    assert.is(client.frameworkId, frameworkId);
    await client.teardown();
  } finally {
    leader.child?.kill('SIGCONT');
    client.close();
  }
});

/** The ACCEPTs a master has received since it started (Mesos' master/messages_launch_tasks). */
async function acceptsReceived(address: string): Promise<number> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const line = /^mesos_master_messages_launch_tasks(?:\{[^}]*\})? (\S+)$/m.exec(text);
  assert.ok(line !== null, `no mesos_master_messages_launch_tasks on ${address}`);
  return Number(line[1]);
}

test('an ACCEPT that waited through a leader change is not sent to the new leader: its offers went with the old one', async () => {
  const client = newClient(masters, { reconnect: { baseMs: 200, maxMs: 1_000 } });
  const offers: Offer[] = [];
  const updates: TaskStatus[] = [];
  client.on('OFFERS', (event) => offers.push(...event.offers.offers));
  client.on('UPDATE', (event) => updates.push(event.update.status));
  await cluster.waitForLeader();
  let killed: (typeof cluster.replicas)[number] | undefined;
  try {
    await client.subscribe();
    // The master the stream is on, not the leader seen before subscribing: the previous test's
    // SIGCONTinued leader can move leadership between the two.
    const leader = cluster.replicas.find((replica) => replica.address === client.master);
    assert.ok(leader !== undefined, `subscribed on ${client.master}, not one of the masters`);
    await waitFor(() => offers.length > 0, { timeoutMs: 60_000, what: 'an offer from the first leader' });
    const offer = offers[0]!;
    const match = matchOffer(offer, { cpus: 0.1, memMb: 32 });
    assert.ok(match !== null, 'the agent fits a small task');
    killed = leader;
    await cluster.kill(leader, 'SIGKILL');
    await waitFor(() => client.state === 'connecting', { timeoutMs: 30_000, what: 'the client to lose its stream' });
    // Made while the client has no stream: it waits for the re-subscription, on another master.
    const outcome = await client
      .launch(offer, [
        buildTaskInfo(offer, match, { name: 'stale', taskId: 'stale-1', command: { kind: 'shell', line: 'true' } }),
      ])
      .then(
        () => null,
        (error: unknown) => error,
      );
    const newLeader = client.master!;
    assert.is.not(newLeader, leader.address);
    assert.instance(outcome, SchedulerError, `the ACCEPT failed (${String(outcome)})`);
    assert.is((outcome as SchedulerError).code, 'OFFERS_RESCINDED');
    // Sent, it would have cost the new leader a Raft entry and the task a TASK_LOST.
    assert.is(await acceptsReceived(newLeader), 0, 'the new leader received no ACCEPT');
    assert.equal(
      updates.filter((status) => status.task_id.value === 'stale-1'),
      [],
      'no update of the unsent task',
    );
    await client.teardown();
  } finally {
    client.close();
  }
  if (killed === undefined) return;
  const restarted = killed;
  cluster.launch(restarted);
  await waitFor(() => cluster.status(restarted), { timeoutMs: 60_000, what: `${restarted.id} to serve again` });
});

test.run();
