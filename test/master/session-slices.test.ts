// A scheduler stream's bulk sends (scheduler/session.ts sendInSlices): a RECONCILE of many tasks,
// the SUBSCRIBE backlog and a retry round are written `schedulerEventsPerSlice` events a turn,
// so one framework's bulk answer does not hold the leader's event loop; events sent meanwhile
// follow them, so the stream keeps the order of the calls. On a real state machine, with the real
// reconciliation answers, and a sink that records what it was sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SchedulerEvent } from '../../src/protocol/scheduler.ts';
import { schedulerEventsPerSlice } from '../../src/master/limits.ts';
import { RecordingSink } from './support/recording-sink.ts';
import { heartbeatEvent } from '../../src/master/scheduler/events.ts';
import { SchedulerSession } from '../../src/master/scheduler/session.ts';
import { reconcileEvents } from '../../src/master/scheduler/task-updates.ts';
import { F1, Harness, registerAgent, subscribe } from '../state-machine/support/fixtures.ts';

const taskIdOf = (event: SchedulerEvent): string =>
  event.type === 'UPDATE' ? event.update.status.task_id.value : event.type;

/** Explicit reconciliation of `count` tasks the master does not know: one answer each, in the order asked. */
function reconciliationAnswers(count: number): SchedulerEvent[] {
  const harness = new Harness([registerAgent(), subscribe()]);
  const framework = harness.state.frameworks.get(F1);
  assert.ok(framework !== undefined);
  const references = Array.from({ length: count }, (_, position) => ({ taskId: `t-${position}`, agentId: null }));
  const answers = reconcileEvents(harness.state, framework, references, 0);
  assert.is(answers.length, count);
  return answers;
}

/** Resolves once `done()` holds, with the number of event-loop turns it took. */
async function turnsUntil(done: () => boolean): Promise<number> {
  let turns = 0;
  while (!done()) {
    turns += 1;
    assert.ok(turns < 10_000, 'the bulk send never finished');
    await new Promise((resolve) => setImmediate(resolve));
  }
  return turns;
}

test('a reconciliation of many tasks is answered in order, over several turns, events sent meanwhile after it', async () => {
  const count = 5 * schedulerEventsPerSlice + 7;
  const answers = reconciliationAnswers(count);
  const sink = new RecordingSink();
  const session = new SchedulerSession(F1, 'stream-1', sink);
  session.sendInSlices(answers);
  assert.is(sink.sent.length, schedulerEventsPerSlice, 'the first slice leaves at once, the rest later');
  // An event sent now (a live update, a heartbeat) waits behind the bulk send.
  session.send(heartbeatEvent);
  const turns = await turnsUntil(() => session.queuedEvents === 0);
  assert.ok(turns >= 5, `${count} events went out in ${turns + 1} turns`);
  assert.equal(sink.sent.map(taskIdOf), [...answers.map(taskIdOf), 'HEARTBEAT']);
  assert.equal(
    answers.map((answer) => (answer.type === 'UPDATE' ? answer.update.status.reason : null)),
    answers.map(() => 'REASON_RECONCILIATION'),
  );
  // Nothing waits any more: the next event goes out at once.
  session.send(heartbeatEvent);
  assert.is(sink.sent.length, count + 2);
});

test('two bulk sends on one stream go out one after the other; a small one with nothing queued goes out at once', async () => {
  const first = reconciliationAnswers(2 * schedulerEventsPerSlice);
  const second = reconciliationAnswers(3);
  const sink = new RecordingSink();
  const session = new SchedulerSession(F1, 'stream-1', sink);
  session.sendInSlices(second);
  assert.is(sink.sent.length, 3);
  session.sendInSlices(first);
  session.sendInSlices(second);
  await turnsUntil(() => session.queuedEvents === 0);
  assert.equal(sink.sent.map(taskIdOf), [...second, ...first, ...second].map(taskIdOf));
});

test('an ended stream drops what its bulk send had not written yet', async () => {
  const answers = reconciliationAnswers(3 * schedulerEventsPerSlice);
  const sink = new RecordingSink();
  const session = new SchedulerSession(F1, 'stream-1', sink);
  session.sendInSlices(answers);
  session.end('Framework failed over');
  assert.is(session.queuedEvents, 0);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.is(sink.sent.length, schedulerEventsPerSlice + 1);
  assert.is(sink.sent[sink.sent.length - 1]!.type, 'ERROR');
});

test.run();
