// What the allocator would otherwise recompute from every live task, executor and offer at the
// start of each cycle, kept up to date as commands apply instead (issue 12): per role and
// framework, the quantities held; per role, the unreserved part of them (quota consumption); the
// sum of ACTIVE agents' resources (what DRF shares are fractions of); and the agent ids in key
// order (the order a cycle visits agents in), sorted again only when an agent joins or leaves;
// and a bounded journal of the agents written, so the leader's next cycle looks only at the agents
// written since its last (offers/allocation-memory.ts) instead of at every agent.
// Part of the derived indexes (derived-indexes.ts): never replicated, rebuilt on restore, and
// checked against a full recomputation by the invariants (invariants.ts).
import { assert } from '../util/assert.ts';
import type { AgentId, FrameworkId } from './ids.ts';
import { maxAgentJournalLength } from './limits.ts';
import { compareStrings } from './ordering.ts';
import { addQuantities, type Quantities } from './quantities.ts';
import type { Resources } from './resources.ts';
import type { Role } from './roles.ts';
import type { Agent } from './state.ts';

/** Something that holds resources for a framework in a role: a live task, an executor, an offer. */
export interface Holding {
  readonly role: Role;
  readonly frameworkId: FrameworkId;
  readonly resources: Resources;
}

export interface ReadonlyAllocationBook {
  /** Per role, per framework: what its live tasks, executors and outstanding offers hold (a new map per change). */
  readonly heldByRole: ReadonlyMap<Role, ReadonlyMap<FrameworkId, ReadonlyMap<string, number>>>;
  /** Per role: the unreserved part of what it holds (what counts toward its quota besides reservations). */
  readonly unreservedHeldByRole: ReadonlyMap<Role, ReadonlyMap<string, number>>;
  /** The resources of ACTIVE agents, summed. */
  readonly activeTotals: ReadonlyMap<string, number>;
  /** Every agent id, in key order. */
  sortedAgentIds(): readonly AgentId[];
  /** The position after the last agent write; grows by one per write of an agent. */
  readonly agentJournalPosition: number;
  /**
   * The agents written (registered, changed or removed) from `position` on, in write order and
   * with repeats; null when the journal no longer reaches back that far (the reader must look at
   * every agent). An agent not listed is the very object it was at `position`.
   */
  agentsWrittenSince(position: number): readonly AgentId[] | null;
}

export class AllocationBook implements ReadonlyAllocationBook {
  readonly heldByRole = new Map<Role, Map<FrameworkId, Quantities>>();
  readonly unreservedHeldByRole = new Map<Role, Quantities>();
  readonly activeTotals: Quantities = new Map();
  readonly #agentIds = new Set<AgentId>();
  #sortedAgentIds: AgentId[] | null = [];
  /** Agents written since position `#journalStart`; emptied past maxAgentJournalLength (followers never read it). */
  #journal: AgentId[] = [];
  #journalStart = 0;

  /** `sign` 1: `holding` now holds its resources; -1: it released them. */
  hold(holding: Holding, sign: 1 | -1): void {
    const { role, frameworkId, resources } = holding;
    let byFramework = this.heldByRole.get(role);
    if (byFramework === undefined) {
      byFramework = new Map();
      this.heldByRole.set(role, byFramework);
    }
    // A new map on every change, never one changed in place: the allocator's role tree, kept
    // across cycles (offers/role-tree-keeper.ts), finds the holdings that changed by identity.
    const held = new Map(byFramework.get(frameworkId));
    addQuantities(held, resources, sign);
    for (const millis of held.values()) assert(millis > 0, `${role}/${frameworkId} would hold a negative amount`);
    if (held.size === 0) byFramework.delete(frameworkId);
    else byFramework.set(frameworkId, held);
    if (byFramework.size === 0) this.heldByRole.delete(role);
    let unreserved = this.unreservedHeldByRole.get(role);
    if (unreserved === undefined) {
      unreserved = new Map();
      this.unreservedHeldByRole.set(role, unreserved);
    }
    addQuantities(unreserved, resources, sign, 'unreserved');
    if (unreserved.size === 0) this.unreservedHeldByRole.delete(role);
  }

  /** An agent was registered or changed (before undefined: new), or removed (after undefined). */
  noteAgent(before: Agent | undefined, after: Agent | undefined): void {
    const wasActive = before?.state === 'ACTIVE';
    const isActive = after?.state === 'ACTIVE';
    this.#journalWrite((after ?? before)!.id);
    if (wasActive && (!isActive || before!.resources !== after!.resources))
      addQuantities(this.activeTotals, before!.resources, -1);
    if (isActive && (!wasActive || before!.resources !== after!.resources))
      addQuantities(this.activeTotals, after!.resources, 1);
    if ((before === undefined) === (after === undefined)) return;
    const id = (after ?? before)!.id;
    if (after === undefined) this.#agentIds.delete(id);
    else this.#agentIds.add(id);
    this.#sortedAgentIds = null;
  }

  get agentJournalPosition(): number {
    return this.#journalStart + this.#journal.length;
  }

  agentsWrittenSince(position: number): readonly AgentId[] | null {
    assert(position <= this.agentJournalPosition, `agent journal position ${position} is ahead of the journal`);
    if (position < this.#journalStart) return null;
    return this.#journal.slice(position - this.#journalStart);
  }

  #journalWrite(id: AgentId): void {
    if (this.#journal.length >= maxAgentJournalLength) {
      this.#journalStart += this.#journal.length;
      this.#journal = [];
    }
    this.#journal.push(id);
  }

  sortedAgentIds(): readonly AgentId[] {
    this.#sortedAgentIds ??= [...this.#agentIds].sort(compareStrings);
    return this.#sortedAgentIds;
  }
}
