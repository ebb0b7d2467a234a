// Weights and quota through the operator API (Mesos "weights.md", "quota.md"; master.proto
// UpdateWeights/GetWeights, UpdateQuota/GetQuota with quota.proto QuotaConfig), and how they
// show in GET_ROLES. Bad input is a 4xx with a stable code and changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { fails, read, writeOk } from './support/operator.ts';

let cluster: SingleMaster;
test.before(async () => {
  cluster = await startSingleMaster();
});
test.after(async () => {
  await cluster.stop();
});

const updateWeights = (weightInfos: unknown): Record<string, unknown> => ({
  type: 'UPDATE_WEIGHTS',
  update_weights: { weight_infos: weightInfos },
});
const updateQuota = (quotaConfigs: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'UPDATE_QUOTA',
  update_quota: { quota_configs: quotaConfigs, ...extra },
});

test('UPDATE_WEIGHTS then GET_WEIGHTS and GET_ROLES', async () => {
  assert.equal(await read(cluster, 'GET_WEIGHTS'), { weight_infos: [] });
  await writeOk(
    cluster,
    updateWeights([
      { role: 'ops', weight: 0.5 },
      { role: 'eng/web', weight: 2.5 },
    ]),
  );
  assert.equal(await read(cluster, 'GET_WEIGHTS'), {
    weight_infos: [
      { weight: 2.5, role: 'eng/web' },
      { weight: 0.5, role: 'ops' },
    ],
  });
  await writeOk(cluster, updateWeights([{ role: 'ops', weight: 3 }]));
  const { roles } = await read(cluster, 'GET_ROLES');
  assert.equal(roles, [
    { name: 'eng/web', weight: 2.5, frameworks: [], resources: [] },
    { name: 'ops', weight: 3, frameworks: [], resources: [] },
  ]);
});

test('UPDATE_WEIGHTS refuses bad input field by field, and changes nothing', async () => {
  const before = await read(cluster, 'GET_WEIGHTS');
  await fails(cluster, { type: 'UPDATE_WEIGHTS' }, 400, 'INVALID_BODY');
  await fails(cluster, updateWeights([]), 400, 'INVALID_BODY');
  await fails(cluster, updateWeights('ops=2'), 400, 'INVALID_BODY');
  await fails(cluster, updateWeights([{ role: 'ops', weight: 0 }]), 400, 'INVALID_BODY');
  await fails(cluster, updateWeights([{ role: 'ops', weight: -1 }]), 400, 'INVALID_BODY');
  await fails(cluster, updateWeights([{ role: 'ops', weight: '2' }]), 400, 'INVALID_BODY');
  await fails(cluster, updateWeights([{ role: 'bad role', weight: 2 }]), 400, 'INVALID_BODY');
  await fails(cluster, updateWeights([{ weight: 2 }]), 400, 'INVALID_BODY');
  await fails(cluster, updateWeights(['ops']), 400, 'INVALID_BODY');
  await fails(cluster, updateWeights([{ role: '*', weight: 2 }]), 400, 'INVALID_WEIGHTS');
  await fails(
    cluster,
    updateWeights([
      { role: 'qa', weight: 2 },
      { role: 'qa', weight: 3 },
    ]),
    400,
    'INVALID_WEIGHTS',
  );
  assert.equal(await read(cluster, 'GET_WEIGHTS'), before);
});

test('UPDATE_QUOTA then GET_QUOTA (configs, and the deprecated infos) and GET_ROLES', async () => {
  assert.equal(await read(cluster, 'GET_QUOTA'), { status: { infos: [], configs: [] } });
  await writeOk(
    cluster,
    updateQuota(
      [
        { role: 'eng', guarantees: { mem: { value: 512 }, cpus: { value: 1.5 } }, limits: { cpus: { value: 4 } } },
        { role: 'batch', limits: { gpus: { value: 2 } } },
      ],
      { force: true },
    ),
  );
  assert.equal(await read(cluster, 'GET_QUOTA'), {
    status: {
      infos: [
        { role: 'batch', guarantee: [] },
        {
          role: 'eng',
          guarantee: [
            { name: 'cpus', type: 'SCALAR', scalar: { value: 1.5 }, role: '*' },
            { name: 'mem', type: 'SCALAR', scalar: { value: 512 }, role: '*' },
          ],
        },
      ],
      configs: [
        { role: 'batch', guarantees: {}, limits: { gpus: { value: 2 } } },
        { role: 'eng', guarantees: { cpus: { value: 1.5 }, mem: { value: 512 } }, limits: { cpus: { value: 4 } } },
      ],
    },
  });
  const { roles } = await read(cluster, 'GET_ROLES');
  assert.ok(
    roles.some((role) => role.name === 'eng' && role.weight === 1),
    'a role with quota is a known role',
  );
  assert.ok(roles.some((role) => role.name === 'batch'));
});

test('a config with neither guarantees nor limits removes the quota, as in Mesos', async () => {
  await writeOk(cluster, updateQuota([{ role: 'batch' }]));
  const { status } = await read(cluster, 'GET_QUOTA');
  assert.equal(
    status.configs.map((config) => config.role),
    ['eng'],
  );
});

test('UPDATE_QUOTA refuses bad input field by field, and changes nothing', async () => {
  const before = await read(cluster, 'GET_QUOTA');
  await fails(cluster, { type: 'UPDATE_QUOTA' }, 400, 'INVALID_BODY');
  await fails(cluster, updateQuota([]), 400, 'INVALID_BODY');
  await fails(cluster, updateQuota(undefined), 400, 'INVALID_BODY');
  await fails(cluster, updateQuota([{ role: 'eng', guarantees: { cpus: 1 } }]), 400, 'INVALID_BODY');
  await fails(cluster, updateQuota([{ role: 'eng', guarantees: { cpus: { value: -1 } } }]), 400, 'INVALID_BODY');
  await fails(cluster, updateQuota([{ role: 'eng', guarantees: { cpus: { value: 'many' } } }]), 400, 'INVALID_BODY');
  await fails(cluster, updateQuota([{ role: 'eng', limits: [{ cpus: 1 }] }]), 400, 'INVALID_BODY');
  await fails(cluster, updateQuota([{ role: 'bad role', limits: { cpus: { value: 1 } } }]), 400, 'INVALID_BODY');
  await fails(cluster, updateQuota([{ limits: { cpus: { value: 1 } } }]), 400, 'INVALID_BODY');
  await fails(cluster, updateQuota([{ role: 'eng' }], { force: 'yes' }), 400, 'INVALID_BODY');
  const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, position) => [`r${position}`, { value: 1 }]));
  await fails(cluster, updateQuota([{ role: 'eng', limits: tooMany }]), 400, 'INVALID_BODY');
  await fails(
    cluster,
    updateQuota([{ role: 'eng', guarantees: { cpus: { value: 8 } }, limits: { cpus: { value: 4 } } }]),
    400,
    'INVALID_QUOTA',
  );
  await fails(cluster, updateQuota([{ role: '*', limits: { cpus: { value: 1 } } }]), 400, 'INVALID_QUOTA');
  await fails(
    cluster,
    updateQuota([{ role: 'qa', limits: { cpus: { value: 1 } } }, { role: 'qa' }]),
    400,
    'INVALID_QUOTA',
  );
  assert.equal(await read(cluster, 'GET_QUOTA'), before);
});

test.run();
