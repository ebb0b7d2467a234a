// The Mesos v1 scheduler API on a real single-voter master over real HTTP: content negotiation
// and error statuses (http.cpp's order), the SUBSCRIBE stream's framing, offers, ACCEPT with
// LAUNCH, DECLINE, KILL, RECONCILE, ACKNOWLEDGE, updates sent again on re-subscribe, and the
// failover timeout. Agents and their status updates are put in through Raft (what the agent
// gateway does); offers come from the allocator, or are made here if it makes none.
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type * as Mesos from '../../src/protocol/mesos.ts';
import type * as Operator from '../../src/protocol/operator.ts';
import { agentId, frameworkId as toFrameworkId, offerId, taskId } from '../../src/state-machine/ids.ts';
import { agentFreeResources } from '../../src/state-machine/queries.ts';
import { isEmpty } from '../../src/state-machine/resources.ts';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';
import { registerAgent, statusReport, uuid } from '../state-machine/support/fixtures.ts';
import { operatorCall, proposeOk } from './support/operator.ts';
import { frameworkInfo, SchedulerClient, schedulerPost } from './support/scheduler-client.ts';

let cluster: SingleMaster;
const A1 = agentId('sched-a1');
let offerSequence = 0;

test.before(async () => {
  cluster = await startSingleMaster();
  await proposeOk(cluster, registerAgent(A1, { hostname: 'node1', address: { ip: '127.0.0.1', port: 5051 } }));
});
test.after(async () => {
  await cluster.stop();
});

/** An OFFERS event for the client: the allocator's, or one made here from the agent's free resources. */
async function nextOffer(client: SchedulerClient): Promise<Mesos.Offer> {
  const fromAllocator = await client.maybeNextOf('OFFERS', 1500);
  if (fromAllocator !== null) return fromAllocator.offers.offers[0]!;
  const state = cluster.master.machine.state;
  const agent = state.agents.get(A1)!;
  const free = agentFreeResources(agent);
  assert.not.ok(isEmpty(free), 'the agent has free resources to offer');
  offerSequence += 1;
  await proposeOk(cluster, {
    type: 'create_offers',
    at: Date.now(),
    offers: [
      {
        offerId: offerId(`test-offer-${offerSequence}`),
        frameworkId: toFrameworkId(client.frameworkId),
        agentId: A1,
        role: '*',
        resources: free,
      },
    ],
  });
  return (await client.nextOf('OFFERS')).offers.offers[0]!;
}

const launchOperation = (offer: Mesos.Offer, id: string, command = 'sleep 100') => ({
  type: 'LAUNCH',
  launch: {
    task_infos: [
      {
        name: id,
        task_id: { value: id },
        agent_id: offer.agent_id,
        command: { value: command },
        resources: [
          { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
          { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
        ],
      },
    ],
  },
});

async function taskState(framework: string, id: string): Promise<string | undefined> {
  const answer = await operatorCall(cluster, { type: 'GET_TASKS' });
  const { tasks, completed_tasks } = (answer.body as { get_tasks: Operator.GetTasks }).get_tasks;
  const all = [...tasks, ...(completed_tasks ?? [])];
  return all.find((task) => task.framework_id.value === framework && task.task_id.value === id)?.state;
}

test('content negotiation and error statuses follow http.cpp', async () => {
  const url = `${cluster.url}/api/v1/scheduler`;
  const get = await fetch(url);
  assert.is(get.status, 405);
  assert.is(get.headers.get('allow'), 'POST');
  const noType = await fetch(url, { method: 'POST', body: '{}', headers: { 'content-type': '' } });
  assert.is(noType.status, 400);
  const protobuf = await fetch(url, {
    method: 'POST',
    body: 'x',
    headers: { 'content-type': 'application/x-protobuf' },
  });
  assert.is(protobuf.status, 415);
  assert.match((await protobuf.json()).error.message, 'JSON only');
  assert.is(
    (
      await schedulerPost(
        cluster.url,
        { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo() } },
        { accept: 'application/x-protobuf' },
      )
    ).status,
    406,
  );
  const withStream = await schedulerPost(
    cluster.url,
    { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo() } },
    { 'mesos-stream-id': 'x' },
  );
  assert.is(withStream.status, 400);
  assert.is((await schedulerPost(cluster.url, { type: 'SUBSCRIBE', subscribe: {} })).status, 400);
  assert.is((await schedulerPost(cluster.url, { type: 'NOPE' })).status, 400);
  assert.is(errorOf((await schedulerPost(cluster.url, { type: 'REVIVE' })).body).code, 'INVALID_BODY');
  const unknown = await schedulerPost(
    cluster.url,
    { type: 'REVIVE', framework_id: { value: 'nobody' } },
    { 'mesos-stream-id': 'x' },
  );
  assert.is(unknown.status, 400);
  assert.is(errorOf(unknown.body).code, 'UNKNOWN_FRAMEWORK');
  const mismatch = await schedulerPost(cluster.url, {
    framework_id: { value: 'x' },
    type: 'SUBSCRIBE',
    subscribe: { framework_info: frameworkInfo({ id: { value: 'y' } }) },
  });
  assert.is(mismatch.status, 400);
});

test('SUBSCRIBE: 200, Mesos-Stream-Id, chunked RecordIO: SUBSCRIBED then HEARTBEAT, each its own chunk', async () => {
  const [host, port] = cluster.url.slice('http://'.length).split(':') as [string, string];
  const body = JSON.stringify({ type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo({ name: 'framing' }) } });
  const raw = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host, port: Number(port) }, () =>
      socket.write(
        `POST /api/v1/scheduler HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ),
    );
    let received = '';
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      if (received.includes('{"type":"HEARTBEAT"}\r\n')) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('error', reject);
    setTimeout(() => reject(new Error(`no HEARTBEAT chunk in: ${received}`)), 10_000).unref();
  });
  const [head, rest] = raw.split('\r\n\r\n') as [string, string];
  assert.match(head, /^HTTP\/1.1 200/);
  assert.match(head, /\r\ncontent-type: application\/json\r\n/i);
  assert.match(head, /\r\nmesos-stream-id: [0-9a-f-]{36}\r\n/i);
  assert.match(head, /\r\ntransfer-encoding: chunked/i);
  // Chunk 1: the SUBSCRIBED record; chunk 2: exactly `20\n{"type":"HEARTBEAT"}`.
  const chunks: string[] = [];
  let position = 0;
  while (chunks.length < 2) {
    const lineEnd = rest.indexOf('\r\n', position);
    const size = Number.parseInt(rest.slice(position, lineEnd), 16);
    chunks.push(rest.slice(lineEnd + 2, lineEnd + 2 + size));
    position = lineEnd + 2 + size + 2;
  }
  const [length, json] = chunks[0]!.split('\n') as [string, string];
  assert.is(Number(length), json.length);
  const subscribed = JSON.parse(json);
  assert.is(subscribed.type, 'SUBSCRIBED');
  assert.is(subscribed.subscribed.heartbeat_interval_seconds, 15);
  assert.ok(subscribed.subscribed.framework_id.value.length > 0);
  assert.is(subscribed.subscribed.master_info.id, 'm1');
  assert.is(subscribed.subscribed.master_info.ip, 16777343);
  assert.is(chunks[1], '20\n{"type":"HEARTBEAT"}');
});

test('offers, ACCEPT with LAUNCH, updates with uuid, ACKNOWLEDGE, KILL, RECONCILE', async () => {
  const client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'launcher' }));
  try {
    const offer = await nextOffer(client);
    assert.is(offer.agent_id.value, A1);
    assert.equal(offer.url.address, { hostname: 'node1', ip: '127.0.0.1', port: 5051 });
    assert.ok(offer.resources.every((resource) => resource.allocation_info?.role === '*'));
    await client.callOk('ACCEPT', {
      accept: { offer_ids: [offer.id], operations: [launchOperation(offer, 't1')], filters: { refuse_seconds: 1 } },
    });
    assert.is(await taskState(client.frameworkId, 't1'), 'TASK_STAGING');

    const running = uuid(41);
    await proposeOk(cluster, {
      type: 'update_task_status',
      at: Date.now(),
      frameworkId: toFrameworkId(client.frameworkId),
      taskId: taskId('t1'),
      agentId: A1,
      status: statusReport('TASK_RUNNING', { uuid: running, timestampMs: Date.now(), source: 'SOURCE_EXECUTOR' }),
    });
    const update = (await client.nextOf('UPDATE')).update.status;
    assert.is(update.state, 'TASK_RUNNING');
    assert.is(update.uuid, running);
    assert.equal(update.agent_id, { value: A1 });
    assert.type(update.timestamp, 'number');
    await client.callOk('ACKNOWLEDGE', {
      acknowledge: { agent_id: { value: A1 }, task_id: { value: 't1' }, uuid: running },
    });
    // 202 once handed to Raft, as Mesos answers it; the acknowledgement commits after.
    await waitFor(
      () =>
        [...cluster.master.machine.state.tasks.values()]
          .find((each) => each.frameworkId === client.frameworkId)
          ?.statuses.find((status) => status.uuid === running)?.acknowledged === true,
      { timeoutMs: 10_000, what: 'the ACKNOWLEDGE to commit' },
    );

    await client.callOk('RECONCILE', {
      reconcile: { tasks: [{ task_id: { value: 't1' } }, { task_id: { value: 'ghost' } }] },
    });
    const known = (await client.nextOf('UPDATE')).update.status;
    assert.equal(
      [known.task_id.value, known.state, known.reason, known.uuid],
      ['t1', 'TASK_RUNNING', 'REASON_RECONCILIATION', undefined],
    );
    const ghost = (await client.nextOf('UPDATE')).update.status;
    assert.equal([ghost.task_id.value, ghost.state, ghost.reason], ['ghost', 'TASK_LOST', 'REASON_RECONCILIATION']);
    await client.callOk('RECONCILE', { reconcile: { tasks: [] } });
    assert.is((await client.nextOf('UPDATE')).update.status.task_id.value, 't1');

    await client.callOk('KILL', { kill: { task_id: { value: 't1' } } });
    assert.ok(
      [...cluster.master.machine.state.tasks.values()].find((each) => each.frameworkId === client.frameworkId)
        ?.killRequestedAt,
    );
    await client.callOk('KILL', { kill: { task_id: { value: 'nope' } } });
    assert.is(
      (await client.nextOf('UPDATE', (event) => event.update.status.task_id.value === 'nope')).update.status.state,
      'TASK_LOST',
    );
    await client.callOk('REVIVE');
    await client.callOk('SUPPRESS', { suppress: { roles: ['*'] } });
    await client.callOk('SHUTDOWN', { shutdown: { executor_id: { value: 'e' }, agent_id: { value: A1 } } });
  } finally {
    await client.callOk('TEARDOWN');
    client.close();
  }
});

test('a refused ACCEPT answers 202 and reports the tasks lost with REASON_INVALID_OFFERS; DECLINE returns an offer', async () => {
  const client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'decliner' }));
  try {
    const offer = await nextOffer(client);
    await client.callOk('DECLINE', { decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0 } } });
    assert.not.ok(cluster.master.machine.state.offers.has(offerId(offer.id.value)));
    await client.callOk('ACCEPT', { accept: { offer_ids: [offer.id], operations: [launchOperation(offer, 'late')] } });
    const lost = (await client.nextOf('UPDATE')).update.status;
    assert.equal(
      [lost.task_id.value, lost.state, lost.reason, lost.source],
      ['late', 'TASK_LOST', 'REASON_INVALID_OFFERS', 'SOURCE_MASTER'],
    );
  } finally {
    await client.callOk('TEARDOWN');
    client.close();
  }
});

test('re-subscribing closes the old stream and sends unacknowledged updates again; the old stream id is refused', async () => {
  const first = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'failover' }));
  const offer = await nextOffer(first);
  await first.callOk('ACCEPT', { accept: { offer_ids: [offer.id], operations: [launchOperation(offer, 'r1')] } });
  const pending = uuid(77);
  await proposeOk(cluster, {
    type: 'update_task_status',
    at: Date.now(),
    frameworkId: toFrameworkId(first.frameworkId),
    taskId: taskId('r1'),
    agentId: A1,
    status: statusReport('TASK_RUNNING', { uuid: pending, timestampMs: Date.now() }),
  });
  assert.is((await first.nextOf('UPDATE')).update.status.uuid, pending);
  const second = await SchedulerClient.subscribe(
    cluster.url,
    frameworkInfo({ name: 'failover', id: { value: first.frameworkId } }),
  );
  try {
    assert.is(second.frameworkId, first.frameworkId);
    assert.ok(await first.ended());
    const again = (await second.nextOf('UPDATE')).update.status;
    assert.equal([again.task_id.value, again.uuid], ['r1', pending]);
    const stale = await first.call('REVIVE');
    assert.is(stale.status, 400);
    assert.is(errorOf(stale.body).code, 'STREAM_ID_MISMATCH');
  } finally {
    await second.callOk('TEARDOWN');
    second.close();
  }
});

test('a closed stream disconnects the framework; past its failover timeout it is torn down, and may not come back', async () => {
  const client = await SchedulerClient.subscribe(
    cluster.url,
    frameworkInfo({ name: 'short-lived', failover_timeout: 0.5 }),
  );
  const id = toFrameworkId(client.frameworkId);
  client.close();
  await waitFor(() => cluster.master.machine.state.frameworks.get(id)?.state === 'DISCONNECTED', {
    timeoutMs: 10_000,
    what: 'the framework to be disconnected',
  });
  const closed = await schedulerPost(
    cluster.url,
    { framework_id: { value: id }, type: 'REVIVE' },
    { 'mesos-stream-id': client.streamId },
  );
  assert.is(closed.status, 403);
  assert.is(errorOf(closed.body).code, 'FRAMEWORK_NOT_SUBSCRIBED');
  await waitFor(() => cluster.master.machine.state.frameworks.get(id)?.state === 'COMPLETED', {
    timeoutMs: 15_000,
    what: 'the failover timeout to tear it down',
  });
  const controller = new AbortController();
  const again = await fetch(`${cluster.url}/api/v1/scheduler`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    signal: controller.signal,
    body: JSON.stringify({
      framework_id: { value: id },
      type: 'SUBSCRIBE',
      subscribe: { framework_info: frameworkInfo({ id: { value: id } }) },
    }),
  });
  assert.is(again.status, 200);
  assert.match(await again.text(), '"type":"ERROR","error":{"message":"Framework has been removed"}');
});

test.run();
