// The pure allocator against a real state machine: every cycle's offers are applied through
// `create_offers` (invariants checked after each apply), tasks launched through `accept_offers`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quantitiesOf, toMillis } from '../../src/offers/quantities.ts';
import { quantityOf, type Resources } from '../../src/state-machine/resources.ts';
import { isTerminalTaskState } from '../../src/protocol/task-states.ts';
import { cpus, mem, ports, resources } from '../state-machine/support/fixtures.ts';
import { AllocatorWorld, assertNoOffers, reasonFor } from './support.ts';

const fitsIn =
  (size: Resources) =>
  (offered: Resources): boolean =>
    [...quantitiesOf(size)].every(([name, millis]) => (quantitiesOf(offered).get(name) ?? 0) >= millis);

test('fairness: with equal weights, a late framework gets the offers until dominant shares are equal', () => {
  const world = new AllocatorWorld();
  world.agent('a1', resources(cpus(16), mem(16384)));
  const f1 = world.framework('f1', ['a']);
  const task1 = resources(cpus(1), mem(256)); // dominant: cpus, 1/16 of the cluster
  for (let round = 0; round < 4; round += 1) {
    world.cycle();
    assert.ok(world.launchOne(f1, task1, fitsIn(task1)));
  }
  const f2 = world.framework('f2', ['b']);
  const task2 = resources(cpus(0.5), mem(1024)); // dominant: mem, 1/16 of the cluster
  const winners: string[] = [];
  for (let round = 0; round < 10; round += 1) {
    world.cycle();
    // Only one framework can hold the single agent's offer per cycle: DRF picks the lower share.
    if (world.launchOne(f1, task1, fitsIn(task1))) winners.push('f1');
    if (world.launchOne(f2, task2, fitsIn(task2))) winners.push('f2');
  }
  assert.equal(winners.slice(0, 4), ['f2', 'f2', 'f2', 'f2'], 'the late framework catches up first');
  assert.ok(
    Math.abs(world.taskShare(f1) - world.taskShare(f2)) <= 1 / 16 + 1e-9,
    `shares ${world.taskShare(f1)} vs ${world.taskShare(f2)}`,
  );
  assert.ok(world.taskShare(f2) > 0.3, 'f2 kept getting offers');
});

test('fairness: over many agents, two equal frameworks launching from offers converge to equal dominant shares', () => {
  const world = new AllocatorWorld();
  for (let index = 1; index <= 8; index += 1)
    world.agent(`a${index}`, resources(cpus(4), mem(4096)), { address: { ip: `10.0.0.${index}`, port: 5051 } });
  const f1 = world.framework('f1', ['a']);
  const f2 = world.framework('f2', ['b']);
  const task = resources(cpus(1), mem(512));
  for (let round = 0; round < 24; round += 1) {
    world.cycle();
    world.launchOne(f1, task, fitsIn(task));
    world.launchOne(f2, task, fitsIn(task));
    assert.ok(Math.abs(world.taskShare(f1) - world.taskShare(f2)) <= 1 / 32 + 1e-9, `round ${round}`);
  }
  assert.is(world.taskShare(f1), 0.5, 'the cluster is full, half each');
});

test('weights: roles weighted 2:1 end up holding 2:1 of a contended cluster', () => {
  const world = new AllocatorWorld();
  world.ok({ type: 'update_weights', weights: [{ role: 'heavy', weight: 2 }] });
  world.agent('a1', resources(cpus(30), mem(30720)));
  const heavy = world.framework('f1', ['heavy']);
  const light = world.framework('f2', ['light']);
  const task = resources(cpus(1), mem(1024));
  for (let round = 0; round < 60; round += 1) {
    world.cycle();
    world.launchOne(heavy, task, fitsIn(task));
    world.launchOne(light, task, fitsIn(task));
  }
  const count = (framework: string) =>
    [...world.state.tasks.values()].filter((task) => task.frameworkId === framework).length;
  assert.is(count(heavy) + count(light), 30);
  assert.is(count(heavy), 20);
  assert.is(count(light), 10);
});

test('quota: a guarantee is offered first, even to the role that would lose on share and name', () => {
  const world = new AllocatorWorld();
  world.ok({ type: 'update_quota', configs: [{ role: 'z', guarantees: { cpus: 4, mem: 4096 }, limits: {} }] });
  world.agent('a1', resources(cpus(8), mem(8192)));
  const other = world.framework('f1', ['b']);
  const quota = world.framework('f2', ['z']);
  const result = world.cycle();
  const toQuota = result.offers.find((offer) => offer.frameworkId === quota);
  assert.ok(toQuota !== undefined);
  assert.is(quantityOf(toQuota.resources, 'cpus'), 4);
  assert.is(quantityOf(toQuota.resources, 'mem'), 4096);
  const toOther = result.offers.find((offer) => offer.frameworkId === other);
  assert.is(quantityOf(toOther!.resources, 'cpus'), 4, 'the rest is shared by DRF');
});

test('quota: a limit is never exceeded, whatever the framework accepts', () => {
  const world = new AllocatorWorld();
  world.ok({ type: 'update_quota', configs: [{ role: 'q', guarantees: {}, limits: { cpus: 6 } }] });
  for (let index = 1; index <= 3; index += 1)
    world.agent(`a${index}`, resources(cpus(4), mem(4096)), { address: { ip: `10.0.0.${index}`, port: 5051 } });
  const framework = world.framework('f1', ['q']);
  const task = resources(cpus(1), mem(128));
  for (let round = 0; round < 6; round += 1) {
    world.cycle();
    const offered = world.offersOf(framework).reduce((sum, offer) => sum + quantityOf(offer.resources, 'cpus'), 0);
    const running = [...world.state.tasks.values()].filter((task) => !isTerminalTaskState(task.state)).length;
    assert.ok(offered + running <= 6, `round ${round}: ${running} running + ${offered} offered cpus`);
    world.launchAll(framework, task);
  }
  assert.is(world.state.tasks.size, 6, 'the framework reached its limit');
});

test('quota: a role at its limit on every resource is skipped with QUOTA_LIMIT', () => {
  const world = new AllocatorWorld();
  world.ok({ type: 'update_quota', configs: [{ role: 'q', guarantees: {}, limits: { cpus: 1, mem: 128 } }] });
  const agent = world.agent('a1', resources(cpus(4), mem(4096)));
  const framework = world.framework('f1', ['q']);
  const first = world.cycle();
  assert.equal(first.offers[0]?.resources, resources(cpus(1), mem(128)), 'chopped to the limit');
  world.launchAll(framework, resources(cpus(1), mem(128)));
  const second = world.cycle();
  assertNoOffers(second, framework);
  assert.is(reasonFor(second, framework, agent), 'QUOTA_LIMIT');
});

test('quota: other roles leave the headroom an unmet guarantee still needs', () => {
  const world = new AllocatorWorld();
  world.ok({ type: 'update_quota', configs: [{ role: 'q', guarantees: { cpus: 4, mem: 1024 }, limits: {} }] });
  world.agent('a1', resources(cpus(6), mem(6144)));
  const other = world.framework('f1', ['b']);
  const quota = world.framework('f2', ['q']);
  world.hints.suppress(quota, [], ['q']); // the quota role takes nothing now; its guarantee still stands
  world.cycle();
  const cpusToOther = world.offersOf(other).reduce((sum, offer) => sum + quantityOf(offer.resources, 'cpus'), 0);
  assert.is(cpusToOther, 2, 'four cpus stay free for the guarantee of "q"');
});

test('hierarchical roles: a parent role includes its sub-roles in its share', () => {
  const world = new AllocatorWorld();
  world.agent('a1', resources(cpus(4), mem(4096)));
  world.agent('a2', resources(cpus(4), mem(4096)), { address: { ip: '10.0.0.2', port: 5051 } });
  const busy = world.framework('f1', ['a/x']);
  world.cycle();
  world.launchAll(busy, resources(cpus(4), mem(1024))); // a/x now holds every cpu: "a" has share 1
  const sibling = world.framework('f2', ['a/y']);
  const outsider = world.framework('f3', ['b']);
  const result = world.cycle();
  // By name "a/y" would come first; but "a" (with a/x's task) has the larger share, so "b" wins.
  assert.equal(
    result.offers.map((offer) => offer.frameworkId),
    [outsider, outsider],
    'b stays below a after each offer',
  );
  assert.is(reasonFor(result, sibling, 'a2' as never), 'NOTHING_FREE');
});

test('reservations: reserved resources go only to their role; others get only unreserved ones', () => {
  const world = new AllocatorWorld();
  const agent = world.agent('a1', resources(cpus(2, 'r'), mem(1024, 'r'), cpus(2), mem(2048), ports(31000, 31009)));
  const reserved = world.agent('a2', resources(cpus(2, 'r'), mem(1024, 'r')), {
    address: { ip: '10.0.0.2', port: 5051 },
  });
  const outsider = world.framework('f1', ['o']);
  const owner = world.framework('f2', ['r']);
  const result = world.cycle();
  for (const offer of world.offersOf(outsider)) {
    assert.ok(
      offer.resources.every((resource) => resource.role === '*'),
      'no reserved resource to another role',
    );
  }
  const ownerOffers = world.offersOf(owner);
  assert.ok(ownerOffers.some((offer) => offer.agentId === agent && quantityOf(offer.resources, 'cpus') === 2));
  assert.ok(ownerOffers.some((offer) => offer.agentId === reserved));
  assert.is(reasonFor(result, outsider, reserved), 'RESERVED_FOR_OTHER_ROLES');
});

test('filters: a refused agent is skipped until the filter expires, with FILTERED as the reason', () => {
  const world = new AllocatorWorld();
  const agent = world.agent('a1', resources(cpus(4), mem(4096)));
  const framework = world.framework('f1');
  world.cycle();
  world.decline(framework, 5);
  world.nowMs += 4_000;
  const filtered = world.cycle();
  assertNoOffers(filtered, framework);
  assert.is(reasonFor(filtered, framework, agent), 'FILTERED');
  world.nowMs += 1_001;
  assert.is(world.cycle().offers.length, 1, 'offered again once the filter expired');
});

test('suppression: a suppressed role gets nothing (SUPPRESSED) until REVIVE', () => {
  const world = new AllocatorWorld();
  const agent = world.agent('a1', resources(cpus(4), mem(4096)));
  const framework = world.framework('f1', ['a', 'b']);
  world.hints.suppress(framework, ['a'], ['a', 'b']);
  const first = world.cycle();
  assert.equal(
    first.offers.map((offer) => offer.role),
    ['b'],
  );
  world.decline(framework);
  world.hints.suppress(framework, [], ['a', 'b']);
  const suppressed = world.cycle();
  assertNoOffers(suppressed, framework);
  assert.is(reasonFor(suppressed, framework, agent), 'SUPPRESSED');
  world.hints.revive(framework, []);
  assert.is(world.cycle().offers.length, 1);
});

test('starvation: a framework that declines everything (default 5 s filter) cannot starve another on one agent', () => {
  const world = new AllocatorWorld();
  world.agent('a1', resources(cpus(16), mem(16384)));
  const decliner = world.framework('f1', ['a']);
  const worker = world.framework('f2', ['b']);
  const task = resources(cpus(1), mem(128));
  let launched = 0;
  for (let round = 0; round < 10; round += 1) {
    world.cycle();
    world.decline(decliner, 5);
    if (world.launchOne(worker, task, fitsIn(task))) launched += 1;
    world.nowMs += 1_000;
  }
  assert.ok(launched >= 8, `the worker launched ${launched} tasks in 10 cycles`);
});

test('inactive agents and machines down for maintenance are not offered, with the reason', () => {
  const world = new AllocatorWorld();
  const draining = world.agent('a1', resources(cpus(4), mem(4096)));
  const down = world.agent('a2', resources(cpus(4), mem(4096)), {
    hostname: 'h2',
    address: { ip: '10.0.0.2', port: 5051 },
  });
  const framework = world.framework('f1');
  world.ok({ type: 'deactivate_agent', at: world.nowMs, agentId: draining });
  const machine = { hostname: 'h2', ip: '' };
  world.ok({
    type: 'update_maintenance_schedule',
    at: world.nowMs,
    windows: [{ machines: [machine], startMs: world.nowMs, durationMs: 3_600_000 }],
  });
  world.ok({ type: 'start_maintenance', at: world.nowMs, machines: [machine] });
  const result = world.cycle();
  assert.is(result.offers.length, 0);
  assert.is(reasonFor(result, framework, draining), 'AGENT_DEACTIVATED');
  assert.is(reasonFor(result, framework, down), 'AGENT_IN_MAINTENANCE');
});

test('an agent with no socket to the leader is not offered, with the reason, until it connects', () => {
  const world = new AllocatorWorld();
  const away = world.agent('a1', resources(cpus(4), mem(4096)));
  const framework = world.framework('f1');
  world.disconnected.add(away);
  const before = world.cycle();
  assert.is(before.offers.length, 0);
  assert.is(reasonFor(before, framework, away), 'AGENT_NOT_CONNECTED');
  world.disconnected.delete(away);
  const after = world.cycle();
  assert.equal(
    after.offers.map((offer) => offer.agentId),
    [away],
  );
});

test('minimum allocatable resources: less than cpus:0.01 or mem:32 is not offered', () => {
  const world = new AllocatorWorld();
  const tiny = world.agent('a1', resources(cpus(0.005), mem(16)));
  world.agent('a2', resources(mem(64)), { address: { ip: '10.0.0.2', port: 5051 } });
  const framework = world.framework('f1');
  const result = world.cycle();
  assert.equal(
    result.offers.map((offer) => offer.agentId),
    ['a2'],
  );
  assert.is(reasonFor(result, framework, tiny), 'BELOW_MIN_ALLOCATABLE');
  assert.is(toMillis(0.01), 10);
});

test('one offer per framework, agent and role per cycle; nothing free means NOTHING_FREE', () => {
  const world = new AllocatorWorld();
  const agent = world.agent('a1', resources(cpus(4), mem(4096)));
  const framework = world.framework('f1', ['a', 'b']);
  const first = world.cycle();
  assert.is(first.offers.length, 1, 'the whole agent in one offer to the first role');
  const second = world.cycle();
  assert.is(second.offers.length, 0);
  assert.is(reasonFor(second, framework, agent), 'NOTHING_FREE');
});

test.run();
