// Hostile input to the operator calls added with allocation and maintenance (GET_ALLOCATION,
// GET_MAINTENANCE_STATUS, UPDATE_WEIGHTS, UPDATE_QUOTA) on a real single-voter master: every bad
// value is a 400 with the {"error": {"code", "message"}} envelope, the replicated state is
// unchanged, and the master still answers /health.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../src/state-machine/hash.ts';
import { errorOf, type JsonObject } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { operatorCall } from './support/operator.ts';

let cluster: SingleMaster;

test.before(async () => {
  cluster = await startSingleMaster();
});
test.after(async () => {
  await cluster.stop();
});

const hash = (): string => stateHash(cluster.master.machine.state);

async function refused(label: string, body: unknown, code: string): Promise<void> {
  const before = hash();
  const answer = await operatorCall(cluster, body);
  assert.is(answer.status, 400, `${label}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  const error = errorOf(answer.body, label);
  assert.is(error.code, code, label);
  assert.not.match(error.message, /\n\s+at /, `${label}: no stack trace`);
  assert.is(hash(), before, `${label}: the state is unchanged`);
}

async function assertHealthy(): Promise<void> {
  assert.is((await fetch(`${cluster.url}/health`)).status, 200);
}

test('GET_ALLOCATION and GET_MAINTENANCE_STATUS ignore hostile extra fields and change nothing', async () => {
  const before = hash();
  for (const body of [
    { type: 'GET_ALLOCATION', get_allocation: 5 },
    { type: 'GET_ALLOCATION', get_allocation: { framework_id: { value: '../x' } } },
    { type: 'GET_MAINTENANCE_STATUS', get_maintenance_status: [] },
    { type: 'GET_MAINTENANCE_STATUS', get_maintenance_status: null },
  ]) {
    const answer = await operatorCall(cluster, body);
    assert.is(answer.status, 200, JSON.stringify(answer.body));
    assert.is((answer.body as JsonObject).type, body.type);
  }
  assert.is(hash(), before);
  await refused('type a number', { type: 7 }, 'INVALID_BODY');
  await refused('type inherited', { type: 'constructor' }, 'UNKNOWN_CALL');
  await assertHealthy();
});

test('UPDATE_WEIGHTS with hostile values', async () => {
  const weights = (weightInfos: unknown) => ({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: weightInfos } });
  await refused('negative', weights([{ role: 'r', weight: -1 }]), 'INVALID_BODY');
  await refused('zero', weights([{ role: 'r', weight: 0 }]), 'INVALID_BODY');
  await refused('-0', weights([{ role: 'r', weight: -0 }]), 'INVALID_BODY');
  await refused('1e308', weights([{ role: 'r', weight: 1e308 }]), 'INVALID_BODY');
  await refused(
    '1e309',
    '{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"r","weight":1e309}]}}',
    'INVALID_BODY',
  );
  await refused('a string', weights([{ role: 'r', weight: '2' }]), 'INVALID_BODY');
  await refused('null', weights([{ role: 'r', weight: null }]), 'INVALID_BODY');
  await refused('the * role', weights([{ role: '*', weight: 2 }]), 'INVALID_WEIGHTS');
  await refused('empty role', weights([{ role: '', weight: 2 }]), 'INVALID_BODY');
  await refused('role traversal', weights([{ role: 'a/../b', weight: 2 }]), 'INVALID_BODY');
  await refused('role of 10k chars', weights([{ role: 'x'.repeat(10_000), weight: 2 }]), 'INVALID_BODY');
  await refused('role a number', weights([{ role: 5, weight: 2 }]), 'INVALID_BODY');
  await refused(
    'duplicate role',
    weights([
      { role: 'r', weight: 2 },
      { role: 'r', weight: 3 },
    ]),
    'INVALID_WEIGHTS',
  );
  await refused(
    '10k entries',
    weights(Array.from({ length: 10_000 }, (_, index) => ({ role: `r${index}`, weight: 2 }))),
    'INVALID_BODY',
  );
  await refused('empty list', weights([]), 'INVALID_BODY');
  await refused('list null', weights(null), 'INVALID_BODY');
  await refused('list a string', weights('x'), 'INVALID_BODY');
  await refused('entry null', weights([null]), 'INVALID_BODY');
  await refused('body missing', { type: 'UPDATE_WEIGHTS' }, 'INVALID_BODY');
  await assertHealthy();
});

test('UPDATE_QUOTA with hostile values', async () => {
  const quota = (configs: unknown, force?: unknown) => ({
    type: 'UPDATE_QUOTA',
    update_quota: { quota_configs: configs, force },
  });
  await refused('negative', quota([{ role: 'r', guarantees: { cpus: { value: -1 } } }]), 'INVALID_BODY');
  await refused('1e308', quota([{ role: 'r', guarantees: { cpus: { value: 1e308 } } }]), 'INVALID_BODY');
  await refused(
    'guarantee over limit',
    quota([{ role: 'r', guarantees: { cpus: { value: 2 } }, limits: { cpus: { value: 1 } } }]),
    'INVALID_QUOTA',
  );
  await refused('bare number', quota([{ role: 'r', guarantees: { cpus: 2 } }]), 'INVALID_BODY');
  await refused('null quantity', quota([{ role: 'r', guarantees: { cpus: null } }]), 'INVALID_BODY');
  await refused('value a string', quota([{ role: 'r', guarantees: { cpus: { value: '2' } } }]), 'INVALID_BODY');
  await refused(
    '__proto__ name',
    '{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"r","guarantees":{"__proto__":{"value":1}}}]}}',
    'BAD_REQUEST',
  );
  await refused(
    'name of 10k chars',
    quota([{ role: 'r', guarantees: { ['x'.repeat(10_000)]: { value: 1 } } }]),
    'INVALID_BODY',
  );
  await refused(
    '10k names',
    quota([
      {
        role: 'r',
        guarantees: Object.fromEntries(Array.from({ length: 10_000 }, (_, index) => [`n${index}`, { value: 1 }])),
      },
    ]),
    'INVALID_BODY',
  );
  await refused('the * role', quota([{ role: '*', guarantees: { cpus: { value: 1 } } }]), 'INVALID_QUOTA');
  await refused(
    'duplicate role',
    quota([
      { role: 'r', guarantees: { cpus: { value: 1 } } },
      { role: 'r', guarantees: { cpus: { value: 2 } } },
    ]),
    'INVALID_QUOTA',
  );
  await refused('force a string', quota([{ role: 'r', guarantees: { cpus: { value: 1 } } }], 'yes'), 'INVALID_BODY');
  await refused('empty list', quota([]), 'INVALID_BODY');
  await refused('entry null', quota([null]), 'INVALID_BODY');
  await refused('no role', quota([{}]), 'INVALID_BODY');
  await refused('guarantees an array', quota([{ role: 'r', guarantees: [] }]), 'INVALID_BODY');
  await refused(
    '10k configs',
    quota(Array.from({ length: 10_000 }, () => ({ role: 'r', guarantees: { cpus: { value: 1 } } }))),
    'INVALID_BODY',
  );
  await assertHealthy();
  // The allocation report still renders after all of it.
  const report = await operatorCall(cluster, { type: 'GET_ALLOCATION' });
  assert.is(report.status, 200);
});

test.run();
