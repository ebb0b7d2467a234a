// What the driver's last allocation cycle left behind, so the next cycle visits only the agents
// where something may have changed (issue 12: work proportional to what changed, not to the
// cluster). The argument, which test/offers/incremental.test.ts checks against a full
// recomputation over random command sequences:
//
//   A cycle offers an agent whatever an eligible framework may take, so an agent the cycle left
//   with free resources had no framework able to take them. Visited again with the same free
//   resources, in the same state, and with no framework more eligible than before, it gets no
//   offer, and visiting it changes no share. Skipping it changes no decision.
//
// So an agent is visited when it is new, its version changed and its free resources differ from
// what the cycle left it (its own offers applied count as no change), its state, deactivation
// or host changed, its socket to the leader opened or closed (revisit), or a framework's filter
// on it lapsed. Everything else that can make a framework newly eligible forces a full cycle:
// the first cycle, a framework (re)connected or changed while connected, a hint that widens
// (REVIVE, un-suppression), a machine's maintenance mode, a quota changed or removed, a filter on
// all agents lapsing. With quotas configured every cycle is full: headroom couples all agents.
// Shares, weights and DRF order need no check: they only order frameworks that can take something.
//
// Which agents to compare: an agent's object is replaced on every write, and the state's allocation
// book journals the writes (state-machine/allocation-book.ts). An agent not written since the last
// cycle was set up is the object that cycle saw (or an earlier one compared equal since), so the
// comparison would say "unchanged": only the agents written since, the released ones and the
// revisited ones are compared. At 10,000 agents the walk of every agent was the plan's whole cost
// per cycle, and cycles run many times a second while tasks launch (issue 12). When the journal
// does not reach back (another state after a restore, or too many writes), every agent is compared.
import type { ReadonlyAllocationBook } from '../state-machine/allocation-book.ts';
import type { AgentId, FrameworkId } from '../state-machine/ids.ts';
import { compareStrings } from '../state-machine/ordering.ts';
import type { Role } from '../state-machine/roles.ts';
import { equals, type Resources } from '../state-machine/resources.ts';
import { freeResources } from '../state-machine/agent-accounting.ts';
import type { Agent, Framework, MachineKey, MachineStatus, QuotaEntry, ReadonlyState } from '../state-machine/state.ts';
import { allAgents } from './hints.ts';
import type { RoleTree } from './role-tree.ts';
import { RoleTreeKeeper } from './role-tree-keeper.ts';
import type { SkipReason } from './skip-reasons.ts';

interface AgentMemory {
  /** The agent version the last cycle saw, or a later one found to have the same free resources. */
  version: Agent;
  /** What the cycle left free on it (its offers taken out); null when it was not offerable. */
  readonly left: Resources | null;
}

/** What a finished cycle tells the memory. */
export interface CycleOutcome {
  /** The state now: only to drop agents that are gone. */
  readonly state: ReadonlyState;
  /** As the cycle was set up: the CONNECTED frameworks, the machines and the hints' generation. */
  readonly connectedFrameworks: readonly Framework[];
  readonly machines: ReadonlyMap<MachineKey, MachineStatus>;
  readonly quotas: ReadonlyMap<Role, QuotaEntry>;
  readonly hintsGeneration: number;
  /** The allocation book's agent journal position when the cycle was set up. */
  readonly agentJournalPosition: number;
  /** Each visited agent with what the cycle left free on it (null: not offerable). */
  readonly visited: ReadonlyMap<AgentId, { readonly agent: Agent; readonly left: Resources | null }>;
  readonly skipReasons: ReadonlyMap<FrameworkId, ReadonlyMap<AgentId, SkipReason>>;
}

export class AllocationMemory {
  readonly #agents = new Map<AgentId, AgentMemory>();
  /** Frameworks that were CONNECTED at the last cycle, as they were. */
  readonly #frameworks = new Map<FrameworkId, Framework>();
  #machines: ReadonlyMap<MachineKey, MachineStatus> = new Map();
  #quotas: ReadonlyMap<Role, QuotaEntry> = new Map();
  #hintsGeneration = -1;
  #valid = false;
  /** Where the last remembered cycle was set up, in which book's agent journal. */
  #journal: { readonly book: ReadonlyAllocationBook; readonly position: number } | null = null;
  /** Agents revisit() dropped that no cycle has visited since: the journal does not list them. */
  readonly #revisits = new Set<AgentId>();
  #agentsCompared = 0;
  /** The last cycle's skip reasons, carried over for agents a later cycle does not visit. */
  #skipReasons: ReadonlyMap<FrameworkId, ReadonlyMap<AgentId, SkipReason>> = new Map();
  readonly #roleTree = new RoleTreeKeeper();

  get skipReasons(): ReadonlyMap<FrameworkId, ReadonlyMap<AgentId, SkipReason>> {
    return this.#skipReasons;
  }

  /** The DRF role tree as the last cycle left it, brought up to date with `state` (role-tree-keeper.ts). */
  roleTree(state: ReadonlyState): RoleTree {
    return this.#roleTree.sync(state);
  }

  /** Agents the last plan compared with what the memory saw (work per cycle, for tests). */
  get agentsCompared(): number {
    return this.#agentsCompared;
  }

  /** Leadership changed or a cycle was abandoned: the next cycle is a full one. */
  forget(): void {
    this.#roleTree.forget();
    this.#valid = false;
    this.#journal = null;
    this.#revisits.clear();
    this.#agents.clear();
    this.#frameworks.clear();
    this.#machines = new Map();
    this.#quotas = new Map();
    this.#skipReasons = new Map();
  }

  /**
   * The agent's connection to the leader changed (it is not in the replicated state, so no
   * version shows it): the next cycle visits it again.
   */
  revisit(agentId: AgentId): void {
    if (this.#agents.delete(agentId)) this.#revisits.add(agentId);
  }

  /**
   * The agents the next cycle must visit, in the order given (the cycle's key order), or null
   * when it must visit all of them. `released` are agents whose filters lapsed (hints.prune).
   */
  plan(
    state: ReadonlyState,
    sortedAgentIds: readonly AgentId[],
    hintsGeneration: number,
    released: readonly string[],
  ): AgentId[] | null {
    if (!this.#valid || state.quotas.size > 0 || hintsGeneration !== this.#hintsGeneration) return null;
    if (released.includes(allAgents) || !this.#sameFrameworks(state)) return null;
    if (!sameEntries(state.machines, this.#machines) || !sameEntries(state.quotas, this.#quotas)) return null;
    const releasedSet = new Set(released);
    const candidates = this.#candidates(state.derived.allocation, releasedSet) ?? sortedAgentIds;
    this.#agentsCompared = 0;
    const visit: AgentId[] = [];
    for (const id of candidates) {
      const agent = state.agents.get(id);
      if (agent === undefined) continue;
      this.#agentsCompared += 1;
      if (releasedSet.has(id) || !this.#unchanged(agent)) visit.push(id);
    }
    return visit;
  }

  /**
   * The agents that may differ from what the memory saw, in key order: written since the last
   * remembered cycle was set up, released or revisited. Null when the journal cannot say.
   */
  #candidates(book: ReadonlyAllocationBook, released: ReadonlySet<string>): AgentId[] | null {
    if (this.#journal === null || this.#journal.book !== book) return null;
    const written = book.agentsWrittenSince(this.#journal.position);
    if (written === null) return null;
    const candidates = new Set<AgentId>(written);
    for (const id of released) candidates.add(id as AgentId);
    for (const id of this.#revisits) candidates.add(id);
    return [...candidates].sort(compareStrings);
  }

  /** Records a cycle that ran to the end; its offers are about to be proposed. */
  remember(outcome: CycleOutcome, full: boolean): void {
    if (full) this.#agents.clear();
    for (const [id, { agent, left }] of outcome.visited) {
      this.#agents.set(id, { version: agent, left });
      this.#revisits.delete(id);
    }
    if (this.#agents.size > outcome.state.agents.size) {
      for (const id of this.#agents.keys()) if (!outcome.state.agents.has(id)) this.#agents.delete(id);
    }
    for (const id of this.#revisits) if (!outcome.state.agents.has(id)) this.#revisits.delete(id);
    this.#journal = { book: outcome.state.derived.allocation, position: outcome.agentJournalPosition };
    this.#frameworks.clear();
    for (const framework of outcome.connectedFrameworks) this.#frameworks.set(framework.id, framework);
    this.#machines = outcome.machines;
    this.#quotas = outcome.quotas;
    this.#hintsGeneration = outcome.hintsGeneration;
    this.#skipReasons = outcome.skipReasons;
    this.#valid = true;
  }

  #unchanged(agent: Agent): boolean {
    const seen = this.#agents.get(agent.id);
    if (seen === undefined) return false;
    if (seen.version === agent) return true;
    const before = seen.version;
    const same =
      seen.left !== null &&
      agent.state === before.state &&
      agent.deactivated === before.deactivated &&
      agent.hostname === before.hostname &&
      agent.address.ip === before.address.ip &&
      equals(freeResources(agent), seen.left);
    // Its own offers applied (or a change that left the same free resources): the same as far
    // as allocation goes, and the next comparison is by identity again.
    if (same) seen.version = agent;
    return same;
  }

  /** Every framework CONNECTED now was CONNECTED, unchanged, at the last cycle. */
  #sameFrameworks(state: ReadonlyState): boolean {
    for (const framework of state.frameworks.values()) {
      if (framework.state === 'CONNECTED' && this.#frameworks.get(framework.id) !== framework) return false;
    }
    return true;
  }
}

/** The same keys with the same (never changed in place) entries. */
function sameEntries<Key, Value>(now: ReadonlyMap<Key, Value>, before: ReadonlyMap<Key, Value>): boolean {
  if (now.size !== before.size) return false;
  for (const [key, value] of now) if (before.get(key) !== value) return false;
  return true;
}
