// Persistent volumes in the state machine: CREATE_VOLUMES / DESTROY_VOLUMES and ACCEPT CREATE /
// DESTROY carve volumes out of disk reserved to a role and give it back; a task uses a volume
// whole; a volume in use cannot be destroyed; reservations and volumes survive re-registration;
// a snapshot keeps them. Every refusal is checked (the harness asserts a rejection changes nothing).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { maxOperations } from '../../src/state-machine/limits.ts';
import type { Command } from '../../src/state-machine/commands.ts';
import {
  InvalidResourcesError,
  type Resource,
  type Resources,
  type ScalarResource,
} from '../../src/state-machine/resources.ts';
import {
  A1,
  accept,
  agentInfo,
  baseTime,
  cpus,
  createOffers,
  disk,
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
  volume,
} from './support/fixtures.ts';

const create = (...volumes: Resource[]): Command => ({
  type: 'create_volumes',
  at: baseTime,
  agentId: A1,
  volumes: resources(...volumes),
});
const destroy = (...volumes: Resource[]): Command => ({
  type: 'destroy_volumes',
  at: baseTime,
  agentId: A1,
  volumes: resources(...volumes),
});
const agentWithWebDisk = registerAgent(A1, { resources: resources(cpus(2), mem(256), disk(100), disk(100, 'web')) });
const isInvalid = (error: unknown): boolean => error instanceof InvalidResourcesError;
const totalOf = (harness: Harness): Resources => harness.state.agents.get(A1)!.resources;

test('CREATE_VOLUMES carves a volume out of reserved disk; DESTROY_VOLUMES gives it back', () => {
  const harness = new Harness([agentWithWebDisk]);
  harness.ok(create(volume('v1', 40)));
  assert.equal(totalOf(harness), resources(cpus(2), mem(256), disk(100), disk(60, 'web'), volume('v1', 40)));
  harness.ok(destroy(volume('v1', 40)));
  assert.equal(totalOf(harness), resources(cpus(2), mem(256), disk(100), disk(100, 'web')));
});

test('CREATE_VOLUMES refusals: not a volume, id taken, not enough reserved disk, unknown or gone agent', () => {
  const harness = new Harness([agentWithWebDisk, create(volume('v1', 40))]);
  harness.rejects(create(disk(10, 'web')), 'INVALID_VOLUME');
  harness.rejects(create(volume('v1', 10)), 'VOLUME_ALREADY_EXISTS');
  harness.rejects(create(volume('v2', 61)), 'RESOURCES_INSUFFICIENT');
  harness.rejects(create(volume('v2', 10, 'db')), 'RESOURCES_INSUFFICIENT');
  harness.rejects({ ...create(volume('v2', 10)), agentId: 'nope' } as Command, 'AGENT_NOT_FOUND');
  harness.ok(create(volume('v2', 10)));
  harness.ok({ type: 'mark_agent_gone', at: baseTime, agentId: A1 });
  harness.rejects(create(volume('v3', 10)), 'AGENT_GONE');
});

test('a volume is never unreserved or reserved as plain resources', () => {
  const harness = new Harness([agentWithWebDisk, create(volume('v1', 40))]);
  harness.rejects(
    { type: 'unreserve_resources', at: baseTime, agentId: A1, resources: resources(volume('v1', 40)) },
    'INVALID_RESOURCES',
  );
  harness.rejects(
    { type: 'reserve_resources', at: baseTime, agentId: A1, resources: resources(volume('v9', 10)) },
    'INVALID_RESOURCES',
  );
  // Unreserving all the role's plain disk leaves the volume alone.
  harness.ok({ type: 'unreserve_resources', at: baseTime, agentId: A1, resources: resources(disk(60, 'web')) });
  assert.equal(totalOf(harness), resources(cpus(2), mem(256), disk(160), volume('v1', 40)));
});

test('volume ids are unique per agent and role, not across roles', () => {
  const harness = new Harness([
    registerAgent(A1, { resources: resources(disk(50, 'web'), disk(50, 'db')) }),
    create(volume('v1', 10, 'web')),
  ]);
  harness.ok(create(volume('v1', 10, 'db')));
  assert.equal(totalOf(harness), resources(disk(40, 'db'), disk(40, 'web'), volume('v1', 10, 'db'), volume('v1', 10)));
});

test('ACCEPT CREATE then LAUNCH a task on the volume; DESTROY refused while the task lives', () => {
  const harness = new Harness([
    registerAgent(A1, { resources: resources(cpus(1, 'web'), disk(100, 'web')) }),
    subscribe(F1, { roles: ['web'] }),
    createOffers(offerDefinition(O1, resources(cpus(1, 'web'), disk(100, 'web')), { role: 'web' })),
  ]);
  const task = taskDefinition(T1, resources(cpus(1, 'web'), volume('v1', 30)));
  harness.ok(accept([O1], [{ type: 'CREATE', volumes: resources(volume('v1', 30)) }, launch(task)]));
  const launched = [...harness.state.tasks.values()].find((candidate) => candidate.id === T1);
  assert.equal(launched?.resources, resources(cpus(1, 'web'), volume('v1', 30)));
  harness.rejects(destroy(volume('v1', 30)), 'VOLUME_IN_USE');
  harness.ok(updateStatus(T1, 'TASK_FINISHED'));
  harness.ok(destroy(volume('v1', 30)));
  assert.equal(totalOf(harness), resources(cpus(1, 'web'), disk(100, 'web')));
});

test('ACCEPT refusals: a volume of another role, a task on a missing or differently mounted volume', () => {
  const setup = [
    registerAgent(A1, { resources: resources(cpus(2), disk(100, 'web'), disk(100, 'db')) }),
    create(volume('v1', 30)),
    subscribe(F1, { roles: ['web'] }),
    createOffers(offerDefinition(O1, resources(disk(70, 'web'), volume('v1', 30)), { role: 'web' })),
  ];
  const harness = new Harness(setup);
  harness.rejects(accept([O1], [{ type: 'CREATE', volumes: resources(volume('v2', 10, 'db')) }]), 'INVALID_VOLUME');
  harness.rejects(accept([O1], [{ type: 'CREATE', volumes: resources(disk(10, 'web')) }]), 'INVALID_VOLUME');
  harness.rejects(accept([O1], [{ type: 'CREATE', volumes: resources(volume('v1', 10)) }]), 'VOLUME_ALREADY_EXISTS');
  harness.rejects(accept([O1], [{ type: 'DESTROY', volumes: resources(volume('v7', 10)) }]), 'VOLUME_NOT_FOUND');
  harness.rejects(accept([O1], [launch(taskDefinition(T1, resources(volume('v7', 10))))]), 'VOLUME_NOT_FOUND');
  harness.rejects(
    accept([O1], [launch(taskDefinition(T1, resources(volume('v1', 30, 'web', 'elsewhere'))))]),
    'INVALID_VOLUME',
  );
  harness.rejects(accept([O1], [launch(taskDefinition(T1, resources(volume('v1', 10))))]), 'INVALID_VOLUME');
  // A task whose copy lacks the principal gets the agent's copy.
  const unsigned: Resource = {
    ...volume('v1', 30),
    disk: { ...(volume('v1', 30) as ScalarResource).disk!, principal: null },
  } as Resource;
  harness.ok(accept([O1], [launch(taskDefinition(T2, resources(unsigned)))]));
  const launched = [...harness.state.tasks.values()].find((task) => task.id === T2);
  assert.equal(launched?.resources, resources(volume('v1', 30)));
});

test('ACCEPT DESTROY of an offered volume gives plain reserved disk back', () => {
  const harness = new Harness([
    agentWithWebDisk,
    create(volume('v1', 30)),
    subscribe(F1, { roles: ['web'] }),
    createOffers(offerDefinition(O1, resources(volume('v1', 30)), { role: 'web' })),
  ]);
  harness.ok(accept([O1], [{ type: 'DESTROY', volumes: resources(volume('v1', 30)) }]));
  assert.equal(totalOf(harness), resources(cpus(2), mem(256), disk(100), disk(100, 'web')));
});

test('a re-registering agent keeps its dynamic reservations and volumes; static ones come from its report', () => {
  const reported = resources(cpus(4), mem(256), disk(200), cpus(1, 'db'));
  const harness = new Harness([
    registerAgent(A1, { resources: reported }),
    { type: 'reserve_resources', at: baseTime, agentId: A1, resources: resources(cpus(1, 'web'), disk(100, 'web')) },
    create(volume('v1', 40)),
  ]);
  harness.ok({
    type: 'reregister_agent',
    keepsReservations: true,
    at: baseTime,
    agentId: A1,
    info: agentInfo({ resources: reported }),
    tasks: [],
  });
  assert.equal(
    totalOf(harness),
    resources(cpus(3), mem(256), disk(100), cpus(1, 'db'), cpus(1, 'web'), disk(60, 'web'), volume('v1', 40)),
  );
  // An agent back with less disk keeps what still fits.
  const smaller = resources(cpus(4), disk(50), cpus(1, 'db'));
  harness.ok({
    type: 'reregister_agent',
    keepsReservations: true,
    at: baseTime,
    agentId: A1,
    info: agentInfo({ resources: smaller }),
    tasks: [],
  });
  assert.equal(totalOf(harness), resources(cpus(3), disk(10), cpus(1, 'db'), cpus(1, 'web'), volume('v1', 40)));
  // Back with less disk than the volume: the volume is kept (its data must not be deleted).
  const tiny = resources(cpus(4), disk(5), cpus(1, 'db'));
  harness.ok({
    type: 'reregister_agent',
    keepsReservations: true,
    at: baseTime,
    agentId: A1,
    info: agentInfo({ resources: tiny }),
    tasks: [],
  });
  assert.equal(totalOf(harness), resources(cpus(3), cpus(1, 'db'), cpus(1, 'web'), volume('v1', 40)));
});

test('COMPAT: a re-registration logged before format 5 replays as it applied then, dropping reservations', () => {
  const reported = resources(cpus(4), mem(256), disk(200));
  const harness = new Harness([
    registerAgent(A1, { resources: reported }),
    { type: 'reserve_resources', at: baseTime, agentId: A1, resources: resources(cpus(1, 'web')) },
  ]);
  harness.ok({
    type: 'reregister_agent',
    keepsReservations: false,
    at: baseTime,
    agentId: A1,
    info: agentInfo({ resources: reported }),
    tasks: [],
  });
  assert.equal(totalOf(harness), reported);
});

test('a snapshot keeps volumes, and restores to the same hash', () => {
  const harness = new Harness([agentWithWebDisk, create(volume('v1', 40))]);
  const restored = new ClusterStateMachine({ checkInvariants: true });
  restored.restore(harness.machine.snapshot());
  assert.is(stateHash(restored.state), stateHash(harness.state));
  assert.equal(restored.state.agents.get(A1)?.resources, totalOf(harness));
});

test('a container path must stay inside the sandbox', () => {
  for (const path of ['/abs', '../up', 'a/../b', 'a//b', '.', 'a/.hidden/..', '']) {
    assert.throws(() => resources(volume('v1', 10, 'web', path)), isInvalid, path);
  }
  assert.throws(() => resources(volume('v1', 10, '*')), isInvalid);
  assert.throws(
    () => resources({ ...cpus(1, 'web'), disk: (volume('v1', 1) as ScalarResource).disk } as Resource),
    isInvalid,
  );
  resources(volume('v1', 10, 'web', 'a/b_c/d.e'));
});

test('two volumes are two entries, never summed', () => {
  assert.equal(resources(volume('v1', 10), volume('v2', 10), disk(5, 'web')).length, 3);
});

test('operations: operator and ACCEPT operations are recorded in order; the oldest go beyond maxOperations', () => {
  const harness = new Harness([
    agentWithWebDisk,
    create(volume('v1', 10)),
    subscribe(F1, { roles: ['web'] }),
    createOffers(offerDefinition(O1, resources(volume('v1', 10), disk(10, 'web')), { role: 'web' })),
  ]);
  harness.ok(
    accept(
      [O1],
      [
        { type: 'DESTROY', volumes: resources(volume('v1', 10)) },
        { type: 'UNRESERVE', resources: resources(disk(20, 'web')) },
      ],
    ),
  );
  const records = [...harness.state.operations.values()];
  assert.equal(
    records.map((record) => [record.type, record.frameworkId]),
    [
      ['CREATE', null],
      ['DESTROY', F1],
      ['UNRESERVE', F1],
    ],
  );
  assert.is(new Set(records.map((record) => record.uuid)).size, 3);
  // A rejected command records nothing (the harness checks its hash is unchanged too).
  harness.rejects(create(volume('v2', 1000)), 'RESOURCES_INSUFFICIENT');
  assert.is(harness.state.operations.size, 3);
  const reserve: Command = {
    type: 'reserve_resources',
    at: baseTime,
    agentId: A1,
    resources: resources(cpus(0.001, 'web')),
  };
  const unreserve: Command = { ...reserve, type: 'unreserve_resources' } as Command;
  for (let round = 0; round < maxOperations / 2 + 1; round++) {
    harness.ok(reserve);
    harness.ok(unreserve);
  }
  assert.is(harness.state.operations.size, maxOperations);
  assert.not.ok([...harness.state.operations.values()].some((record) => record.type === 'CREATE'));
  const keys = [...harness.state.operations.keys()];
  assert.equal(keys, [...keys].sort(), 'key order is apply order');
});

test('quota headroom never cuts a volume: it is offered whole or not at all', async () => {
  const { chop } = await import('../../src/offers/quantities.ts');
  const held = resources(volume('v1', 30), disk(50, 'web'));
  // Plain disk comes first (canonical order); what is left (10) is less than the volume: none of it.
  assert.equal(chop(held, new Map([['disk', 60_000]])), resources(disk(50, 'web')));
  assert.equal(chop(held, new Map([['disk', 80_000]])), held);
});

test.run();
