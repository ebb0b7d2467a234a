// The role tree the allocator's driver keeps across cycles (src/offers/role-tree-keeper.ts): it
// follows the allocation book and the frameworks as they change (test/offers/incremental.test.ts
// compares it with a fresh tree over random sequences), and it does not grow with framework
// churn: entries of frameworks that left are dropped by building it again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { minEntriesKept } from '../../src/offers/limits.ts';
import { buildRoleTree, RoleTreeKeeper } from '../../src/offers/role-tree-keeper.ts';
import { frameworkId } from '../../src/state-machine/ids.ts';
import { contains } from '../../src/state-machine/resources.ts';
import { cpus, mem, resources } from '../state-machine/support/fixtures.ts';
import { AllocatorWorld } from './support.ts';

test('frameworks that leave do not pile up in the kept tree', () => {
  const world = new AllocatorWorld();
  world.agent('a0', resources(cpus(4), mem(4096)));
  const keeper = new RoleTreeKeeper();
  const count = minEntriesKept + 16;
  for (let index = 0; index < count; index += 1) world.framework(`f${index}`, [`r${index}`]);
  assert.is(keeper.sync(world.state).entryCount, count);
  for (let index = 0; index < count; index += 1)
    world.ok({ type: 'disconnect_framework', at: world.nowMs, frameworkId: frameworkId(`f${index}`) });
  // Nothing live is left: past the bound, the tree is built again from the state, empty of entries.
  const tree = keeper.sync(world.state);
  assert.is(tree.entryCount, 0);
  assert.equal(tree.leavesInOrder(), buildRoleTree(world.state).leavesInOrder());
});

test('a framework that reconnects competes again with what it holds', () => {
  const world = new AllocatorWorld();
  world.agent('a0', resources(cpus(4), mem(4096)));
  const keeper = new RoleTreeKeeper();
  const framework = world.framework('f0', ['a']);
  keeper.sync(world.state);
  world.cycle();
  const size = resources(cpus(1), mem(128));
  assert.ok(world.launchOne(framework, size, (offered) => contains(offered, size)));
  world.framework('f1', ['a']);
  world.ok({ type: 'disconnect_framework', at: world.nowMs, frameworkId: framework });
  assert.is(keeper.sync(world.state).framework('a', framework), undefined);
  const info = world.state.frameworks.get(framework)!.info;
  world.ok({ type: 'subscribe_framework', at: world.nowMs, frameworkId: framework, info });
  const kept = keeper.sync(world.state);
  const fresh = buildRoleTree(world.state);
  const entry = kept.framework('a', framework);
  assert.ok(entry !== undefined && entry.share > 0, 'the task it runs counts toward its share');
  assert.is(entry.share, fresh.framework('a', framework)!.share);
});

test.run();
