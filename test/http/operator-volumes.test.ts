// Operator RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES, DESTROY_VOLUMES and
// GET_OPERATIONS on a real single-voter master (the agent is put into its state by proposing
// register_agent, as the agent gateway would): each refusal answers its status and stable code
// and changes nothing; what applies is listed by GET_OPERATIONS, oldest first, with a uuid.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { basicAuthorization } from '../../src/protocol/http-authorization.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { resources } from '../state-machine/support/fixtures.ts';
import { A1, disk, registerAgent } from '../state-machine/support/fixtures.ts';
import type { JsonObject } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { makeTempDir } from '../support/tmp.ts';
import { fails, operatorCall, proposeOk, writeOk } from './support/operator.ts';

let cluster: SingleMaster;

test.before(async () => {
  cluster = await startSingleMaster();
  await proposeOk(
    cluster,
    registerAgent(A1, { hostname: 'node1', address: { ip: '127.0.0.1', port: 5051 }, resources: resources(disk(500)) }),
  );
});
test.after(async () => {
  await cluster.stop();
});

const hash = (): string => stateHash(cluster.master.machine.state);
const dbDisk = (size: number) => ({
  name: 'disk',
  type: 'SCALAR',
  scalar: { value: size },
  reservations: [{ type: 'DYNAMIC', role: 'db' }],
});
const volume = (id: string, size: number, extra: Record<string, unknown> = {}) => ({
  ...dbDisk(size),
  disk: { persistence: { id }, volume: { container_path: 'data', mode: 'RW' } },
  ...extra,
});
const create = (...volumes: unknown[]) => ({
  type: 'CREATE_VOLUMES',
  create_volumes: { agent_id: { value: A1 }, volumes },
});
const destroy = (...volumes: unknown[]) => ({
  type: 'DESTROY_VOLUMES',
  destroy_volumes: { agent_id: { value: A1 }, volumes },
});

async function refused(call: unknown, status: number, code: string): Promise<void> {
  const before = hash();
  await fails(cluster, call, status, code);
  assert.is(hash(), before, `${code}: the state is unchanged`);
}

test('reserve, create, destroy, unreserve; GET_OPERATIONS lists them in order with uuids', async () => {
  await writeOk(cluster, {
    type: 'RESERVE_RESOURCES',
    reserve_resources: { agent_id: { value: A1 }, resources: [dbDisk(200)] },
  });
  await writeOk(cluster, create(volume('v1', 50)));
  const agents = await operatorCall(cluster, { type: 'GET_AGENTS' });
  const total = ((agents.body as JsonObject).get_agents as { agents: { total_resources: JsonObject[] }[] }).agents[0]!
    .total_resources;
  assert.ok(total.some((resource) => JSON.stringify(resource.disk ?? null).includes('"id":"v1"')));
  await writeOk(cluster, destroy(volume('v1', 50)));
  await writeOk(cluster, {
    type: 'UNRESERVE_RESOURCES',
    unreserve_resources: { agent_id: { value: A1 }, resources: [dbDisk(200)] },
  });
  const answer = await operatorCall(cluster, { type: 'GET_OPERATIONS' });
  assert.is(answer.status, 200);
  const operations = ((answer.body as JsonObject).get_operations as { operations: JsonObject[] }).operations;
  assert.equal(
    operations.map((operation) => (operation.info as JsonObject).type),
    ['RESERVE', 'CREATE', 'DESTROY', 'UNRESERVE'],
  );
  for (const operation of operations) {
    const status = operation.latest_status as JsonObject;
    assert.is(status.state, 'OPERATION_FINISHED');
    assert.match(String((operation.uuid as JsonObject).value), /^[A-Za-z0-9+/]{22}==$/);
    assert.is((operation.agent_id as JsonObject).value, A1);
  }
  assert.is(new Set(operations.map((operation) => (operation.uuid as JsonObject).value)).size, 4);
});

test('CREATE_VOLUMES and DESTROY_VOLUMES refusals: each a stable code, nothing changed', async () => {
  await writeOk(cluster, {
    type: 'RESERVE_RESOURCES',
    reserve_resources: { agent_id: { value: A1 }, resources: [dbDisk(100)] },
  });
  await writeOk(cluster, create(volume('kept', 10)));
  await refused(create(), 400, 'INVALID_BODY');
  await refused(create(dbDisk(10)), 400, 'INVALID_BODY');
  await refused(create(volume('twice', 10), volume('twice', 10)), 400, 'INVALID_BODY');
  await refused(
    create({ ...volume('abs', 10), disk: { persistence: { id: 'abs' }, volume: { container_path: '/etc' } } }),
    400,
    'INVALID_BODY',
  );
  await refused(
    create({ ...volume('up', 10), disk: { persistence: { id: 'up' }, volume: { container_path: '../x' } } }),
    400,
    'INVALID_BODY',
  );
  await refused(
    create({ ...volume('src', 10), disk: { persistence: { id: 'src' }, volume: {}, source: { type: 'PATH' } } }),
    400,
    'INVALID_BODY',
  );
  await refused(create({ ...volume('nopath', 10), disk: { persistence: { id: 'nopath' } } }), 400, 'INVALID_BODY');
  await refused(create({ ...volume('star', 10), reservations: [] }), 400, 'INVALID_BODY');
  await refused(create(volume('../evil', 10)), 400, 'INVALID_BODY');
  await refused(create(volume('kept', 10)), 409, 'VOLUME_ALREADY_EXISTS');
  await refused(create(volume('big', 1000)), 409, 'RESOURCES_INSUFFICIENT');
  await refused(destroy(volume('missing', 10)), 404, 'VOLUME_NOT_FOUND');
  await refused(
    { type: 'CREATE_VOLUMES', create_volumes: { agent_id: { value: 'nope' }, volumes: [volume('x', 1)] } },
    404,
    'AGENT_NOT_FOUND',
  );
  await refused({ type: 'CREATE_VOLUMES' }, 400, 'INVALID_BODY');
  await refused(
    {
      type: 'UNRESERVE_RESOURCES',
      unreserve_resources: { agent_id: { value: A1 }, resources: [volume('kept', 10)] },
    },
    400,
    'INVALID_RESOURCES',
  );
  await writeOk(cluster, destroy(volume('kept', 10)));
});

test('ACLs: create_volumes and destroy_volumes by role; volumes and reservations record the operator principal', async () => {
  const folder = makeTempDir('volume-acls-');
  const secrets = { ops: 'ops-secret-0123456789abcdef', intern: 'intern-secret-0123456789abcdef' };
  const credentials = path.join(folder, 'credentials.json');
  writeFileSync(
    credentials,
    JSON.stringify({ credentials: Object.entries(secrets).map(([principal, secret]) => ({ principal, secret })) }),
  );
  const acls = path.join(folder, 'acls.json');
  const nobodyButOps = [
    { principals: { values: ['ops'] }, roles: { type: 'ANY' } },
    { principals: { type: 'ANY' }, roles: { type: 'NONE' } },
  ];
  writeFileSync(acls, JSON.stringify({ create_volumes: nobodyButOps, destroy_volumes: nobodyButOps }));
  const secured = await startSingleMaster({ credentials, acls });
  try {
    const as = (principal: keyof typeof secrets) => ({
      authorization: basicAuthorization(principal, secrets[principal]),
    });
    await proposeOk(
      secured,
      registerAgent(A1, {
        hostname: 'node1',
        address: { ip: '127.0.0.1', port: 5051 },
        resources: resources(disk(100, 'db'), disk(50)),
      }),
    );
    const reserved = await operatorCall(
      secured,
      { type: 'RESERVE_RESOURCES', reserve_resources: { agent_id: { value: A1 }, resources: [dbDisk(50)] } },
      as('ops'),
    );
    assert.is(reserved.status, 202, JSON.stringify(reserved.body));
    const listed = await operatorCall(secured, { type: 'GET_OPERATIONS' }, as('ops'));
    const [reserve] = ((listed.body as JsonObject).get_operations as { operations: JsonObject[] }).operations;
    assert.ok(reserve, JSON.stringify(listed.body));
    assert.equal(
      ((reserve.info as JsonObject).reserve as { resources: JsonObject[] }).resources[0]?.reservations,
      [{ type: 'DYNAMIC', role: 'db', principal: 'ops' }],
      'Mesos keeps who reserved in ReservationInfo.principal',
    );
    const before = stateHash(secured.master.machine.state);
    const refusal = await operatorCall(secured, create(volume('v1', 10)), as('intern'));
    assert.is(refusal.status, 403, JSON.stringify(refusal.body));
    assert.is(stateHash(secured.master.machine.state), before);
    const made = await operatorCall(secured, create(volume('v1', 10)), as('ops'));
    assert.is(made.status, 202, JSON.stringify(made.body));
    const total = secured.master.machine.state.agents.get(A1)?.resources ?? [];
    const stored = total.find((resource) => resource.type === 'SCALAR' && resource.disk !== undefined);
    assert.is(stored?.type === 'SCALAR' ? stored.disk?.principal : undefined, 'ops');
    assert.is((await operatorCall(secured, destroy(volume('v1', 10)), as('intern'))).status, 403);
    assert.is((await operatorCall(secured, destroy(volume('v1', 10)), as('ops'))).status, 202);
  } finally {
    await secured.stop();
  }
});

test.run();
