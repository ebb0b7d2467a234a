// A real state machine (invariants checked after every apply) driven by allocation cycles:
// every cycle's offers go through `create_offers`, so a bad decision is a rejected command.
import { defaultMaxSkipReasonsPerFramework } from '../../src/offers/limits.ts';
import * as assert from 'uvu/assert';
import { allocate, parseMinAllocatable, type AllocationResult } from '../../src/offers/allocator.ts';
import { AllocationHints } from '../../src/offers/hints.ts';
import { dominantShare, quantitiesOf, type Quantities } from '../../src/offers/quantities.ts';
import type { Command } from '../../src/state-machine/commands.ts';
import { agentId, frameworkId, offerId, taskId, type AgentId, type FrameworkId } from '../../src/state-machine/ids.ts';
import { isTerminalTaskState } from '../../src/protocol/task-states.ts';
import { add, contains, subtract, type Resources } from '../../src/state-machine/resources.ts';
import { baseTime, Harness, registerAgent, subscribe, taskDefinition } from '../state-machine/support/fixtures.ts';

export class AllocatorWorld {
  readonly harness = new Harness();
  readonly hints = new AllocationHints();
  nowMs = baseTime;
  #offerSequence = 0;
  #taskSequence = 0;
  minAllocatable = parseMinAllocatable('cpus:0.01|mem:32');
  /** Agents with no open socket to the leader (the driver's `agentConnected` says false). */
  readonly disconnected = new Set<AgentId>();

  get state() {
    return this.harness.state;
  }

  ok(command: Command): void {
    this.harness.ok(command);
  }

  agent(id: string, held: Resources, overrides: Parameters<typeof registerAgent>[1] = {}): AgentId {
    this.ok(registerAgent(agentId(id), { hostname: id, resources: held, ...overrides }));
    return agentId(id);
  }

  framework(id: string, roles: string[] = ['*']): FrameworkId {
    this.ok(subscribe(frameworkId(id), { roles }));
    return frameworkId(id);
  }

  /** One cycle; its offers are applied (and must be accepted by the real state machine). */
  cycle(): AllocationResult {
    const result = allocate({
      state: this.state,
      hints: this.hints,
      nowMs: this.nowMs,
      config: {
        minAllocatable: this.minAllocatable,
        maxSkipReasonsPerFramework: defaultMaxSkipReasonsPerFramework,
        newOfferId: () => {
          this.#offerSequence += 1;
          return offerId(`O${this.#offerSequence}`);
        },
      },
      isConnected: (agent) => !this.disconnected.has(agent),
    });
    if (result.offers.length > 0) this.ok({ type: 'create_offers', at: this.nowMs, offers: result.offers });
    return result;
  }

  offersOf(framework: FrameworkId) {
    return [...this.state.offers.values()].filter((offer) => offer.frameworkId === framework);
  }

  decline(framework: FrameworkId, refuseSeconds = 0): void {
    const offers = this.offersOf(framework);
    if (offers.length === 0) return;
    this.ok({
      type: 'decline_offers',
      at: this.nowMs,
      frameworkId: framework,
      offerIds: offers.map((offer) => offer.id),
    });
    this.hints.refuse(
      framework,
      offers.map((offer) => offer.agentId),
      refuseSeconds,
      this.nowMs,
    );
  }

  /** Launches one task of `size` from the framework's first offer that fits; declines the rest. */
  launchOne(framework: FrameworkId, size: Resources, fits: (offered: Resources) => boolean): boolean {
    const offers = this.offersOf(framework);
    const chosen = offers.find((offer) => fits(offer.resources));
    if (chosen !== undefined) {
      this.#taskSequence += 1;
      const task = taskDefinition(taskId(`t${this.#taskSequence}`), size);
      this.ok({
        type: 'accept_offers',
        at: this.nowMs,
        frameworkId: framework,
        offerIds: [chosen.id],
        operations: [{ type: 'LAUNCH', tasks: [task] }],
      });
    }
    const rest = offers.filter((offer) => offer !== chosen);
    if (rest.length > 0)
      this.ok({
        type: 'decline_offers',
        at: this.nowMs,
        frameworkId: framework,
        offerIds: rest.map((offer) => offer.id),
      });
    return chosen !== undefined;
  }

  /** Accepts every offer, launching as many tasks of `size` as fit in each. */
  launchAll(framework: FrameworkId, size: Resources): number {
    let launched = 0;
    for (const offer of this.offersOf(framework)) {
      const tasks = [];
      let left = offer.resources;
      while (contains(left, size)) {
        this.#taskSequence += 1;
        tasks.push(taskDefinition(taskId(`t${this.#taskSequence}`), size));
        left = subtract(left, size);
      }
      launched += tasks.length;
      this.ok({
        type: 'accept_offers',
        at: this.nowMs,
        frameworkId: framework,
        offerIds: [offer.id],
        operations: tasks.length === 0 ? [] : [{ type: 'LAUNCH', tasks }],
      });
    }
    return launched;
  }

  totals(): Quantities {
    const totals: Quantities = new Map();
    for (const agent of this.state.agents.values())
      for (const [name, millis] of quantitiesOf(agent.resources)) totals.set(name, (totals.get(name) ?? 0) + millis);
    return totals;
  }

  /** Dominant share of the framework's live tasks. */
  taskShare(framework: FrameworkId): number {
    let held = [] as unknown as Resources;
    for (const task of this.state.tasks.values()) {
      if (task.frameworkId === framework && !isTerminalTaskState(task.state)) held = add(held, task.resources);
    }
    return dominantShare(quantitiesOf(held), this.totals());
  }
}

export function reasonFor(result: AllocationResult, framework: FrameworkId, agent: AgentId): string | undefined {
  return result.skipReasons.get(framework)?.get(agent);
}

export function assertNoOffers(result: AllocationResult, framework: FrameworkId): void {
  assert.is(result.offers.filter((offer) => offer.frameworkId === framework).length, 0, `no offers for ${framework}`);
}
