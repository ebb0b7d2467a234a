// GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_TASKS, GET_ROLES, GET_METRICS, TEARDOWN and
// MARK_AGENT_GONE on a real single-voter master, in the Mesos v1 shapes (master.proto,
// mesos.proto). Agents, frameworks and tasks enter the state through Raft directly (they have
// no API of their own yet); everything is read back through the operator API.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { taskKey } from '../../src/state-machine/ids.ts';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import {
  A1,
  A2,
  F1,
  F2,
  O1,
  O2,
  T1,
  T2,
  accept,
  baseTime,
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
import { fails, operatorCall, proposeOk, read, writeOk } from './support/operator.ts';

let cluster: SingleMaster;
const setUpTime = Date.now();

// Agent a1 (zone z1) runs t1 (running) and t2 (finished, not yet acknowledged) for framework f1
// (role "web"), which also holds offer o2; agent a2 and framework f2 exist to be removed.
test.before(async () => {
  cluster = await startSingleMaster();
  // The allocator runs on this master: suppressed (as SUBSCRIBE's suppressed_roles would), the
  // frameworks get none of its offers, so the offers below are the only ones.
  cluster.master.allocation.setSuppressedRoles(F1, ['web']);
  cluster.master.allocation.setSuppressedRoles(F2, ['*']);
  // Stamped now, as a leader stamps them: the leader's timers (offer timeout, a framework's
  // reconnect grace) read these times, and fixtures from 2023 would expire at once.
  await proposeOk(
    cluster,
    ...[
      registerAgent(A1, { zone: 'z1', attributes: { rack: 'r1', generation: '3' } }),
      registerAgent(A2, { hostname: 'node2', address: { ip: '10.0.0.2', port: 5051 } }),
      subscribe(F1, { roles: ['web'] }),
      subscribe(F2, { name: 'batch' }),
      createOffers(offerDefinition(O1, resources(cpus(2), mem(256)), { role: 'web' })),
      accept(
        [O1],
        [
          launch(
            taskDefinition(T1, resources(cpus(1), mem(128)), { labels: { tier: 'front' } }),
            taskDefinition(T2, resources(cpus(1), mem(128))),
          ),
        ],
      ),
      updateStatus(T1, 'TASK_RUNNING', { uuid: uuid(1), source: 'SOURCE_EXECUTOR' }),
      updateStatus(T2, 'TASK_FINISHED', { uuid: uuid(2), message: 'done' }),
      createOffers(offerDefinition(O2, resources(cpus(1)), { role: 'web' })),
    ].map((command) => ('at' in command ? { ...command, at: setUpTime } : command)),
  );
});
test.after(async () => {
  await cluster.stop();
});

test('GET_AGENTS: registered agents as Response.GetAgents.Agent', async () => {
  const { agents, recovered_agents } = await read(cluster, 'GET_AGENTS');
  assert.equal(
    agents.map((agent) => agent.agent_info.id.value),
    ['a1', 'a2'],
  );
  assert.equal(recovered_agents, []);
  const a1 = agents[0]!;
  assert.is(a1.agent_info.hostname, 'node1');
  assert.is(a1.agent_info.port, 5051);
  assert.equal(a1.agent_info.domain, { fault_domain: { region: { name: 'default' }, zone: { name: 'z1' } } });
  assert.equal(a1.agent_info.attributes, [
    { name: 'generation', type: 'SCALAR', scalar: { value: 3 } },
    { name: 'rack', type: 'TEXT', text: { value: 'r1' } },
  ]);
  assert.is(a1.active, true);
  assert.is(a1.deactivated, false);
  assert.is(a1.pid, 'slave(1)@10.0.0.1:5051');
  assert.equal(a1.registered_time, { nanoseconds: setUpTime * 1e6 });
  assert.equal(a1.total_resources, [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 4 }, role: '*' },
    { name: 'mem', type: 'SCALAR', scalar: { value: 4096 }, role: '*' },
    { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31099 }] }, role: '*' },
  ]);
  assert.equal(
    a1.allocated_resources,
    [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '*' },
      { name: 'mem', type: 'SCALAR', scalar: { value: 128 }, role: '*' },
    ],
    'the finished task no longer holds resources',
  );
  assert.equal(a1.offered_resources, [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '*' }]);
});

test('GET_FRAMEWORKS: frameworks with their offers and allocations by role', async () => {
  const { frameworks, completed_frameworks } = await read(cluster, 'GET_FRAMEWORKS');
  assert.equal(
    frameworks.map((framework) => framework.framework_info.id.value),
    ['f1', 'f2'],
  );
  assert.equal(completed_frameworks, []);
  const f1 = frameworks[0]!;
  assert.equal(f1.framework_info, {
    user: '',
    name: 'services',
    id: { value: 'f1' },
    failover_timeout: 60,
    checkpoint: true,
    role: 'web',
    roles: ['web'],
    principal: 'ops',
    capabilities: [],
  });
  assert.is(f1.active, true);
  assert.is(f1.connected, true);
  assert.is(f1.recovered, false);
  assert.equal(f1.registered_time, { nanoseconds: setUpTime * 1e6 });
  assert.equal(f1.allocated_resources, [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '*', allocation_info: { role: 'web' } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 128 }, role: '*', allocation_info: { role: 'web' } },
  ]);
  assert.equal(f1.offered_resources, [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '*', allocation_info: { role: 'web' } },
  ]);
  assert.is(f1.offers.length, 1);
  const offer = f1.offers[0]!;
  assert.equal(offer.id, { value: 'o2' });
  assert.equal(offer.agent_id, { value: 'a1' });
  assert.is(offer.hostname, 'node1');
  assert.equal(offer.url, {
    scheme: 'http',
    address: { hostname: 'node1', ip: '10.0.0.1', port: 5051 },
    path: '/slave(1)',
  });
  assert.equal(offer.allocation_info, { role: 'web' });
  assert.equal(f1.inverse_offers, []);
});

test('GET_TASKS: live and unacknowledged terminal tasks in `tasks`, acknowledged ones completed', async () => {
  const before = await read(cluster, 'GET_TASKS');
  assert.equal(
    before.tasks.map((task) => task.task_id.value),
    ['t1', 't2'],
  );
  assert.equal(
    [before.pending_tasks, before.unreachable_tasks, before.completed_tasks, before.orphan_tasks],
    [[], [], [], []],
  );
  const t1 = before.tasks[0]!;
  const t2 = before.tasks[1]!;
  assert.is(t1.name, 'task t1');
  assert.equal(t1.framework_id, { value: 'f1' });
  assert.equal(t1.agent_id, { value: 'a1' });
  assert.is(t1.state, 'TASK_RUNNING');
  assert.equal(t1.resources[0], {
    name: 'cpus',
    type: 'SCALAR',
    scalar: { value: 1 },
    role: '*',
    allocation_info: { role: 'web' },
  });
  assert.equal(t1.labels, { labels: [{ key: 'tier', value: 'front' }] });
  assert.equal(
    t1.statuses.map((status) => status.state),
    ['TASK_STAGING', 'TASK_RUNNING'],
  );
  assert.equal(t1.statuses[1], {
    task_id: { value: 't1' },
    state: 'TASK_RUNNING',
    source: 'SOURCE_EXECUTOR',
    agent_id: { value: 'a1' },
    timestamp: baseTime / 1000,
    uuid: uuid(1),
    // The executor's own update names its executor (a command task's executor is named after it).
    executor_id: { value: 't1' },
  });
  assert.is(t1.status_update_state, 'TASK_RUNNING');
  assert.is(t1.status_update_uuid, uuid(1));
  assert.is(t2.state, 'TASK_FINISHED');
  assert.is(t2.statuses[1]?.message, 'done');

  await proposeOk(cluster, {
    type: 'acknowledge_task_status',
    at: baseTime,
    frameworkId: F1,
    taskId: T2,
    agentId: A1,
    uuid: uuid(2),
  });
  const after = await read(cluster, 'GET_TASKS');
  assert.equal(
    after.tasks.map((task) => task.task_id.value),
    ['t1'],
  );
  assert.equal(
    after.completed_tasks.map((task) => task.task_id.value),
    ['t2'],
  );
});

test('GET_STATE nests GET_TASKS, GET_EXECUTORS, GET_FRAMEWORKS and GET_AGENTS as master.proto does', async () => {
  const state = await read(cluster, 'GET_STATE');
  assert.equal(Object.keys(state).sort(), ['get_agents', 'get_executors', 'get_frameworks', 'get_tasks']);
  assert.equal(state.get_agents, await read(cluster, 'GET_AGENTS'));
  assert.equal(state.get_frameworks, await read(cluster, 'GET_FRAMEWORKS'));
  assert.equal(state.get_tasks, await read(cluster, 'GET_TASKS'));
  assert.equal(state.get_executors, { executors: [], orphan_executors: [] });
});

test('GET_ROLES: each role with its weight, frameworks and allocated resources', async () => {
  const { roles } = await read(cluster, 'GET_ROLES');
  const web = roles.find((role) => role.name === 'web');
  assert.equal(web, {
    name: 'web',
    weight: 1,
    frameworks: [{ value: 'f1' }],
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: { value: 1 }, role: '*', allocation_info: { role: 'web' } },
      { name: 'mem', type: 'SCALAR', scalar: { value: 128 }, role: '*', allocation_info: { role: 'web' } },
    ],
  });
});

test('GET_METRICS: master gauges as [{name, value}], answered without a ReadIndex', async () => {
  const { metrics } = await read(cluster, 'GET_METRICS');
  const byName = new Map<string, number>(metrics.map((metric) => [metric.name, metric.value]));
  assert.is(byName.size, metrics.length, 'names are unique');
  assert.is(byName.get('master/elected'), 1);
  assert.is(byName.get('master/tasks_running'), 1);
  assert.is(byName.get('master/tasks_finished'), 1);
  assert.is(byName.get('master/agents_active'), 2);
  assert.is(byName.get('master/frameworks_connected'), 2);
  assert.is(byName.get('master/outstanding_offers'), 1);
  const raft = cluster.master.raft.status();
  assert.ok(byName.get('flotilla/raft_applied_index')! >= 10);
  assert.ok(byName.get('flotilla/raft_commit_index')! <= raft.commit);
  assert.is(byName.get('flotilla/raft_term'), raft.term);
  assert.is(
    errorOf((await operatorCall(cluster, { type: 'GET_METRICS', get_metrics: 'soon' })).body).code,
    'INVALID_BODY',
  );
});

test('TEARDOWN completes a framework and kills its tasks; unknown and bad ids are refused', async () => {
  await fails(cluster, { type: 'TEARDOWN', teardown: { framework_id: { value: 'nope' } } }, 404, 'FRAMEWORK_NOT_FOUND');
  await fails(cluster, { type: 'TEARDOWN' }, 400, 'INVALID_BODY');
  await fails(cluster, { type: 'TEARDOWN', teardown: { framework_id: 'f2' } }, 400, 'INVALID_BODY');
  await fails(cluster, { type: 'TEARDOWN', teardown: { framework_id: { value: 'f 2' } } }, 400, 'INVALID_BODY');
  await fails(cluster, { type: 'TEARDOWN', teardown: { framework_id: { value: 7 } } }, 400, 'INVALID_BODY');
  await writeOk(cluster, { type: 'TEARDOWN', teardown: { framework_id: { value: F2 } } });
  const { frameworks, completed_frameworks } = await read(cluster, 'GET_FRAMEWORKS');
  assert.equal(
    frameworks.map((framework) => framework.framework_info.id.value),
    ['f1'],
  );
  assert.equal(
    completed_frameworks.map((framework) => framework.framework_info.id.value),
    ['f2'],
  );
  assert.is(completed_frameworks[0]!.connected, false);
  assert.ok(completed_frameworks[0]!.unregistered_time!.nanoseconds > 0);
  await fails(cluster, { type: 'TEARDOWN', teardown: { framework_id: { value: F2 } } }, 409, 'FRAMEWORK_COMPLETED');
});

test('MARK_AGENT_GONE removes an agent for good (again: still 200, as in Mesos); unknown ids are 404', async () => {
  await fails(
    cluster,
    { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: 'nope' } } },
    404,
    'AGENT_NOT_FOUND',
  );
  await fails(cluster, { type: 'MARK_AGENT_GONE', mark_agent_gone: {} }, 400, 'INVALID_BODY');
  await fails(cluster, { type: 'MARK_AGENT_GONE', mark_agent_gone: null }, 400, 'INVALID_BODY');
  await writeOk(cluster, { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: A2 } } });
  await writeOk(cluster, { type: 'MARK_AGENT_GONE', mark_agent_gone: { agent_id: { value: A2 } } });
  const { agents } = await read(cluster, 'GET_AGENTS');
  assert.equal(
    agents.map((agent) => agent.agent_info.id.value),
    ['a1'],
    'a gone agent is no longer registered',
  );
  const { metrics } = await read(cluster, 'GET_METRICS');
  assert.is(metrics.find((metric) => metric.name === 'flotilla/agents_gone')?.value, 1);
});

test('KILL_TASK asks for one task to be killed (again, or of an ended task: still 200); unknown ids are 404', async () => {
  const kill = (framework: string, task: string) => ({
    type: 'KILL_TASK',
    kill_task: { framework_id: { value: framework }, task_id: { value: task } },
  });
  await fails(cluster, kill(F1, 'nope'), 404, 'TASK_NOT_FOUND');
  await fails(cluster, { type: 'KILL_TASK', kill_task: { framework_id: { value: F1 } } }, 400, 'INVALID_BODY');
  await fails(cluster, { type: 'KILL_TASK' }, 400, 'INVALID_BODY');
  await writeOk(cluster, kill(F1, T1));
  await writeOk(cluster, kill(F1, T1));
  const task = cluster.master.facade.state().tasks.get(taskKey(F1, T1))!;
  assert.ok(task.killRequestedAt !== null, 'the kill is recorded (the agent gateway sends it to the agent)');
  assert.is(task.state, 'TASK_RUNNING', 'the task runs until its agent reports it killed');
  await writeOk(cluster, kill(F1, T2));
});

test('reads honour ?stale and Accept; write calls answer no body', async () => {
  const stale = await operatorCall(cluster, { type: 'GET_AGENTS' }, {}, '?stale=true');
  assert.is(stale.status, 200);
  assert.is(
    errorOf((await operatorCall(cluster, { type: 'GET_AGENTS' }, {}, '?stale=maybe')).body).code,
    'BAD_REQUEST',
  );
  assert.is((await operatorCall(cluster, { type: 'GET_STATE' }, { accept: 'application/recordio' })).status, 406);
  const unknown = await operatorCall(cluster, { type: 'GET_NOTHING' });
  const unknownError = errorOf(unknown.body);
  assert.is(unknownError.code, 'UNKNOWN_CALL');
  assert.match(unknownError.message, /GET_STATE/, 'an unknown call type names the valid ones');
});

test.run();
