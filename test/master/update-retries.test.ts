// The leader's retry of unacknowledged status updates (src/master/scheduler/update-retries.ts),
// on a real state machine and a session whose sink records what it was sent, with the clock
// passed in. The churn bench stalled because every round sent every pending update again: a
// framework acknowledging more slowly than updates arrived heard each one again every 10 s, and
// each copy cost it one more ACKNOWLEDGE. Each update now waits an interval after it was sent,
// then twice as long after each resend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maxStatusUpdateRetryIntervalMs } from '../../src/master/limits.ts';
import { RecordingSink } from './support/recording-sink.ts';
import { SchedulerSession } from '../../src/master/scheduler/session.ts';
import { UpdateRetries } from '../../src/master/scheduler/update-retries.ts';
import { taskId, taskKey, type FrameworkId } from '../../src/state-machine/ids.ts';
import type { ReadonlyState } from '../../src/state-machine/state.ts';
import {
  A1,
  accept,
  createOffers,
  cpus,
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
  T3,
  taskDefinition,
  updateStatus,
  uuid,
} from '../state-machine/support/fixtures.ts';

const intervalMs = 10_000;

/** Tasks t1 and t2 on a1, each reported TASK_RUNNING and TASK_FINISHED, nothing acknowledged. */
function finishedUnacknowledged(): Harness {
  const harness = new Harness([
    registerAgent(),
    subscribe(),
    createOffers(offerDefinition(O1, resources(cpus(2), mem(256)))),
    accept(
      [O1],
      [launch(taskDefinition(T1, resources(cpus(1), mem(128))), taskDefinition(T2, resources(cpus(1), mem(128))))],
    ),
  ]);
  let seed = 1;
  for (const task of [T1, T2]) {
    harness.ok(updateStatus(task, 'TASK_RUNNING', { uuid: uuid(seed++) }));
    harness.ok(updateStatus(task, 'TASK_FINISHED', { uuid: uuid(seed++) }));
  }
  return harness;
}

const resentUuids = (sink: RecordingSink, from: number): string[] =>
  sink.sent.slice(from).map((event) => (event.type === 'UPDATE' ? (event.update.status.uuid ?? '-') : event.type));

test('an unacknowledged update is sent again an interval after it was sent, then with the wait doubling', () => {
  const harness = finishedUnacknowledged();
  const sink = new RecordingSink();
  const session = new SchedulerSession(F1, 'stream-1', sink);
  const retries = new UpdateRetries(intervalMs, maxStatusUpdateRetryIntervalMs);
  const sessionOf = (frameworkId: FrameworkId) => (frameworkId === F1 ? session : undefined);
  // Per task the oldest unacknowledged update (TASK_RUNNING: uuid 1 for t1, 3 for t2) and the
  // terminal one waiting behind it (TASK_FINISHED: 2 and 4), whose acknowledgement completes it.
  const pending = [uuid(1), uuid(2), uuid(3), uuid(4)];
  const roundsAt = (seconds: number[]): number[] =>
    seconds.map((second) => retries.resend(sessionOf, harness.state, second * 1000));
  // First seen at 0 s (sent live or on SUBSCRIBE before): due at 10 s, then 30 s, 70 s, 150 s.
  assert.equal(roundsAt([0]), [0], 'just sent: not again in the same interval');
  assert.equal(roundsAt([10]), [4]);
  assert.equal(resentUuids(sink, 0), pending);
  assert.equal(roundsAt([20]), [0], 'resent 10 s ago: now waits 20 s');
  assert.equal(roundsAt([30, 40, 50, 60]), [4, 0, 0, 0]);
  assert.equal(roundsAt([70, 80, 140]), [4, 0, 0]);
  assert.equal(roundsAt([150]), [4]);
  assert.equal(sink.sent.length, 16, 'four resends of four updates in 150 s, not fifteen');
});

test('an acknowledged update is not sent again; the others of its task still are', () => {
  const harness = finishedUnacknowledged();
  const sink = new RecordingSink();
  const session = new SchedulerSession(F1, 'stream-1', sink);
  const retries = new UpdateRetries(intervalMs, maxStatusUpdateRetryIntervalMs);
  const sessionOf = (frameworkId: FrameworkId) => (frameworkId === F1 ? session : undefined);
  assert.is(retries.resend(sessionOf, harness.state, 0), 0);
  harness.ok({ type: 'acknowledge_task_status', at: 0, frameworkId: F1, taskId: T1, agentId: A1, uuid: uuid(1) });
  assert.is(retries.resend(sessionOf, harness.state, 10_000), 3);
  assert.equal(resentUuids(sink, 0), [uuid(2), uuid(3), uuid(4)]);
});

test('Mesos rule: the terminal update acknowledged, the earlier ones of its task are never sent again', () => {
  const harness = finishedUnacknowledged();
  const sink = new RecordingSink();
  const session = new SchedulerSession(F1, 'stream-1', sink);
  const retries = new UpdateRetries(intervalMs, maxStatusUpdateRetryIntervalMs);
  const sessionOf = (frameworkId: FrameworkId) => (frameworkId === F1 ? session : undefined);
  assert.is(retries.resend(sessionOf, harness.state, 0), 0);
  harness.ok({
    type: 'acknowledge_task_status',
    at: 0,
    frameworkId: F1,
    taskId: T1,
    agentId: A1,
    uuid: uuid(2),
    completesTerminalTask: true,
  });
  for (const second of [10, 30, 70, 150]) retries.resend(sessionOf, harness.state, second * 1000);
  assert.equal([...new Set(resentUuids(sink, 0))], [uuid(3), uuid(4)], "t1's TASK_RUNNING is superseded");
});

test('a new stream of the framework starts afresh: it heard every pending update on SUBSCRIBE', () => {
  const harness = finishedUnacknowledged();
  const retries = new UpdateRetries(intervalMs, maxStatusUpdateRetryIntervalMs);
  const first = new SchedulerSession(F1, 'stream-1', new RecordingSink());
  for (const second of [0, 10, 30, 70]) retries.resend(() => first, harness.state, second * 1000);
  const sink = new RecordingSink();
  const second = new SchedulerSession(F1, 'stream-2', sink);
  assert.is(
    retries.resend(() => second, harness.state, 80_000),
    0,
  );
  assert.is(
    retries.resend(() => second, harness.state, 90_000),
    4,
  );
});

test('the wait stops doubling at the maximum', () => {
  const harness = finishedUnacknowledged();
  const sink = new RecordingSink();
  const session = new SchedulerSession(F1, 'stream-1', sink);
  const retries = new UpdateRetries(intervalMs, 40_000);
  let resent = 0;
  // Due at 10, 30, 70, then every 40 s: 110, 150, 190.
  for (let second = 0; second <= 190; second += 10)
    resent += retries.resend(() => session, harness.state, second * 1000);
  assert.is(resent, 4 * 6);
});

const manyTasks = 200;

/** `manyTasks` tasks on a1, each reported TASK_RUNNING (uuid 1), nothing acknowledged. */
function manyRunningUnacknowledged(): Harness {
  const ids = Array.from({ length: manyTasks }, (_, index) => taskId(`many-${index}`));
  const harness = new Harness([
    registerAgent(),
    subscribe(),
    createOffers(offerDefinition(O1, resources(cpus(2), mem(manyTasks)))),
    accept([O1], [launch(...ids.map((id) => taskDefinition(id, resources(mem(1)))))]),
  ]);
  for (const id of ids) harness.ok(updateStatus(id, 'TASK_RUNNING', { uuid: uuid(1) }));
  return harness;
}

/** The state with its task reads counted: what a retry round looks at. */
function countingTaskReads(state: ReadonlyState): { state: ReadonlyState; reads: () => number } {
  let reads = 0;
  const tasks = new Proxy(state.tasks, {
    get(target, property) {
      if (property === 'get')
        return (key: Parameters<typeof target.get>[0]) => {
          reads += 1;
          return target.get(key);
        };
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const counted = new Proxy(state, {
    get: (target, property) => (property === 'tasks' ? tasks : Reflect.get(target, property, target)),
  });
  return { state: counted, reads: () => reads };
}

test('a retry round reads only the tasks with an update due, not every unacknowledged one', () => {
  const harness = manyRunningUnacknowledged();
  const session = new SchedulerSession(F1, 'stream-1', new RecordingSink());
  const retries = new UpdateRetries(intervalMs, maxStatusUpdateRetryIntervalMs);
  const { state, reads } = countingTaskReads(harness.state);
  const readsInRound = (second: number): { resent: number; reads: number } => {
    const before = reads();
    const resent = retries.resend(() => session, state, second * 1000);
    return { resent, reads: reads() - before };
  };
  assert.equal(readsInRound(0), { resent: 0, reads: manyTasks }, 'a new stream walks its tasks once');
  assert.equal(readsInRound(5), { resent: 0, reads: 0 }, 'nothing due: nothing read');
  assert.is(readsInRound(10).resent, manyTasks);
  assert.equal(readsInRound(20), { resent: 0, reads: 0 }, 'due again at 30 s');
  assert.equal(readsInRound(29), { resent: 0, reads: 0 });
});

test("a new stream's walk over its unacknowledged tasks looks at one turn's share at a time", () => {
  const harness = manyRunningUnacknowledged();
  const session = new SchedulerSession(F1, 'stream-1', new RecordingSink());
  const perTurn = 50;
  const retries = new UpdateRetries(intervalMs, maxStatusUpdateRetryIntervalMs, { tasksTrackedPerTurn: perTurn });
  const { state, reads } = countingTaskReads(harness.state);
  assert.is(
    retries.resend(() => session, state, 0),
    0,
  );
  assert.is(reads(), perTurn, 'the round walks one share, not all 200 tasks');
  const shares: number[] = [];
  while (retries.busy) {
    const before = reads();
    const { tracked } = retries.step(state);
    assert.is(tracked, reads() - before);
    shares.push(tracked);
  }
  assert.equal(shares, [perTurn, perTurn, perTurn, 0], 'the rest in later turns, until the walk ends');
  assert.is(
    retries.resend(() => session, state, 10_000),
    manyTasks,
    'every task walked is due in the next round',
  );
});

test("tasks given a status since the last round are tracked one turn's share at a time", () => {
  const harness = manyRunningUnacknowledged();
  const session = new SchedulerSession(F1, 'stream-1', new RecordingSink());
  const perTurn = 50;
  const retries = new UpdateRetries(intervalMs, maxStatusUpdateRetryIntervalMs, { tasksTrackedPerTurn: perTurn });
  retries.resend(() => session, harness.state, 0);
  while (retries.busy) retries.step(harness.state);
  const noted = harness.events.length;
  for (let index = 0; index < manyTasks; index += 1)
    harness.ok(updateStatus(taskId(`many-${index}`), 'TASK_FINISHED', { uuid: uuid(2) }));
  for (const event of harness.eventsSince(noted))
    if (event.type === 'TASK_ADDED' || event.type === 'TASK_UPDATED')
      retries.noteTask(taskKey(event.task.frameworkId, event.task.id), event.task);
  const { state, reads } = countingTaskReads(harness.state);
  assert.is(
    retries.resend(() => session, state, 5_000),
    0,
  );
  assert.is(reads(), perTurn, 'the round tracks one share of the 200 noted tasks');
  const shares: number[] = [];
  while (retries.busy) shares.push(retries.step(state).tracked);
  assert.equal(shares, [perTurn, perTurn, perTurn]);
  assert.is(reads(), manyTasks, 'each noted task looked at once');
  assert.is(
    retries.resend(() => session, harness.state, 10_000),
    manyTasks,
    'TASK_RUNNING, sent at 0 s',
  );
  assert.is(
    retries.resend(() => session, harness.state, 15_000),
    manyTasks,
    'TASK_FINISHED, noted at 5 s',
  );
});

test("a round sends its due updates one turn's share at a time, in the order one turn would", () => {
  const harness = manyRunningUnacknowledged();
  const sink = new RecordingSink();
  const session = new SchedulerSession(F1, 'stream-1', sink);
  const perTurn = 64;
  const retries = new UpdateRetries(intervalMs, maxStatusUpdateRetryIntervalMs, { updatesResentPerTurn: perTurn });
  retries.resend(() => session, harness.state, 0);
  while (retries.busy) retries.step(harness.state);
  const shares = [retries.resend(() => session, harness.state, 10_000)];
  while (retries.busy) shares.push(retries.step(harness.state).resent);
  assert.equal(shares, [64, 64, 64, 8], 'the 200 due at 10 s, 64 per turn');
  const keys = sink.sent.map((event) => (event.type === 'UPDATE' ? event.update.status.task_id.value : '-'));
  assert.equal(keys, [...keys].sort(), 'tasks in key order across the turns');
  assert.is(new Set(keys).size, manyTasks);
  assert.is(
    retries.resend(() => session, harness.state, 20_000),
    0,
    'each due again 20 s after it was resent',
  );
  assert.is(
    retries.resend(() => session, harness.state, 30_000),
    perTurn,
  );
});

test('a round whose stream lost its session sends no more and ends', () => {
  const harness = manyRunningUnacknowledged();
  const sink = new RecordingSink();
  let session: SchedulerSession | undefined = new SchedulerSession(F1, 'stream-1', sink);
  const retries = new UpdateRetries(intervalMs, maxStatusUpdateRetryIntervalMs, { updatesResentPerTurn: 64 });
  retries.resend(() => session, harness.state, 0);
  while (retries.busy) retries.step(harness.state);
  assert.is(
    retries.resend(() => session, harness.state, 10_000),
    64,
  );
  session = undefined;
  assert.ok(retries.busy, '136 updates still due');
  assert.equal(retries.step(harness.state), { tracked: 0, resent: 0 });
  assert.not.ok(retries.busy, 'nothing left for a later turn: no turn after turn doing nothing');
  assert.is(sink.sent.length, 64);
});

test('an update given after the stream walked its tasks is due an interval after it was noted', () => {
  const harness = finishedUnacknowledged();
  const sink = new RecordingSink();
  const session = new SchedulerSession(F1, 'stream-1', sink);
  const retries = new UpdateRetries(intervalMs, maxStatusUpdateRetryIntervalMs);
  // Tasks t1 and t2 acknowledged to the end; then t3 is launched and reported running.
  for (const [task, first] of [
    [T1, 1],
    [T2, 3],
  ] as const) {
    harness.ok({
      type: 'acknowledge_task_status',
      at: 0,
      frameworkId: F1,
      taskId: task,
      agentId: A1,
      uuid: uuid(first),
    });
    harness.ok({
      type: 'acknowledge_task_status',
      at: 0,
      frameworkId: F1,
      taskId: task,
      agentId: A1,
      uuid: uuid(first + 1),
      completesTerminalTask: true,
    });
  }
  assert.is(
    retries.resend(() => session, harness.state, 0),
    0,
  );
  const noted = harness.events.length;
  harness.ok(createOffers(offerDefinition(O2, resources(cpus(1), mem(128)))));
  harness.ok(accept([O2], [launch(taskDefinition(T3, resources(cpus(1), mem(128))))]));
  harness.ok(updateStatus(T3, 'TASK_RUNNING', { uuid: uuid(9) }));
  // As the leader's sessions do: each change, as it applies.
  for (const event of harness.eventsSince(noted))
    if (event.type === 'TASK_ADDED' || event.type === 'TASK_UPDATED')
      retries.noteTask(taskKey(event.task.frameworkId, event.task.id), event.task);
  assert.is(
    retries.resend(() => session, harness.state, 5_000),
    0,
    'first seen at 5 s',
  );
  assert.is(
    retries.resend(() => session, harness.state, 14_000),
    0,
  );
  assert.is(
    retries.resend(() => session, harness.state, 15_000),
    1,
  );
  assert.equal(resentUuids(sink, 0), [uuid(9)]);
});

test.run();
