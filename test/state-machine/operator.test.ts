// Operator state: dynamic reservations, quota, weights and maintenance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { machineKey } from '../../src/state-machine/state.ts';
import {
  A1,
  A2,
  baseTime,
  cpus,
  createOffers,
  Harness,
  mem,
  O1,
  O2,
  offerDefinition,
  ports,
  registerAgent,
  resources,
  subscribe,
} from './support/fixtures.ts';

test('reserve_resources turns free unreserved resources into reserved ones; unreserve undoes it', () => {
  const harness = new Harness([registerAgent()]);
  harness.ok({
    type: 'reserve_resources',
    principal: null,
    at: baseTime,
    agentId: A1,
    resources: resources(cpus(1, 'web'), ports(31000, 31004, 'web')),
  });
  assert.equal(
    harness.state.agents.get(A1)?.resources,
    resources(cpus(3), cpus(1, 'web'), mem(4096), ports(31005, 31099), ports(31000, 31004, 'web')),
  );
  harness.ok({
    type: 'unreserve_resources',
    principal: null,
    at: baseTime,
    agentId: A1,
    resources: resources(cpus(1, 'web'), ports(31000, 31004, 'web')),
  });
  assert.equal(harness.state.agents.get(A1)?.resources, resources(cpus(4), mem(4096), ports(31000, 31099)));
});

test('update_quota sets guarantees and limits per role; empty ones remove the quota', () => {
  const harness = new Harness();
  harness.ok({
    type: 'update_quota',
    configs: [
      { role: 'web', guarantees: { cpus: 2 }, limits: { cpus: 4, mem: 1024.0004 } },
      { role: 'batch', guarantees: {}, limits: { cpus: 1 } },
    ],
  });
  assert.equal(harness.state.quotas.get('web'), {
    role: 'web',
    guarantees: { cpus: 2 },
    limits: { cpus: 4, mem: 1024 },
    modifyIndex: 1,
  });
  harness.ok({ type: 'update_quota', configs: [{ role: 'web', guarantees: {}, limits: {} }] });
  assert.equal([...harness.state.quotas.keys()], ['batch']);
});

test('update_weights sets role weights', () => {
  const harness = new Harness();
  harness.ok({
    type: 'update_weights',
    weights: [
      { role: 'web', weight: 2.5 },
      { role: 'batch', weight: 0.5 },
    ],
  });
  assert.is(harness.state.weights.get('web')?.weight, 2.5);
  assert.is(harness.state.weights.get('batch')?.modifyIndex, 1);
});

const node1 = { hostname: 'node1', ip: '' };
const node2 = { hostname: '', ip: '10.0.0.2' };

test("maintenance: scheduled machines drain, start takes them down and removes their agents' offers, stop brings them up", () => {
  const harness = new Harness([
    registerAgent(A1),
    registerAgent(A2, { hostname: 'node2', address: { ip: '10.0.0.2', port: 5051 } }),
    subscribe(),
    createOffers(offerDefinition(O1, resources(cpus(1))), offerDefinition(O2, resources(cpus(1)), { agentId: A2 })),
  ]);
  harness.ok({
    type: 'update_maintenance_schedule',
    at: baseTime,
    windows: [{ machines: [node2, node1], startMs: baseTime + 60_000, durationMs: 3_600_000 }],
  });
  // Machines are kept sorted by (hostname, ip): the one given by ip only sorts first.
  assert.equal(harness.state.maintenanceSchedule.windows[0]?.machines, [node2, node1]);
  assert.is(harness.state.machines.get(machineKey(node1))?.mode, 'DRAINING');
  harness.ok({ type: 'start_maintenance', at: baseTime + 60_000, machines: [node1] });
  assert.is(harness.state.machines.get(machineKey(node1))?.mode, 'DOWN');
  assert.equal([...harness.state.offers.keys()], [O2]);
  harness.ok({ type: 'stop_maintenance', at: baseTime + 120_000, machines: [node1] });
  assert.not.ok(harness.state.machines.has(machineKey(node1)));
  assert.equal(harness.state.maintenanceSchedule.windows[0]?.machines, [node2]);
});

test('a schedule update keeps machine modes of machines still scheduled and drops the others', () => {
  const harness = new Harness([
    {
      type: 'update_maintenance_schedule',
      at: baseTime,
      windows: [{ machines: [node1, node2], startMs: baseTime, durationMs: 1000 }],
    },
    { type: 'start_maintenance', at: baseTime, machines: [node1] },
  ]);
  harness.ok({
    type: 'update_maintenance_schedule',
    at: baseTime + 1,
    windows: [{ machines: [node1], startMs: baseTime, durationMs: 5000 }],
  });
  assert.is(harness.state.machines.get(machineKey(node1))?.mode, 'DOWN');
  assert.not.ok(harness.state.machines.has(machineKey(node2)));
});

test.run();
