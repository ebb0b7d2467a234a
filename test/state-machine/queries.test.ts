// The read helpers the HTTP layer uses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  countByState,
  getTask,
  kvGet,
  kvList,
  listAgents,
  listFrameworks,
  listOffers,
  listReservations,
  listRoles,
  listTasks,
  maintenanceStatus,
} from '../../src/state-machine/queries.ts';
import { A1, A2, cpus, F1, F2, Harness, mem, O3, ports, resources, T1, T2 } from './support/fixtures.ts';
import { richScenario } from './support/scenario.ts';

const state = new Harness(richScenario).state;

test('agents and frameworks, in id order, filtered by state', () => {
  assert.equal(
    listAgents(state).map((agent) => agent.id),
    [A1, A2],
  );
  assert.equal(listAgents(state, { states: ['UNREACHABLE'] }), []);
  assert.equal(
    listFrameworks(state).map((framework) => framework.id),
    [F1, F2],
  );
});

test('tasks filtered by framework, agent, state and terminal-ness, with a limit', () => {
  assert.equal(
    listTasks(state).map((task) => `${task.frameworkId}/${task.id}`),
    ['f1/pod-a', 'f1/t1', 'f1/t3', 'f2/t1', 'f2/t2'],
  );
  assert.equal(
    listTasks(state, { frameworkId: F2 }).map((task) => task.id),
    [T1, T2],
  );
  assert.equal(
    listTasks(state, { agentId: A1 }).map((task) => task.id),
    ['pod-a', T1, 't3'],
  );
  assert.equal(
    listTasks(state, { states: ['TASK_FINISHED'] }).map((task) => task.id),
    [T2],
  );
  assert.equal(listTasks(state, { terminal: false }).length, 4);
  assert.equal(listTasks(state, { limit: 1 }).length, 1);
  assert.is(getTask(state, F1, T1)?.state, 'TASK_RUNNING');
  assert.is(getTask(state, F1, T2), null);
});

test('offers by framework and agent', () => {
  assert.equal(
    listOffers(state).map((offer) => offer.id),
    [O3],
  );
  assert.equal(
    listOffers(state, { agentId: A2 }).map((offer) => offer.id),
    [O3],
  );
  assert.equal(listOffers(state, { frameworkId: F2 }), []);
});

test('roles: weight, frameworks, allocated, offered, reserved and quota', () => {
  const roles = listRoles(state);
  assert.equal(
    roles.map((role) => role.role),
    ['*', 'batch', 'web'],
  );
  const batch = roles.find((role) => role.role === 'batch');
  assert.is(batch?.weight, 0.5);
  assert.equal(batch?.frameworkIds, [F2]);
  assert.equal(batch?.allocated, resources(cpus(1, 'batch'), mem(64)));
  assert.equal(batch?.reserved, resources(cpus(1, 'batch'), ports(31000, 31009, 'batch')));
  const web = roles.find((role) => role.role === 'web');
  assert.equal(web?.quota?.limits, { cpus: 4, mem: 2048 });
  const star = roles.find((role) => role.role === '*');
  assert.equal(star?.offered, resources(cpus(1)));
  assert.is(star?.weight, 1);
});

test('reservations, maintenance status, counts', () => {
  assert.equal(listReservations(state), [
    { agentId: A2, role: 'batch', resources: resources(cpus(1, 'batch'), ports(31000, 31009, 'batch')) },
  ]);
  assert.equal(maintenanceStatus(state), { drainingMachines: [], downMachines: [{ hostname: 'node9', ip: '' }] });
  const counts = countByState(state);
  assert.equal(counts.agents, { ACTIVE: 2, UNREACHABLE: 0, GONE: 0 });
  assert.equal(counts.tasks, { TASK_RUNNING: 2, TASK_STAGING: 2, TASK_FINISHED: 1 });
});

test('kv get and list by namespace and prefix', () => {
  assert.is(kvGet(state, 'jobs', 'cron/nightly')?.value, '{"every":"1d"}');
  assert.is(kvGet(state, 'jobs', 'missing'), null);
  assert.equal(
    kvList(state, 'jobs', { prefix: 'cron/' }).map((entry) => entry.key),
    ['cron/nightly'],
  );
  assert.equal(kvList(state, 'services', { prefix: 'x' }), []);
});

test.run();
