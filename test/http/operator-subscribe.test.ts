// SUBSCRIBE on the operator API of a real single-voter master: a RecordIO stream that starts
// with SUBSCRIBED (the state) and a HEARTBEAT, then carries the Mesos events as the state
// machine applies changes — here made through the operator API (TEARDOWN, MARK_AGENT_GONE) and
// through Raft directly for what has no API yet (agents registering, tasks launching).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Command } from '../../src/state-machine/commands.ts';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import {
  A1,
  A2,
  F1,
  O1,
  T1,
  accept,
  cpus,
  createOffers,
  launch,
  mem,
  offerDefinition,
  registerAgent,
  resources,
  subscribe,
  taskDefinition,
  updateStatus,
  uuid,
} from '../state-machine/support/fixtures.ts';
import { EventStream, readRawRecords } from './support/event-stream.ts';
import { proposeOk, writeOk } from './support/operator.ts';

let cluster: SingleMaster;

/** Stamped now, as a leader stamps them: the leader's timers (offer timeout, a framework's
 *  reconnect grace) read these times, and fixtures from 2023 would expire at once. */
function proposeNow(target: SingleMaster, ...commands: Command[]): Promise<void> {
  return proposeOk(target, ...commands.map((command) => ('at' in command ? { ...command, at: Date.now() } : command)));
}
test.before(async () => {
  cluster = await startSingleMaster();
  // The allocator runs on this master; f1 suppressed (as SUBSCRIBE's suppressed_roles would),
  // the offers this test makes are the only ones.
  cluster.master.allocation.setSuppressedRoles(F1, ['*']);
  await proposeNow(cluster, registerAgent(A1));
});
test.after(async () => {
  await cluster.stop();
});

test('SUBSCRIBED carries the state and the heartbeat interval; a HEARTBEAT follows at once', async () => {
  const stream = await EventStream.open(cluster.url);
  try {
    assert.is(stream.response.headers.get('content-type'), 'application/json');
    assert.is(stream.response.headers.get('transfer-encoding'), 'chunked');
    const subscribed = await stream.next();
    assert.ok(subscribed.type === 'SUBSCRIBED', `the first event is ${subscribed.type}`);
    assert.is(subscribed.subscribed.heartbeat_interval_seconds, 15);
    const state = subscribed.subscribed.get_state;
    assert.equal(Object.keys(state).sort(), ['get_agents', 'get_executors', 'get_frameworks', 'get_tasks']);
    assert.equal(
      state.get_agents.agents.map((agent) => agent.agent_info.id.value),
      ['a1'],
    );
    assert.equal(await stream.next(), { type: 'HEARTBEAT' });
  } finally {
    stream.close();
  }
});

test('changes arrive as Mesos events, in apply order', async () => {
  const stream = await EventStream.open(cluster.url);
  try {
    await stream.nextOf('SUBSCRIBED');
    await proposeNow(cluster, registerAgent(A2, { hostname: 'node2', address: { ip: '10.0.0.2', port: 5051 } }));
    const added = await stream.nextOf('AGENT_ADDED');
    assert.equal(added.agent_added.agent.agent_info.id, { value: 'a2' });
    assert.is(added.agent_added.agent.agent_info.hostname, 'node2');

    await writeOk(cluster, { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: A2 } } });
    assert.equal((await stream.nextOf('AGENT_REMOVED')).agent_removed, { agent_id: { value: 'a2' } });

    await proposeNow(cluster, subscribe(F1));
    const framework = (await stream.nextOf('FRAMEWORK_ADDED')).framework_added.framework;
    assert.equal(framework.framework_info.id, { value: 'f1' });
    assert.is(framework.connected, true);

    await proposeNow(
      cluster,
      createOffers(offerDefinition(O1, resources(cpus(1), mem(128)))),
      accept([O1], [launch(taskDefinition(T1, resources(cpus(1), mem(128))))]),
      updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(7) }),
    );
    const taskAdded = (await stream.nextOf('TASK_ADDED')).task_added.task;
    assert.equal(taskAdded.task_id, { value: 't1' });
    assert.is(taskAdded.state, 'TASK_STAGING');
    const running = (await stream.nextOf('TASK_UPDATED')).task_updated;
    assert.equal(running.framework_id, { value: 'f1' });
    assert.is(running.state, 'TASK_RUNNING');
    assert.is(running.status.uuid, uuid(7));

    await writeOk(cluster, { type: 'TEARDOWN', teardown: { framework_id: { value: F1 } } });
    const killed = (await stream.nextOf('TASK_UPDATED')).task_updated;
    assert.is(killed.state, 'TASK_KILLED');
    assert.is(killed.status.reason, 'REASON_FRAMEWORK_REMOVED');
    assert.equal((await stream.nextOf('FRAMEWORK_REMOVED')).framework_removed.framework_info.id, { value: 'f1' });
  } finally {
    stream.close();
  }
});

test('on the wire: records of one-line ASCII JSON, each starting its own HTTP chunk', async () => {
  const [host, port] = cluster.url.replace('http://', '').split(':') as [string, string];
  let registered = false;
  // Once SUBSCRIBED and HEARTBEAT are in, an agent whose attribute is not ASCII registers.
  const { head, records } = await readRawRecords(host, Number(port), 3, (received) => {
    if (received < 2 || registered) return;
    registered = true;
    void proposeOk(cluster, registerAgent('a3' as typeof A1, { attributes: { city: 'Zürich ✓' } }));
  });
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.match(head, /transfer-encoding: chunked/i);
  const events = records.map((record, index) => {
    // Never two records in one chunk. One record may span chunks: SUBSCRIBED is made in slices
    // of a time budget, so even a small state is split when the master is descheduled mid-slice
    // (the CI failure this test once had: its reader took each chunk for one record).
    assert.ok(record.startsChunk, `record ${index} begins its own HTTP chunk`);
    if (index > 0) assert.is(record.chunkCount, 1, `event record ${index} is one HTTP chunk`);
    assert.ok(
      record.data.every((byte) => byte >= 0x20 && byte < 0x7f),
      'printable ASCII only, no newline',
    );
    // Exactly the declared bytes parse as one JSON value: the length prefix counts the record exactly.
    return JSON.parse(record.data.toString('ascii'));
  });
  assert.equal(
    events.map((event) => event.type),
    ['SUBSCRIBED', 'HEARTBEAT', 'AGENT_ADDED'],
  );
  assert.equal(events[2].agent_added.agent.agent_info.attributes, [
    { name: 'city', type: 'TEXT', text: { value: 'Zürich ✓' } },
  ]);
});

test('Accept: application/recordio frames JSON messages (Message-Content-Type)', async () => {
  const stream = await EventStream.open(cluster.url, {
    accept: 'application/recordio',
    'message-accept': 'application/json',
  });
  try {
    assert.is(stream.response.headers.get('content-type'), 'application/recordio');
    assert.is(stream.response.headers.get('message-content-type'), 'application/json');
    assert.is((await stream.next()).type, 'SUBSCRIBED');
  } finally {
    stream.close();
  }
  const refused = await fetch(`${cluster.url}/api/v1`, {
    method: 'POST',
    body: JSON.stringify({ type: 'SUBSCRIBE' }),
    headers: {
      'content-type': 'application/json',
      accept: 'application/recordio',
      'message-accept': 'application/x-protobuf',
    },
  });
  assert.is(refused.status, 406);
  assert.is(errorOf(await refused.json()).code, 'NOT_ACCEPTABLE');
});

test('a stale SUBSCRIBE is served at once from local state', async () => {
  const stream = await EventStream.open(cluster.url, {}, '?stale=true');
  try {
    assert.is((await stream.next()).type, 'SUBSCRIBED');
  } finally {
    stream.close();
  }
});

test.run();
