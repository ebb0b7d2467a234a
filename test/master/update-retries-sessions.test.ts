// The leader's scheduler sessions tell their update retries of each task change as it applies
// (src/master/scheduler/sessions.ts): a task launched and reported after the framework
// subscribed is sent again while unacknowledged. Real sessions and state machine; the retry
// interval is short, and the test waits for the resend (no assertion on time).
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SchedulerSessions, type SessionsMaster } from '../../src/master/scheduler/sessions.ts';
import type { ChangeEvent } from '../../src/state-machine/events.ts';
import { taskId, type LogIndex } from '../../src/state-machine/ids.ts';
import {
  accept,
  cpus,
  createOffers,
  F1,
  Harness,
  launch,
  mem,
  O1,
  O2,
  offerDefinition,
  registerAgent,
  resources,
  subscribe,
  T1,
  T2,
  taskDefinition,
  updateStatus,
  uuid,
} from '../state-machine/support/fixtures.ts';
import { RecordingSink } from './support/recording-sink.ts';

test('an update of a task launched after SUBSCRIBE is sent again until acknowledged', async () => {
  // Task t2 waits for an acknowledgement from before SUBSCRIBE: its resend shows that a round ran.
  const harness = new Harness([
    registerAgent(),
    subscribe(),
    createOffers(offerDefinition(O2, resources(cpus(1), mem(128)))),
    accept([O2], [launch(taskDefinition(T2, resources(cpus(1), mem(128))))]),
    updateStatus(T2, 'TASK_RUNNING', { uuid: uuid(3) }),
  ]);
  const listeners: ((event: ChangeEvent, index: LogIndex) => void)[] = [];
  const master = {
    id: 'm1',
    address: '127.0.0.1:1',
    state: () => harness.state,
    onChange: (listener: (event: ChangeEvent, index: LogIndex) => void) => {
      listeners.push(listener);
      return () => listeners.splice(listeners.indexOf(listener), 1);
    },
    submit: () => Promise.reject(new Error('not in this test')),
  } as unknown as SessionsMaster;
  const sessions = new SchedulerSessions(master, pino({ level: 'silent' }), { statusUpdateRetryIntervalMs: 20 });
  await sessions.start(1);
  try {
    const sink = new RecordingSink();
    sessions.open(F1, sink);
    const copies = (seed: number) =>
      sink.sent.filter((event) => event.type === 'UPDATE' && event.update.status.uuid === uuid(seed)).length;
    const resent = async (seed: number) => {
      // The rounds run every 20 ms; the wait after a resend doubles up to the 10-minute maximum.
      for (let waited = 0; copies(seed) < 2 && waited < 200; waited += 1)
        await new Promise((done) => setTimeout(done, 25));
      return copies(seed);
    };
    assert.is(await resent(3), 2, 'the backlog sent again: the stream has had a round');
    const applied = harness.events.length;
    harness.ok(createOffers(offerDefinition(O1, resources(cpus(1), mem(128)))));
    harness.ok(accept([O1], [launch(taskDefinition(T1, resources(cpus(1), mem(128))))]));
    harness.ok(updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(7) }));
    for (const event of harness.eventsSince(applied)) for (const listener of listeners) listener(event, harness.index);
    assert.is(copies(7), 1, 'sent live as it applied');
    assert.is(await resent(7), 2, 'sent again while unacknowledged');
  } finally {
    sessions.stop();
  }
});

test("a new stream's walk goes on in the next turns: every task is resent in the first round that resends", async () => {
  const tasks = 200;
  const perTurn = 50;
  const ids = Array.from({ length: tasks }, (_, index) => taskId(`many-${index}`));
  const harness = new Harness([
    registerAgent(),
    subscribe(),
    createOffers(offerDefinition(O1, resources(cpus(2), mem(tasks)))),
    accept([O1], [launch(...ids.map((id) => taskDefinition(id, resources(mem(1)))))]),
    ...ids.map((id) => updateStatus(id, 'TASK_RUNNING', { uuid: uuid(1) })),
  ]);
  const master = {
    id: 'm1',
    address: '127.0.0.1:1',
    state: () => harness.state,
    onChange: () => () => {},
    submit: () => Promise.reject(new Error('not in this test')),
  } as unknown as SessionsMaster;
  const sessions = new SchedulerSessions(master, pino({ level: 'silent' }), {
    statusUpdateRetryIntervalMs: 200,
    maxTasksTrackedPerTurn: perTurn,
  });
  await sessions.start(1);
  try {
    const sink = new RecordingSink();
    sessions.open(F1, sink);
    const updates = () => sink.sent.filter((event) => event.type === 'UPDATE').length;
    const backlog = updates();
    assert.is(backlog, tasks, 'SUBSCRIBE sent every pending update');
    // A round sends what is due in one turn: look after every turn until one has.
    for (let turns = 0; updates() === backlog && turns < 1_000_000; turns += 1)
      await new Promise((done) => setImmediate(done));
    assert.is(updates() - backlog, tasks, 'the first walk, a share per turn, had every task due by the next round');
  } finally {
    sessions.stop();
  }
});

test.run();
