// Random clusters (fast-check; the seed is printed, FLOTILLA_SEED=<n> replays it): agents with
// reserved and unreserved resources in various states, frameworks in hierarchical roles,
// quotas, weights, filters and suppression, and several rounds of allocate → apply → accept or
// decline. Every cycle's `create_offers` must be accepted by the real state machine with all
// invariants checked (so offers never exceed free resources, never overlap, and hold only
// their own role's reservations), and no cycle takes a role past a quota limit.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { selfAndAncestors } from '../../src/offers/quota-book.ts';
import { quantityOf, type Resource } from '../../src/state-machine/resources.ts';
import { isTerminalTaskState } from '../../src/protocol/task-states.ts';
import { cpus, mem, ports, resources } from '../state-machine/support/fixtures.ts';
import { propertySeed } from '../state-machine/support/seed.ts';
import { AllocatorWorld } from './support.ts';

const seed = propertySeed();
console.log(`allocator-property.test.ts seed ${seed} (replay: FLOTILLA_SEED=${seed})`);

const roleNames = ['*', 'a', 'a/b', 'c'] as const;
const reservableRoles = ['a', 'a/b', 'c'] as const;

const agentArbitrary = fc.record({
  cpus: fc.integer({ min: 0, max: 8000 }).map((millis) => millis / 1000),
  mem: fc.integer({ min: 0, max: 8192 }),
  ports: fc.boolean(),
  reservedRole: fc.option(fc.constantFrom(...reservableRoles), { nil: null }),
  reservedCpus: fc.integer({ min: 1, max: 4 }),
  draining: fc.boolean(),
});

const frameworkArbitrary = fc.record({
  roles: fc.uniqueArray(fc.constantFrom(...roleNames), { minLength: 1, maxLength: 3 }),
  disconnected: fc.boolean(),
  suppressed: fc.boolean(),
});

const quotaArbitrary = fc.record({
  role: fc.constantFrom(...reservableRoles),
  guaranteeCpus: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
  limitCpus: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
  limitMem: fc.option(fc.integer({ min: 0, max: 8192 }), { nil: null }),
});

const roundArbitrary = fc.record({
  acceptPick: fc.nat(),
  declineSeconds: fc.constantFrom(0, 0, 5),
  advanceMs: fc.integer({ min: 0, max: 6000 }),
  finishPick: fc.nat(),
});

const worldArbitrary = fc.record({
  agents: fc.array(agentArbitrary, { minLength: 1, maxLength: 6 }),
  frameworks: fc.array(frameworkArbitrary, { minLength: 1, maxLength: 4 }),
  quotas: fc.uniqueArray(quotaArbitrary, { maxLength: 2, selector: (quota) => quota.role }),
  heavyWeight: fc.integer({ min: 1, max: 4 }),
  rounds: fc.array(roundArbitrary, { minLength: 1, maxLength: 6 }),
});

type WorldRecipe = typeof worldArbitrary extends fc.Arbitrary<infer T> ? T : never;

function build(recipe: WorldRecipe): AllocatorWorld {
  const world = new AllocatorWorld();
  world.ok({ type: 'update_weights', weights: [{ role: 'a', weight: recipe.heavyWeight }] });
  const configs = recipe.quotas.map((quota) => ({
    role: quota.role,
    guarantees: (quota.guaranteeCpus === null ? {} : { cpus: quota.guaranteeCpus }) as Record<string, number>,
    // A guarantee never exceeds its limit (UPDATE_QUOTA rejects that).
    limits: {
      ...(quota.limitCpus === null ? {} : { cpus: Math.max(quota.limitCpus, quota.guaranteeCpus ?? 0) }),
      ...(quota.limitMem === null ? {} : { mem: quota.limitMem }),
    },
  }));
  if (configs.length > 0) world.ok({ type: 'update_quota', configs });
  recipe.agents.forEach((agent, index) => {
    const list: Resource[] = [cpus(agent.cpus), mem(agent.mem)];
    if (agent.ports) list.push(ports(31000, 31009));
    if (agent.reservedRole !== null)
      list.push(cpus(agent.reservedCpus, agent.reservedRole), mem(256, agent.reservedRole));
    const id = world.agent(`a${index}`, resources(...list), { address: { ip: `10.0.0.${index}`, port: 5051 } });
    if (agent.draining) world.ok({ type: 'deactivate_agent', at: world.nowMs, agentId: id });
  });
  recipe.frameworks.forEach((framework, index) => {
    const id = world.framework(`f${index}`, [...framework.roles].sort());
    if (framework.suppressed) world.hints.suppress(id, [framework.roles[0]!], framework.roles);
    if (framework.disconnected) world.ok({ type: 'disconnect_framework', at: world.nowMs, frameworkId: id });
  });
  return world;
}

/** Unreserved quantity of `name` held (tasks and offers) by `role` and its sub-roles. */
function consumedUnreserved(world: AllocatorWorld, role: string, name: string): number {
  let total = 0;
  const inSubtree = (candidate: string) => selfAndAncestors(candidate).includes(role);
  for (const task of world.state.tasks.values()) {
    if (!isTerminalTaskState(task.state) && inSubtree(task.role))
      total += quantityOf(task.resources.filter((r) => r.role === '*') as never, name);
  }
  for (const offer of world.state.offers.values()) {
    if (inSubtree(offer.role)) total += quantityOf(offer.resources.filter((r) => r.role === '*') as never, name);
  }
  return total;
}

function reservedFor(world: AllocatorWorld, role: string, name: string): number {
  let total = 0;
  for (const agent of world.state.agents.values()) {
    total += quantityOf(
      agent.resources.filter((r) => r.role !== '*' && selfAndAncestors(r.role).includes(role)) as never,
      name,
    );
  }
  return total;
}

function checkLimits(world: AllocatorWorld, recipe: WorldRecipe, before: Map<string, number>): void {
  for (const quota of recipe.quotas) {
    const effectiveCpus = quota.limitCpus === null ? null : Math.max(quota.limitCpus, quota.guaranteeCpus ?? 0);
    for (const [name, limit] of [
      ['cpus', effectiveCpus],
      ['mem', quota.limitMem],
    ] as const) {
      if (limit === null) continue;
      const key = `${quota.role}:${name}`;
      const now = consumedUnreserved(world, quota.role, name) + reservedFor(world, quota.role, name);
      // A cycle never pushes a role over its limit (it may already be over: limits can shrink).
      assert.ok(now <= Math.max(limit, before.get(key) ?? 0) + 1e-9, `${key}: ${now} > limit ${limit}`);
    }
  }
}

function snapshotConsumption(world: AllocatorWorld, recipe: WorldRecipe): Map<string, number> {
  const out = new Map<string, number>();
  for (const quota of recipe.quotas) {
    for (const name of ['cpus', 'mem'])
      out.set(
        `${quota.role}:${name}`,
        consumedUnreserved(world, quota.role, name) + reservedFor(world, quota.role, name),
      );
  }
  return out;
}

function playRound(world: AllocatorWorld, round: WorldRecipe['rounds'][number]): void {
  const offers = [...world.state.offers.values()];
  offers.forEach((offer, position) => {
    if ((round.acceptPick + position) % 3 === 0) {
      const size = offer.resources;
      world.ok({
        type: 'accept_offers',
        at: world.nowMs,
        frameworkId: offer.frameworkId,
        offerIds: [offer.id],
        operations: [
          {
            type: 'LAUNCH',
            tasks: [
              {
                id: `t${world.state.tasks.size + 1}` as never,
                name: 'task',
                resources: size,
                command: { value: 'true', shell: true, arguments: [], environment: {}, user: null },
                container: null,
                healthCheck: null,
                killGracePeriodMs: null,
                labels: {},
                executor: null,
                data: null,
              },
            ],
          },
        ],
      });
    } else {
      world.ok({ type: 'decline_offers', at: world.nowMs, frameworkId: offer.frameworkId, offerIds: [offer.id] });
      world.hints.refuse(offer.frameworkId, [offer.agentId], round.declineSeconds, world.nowMs);
    }
  });
  const live = [...world.state.tasks.values()].filter((task) => !isTerminalTaskState(task.state));
  const finishing = live[round.finishPick % Math.max(1, live.length)];
  if (finishing !== undefined && round.finishPick % 2 === 0) {
    world.ok({
      type: 'update_task_status',
      at: world.nowMs,
      frameworkId: finishing.frameworkId,
      taskId: finishing.id,
      agentId: finishing.agentId,
      status: {
        state: 'TASK_FINISHED',
        reason: null,
        message: null,
        source: 'SOURCE_EXECUTOR',
        uuid: null,
        timestampMs: world.nowMs,
        healthy: null,
        data: null,
      },
    });
  }
  world.nowMs += round.advanceMs;
}

test('random clusters: every cycle is accepted by the state machine with invariants on, and within quota limits', () => {
  fc.assert(
    fc.property(worldArbitrary, (recipe) => {
      const world = build(recipe);
      for (const round of recipe.rounds) {
        const before = snapshotConsumption(world, recipe);
        world.cycle(); // applies create_offers through the real machine; a rejection fails the test
        checkLimits(world, recipe, before);
        playRound(world, round);
      }
    }),
    { seed, numRuns: 200, interruptAfterTimeLimit: 60_000 },
  );
});

test.run();
