// The incremental cycle (src/offers/allocation-memory.ts) against a full recomputation: over
// random command sequences (agents joining, launches, declines with and without filters, tasks
// finishing, REVIVE, SUPPRESS, frameworks connecting and leaving, deactivation, maintenance,
// weights, quota now and then), every cycle is computed both ways on the same state and must make
// the same offers in the same order; the incremental one's offers are then applied (now and then
// only some, as when the driver drops offers that no longer fit). The role tree the driver keeps
// across cycles (role-tree-keeper.ts) must equal one built afresh before every cycle. The seed is
// printed; FLOTILLA_SEED=<n> replays it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AllocationMemory } from '../../src/offers/allocation-memory.ts';
import type { RoleTree } from '../../src/offers/role-tree.ts';
import { buildRoleTree } from '../../src/offers/role-tree-keeper.ts';
import { allocate, AllocationCycle, type AllocatorConfig } from '../../src/offers/allocator.ts';
import { defaultMaxSkipReasonsPerFramework } from '../../src/offers/limits.ts';
import type { OfferDefinition } from '../../src/state-machine/commands.ts';
import { frameworkId, offerId, type AgentId, type FrameworkId } from '../../src/state-machine/ids.ts';
import { isTerminalTaskState } from '../../src/protocol/task-states.ts';
import { contains, type Resource } from '../../src/state-machine/resources.ts';
import { cpus, mem, ports, resources, statusReport, subscribe } from '../state-machine/support/fixtures.ts';
import { propertySeed } from '../state-machine/support/seed.ts';
import { AllocatorWorld } from './support.ts';

const seed = propertySeed();
console.log(`incremental.test.ts seed ${seed} (replay: FLOTILLA_SEED=${seed})`);

const sequences = 40;
const stepsPerSequence = 60;
const roleChoices = ['*', 'a', 'a/x', 'b'] as const;

/** mulberry32: small, seeded, good enough to pick commands. */
function randomSource(start: number): () => number {
  let state = start >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Sequence {
  readonly world = new AllocatorWorld();
  readonly memory = new AllocationMemory();
  readonly random: () => number;
  agents: AgentId[] = [];
  frameworks: FrameworkId[] = [];
  #offerSequence = 0;
  #taskSequence = 0;
  cycles = 0;
  /** The steps so far, for the failure message. */
  readonly actions: string[] = [];
  incrementalCycles = 0;
  agentsSkipped = 0;
  /** Agents whose socket to the leader is closed (the driver's `agentConnected` says false). */
  readonly disconnected = new Set<AgentId>();
  readonly isConnected = (agent: AgentId): boolean => !this.disconnected.has(agent);

  constructor(start: number) {
    this.random = randomSource(start);
  }

  pick<T>(list: readonly T[]): T | undefined {
    return list.length === 0 ? undefined : list[Math.floor(this.random() * list.length)];
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  config(prefix: string): AllocatorConfig {
    return {
      minAllocatable: this.world.minAllocatable,
      maxSkipReasonsPerFramework: defaultMaxSkipReasonsPerFramework,
      newOfferId: () => {
        this.#offerSequence += 1;
        return offerId(`${prefix}${this.#offerSequence}`);
      },
    };
  }

  addAgent(): void {
    const index = this.agents.length;
    const list: Resource[] = [cpus(1 + Math.floor(this.random() * 8)), mem(256 * (1 + Math.floor(this.random() * 16)))];
    if (this.chance(0.3)) list.push(ports(31000, 31000 + Math.floor(this.random() * 20)));
    if (this.chance(0.3)) list.push(cpus(1, this.pick(['a', 'b'])!), mem(128, 'a'));
    const id = this.world.agent(`a${index}`, resources(...list), {
      address: { ip: `10.0.${index >> 8}.${index & 255}`, port: 5051 },
    });
    this.agents.push(id);
  }

  addFramework(): void {
    const id = frameworkId(`f${this.frameworks.length}`);
    const roles = [...new Set([this.pick(roleChoices)!, this.pick(roleChoices)!])];
    this.world.ok(subscribe(id, { roles }, this.world.nowMs));
    this.frameworks.push(id);
  }

  /** One cycle both ways; the decisions must match; the incremental one's offers are applied. */
  cycle(): void {
    const { world } = this;
    const released = world.hints.prune(world.nowMs);
    const full = allocate({
      state: world.state,
      hints: world.hints,
      nowMs: world.nowMs,
      config: this.config('F'),
      isConnected: this.isConnected,
    });
    const cycle = new AllocationCycle({
      state: world.state,
      hints: world.hints,
      nowMs: world.nowMs,
      config: this.config('I'),
      incremental: { memory: this.memory, releasedAgentIds: released },
      isConnected: this.isConnected,
    });
    assertSameTree(cycle.tree, buildRoleTree(world.state), `seed ${seed}, cycle ${this.cycles + 1}`);
    cycle.runSlice(Number.MAX_SAFE_INTEGER);
    const result = cycle.result();
    this.cycles += 1;
    if (!cycle.full) {
      this.incrementalCycles += 1;
      this.agentsSkipped += world.state.agents.size - cycle.agentsVisited;
    }
    assert.equal(
      decisions(result.offers),
      decisions(full.offers),
      `seed ${seed}, cycle ${this.cycles} (${cycle.full ? 'full' : `incremental, ${cycle.agentsVisited} agents`}) after ${this.actions.slice(-6).join(', ')}`,
    );
    this.memory.remember(cycle.outcome(), cycle.full);
    // Now and then the driver drops offers that no longer fit (allocation-loop.ts #stillFitting):
    // their agents changed, so they are visited again, and the kept role tree must not keep
    // charging the frameworks for offers that were never made.
    const applied = this.chance(0.15) ? result.offers.filter(() => this.chance(0.5)) : result.offers;
    for (const offer of result.offers) if (!applied.includes(offer)) this.memory.revisit(offer.agentId);
    if (applied.length > 0) world.ok({ type: 'create_offers', at: world.nowMs, offers: applied });
  }

  step(): void {
    const choice = this.random();
    const { world } = this;
    const framework = this.pick(this.frameworks);
    this.actions.push(`${Math.floor(choice * 100)}:${framework ?? '-'}`);
    if (choice < 0.06) this.addAgent();
    else if (choice < 0.1) this.addFramework();
    else if (choice < 0.3 && framework !== undefined) this.launch(framework);
    else if (choice < 0.45 && framework !== undefined) world.decline(framework, this.pick([0, 0, 2, 5])!);
    else if (choice < 0.6) this.finishTask();
    else if (choice < 0.7) world.nowMs += Math.floor(this.random() * 4000);
    else if (choice < 0.74 && framework !== undefined) world.hints.revive(framework, []);
    else if (choice < 0.78 && framework !== undefined) this.suppress(framework);
    else if (choice < 0.82) this.toggleAgent();
    else if (choice < 0.85 && framework !== undefined) this.toggleFramework(framework);
    else if (choice < 0.87) this.maintenance();
    else if (choice < 0.89)
      world.ok({ type: 'update_weights', weights: [{ role: 'a', weight: 1 + this.random() * 3 }] });
    else if (choice < 0.9) this.quota();
    else if (choice < 0.94) this.toggleConnection();
    this.cycle();
  }

  launch(framework: FrameworkId): void {
    const size = resources(
      cpus(0.5 * (1 + Math.floor(this.random() * 4))),
      mem(128 * (1 + Math.floor(this.random() * 8))),
    );
    this.#taskSequence += 1;
    this.world.launchOne(framework, size, (offered) => contains(offered, size));
  }

  finishTask(): void {
    const live = [...this.world.state.tasks.values()].filter((task) => !isTerminalTaskState(task.state));
    const task = this.pick(live);
    if (task === undefined) return;
    this.world.ok({
      type: 'update_task_status',
      at: this.world.nowMs,
      frameworkId: task.frameworkId,
      taskId: task.id,
      agentId: task.agentId,
      status: statusReport(this.pick(['TASK_FINISHED', 'TASK_FAILED', 'TASK_RUNNING'] as const)!),
    });
  }

  suppress(framework: FrameworkId): void {
    const roles = this.world.state.frameworks.get(framework)?.info.roles ?? [];
    if (this.chance(0.5)) this.world.hints.suppress(framework, [], roles);
    else this.world.hints.setSuppressedRoles(framework, roles.slice(0, 1));
  }

  toggleAgent(): void {
    const agent = this.pick(this.agents);
    if (agent === undefined) return;
    const deactivated = this.world.state.agents.get(agent)?.deactivated ?? false;
    this.world.ok({
      type: deactivated ? 'reactivate_agent' : 'deactivate_agent',
      at: this.world.nowMs,
      agentId: agent,
    });
  }

  /**
   * An agent's socket closes or opens again, as the driver sees it (allocation-loop.ts): nothing in
   * the state changes but the offers rescinded on a close; the memory is told to visit it again.
   */
  toggleConnection(): void {
    const agent = this.pick(this.agents);
    if (agent === undefined) return;
    this.memory.revisit(agent);
    if (this.disconnected.delete(agent)) return;
    this.disconnected.add(agent);
    for (const id of this.world.state.derived.offersByAgent.get(agent) ?? [])
      this.world.ok({ type: 'rescind_offer', at: this.world.nowMs, offerId: id });
  }

  toggleFramework(framework: FrameworkId): void {
    const state = this.world.state.frameworks.get(framework)?.state;
    if (state === 'CONNECTED')
      this.world.ok({ type: 'disconnect_framework', at: this.world.nowMs, frameworkId: framework });
    else if (state === 'DISCONNECTED') {
      const info = this.world.state.frameworks.get(framework)!.info;
      this.world.ok({ type: 'subscribe_framework', at: this.world.nowMs, frameworkId: framework, info });
    }
  }

  /** A machine down or up; the schedule may not allow it, and a rejection changes nothing. */
  maintenance(): void {
    const agent = this.world.state.agents.get(this.pick(this.agents)!);
    if (agent === undefined) return;
    const machines = [{ hostname: agent.hostname, ip: agent.address.ip }];
    const windows = [{ machines, startMs: this.world.nowMs, durationMs: 3_600_000 }];
    if (this.chance(0.5)) {
      this.world.harness.run({ type: 'update_maintenance_schedule', at: this.world.nowMs, windows });
      this.world.harness.run({ type: 'start_maintenance', at: this.world.nowMs, machines });
    } else this.world.harness.run({ type: 'stop_maintenance', at: this.world.nowMs, machines });
  }

  /** Quota makes every cycle full while it is set; it is set and removed again now and then. */
  quota(): void {
    const set = this.world.state.quotas.size === 0;
    const guarantees: Record<string, number> = set ? { cpus: 2 } : {};
    this.world.ok({ type: 'update_quota', configs: [{ role: 'a', guarantees, limits: set ? { cpus: 6 } : {} }] });
  }
}

/** The role tree kept across cycles has the shares, allocations and order of one built afresh. */
function assertSameTree(kept: RoleTree, fresh: RoleTree, context: string): void {
  for (const role of fresh.roles()) {
    const node = kept.findNode(role);
    const expected = fresh.findNode(role)!;
    assert.ok(node !== undefined, `${context}: role ${role} missing from the kept tree`);
    assert.is(node.share, expected.share, `${context}: share of role ${role}`);
    assert.equal(kept.quantitiesOf(node.allocation), fresh.quantitiesOf(expected.allocation), `${context}: ${role}`);
  }
  const order = (tree: RoleTree) =>
    tree.leavesInOrder().map((leaf) => ({
      role: leaf.role,
      share: leaf.share,
      frameworks: tree.frameworksInOrder(leaf).map((entry) => `${entry.id} ${entry.share}`),
    }));
  assert.equal(order(kept), order(fresh), `${context}: DRF order of leaves and frameworks`);
}

function decisions(offers: readonly OfferDefinition[]): string[] {
  return offers.map(
    (offer) => `${offer.frameworkId} ${offer.agentId} ${offer.role} ${JSON.stringify(offer.resources)}`,
  );
}

test('the incremental cycle makes the same offers as a full recomputation, over random command sequences', () => {
  let incremental = 0;
  let skipped = 0;
  for (let index = 0; index < sequences; index += 1) {
    const sequence = new Sequence(seed + index);
    for (let agent = 0; agent < 4; agent += 1) sequence.addAgent();
    for (let framework = 0; framework < 2; framework += 1) sequence.addFramework();
    for (let step = 0; step < stepsPerSequence; step += 1) sequence.step();
    incremental += sequence.incrementalCycles;
    skipped += sequence.agentsSkipped;
  }
  // The comparison means something only if the incremental path ran and skipped agents.
  assert.ok(incremental > sequences * 10, `only ${incremental} incremental cycles (seed ${seed})`);
  assert.ok(
    skipped > incremental,
    `only ${skipped} agents skipped in ${incremental} incremental cycles (seed ${seed})`,
  );
});

test.run();
