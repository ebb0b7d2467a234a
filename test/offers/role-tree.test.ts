// The DRF role tree's order (src/offers/role-tree.ts) against a straightforward reference: random
// hierarchies of roles (frameworks in leaf roles and in parent roles, random weights), random
// allocations with traversals in between (one changed sibling, a few, many), and after every
// traversal the leaves must come in the order a full recomputation gives: depth first, siblings
// by weighted dominant share of their subtree, ties by role name. fast-check; the seed is
// printed, FLOTILLA_SEED=<n> replays it.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RoleTree } from '../../src/offers/role-tree.ts';
import { frameworkId } from '../../src/state-machine/ids.ts';
import { compareStrings } from '../../src/state-machine/ordering.ts';
import { cpus, mem, resources } from '../state-machine/support/fixtures.ts';
import { propertySeed } from '../state-machine/support/seed.ts';

const seed = propertySeed();
console.log(`role-tree.test.ts seed ${seed} (replay: FLOTILLA_SEED=${seed})`);

const totalCpusMillis = 1_000_000;
const totalMemMillis = 4_000_000_000;

interface Held {
  cpus: number;
  mem: number;
}

/** The order a full recomputation gives: shares summed over each subtree, siblings sorted, depth first. */
function referenceOrder(roles: readonly string[], held: ReadonlyMap<string, Held>, weights: Map<string, number>) {
  const weightOf = (role: string): number => weights.get(role) ?? 1;
  const subtree = (role: string): Held => {
    const sum = { cpus: 0, mem: 0 };
    for (const [leafRole, amounts] of held) {
      if (leafRole !== role && !leafRole.startsWith(`${role}/`)) continue;
      sum.cpus += amounts.cpus;
      sum.mem += amounts.mem;
    }
    return sum;
  };
  const share = (amounts: Held): number => Math.max(amounts.cpus / totalCpusMillis, amounts.mem / totalMemMillis);
  // A child: a real role node (its subtree) or the virtual leaf of its parent's own frameworks.
  type Child = { role: string; leaf: boolean; share: number };
  const visit = (parent: string | null, out: string[]): void => {
    const children: Child[] = [];
    const depth = parent === null ? 1 : parent.split('/').length + 1;
    const prefixes = new Set<string>();
    for (const role of roles) {
      if (parent !== null && !role.startsWith(`${parent}/`)) continue;
      const parts = role.split('/');
      if (parts.length >= depth) prefixes.add(parts.slice(0, depth).join('/'));
    }
    for (const role of prefixes) children.push({ role, leaf: false, share: share(subtree(role)) / weightOf(role) });
    if (parent !== null && roles.includes(parent)) {
      const own = held.get(parent) ?? { cpus: 0, mem: 0 };
      children.push({ role: parent, leaf: true, share: share(own) / weightOf(parent) });
    }
    children.sort((left, right) => left.share - right.share || compareStrings(left.role, right.role));
    for (const child of children) {
      if (child.leaf) out.push(child.role);
      else visit(child.role, out);
    }
  };
  const out: string[] = [];
  visit(null, out);
  return out;
}

const scenario = fc.record({
  teams: fc.integer({ min: 1, max: 4 }),
  rolesPerTeam: fc.integer({ min: 1, max: 30 }),
  teamsWithOwnFrameworks: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  weights: fc.array(fc.constantFrom(1, 1, 2, 3), { minLength: 4, maxLength: 4 }),
  steps: fc.array(
    fc.record({
      target: fc.nat(),
      cpusMillis: fc.integer({ min: 0, max: 5000 }),
      memMillis: fc.integer({ min: 0, max: 20_000_000 }),
      traverseAfter: fc.constantFrom(true, true, false, false, false),
    }),
    { minLength: 1, maxLength: 200 },
  ),
});

test('leaves come in the order a full recomputation of every share gives', () => {
  fc.assert(
    fc.property(scenario, ({ teams, rolesPerTeam, teamsWithOwnFrameworks, weights, steps }) => {
      const roles: string[] = [];
      const weightByRole = new Map<string, number>();
      for (let team = 0; team < teams; team += 1) {
        weightByRole.set(`t${team}`, weights[team]!);
        if (teamsWithOwnFrameworks[team]!) roles.push(`t${team}`);
        for (let index = 0; index < rolesPerTeam; index += 1) roles.push(`t${team}/r${index}`);
      }
      const totals = new Map([
        ['cpus', totalCpusMillis],
        ['mem', totalMemMillis],
      ]);
      const tree = new RoleTree(totals, (role) => weightByRole.get(role) ?? 1);
      const entries = roles.map((role, index) => tree.addFramework(role, frameworkId(`f${index}`)));
      const held = new Map<string, Held>();
      assert.equal(
        tree.leavesInOrder().map((leaf) => leaf.role),
        referenceOrder(roles, held, weightByRole),
      );
      for (const step of steps) {
        if (step.cpusMillis > 0 || step.memMillis > 0) {
          const at = step.target % roles.length;
          const role = roles[at]!;
          const list = resources(
            ...(step.cpusMillis > 0 ? [cpus(step.cpusMillis / 1000)] : []),
            ...(step.memMillis > 0 ? [mem(step.memMillis / 1000)] : []),
          );
          tree.allocate(role, list, entries[at]!);
          const before = held.get(role) ?? { cpus: 0, mem: 0 };
          held.set(role, { cpus: before.cpus + step.cpusMillis, mem: before.mem + step.memMillis });
        }
        if (!step.traverseAfter) continue;
        assert.equal(
          tree.leavesInOrder().map((leaf) => leaf.role),
          referenceOrder(roles, held, weightByRole),
        );
      }
    }),
    { seed, numRuns: 200 },
  );
});

test.run();
