// The operator event hub on its own, with a hand-driven change source in place of a master:
// its bounds (subscribers, per-subscriber queue), heartbeats, the end of every stream when a
// snapshot replaces the state, and that it stops listening when nobody subscribes.
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../src/http/errors.ts';
import type { ChangeListener, MasterCore } from '../../src/master/interface.ts';
import { OperatorSubscriptions } from '../../src/http/operator/subscriptions.ts';
import type { Event as OperatorEvent } from '../../src/protocol/operator.ts';
import { RecordIoDecoder } from '../../src/protocol/recordio.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { encodeCommand } from '../../src/state-machine/codec.ts';
import type { Command } from '../../src/state-machine/commands.ts';
import { A1, registerAgent } from '../state-machine/support/fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { asEvent } from './support/event-stream.ts';

/** A real state machine as the change source, applied by hand. */
class FakeMaster {
  readonly machine = new ClusterStateMachine({
    onListenerError: (error) => {
      throw error;
    },
  });
  listeners = 0;
  #index = 0;

  facade(): MasterCore {
    return {
      state: () => this.machine.state,
      onChange: (listener: ChangeListener) => {
        this.listeners += 1;
        const stop = this.machine.subscribe(listener);
        return () => {
          this.listeners -= 1;
          stop();
        };
      },
    } as unknown as MasterCore;
  }

  apply(command: Command): void {
    this.#index += 1;
    const result = this.machine.apply(encodeCommand(command), this.#index);
    assert.ok(result.ok, JSON.stringify(result));
  }

  restoreSnapshot(): void {
    this.machine.restore(this.machine.snapshot());
  }
}

/**
 * Collects a stream's records as parsed events while flowing. A record may span chunks: the
 * SUBSCRIBED record is made in slices of at most 10 ms each (sliced-body.ts), and on a loaded
 * machine a slice's budget can run out inside a small one (seen in CI).
 */
function collect(stream: Readable): { events: OperatorEvent[] } {
  const decoder = new RecordIoDecoder({ maxRecordBytes: 1 << 20 });
  const collected = { events: [] as OperatorEvent[] };
  stream.on('data', (chunk: Uint8Array) => {
    for (const record of decoder.decode(chunk))
      collected.events.push(asEvent<OperatorEvent>(JSON.parse(new TextDecoder().decode(record))));
  });
  return collected;
}

// An AGENT_ADDED record is about 900 bytes: three fit in the queue, four do not.
const limits = {
  maxSubscribers: 2,
  maxSubscribersPerPrincipal: 2,
  maxQueuedBytes: 3000,
  heartbeatIntervalSeconds: 3600,
};
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('SUBSCRIBED with a snapshot, an immediate HEARTBEAT, then events in apply order; offers are not operator events', async () => {
  const master = new FakeMaster();
  master.apply(registerAgent(A1));
  const hub = new OperatorSubscriptions(master.facade(), limits);
  const received = collect(hub.open());
  master.apply({ type: 'mark_agent_gone', at: 1, agentId: A1 });
  await waitFor(() => received.events.length === 3, { timeoutMs: 2000, what: 'three events' });
  assert.equal(
    received.events.map((event) => event.type),
    ['SUBSCRIBED', 'HEARTBEAT', 'AGENT_REMOVED'],
  );
  const [subscribed, , removed] = received.events;
  assert.ok(subscribed?.type === 'SUBSCRIBED' && removed?.type === 'AGENT_REMOVED');
  assert.equal(subscribed.subscribed.get_state.get_agents.agents[0]?.agent_info.id, { value: 'a1' });
  assert.is(subscribed.subscribed.heartbeat_interval_seconds, 3600);
  assert.equal(removed.agent_removed, { agent_id: { value: 'a1' } });
  hub.close();
});

test('one subscriber too many is answered 429', () => {
  const hub = new OperatorSubscriptions(new FakeMaster().facade(), limits);
  hub.open();
  hub.open();
  try {
    hub.open();
    assert.unreachable('a third subscriber was accepted');
  } catch (error) {
    assert.instance(error, HttpError);
    assert.is((error as HttpError).code, 'TOO_MANY_REQUESTS');
  }
  assert.is(hub.count, 2);
  hub.close();
});

test('one principal is bounded on its own; another principal and anonymous still get streams', async () => {
  const hub = new OperatorSubscriptions(new FakeMaster().facade(), {
    ...limits,
    maxSubscribers: 4,
    maxSubscribersPerPrincipal: 1,
  });
  const first = hub.open(undefined, 'ops');
  try {
    hub.open(undefined, 'ops');
    assert.unreachable('a second stream of ops was accepted');
  } catch (error) {
    assert.instance(error, HttpError);
    assert.is((error as HttpError).code, 'TOO_MANY_REQUESTS');
    assert.match((error as Error).message, /principal ops/);
    assert.is((error as HttpError).headers['retry-after'], '1');
  }
  hub.open(undefined, 'web');
  hub.open(undefined, null);
  assert.is(hub.count, 3);
  // A closed stream gives its principal's place back.
  first.destroy();
  await nextTurn();
  assert.is(hub.count, 2);
  hub.open(undefined, 'ops');
  assert.is(hub.count, 3);
  hub.close();
});

test('a subscriber that stops reading is disconnected past its queue bound in bytes; the others keep going', async () => {
  const master = new FakeMaster();
  const hub = new OperatorSubscriptions(master.facade(), limits);
  const slow = hub.open();
  const fast = collect(hub.open());
  await nextTurn();
  let slowError: Error | null = null;
  slow.on('error', (error) => {
    slowError = error;
  });
  for (let agent = 0; agent < 6; agent += 1) master.apply(registerAgent(`agent-${agent}` as typeof A1));
  await waitFor(() => slowError, { timeoutMs: 2000, what: 'the slow subscriber to be disconnected' });
  assert.ok(slow.destroyed);
  assert.match(String(slowError), /fell more than 3000 bytes behind/);
  await waitFor(() => fast.events.length === 8, { timeoutMs: 2000, what: 'the fast subscriber to get every event' });
  assert.is(hub.count, 1);
  hub.close();
});

test('a snapshot restore ends every stream: the subscribers resubscribe for a fresh snapshot', async () => {
  const master = new FakeMaster();
  const hub = new OperatorSubscriptions(master.facade(), limits);
  const stream = hub.open();
  collect(stream);
  master.apply(registerAgent(A1));
  master.restoreSnapshot();
  await waitFor(() => stream.readableEnded, { timeoutMs: 2000, what: 'the stream to end' });
  await waitFor(() => hub.count === 0, { timeoutMs: 2000, what: 'the subscriber to be gone' });
});

test('heartbeats come every interval; the hub stops listening once the last subscriber leaves', async () => {
  const master = new FakeMaster();
  const hub = new OperatorSubscriptions(master.facade(), { ...limits, heartbeatIntervalSeconds: 0.02 });
  assert.is(master.listeners, 0, 'nobody subscribed: no listener');
  const stream = hub.open();
  const received = collect(stream);
  assert.is(master.listeners, 1);
  await waitFor(() => received.events.filter((event) => event.type === 'HEARTBEAT').length >= 3, {
    timeoutMs: 2000,
    what: 'three heartbeats',
  });
  stream.destroy();
  await waitFor(() => master.listeners === 0, { timeoutMs: 2000, what: 'the hub to stop listening' });
  const heartbeats = received.events.length;
  await sleep(60);
  assert.is(received.events.length, heartbeats, 'no heartbeat after the stream closed');
});

test('limits are checked when the hub is made', () => {
  assert.throws(
    () => new OperatorSubscriptions(new FakeMaster().facade(), { ...limits, maxQueuedBytes: 100 }),
    RangeError,
  );
  assert.throws(
    () => new OperatorSubscriptions(new FakeMaster().facade(), { ...limits, maxSubscribers: 0 }),
    RangeError,
  );
});

test.run();
