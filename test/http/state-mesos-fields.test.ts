// The tasks in GET_STATE / GET_TASKS carry Mesos' fields and no others (mesos.proto `Task`,
// `TaskStatus`): a field Mesos does not send is bytes on every one of 100,000 tasks (issue 12),
// and a client written against Mesos finds what it reads. Flotilla's one documented addition is a
// live task's `statistics` (src/protocol/mesos.ts). The statuses are as a Mesos master keeps them:
// without the executor's `data` (master.cpp updateTask clears it, MESOS-1746).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { captureView, getStateJson } from '../../src/http/operator/state-json.ts';
import { collectInSlices } from '../../src/http/sliced-body.ts';
import type * as Mesos from '../../src/protocol/mesos.ts';
import { Harness, runningTaskSetup, T1, updateStatus, uuid } from '../state-machine/support/fixtures.ts';

/** mesos.proto (v1) `message Task`'s fields. */
const mesosTaskFields = new Set([
  'name',
  'task_id',
  'framework_id',
  'executor_id',
  'agent_id',
  'state',
  'resources',
  'statuses',
  'status_update_state',
  'status_update_uuid',
  'labels',
  'discovery',
  'container',
  'health_check',
  'kill_policy',
  'user',
  'limits',
]);
const requiredTaskFields = ['name', 'task_id', 'framework_id', 'agent_id', 'state'];
/** mesos.proto (v1) `message TaskStatus`'s fields, less `data`, which the master does not keep. */
const keptStatusFields = new Set([
  'task_id',
  'state',
  'message',
  'source',
  'reason',
  'agent_id',
  'executor_id',
  'timestamp',
  'uuid',
  'healthy',
  'check_status',
  'labels',
  'container_status',
  'unreachable_time',
  'limitation',
]);

const harness = new Harness(runningTaskSetup());
harness.ok(
  updateStatus(T1, 'TASK_RUNNING', {
    uuid: uuid(1),
    message: 'up',
    healthy: true,
    data: Buffer.from('the executor says so').toString('base64'),
  }),
);
const usage: Mesos.ResourceStatistics = {
  timestamp: 1,
  cpus_user_time_secs: 0.5,
  cpus_system_time_secs: 0.25,
  cpus_limit: 1,
  mem_rss_bytes: 1024,
};

async function tasksInState(): Promise<Record<string, unknown>[]> {
  const chunks = await collectInSlices(getStateJson(captureView(harness.state, () => usage)));
  const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    get_tasks: Record<string, Record<string, unknown>[]>;
  };
  return Object.values(answer.get_tasks).flat();
}

test("a task in GET_STATE has Mesos' Task fields (and its usage), no others", async () => {
  const tasks = await tasksInState();
  assert.is(tasks.length, 1);
  for (const task of tasks) {
    for (const field of Object.keys(task))
      assert.ok(mesosTaskFields.has(field) || field === 'statistics', `${field} is not a field of Mesos' Task`);
    for (const field of requiredTaskFields) assert.ok(field in task, `${field} missing`);
    assert.equal(task.statistics, usage);
  }
});

test("its statuses have Mesos' TaskStatus fields as the master keeps them: no executor data", async () => {
  const [task] = await tasksInState();
  const statuses = task!.statuses as Record<string, unknown>[];
  const running = statuses.at(-1)!;
  assert.is(running.state, 'TASK_RUNNING');
  assert.is(running.message, 'up');
  assert.is(running.healthy, true);
  assert.is(running.uuid, uuid(1));
  for (const status of statuses)
    for (const field of Object.keys(status))
      assert.ok(keptStatusFields.has(field), `${field} is not kept in a Mesos master's TaskStatus`);
});

test.run();
