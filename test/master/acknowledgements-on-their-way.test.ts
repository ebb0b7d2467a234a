// An ACKNOWLEDGE is answered once handed to Raft, not once committed (master/scheduler/calls.ts,
// acknowledgements-on-their-way.ts), and the update retries hold its update back while it is on
// its way. The real scheduler API, sessions, update retries and state machine; the master's
// `submit` holds each entry until the test commits it (applies it to the state machine and tells
// the listeners, as the driver does) or fails it (as a lost leadership fails a proposal). Rounds
// run every 20 ms; the test counts resends of a control task, never time.
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AllocationControl } from '../../src/offers/control.ts';
import { MasterError } from '../../src/master/errors.ts';
import type { ReplicatedMaster } from '../../src/master/interface.ts';
import { createSchedulerApi, type SchedulerApi } from '../../src/master/scheduler/api.ts';
import type { ExecutorChannel } from '../../src/master/scheduler/executor-channel.ts';
import { SchedulerSessions, type SessionsMaster } from '../../src/master/scheduler/sessions.ts';
import type { Command } from '../../src/state-machine/commands.ts';
import type { ApplyResult } from '../../src/state-machine/errors.ts';
import type { ChangeEvent } from '../../src/state-machine/events.ts';
import { taskKey, type LogIndex, type TaskId } from '../../src/state-machine/ids.ts';
import {
  A1,
  accept,
  baseTime,
  cpus,
  createOffers,
  F1,
  Harness,
  launch,
  mem,
  O1,
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

interface HeldEntry {
  readonly command: Command;
  readonly commit: () => void;
  readonly fail: (error: Error) => void;
}

/** A replicated master of one state machine whose entries commit only when the test says so. */
class HeldCommits {
  readonly harness = new Harness([
    registerAgent(),
    subscribe(),
    createOffers(offerDefinition(O1, resources(cpus(2), mem(256)))),
    accept([O1], [launch(taskDefinition(T1, resources(cpus(1), mem(128))), taskDefinition(T2, resources(mem(128))))]),
    updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1) }),
    updateStatus(T2, 'TASK_RUNNING', { uuid: uuid(2) }),
  ]);
  readonly held: HeldEntry[] = [];
  readonly #listeners: ((event: ChangeEvent, index: LogIndex) => void)[] = [];

  readonly master = {
    id: 'm1',
    address: '127.0.0.1:1',
    state: () => this.harness.state,
    onChange: (listener: (event: ChangeEvent, index: LogIndex) => void) => {
      this.#listeners.push(listener);
      return () => this.#listeners.splice(this.#listeners.indexOf(listener), 1);
    },
    submit: (command: Command) =>
      new Promise<{ index: number; result: ApplyResult }>((resolve, reject) => {
        const commit = () => {
          const applied = this.harness.events.length;
          const result = this.harness.run({ ...command, at: baseTime + 1 } as Command);
          for (const event of this.harness.eventsSince(applied))
            for (const listener of this.#listeners) listener(event, this.harness.index);
          resolve({ index: this.harness.index, result });
        };
        this.held.push({ command, commit, fail: reject });
      }),
  };
}

const acknowledgement = (task: TaskId, seed: number) =>
  ({ type: 'ACKNOWLEDGE', frameworkId: F1, agentId: A1, taskId: task, uuid: uuid(seed) }) as const;

const turn = () => new Promise((done) => setImmediate(done));

/** Whether `call` was answered while its entry, proposed, is held uncommitted (the test fails otherwise). */
async function answeredBeforeCommit(cluster: HeldCommits, call: Promise<void>): Promise<boolean> {
  const proposedBefore = cluster.held.length;
  let answered = false;
  void call.then(() => {
    answered = true;
  });
  for (let turns = 0; cluster.held.length === proposedBefore && turns < 1_000; turns += 1) await turn();
  assert.is(cluster.held.length, proposedBefore + 1, 'the acknowledgement was proposed');
  await turn();
  assert.ok(answered, 'answered before its entry committed');
  return answered;
}

/** The scheduler API and sessions over `cluster`, F1 subscribed on a recording stream. */
async function subscribed(cluster: HeldCommits) {
  const logger = pino({ level: 'silent' });
  const sessions = new SchedulerSessions(cluster.master as unknown as SessionsMaster, logger, {
    statusUpdateRetryIntervalMs: 20,
  });
  await sessions.start(1);
  const api: SchedulerApi = createSchedulerApi({
    master: cluster.master as unknown as Pick<ReplicatedMaster, 'state' | 'submit'>,
    allocation: {} as AllocationControl,
    sessions,
    executors: {} as ExecutorChannel,
    logger,
    leaderServicesRunning: async () => {},
  });
  const sink = new RecordingSink();
  const { streamId } = sessions.open(F1, sink);
  const copies = (seed: number) =>
    sink.sent.filter((event) => event.type === 'UPDATE' && event.update.status.uuid === uuid(seed)).length;
  /** Waits (in 25 ms steps, 400 at most) until `done`; the control task's resends show rounds ran. */
  const until = async (done: () => boolean) => {
    for (let steps = 0; !done() && steps < 400; steps += 1) await new Promise((wait) => setTimeout(wait, 25));
    return done();
  };
  return { sessions, api, streamId, copies, until };
}

test('ACKNOWLEDGE is answered while its entry waits for the commit; its update is not sent again meanwhile', async () => {
  const cluster = new HeldCommits();
  const { sessions, api, streamId, copies, until } = await subscribed(cluster);
  try {
    assert.equal([copies(1), copies(2)], [1, 1], 'SUBSCRIBE sent each pending update once');
    assert.ok(await answeredBeforeCommit(cluster, api.call(acknowledgement(T2, 2), { streamId })));
    assert.is(sessions.acknowledgementsOnTheirWay.size, 1);

    // A second ACKNOWLEDGE of it (a framework's retry) is answered without another entry.
    await api.call(acknowledgement(T2, 2), { streamId });
    for (let turns = 0; turns < 3; turns += 1) await turn();
    assert.is(cluster.held.length, 1, 'no second entry for an acknowledgement on its way');

    // Rounds run (T1, unacknowledged, is sent again twice) and T2's update is not among them.
    assert.ok(await until(() => copies(1) >= 3), 'T1 sent again in two rounds');
    assert.is(copies(2), 1, 'T2 not sent again while its acknowledgement is on its way');

    cluster.held[0]!.commit();
    await turn();
    assert.is(sessions.acknowledgementsOnTheirWay.size, 0, 'settled: no longer on its way');
    const statuses = cluster.harness.state.tasks.get(taskKey(F1, T2))?.statuses ?? [];
    assert.ok(statuses.find((status) => status.uuid === uuid(2))?.acknowledged, 'committed: acknowledged');
    const sentBefore = copies(1);
    assert.ok(await until(() => copies(1) >= sentBefore + 1), 'another round');
    assert.is(copies(2), 1, 'an acknowledged update is not sent again');
  } finally {
    sessions.stop();
  }
});

test('an acknowledgement whose entry fails (a leader change) leaves its update due again, and it is acknowledged then', async () => {
  const cluster = new HeldCommits();
  const { sessions, api, streamId, copies, until } = await subscribed(cluster);
  try {
    assert.ok(await answeredBeforeCommit(cluster, api.call(acknowledgement(T2, 2), { streamId })));
    assert.ok(await until(() => copies(1) >= 2), 'a round ran');
    assert.is(copies(2), 1, 'held back while on its way');

    cluster.held[0]!.fail(new MasterError('LEADERSHIP_CHANGED'));
    await turn();
    assert.is(sessions.acknowledgementsOnTheirWay.size, 0, 'a failed entry is no longer on its way');
    assert.ok(await until(() => copies(2) >= 2), 'T2 sent again once its acknowledgement was lost');

    await api.call(acknowledgement(T2, 2), { streamId });
    for (let turns = 0; cluster.held.length < 2 && turns < 1_000; turns += 1) await turn();
    assert.is(cluster.held.length, 2, 'acknowledged again: a new entry');
    cluster.held[1]!.commit();
    const statuses = cluster.harness.state.tasks.get(taskKey(F1, T2))?.statuses ?? [];
    assert.ok(statuses.find((status) => status.uuid === uuid(2))?.acknowledged, 'committed the second time');
  } finally {
    sessions.stop();
  }
});

test.run();
