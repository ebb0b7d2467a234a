// A new stream's SUBSCRIBE backlog and a RECONCILE's answers are read from the state as the stream
// writes them, `schedulerEventsPerSlice` tasks a turn (scheduler/session.ts sendInSlices): built
// up front, 100,000 of them (and the sort of their keys) held the leader's loop ~150 ms (issue 12).
// Real sessions, call handling and state machine; the state's task reads are counted per turn.
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { schedulerEventsPerSlice } from '../../src/master/limits.ts';
import { handleFrameworkCall, type SchedulerContext } from '../../src/master/scheduler/calls.ts';
import { SchedulerSessions, type SessionsMaster } from '../../src/master/scheduler/sessions.ts';
import type { OperationApproval } from '../../src/master/scheduler/operation-approval.ts';
import type { Command } from '../../src/state-machine/commands.ts';
import { encodeCommand } from '../../src/state-machine/codec.ts';
import { offerId, taskId } from '../../src/state-machine/ids.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import type { ReadonlyState } from '../../src/state-machine/state.ts';
import {
  accept,
  cpus,
  createOffers,
  F1,
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
import { RecordingSink } from './support/recording-sink.ts';

const tasks = 3 * schedulerEventsPerSlice + 10;
const perAccept = 250;

/**
 * `tasks` tasks on a1, each reported TASK_RUNNING and not acknowledged; the last 10 then finished.
 * The real machine without the fixtures' Harness: its checks after every command (a copy of every
 * task each time) made this set-up alone take most of a minute.
 */
function manyUnacknowledged(): ClusterStateMachine {
  const machine = new ClusterStateMachine({ checkInvariants: false });
  let index = 0;
  const ok = (command: Command): void => {
    index += 1;
    const result = machine.apply(encodeCommand(command), index);
    assert.ok(result.ok, JSON.stringify(result));
  };
  const ids = Array.from({ length: tasks }, (_, position) => taskId(`many-${position}`));
  ok(registerAgent());
  ok(subscribe());
  for (let first = 0; first < tasks; first += perAccept) {
    const batch = ids.slice(first, first + perAccept);
    const offer = offerId(`o-${first}`);
    ok(createOffers(offerDefinition(offer, resources(cpus(1), mem(batch.length)))));
    ok(accept([offer], [launch(...batch.map((id) => taskDefinition(id, resources(mem(1)))))]));
  }
  for (const id of ids) ok(updateStatus(id, 'TASK_RUNNING', { uuid: uuid(1) }));
  for (const id of ids.slice(-10)) ok(updateStatus(id, 'TASK_FINISHED', { uuid: uuid(2) }));
  return machine;
}

/** The machine's state with its task reads counted. */
function countingState(machine: ClusterStateMachine): { state: () => ReadonlyState; reads: () => number } {
  let reads = 0;
  const counted = (): ReadonlyState => {
    const state = machine.state;
    const taskMap = new Proxy(state.tasks, {
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
    return new Proxy(state, {
      get: (target, property) => (property === 'tasks' ? taskMap : Reflect.get(target, property, target)),
    });
  };
  return { state: counted, reads: () => reads };
}

async function nextTurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

function sessionsOn(state: () => ReadonlyState): SchedulerSessions {
  const master = {
    id: 'm1',
    address: '127.0.0.1:1',
    state,
    onChange: () => () => {},
    submit: () => Promise.reject(new Error('not in this test')),
  } as unknown as SessionsMaster;
  return new SchedulerSessions(master, pino({ level: 'silent' }));
}

const updates = (sink: RecordingSink) => sink.sent.filter((event) => event.type === 'UPDATE');

test("a new stream's backlog is read one slice of tasks per turn, every pending update in the end", async () => {
  const { state, reads } = countingState(manyUnacknowledged());
  const sessions = sessionsOn(state);
  await sessions.start(1);
  try {
    const sink = new RecordingSink();
    sessions.open(F1, sink);
    assert.ok(reads() <= schedulerEventsPerSlice, `SUBSCRIBE's turn read ${reads()} of ${tasks} tasks`);
    const perTurn = [reads()];
    for (let turns = 0; turns < 100 && updates(sink).length < tasks + 10; turns += 1) {
      const before = reads();
      await nextTurn();
      perTurn.push(reads() - before);
    }
    assert.ok(Math.max(...perTurn) <= schedulerEventsPerSlice, `reads per turn: ${perTurn.join(' ')}`);
    // Per task its TASK_RUNNING; of the finished ones, the TASK_FINISHED waiting behind it too.
    assert.is(updates(sink).length, tasks + 10);
    assert.is(reads(), tasks);
  } finally {
    sessions.stop();
  }
});

test('an implicit RECONCILE of many tasks is answered one slice per turn: the live ones, then the finished', async () => {
  const { state, reads } = countingState(manyUnacknowledged());
  const sessions = sessionsOn(state);
  await sessions.start(1);
  try {
    const sink = new RecordingSink();
    const { streamId } = sessions.open(F1, sink);
    while (sessions.has(F1) && updates(sink).length < tasks + 10) await nextTurn();
    const answered = sink.sent.length;
    const context = {
      master: { state, submit: () => Promise.reject(new Error('not in this test')) },
      sessions,
      logger: pino({ level: 'silent' }),
      streamId,
      approval: {} as OperationApproval,
    } as unknown as SchedulerContext & { streamId: string; approval: OperationApproval };
    const before = reads();
    await handleFrameworkCall(context, { type: 'RECONCILE', frameworkId: F1, tasks: [] });
    assert.ok(reads() - before <= schedulerEventsPerSlice, `RECONCILE's turn read ${reads() - before} tasks`);
    for (let turns = 0; turns < 100 && sink.sent.length < answered + tasks; turns += 1) await nextTurn();
    const answers = sink.sent.slice(answered).map((event) => (event.type === 'UPDATE' ? event.update.status : null));
    assert.is(answers.length, tasks);
    assert.ok(answers.every((status) => status?.reason === 'REASON_RECONCILIATION'));
    assert.equal(
      answers.slice(-10).map((status) => status?.state),
      Array(10).fill('TASK_FINISHED'),
      'the finished tasks, held for their acknowledgement, after the live ones',
    );
  } finally {
    sessions.stop();
  }
});

test.run();
