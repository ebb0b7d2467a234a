// The tasks checker on evidence made by hand (each anomaly it must find), and the log replay
// on a real master's files: the replayed state equals the live one, index by index.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Operation } from './history/operations.ts';
import { replayMasterLog, type ReplayResult } from './checker/log-replay.ts';
import { checkTasks, type TasksEvidence } from './checker/tasks-checker.ts';
import { committedDivergences, mostCompleteLog, readCommittedLog } from './checker/committed-logs.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { agentId, frameworkId, offerId, taskId } from '../../src/state-machine/ids.ts';
import { canonicalize, type Resources } from '../../src/state-machine/resources.ts';
import { startSingleMaster } from '../support/master.ts';
import { databaseFileName } from '../../src/raft/storage.ts';
import Database from 'better-sqlite3';
import { join } from 'node:path';

const scalars = (cpus: number, mem: number): Resources =>
  canonicalize([
    { name: 'cpus', role: '*' as never, type: 'SCALAR', scalar: cpus },
    { name: 'mem', role: '*' as never, type: 'SCALAR', scalar: mem },
  ]);

let nextId = 0;
function launch(task: string, type: Operation['type']): Operation {
  const id = nextId;
  nextId += 2;
  return {
    id,
    process: id,
    client: 0,
    f: 'launch',
    key: task,
    type,
    input: { taskId: task },
    output: null,
    invokeNs: id * 1e6,
    completeNs: (id + 1) * 1e6,
    returnNs: type === 'info' ? Infinity : (id + 1) * 1e6,
    node: undefined,
    error: undefined,
  };
}

const cleanReplay = (): ReplayResult => ({
  fromIndex: 1,
  throughIndex: 10,
  complete: true,
  violation: null,
  stateHash: 'h',
  state: null as never,
  taskPaths: new Map([['f/t0', ['TASK_STAGING', 'TASK_RUNNING', 'TASK_FINISHED']]]),
});

function evidence(overrides: Partial<TasksEvidence>): TasksEvidence {
  return {
    operations: [launch('t0', 'ok'), launch('t1', 'fail'), launch('t2', 'info')],
    runs: ['t0'],
    finalTasks: [{ taskId: 't0', state: 'TASK_FINISHED' }],
    replays: new Map([['m1', cleanReplay()]]),
    divergences: [],
    mastersCompared: 3,
    ...overrides,
  };
}

const types = (check: ReturnType<typeof checkTasks>) => check.anomalies.map((anomaly) => anomaly.type);

test('a clean run is valid; an indeterminate launch may or may not have run', () => {
  assert.is(checkTasks(evidence({})).valid, true);
  assert.is(
    checkTasks(
      evidence({
        runs: ['t0', 't2'],
        finalTasks: [
          { taskId: 't0', state: 'TASK_FINISHED' },
          { taskId: 't2', state: 'TASK_FINISHED' },
        ],
      }),
    ).valid,
    true,
  );
});

test('each property has its anomaly', () => {
  assert.equal(types(checkTasks(evidence({ finalTasks: [] }))), ['lost-launch']);
  assert.equal(types(checkTasks(evidence({ runs: ['t0', 't0'] }))), ['ran-twice']);
  assert.equal(types(checkTasks(evidence({ runs: ['t0', 't1'] }))), ['failed-launch-ran']);
  assert.equal(types(checkTasks(evidence({ runs: ['t0', 'x9'] }))), ['phantom-task']);
  assert.equal(types(checkTasks(evidence({ runs: [] }))), ['acknowledged-never-ran']);
  const broken = { ...cleanReplay(), violation: { index: 7, message: 'agent a1 uses more than its total' } };
  assert.equal(types(checkTasks(evidence({ replays: new Map([['m1', broken]]) }))), ['invariant-violated']);
  const backwards = {
    ...cleanReplay(),
    taskPaths: new Map([['f/t0', ['TASK_STAGING', 'TASK_RUNNING', 'TASK_STARTING'] as const]]),
  };
  assert.equal(types(checkTasks(evidence({ replays: new Map([['m1', backwards as never]]) }))), ['illegal-task-path']);
  assert.is(checkTasks(evidence({ finalTasks: null })).valid, 'unknown');
  assert.equal(types(checkTasks(evidence({ divergences: [{ index: 9, masters: { m1: '2:17', m2: '3:99' } }] }))), [
    'committed-logs-diverge',
  ]);
  const unacknowledged = [{ taskId: 't0', state: 'TASK_FINISHED', completed: false }];
  assert.equal(types(checkTasks(evidence({ finalTasks: unacknowledged }))), ['update-never-acknowledged']);
});

test('a task is unacknowledged only when terminal and out of completed_tasks, or when the read did not say', () => {
  const finalTasks = [
    { taskId: 't0', state: 'TASK_FINISHED', completed: true },
    // Still running: its updates may well be acknowledged; the check is about what ended.
    { taskId: 't2', state: 'TASK_RUNNING', completed: false },
  ];
  const check = checkTasks(
    evidence({
      runs: ['t0', 't2'],
      finalTasks,
      acknowledgements: { unacknowledgedBeforeResubscribing: 1, resubscribed: true },
    }),
  );
  assert.is(check.valid, true);
  assert.is(check.summary.unacknowledgedAtEnd, 0);
  assert.is(check.summary.unacknowledgedBeforeResubscribing, 1);
  assert.is(checkTasks(evidence({ finalTasks: [{ taskId: 't0', state: 'TASK_FINISHED' }] })).valid, true);
});

test("the replay of a real master's log gives its state, and each task's path from its launch", async () => {
  const single = await startSingleMaster();
  const facade = single.master.facade;
  const agent = agentId('agent-1');
  const framework = frameworkId('framework-1');
  // The allocator runs on this master; suppressed, it leaves the agent to the offer made here.
  single.master.allocation.setSuppressedRoles(framework, ['*']);
  const resources = scalars(2, 512);
  await facade.submit({
    type: 'register_agent',
    at: 0,
    agentId: agent,
    info: { hostname: 'h', address: { ip: '127.0.0.1', port: 5055 }, zone: null, resources, attributes: {} },
  });
  await facade.submit({
    type: 'subscribe_framework',
    at: 0,
    frameworkId: framework,
    info: {
      name: 'f',
      principal: null,
      roles: ['*' as never],
      failoverTimeoutMs: 1000,
      capabilities: [],
      hostname: null,
      webuiUrl: null,
      user: null,
    },
  });
  await facade.submit({
    type: 'create_offers',
    at: 0,
    offers: [{ offerId: offerId('o1'), frameworkId: framework, agentId: agent, role: '*' as never, resources }],
  });
  const task = {
    id: taskId('t1'),
    name: 't1',
    resources: scalars(1, 64),
    command: { value: 'true', shell: true, arguments: [], environment: {}, user: null },
    container: null,
    healthCheck: null,
    killGracePeriodMs: null,
    labels: {},
    executor: null,
    data: null,
  };
  await facade.submit({
    type: 'accept_offers',
    at: 0,
    frameworkId: framework,
    offerIds: [offerId('o1')],
    operations: [{ type: 'LAUNCH', tasks: [task] }],
  });
  const live = stateHash(single.master.machine.state);
  const dataDir = single.master.options.dataDir;
  await single.stop();
  const replay = replayMasterLog(dataDir);
  const committed = readCommittedLog('m1', dataDir);
  assert.is(committed.entries.size, committed.commit, 'every committed entry is read');
  assert.is(replay.violation, null);
  assert.ok(replay.complete);
  assert.is(replay.stateHash, live);
  assert.equal(replay.taskPaths.get('framework-1/t1'), ['TASK_STAGING']);
});

test('a master SIGKILLed after its last election: its reported commit index is replayed, not only the persisted one', async () => {
  const single = await startSingleMaster();
  const facade = single.master.facade;
  for (let index = 0; index < 5; index++)
    await facade.submit({ type: 'kv_put', namespace: 'test', key: `k${index}`, value: 'v', expectedVersion: null });
  const live = stateHash(single.master.machine.state);
  const reportedCommit = facade.raft().commitIndex;
  const dataDir = single.master.options.dataDir;
  await single.stop();
  // What a SIGKILL can leave: the commit index as of the last append (the hard_state row and the
  // entry rows), behind the one the master reported, since a Ready that moved only the commit
  // index writes nothing. Set back to 1 here so the gap is wide.
  const database = new Database(join(dataDir, databaseFileName));
  database.exec('UPDATE hard_state SET commit_index = 1; UPDATE entries SET commit_index = MIN(commit_index, 1)');
  database.close();
  assert.ok(reportedCommit > 5);
  assert.is(readCommittedLog('m1', dataDir).commit, 1, 'the persisted commit alone');
  const committed = readCommittedLog('m1', dataDir, reportedCommit);
  assert.is(committed.commit, reportedCommit);
  assert.is(committed.entries.size, reportedCommit);
  const replay = replayMasterLog(dataDir, { reportedCommit });
  assert.is(replay.throughIndex, reportedCommit);
  assert.is(replay.stateHash, live);
});

test('committed logs: the same entry everywhere, or the index is named; the longest whole log is replayed', () => {
  const log = (master: string, commit: number, snapshotIndex: number, entries: [number, string][]) => ({
    master,
    commit,
    snapshotIndex,
    entries: new Map(entries),
  });
  const m1 = log('m1', 3, 0, [
    [1, '1:a'],
    [2, '1:b'],
    [3, '2:c'],
  ]);
  const m2 = log('m2', 2, 0, [
    [1, '1:a'],
    [2, '1:b'],
  ]);
  const m3 = log('m3', 5, 4, [[5, '3:e']]);
  assert.equal(committedDivergences([m1, m2, m3]), []);
  assert.is(mostCompleteLog([m1, m2, m3])?.master, 'm1', 'm3 went further but from a snapshot');
  const m4 = log('m4', 3, 0, [
    [1, '1:a'],
    [2, '1:b'],
    [3, '3:z'],
  ]);
  assert.equal(committedDivergences([m1, m4]), [{ index: 3, masters: { m1: '2:c', m4: '3:z' } }]);
});

test.run();
