// One allocation cycle, as in Mesos' HierarchicalAllocatorProcess::__allocate: a pure
// computation over the applied state, the framework hints and a time, cut into slices of
// agents so the driver can yield the event loop between them (DESIGN.md, "One event loop").
//
//   stage 1  for each agent: roles below their quota guarantee (by weighted dominant share)
//            get unreserved resources up to what the guarantee still needs, plus their
//            reservations;
//   stage 2  for each agent: roles by weighted dominant share (hierarchical), frameworks within
//            a role by dominant share; the first eligible framework of a role gets all that the
//            role may take of the agent (Mesos offers everything available), within quota
//            limits and leaving the headroom other roles' guarantees still need.
//
// Shares count offers made earlier in the same cycle, so a cycle over many agents spreads them
// across frameworks. Nothing here reads a clock or invents an id: `nowMs` and `newOfferId` are
// given.
//
// Given the driver's memory of the last cycle (allocation-memory.ts), a cycle visits only the
// agents that may get an offer now, in the same order, and makes the same decisions a full cycle
// would; the skip reasons of agents it does not visit are carried over from earlier cycles.
import type { OfferDefinition } from '../state-machine/commands.ts';
import { freeResources } from '../state-machine/agent-accounting.ts';
import type { AgentId, FrameworkId, OfferId } from '../state-machine/ids.ts';
import { agentIsDown } from '../state-machine/machines.ts';
import { compareStrings, sortedValues } from '../state-machine/ordering.ts';
import { assert } from '../util/assert.ts';
import {
  add,
  contains,
  emptyResources,
  filterRole,
  isEmpty,
  reservedRoles,
  subtract,
  type Resource,
  type Resources,
} from '../state-machine/resources.ts';
import { unreservedRole, type Role } from '../state-machine/roles.ts';
import type { Agent, Framework, MachineKey, MachineStatus, QuotaEntry, ReadonlyState } from '../state-machine/state.ts';
import { mergeQuantities } from '../state-machine/quantities.ts';
import { chop, meetsMinimum, type Quantities } from './quantities.ts';
import { mergeCaps, QuotaBook } from './quota-book.ts';
import type { RoleNode, RoleTree } from './role-tree.ts';
import { buildRoleTree } from './role-tree-keeper.ts';
import type { SkipReason } from './skip-reasons.ts';
import type { AllocationMemory, CycleOutcome } from './allocation-memory.ts';

export interface AllocationHintsView {
  isFiltered(frameworkId: string, agentId: string, nowMs: number): boolean;
  isSuppressed(frameworkId: string, role: string): boolean;
  /** Changes whenever a framework may want offers it did not want before (hints.ts). */
  readonly generation: number;
}

/** The driver's memory of earlier cycles and the agents whose filters lapsed since (hints.prune). */
export interface IncrementalInput {
  readonly memory: AllocationMemory;
  readonly releasedAgentIds: readonly string[];
}

export interface AllocatorConfig {
  /** Mesos `--min_allocatable_resources`: alternatives, any one of which makes resources allocatable. */
  readonly minAllocatable: readonly Quantities[];
  readonly newOfferId: () => OfferId;
  /** Bound on the skip reasons kept per framework per cycle (the report's size). */
  readonly maxSkipReasonsPerFramework: number;
}

export interface AllocationInput {
  readonly state: ReadonlyState;
  readonly hints: AllocationHintsView;
  readonly nowMs: number;
  readonly config: AllocatorConfig;
  /** Absent: a full cycle over every agent. */
  readonly incremental?: IncrementalInput;
  /**
   * Whether the agent holds an open, registered connection to this leader (Mesos offers no agent
   * that has not re-registered with the current master). Absent: every agent in the state does.
   */
  readonly isConnected?: (agentId: AgentId) => boolean;
}

export interface AllocationResult {
  readonly offers: OfferDefinition[];
  /** Per framework, per agent: why the agent was not offered to it (at most the configured number). */
  readonly skipReasons: Map<FrameworkId, Map<AgentId, SkipReason>>;
}

const isUnreserved = (resource: Resource): boolean => resource.role === unreservedRole;

const noRoles: readonly Role[] = [];
const nothingFree: Candidate = { reason: 'NOTHING_FREE' };
const belowMinimum: Candidate = { reason: 'BELOW_MIN_ALLOCATABLE' };
const reservedForOthers: Candidate = { reason: 'RESERVED_FOR_OTHER_ROLES' };

// Indexed loops, not for-of, in these per-agent helpers: their iterators showed as allocations.
function hasRole(resources: Resources, role: Role): boolean {
  for (let at = 0; at < resources.length; at += 1) if (resources[at]!.role === role) return true;
  return false;
}

/** The reserved roles in a list (sorted, each once): usually one, so no set and no sort. */
function reservedRolesIn(resources: Resources): Role[] {
  const roles: Role[] = [];
  for (const resource of resources)
    if (resource.role !== unreservedRole && !roles.includes(resource.role)) roles.push(resource.role);
  return roles.length > 1 ? roles.sort(compareStrings) : roles;
}

function onlyRoles(resources: Resources, role: Role, other: Role): boolean {
  for (let at = 0; at < resources.length; at += 1) {
    const owner = resources[at]!.role;
    if (owner !== role && owner !== other) return false;
  }
  return true;
}

type Candidate = { readonly resources: Resources } | { readonly reason: SkipReason };

interface Decision {
  readonly frameworkId: FrameworkId;
  readonly agentId: AgentId;
  readonly role: Role;
  resources: Resources;
  /** The decision on the same agent made before this one: a list per agent without an array each. */
  readonly earlierOnAgent: Decision | undefined;
}

export class AllocationCycle {
  readonly tree: RoleTree;
  readonly quota: QuotaBook;
  readonly totals: Quantities = new Map();
  /** Whether this cycle visits every agent (else only those the memory says may have changed). */
  readonly full: boolean;
  readonly #input: AllocationInput;
  /** The agents this cycle visits, in key order. */
  readonly #agents: Agent[];
  readonly #frameworkIds: FrameworkId[];
  /** What the cycle was set up with, for the memory: later changes must not look seen. */
  readonly #connected: Framework[] = [];
  readonly #machines: Map<MachineKey, MachineStatus>;
  readonly #quotas: Map<Role, QuotaEntry>;
  readonly #hintsGeneration: number;
  readonly #agentJournalPosition: number;
  /**
   * Per agent, by its position in `#agents` (arrays, not maps by id: a full cycle books 10,000
   * agents): what is still free to offer (undefined: not offerable), ...
   */
  readonly #remaining: (Resources | undefined)[];
  /** ... its free resources when the cycle booked it (all its offers together must fit), ... */
  readonly #bookedFree: (Resources | undefined)[];
  /** ... and its latest decision (linked to the earlier ones), to find one to add to. */
  readonly #latestDecisionOnAgent: (Decision | undefined)[];
  /**
   * Why an agent was not booked. Whether it is connected (and whether it is down for maintenance)
   * is read live, so an agent may become offerable between the slice that booked it and the one
   * that allocates it: it has nothing booked, and stays unoffered with the reason it had.
   */
  readonly #notBookedBecause: (SkipReason | undefined)[];
  /** In the order first decided (the offers' order). */
  readonly #decisions: Decision[] = [];
  readonly #reasons = new Map<FrameworkId, Map<AgentId, SkipReason>>();
  #frameworksWithRoom: number;
  /** Frameworks that got an offer or a reason for the agent being allocated now. */
  readonly #touched = new Set<FrameworkId>();
  /**
   * Next step: [0, n) book each agent's free resources, then [n, 2n) stage 1 and [2n, 3n)
   * stage 2 over the agents. Every step is small, so the set-up can be sliced like the
   * allocation itself.
   */
  #step = 0;
  /** The agent stage 2 is visiting leaves for, and its position (one function for every agent, not a closure each). */
  #visiting: Agent | null = null;
  #visitingAt = 0;

  /**
   * What live tasks, executors and outstanding offers hold is not scanned here: the state's
   * allocation book (state-machine/allocation-book.ts) keeps it per role and framework as
   * commands apply, so the set-up costs O(roles × frameworks + agents), not O(tasks).
   */
  constructor(input: AllocationInput) {
    this.#input = input;
    const { state } = input;
    const book = state.derived.allocation;
    const { incremental } = input;
    this.#agentJournalPosition = book.agentJournalPosition;
    const planned =
      incremental?.memory.plan(state, book.sortedAgentIds(), input.hints.generation, incremental.releasedAgentIds) ??
      null;
    this.full = planned === null;
    this.#machines = new Map(state.machines);
    this.#quotas = new Map(state.quotas);
    this.#hintsGeneration = input.hints.generation;
    this.#agents = (planned ?? book.sortedAgentIds()).map((id) => {
      const agent = state.agents.get(id);
      // The message only when it fails: a template built per agent is 10,000 strings a cycle.
      if (agent === undefined) assert(false, `allocation book: agent ${id} is not in the state`);
      return agent;
    });
    this.#remaining = new Array<Resources | undefined>(this.#agents.length).fill(undefined);
    this.#bookedFree = new Array<Resources | undefined>(this.#agents.length).fill(undefined);
    this.#latestDecisionOnAgent = new Array<Decision | undefined>(this.#agents.length).fill(undefined);
    this.#notBookedBecause = new Array<SkipReason | undefined>(this.#agents.length).fill(undefined);
    mergeQuantities(this.totals, book.activeTotals);
    // The driver's tree is kept from cycle to cycle and brought up to date (role-tree-keeper.ts).
    this.tree = incremental?.memory.roleTree(state) ?? buildRoleTree(state);
    this.quota = new QuotaBook(state.quotas.values());
    this.#frameworkIds = [];
    for (const framework of sortedValues(state.frameworks)) {
      if (framework.state !== 'CONNECTED') continue;
      this.#frameworkIds.push(framework.id);
      this.#connected.push(framework);
    }
    this.#frameworksWithRoom = this.#frameworkIds.length;
    for (const [role, unreserved] of book.unreservedHeldByRole) this.quota.consumeQuantities(role, unreserved);
  }

  /** An agent's reservations count toward quota; an offerable agent's free resources are booked. */
  #bookAgent(agent: Agent, at: number): void {
    if (agent.state === 'GONE') return;
    if (!this.quota.isEmpty) {
      for (const role of reservedRoles(agent.resources))
        this.quota.consume(role, filterRole(agent.resources, role), 'reserved');
    }
    const unavailable = this.#offerable(agent);
    if (unavailable !== null) {
      this.#notBookedBecause[at] = unavailable;
      return;
    }
    const free = freeResources(agent);
    this.#remaining[at] = free;
    this.#bookedFree[at] = free;
    // What is available only matters to quota headroom: without quotas, nothing reads it.
    if (!this.quota.isEmpty) this.quota.addAvailable(free);
  }

  /** Null when the agent may be offered; else why not. */
  #offerable(agent: Agent): SkipReason | null {
    if (agent.state !== 'ACTIVE') return 'AGENT_NOT_ACTIVE';
    if (agent.deactivated) return 'AGENT_DEACTIVATED';
    if (this.#input.isConnected !== undefined && !this.#input.isConnected(agent.id)) return 'AGENT_NOT_CONNECTED';
    return agentIsDown(this.#input.state, agent) ? 'AGENT_IN_MAINTENANCE' : null;
  }

  get #setupSteps(): number {
    return this.#agents.length;
  }

  get agentsVisited(): number {
    return this.#agents.length;
  }

  get done(): boolean {
    return this.#step >= this.#setupSteps + 2 * this.#agents.length;
  }

  /** Runs up to `maxSteps` steps; returns whether the cycle is complete. */
  runSlice(maxSteps: number): boolean {
    const count = this.#agents.length;
    for (let budget = maxSteps; budget > 0 && !this.done; budget -= 1, this.#step += 1) {
      const agentStep = this.#step;
      const at = agentStep % count;
      const agent = this.#agents[at]!;
      if (agentStep < count) this.#bookAgent(agent, at);
      else if (agentStep < 2 * count) this.#allocateGuarantees(agent, at);
      else this.#allocateFairly(agent, at);
    }
    return this.done;
  }

  /** Runs the set-up only: shares and quota books as the state stands (GET_ALLOCATION). */
  prepare(): void {
    const remaining = this.#setupSteps - this.#step;
    if (remaining > 0) this.runSlice(remaining);
  }

  result(): AllocationResult {
    // No agent over-committed: what this cycle offers on an agent, summed, fits what it had free.
    for (let at = 0; at < this.#agents.length; at += 1) {
      const latest = this.#latestDecisionOnAgent[at];
      if (latest === undefined) continue;
      let offered = latest.resources;
      for (let decision = latest.earlierOnAgent; decision !== undefined; decision = decision.earlierOnAgent)
        offered = add(offered, decision.resources);
      if (!contains(this.#bookedFree[at]!, offered))
        assert(false, `agent ${this.#agents[at]!.id} is over-committed by this cycle`);
    }
    const offers = this.#decisions.map(
      (decision): OfferDefinition => ({
        offerId: this.#input.config.newOfferId(),
        frameworkId: decision.frameworkId,
        agentId: decision.agentId,
        role: decision.role,
        resources: decision.resources,
      }),
    );
    if (!this.full) this.#carryOverReasons();
    return { offers, skipReasons: this.#reasons };
  }

  /** For the memory (allocation-memory.ts), once `result()` is taken: what this cycle saw and left. */
  outcome(): CycleOutcome {
    assert(this.done, 'the outcome of an allocation cycle that has not finished');
    const visited = new Map<AgentId, { agent: Agent; left: Resources | null }>();
    for (const [at, agent] of this.#agents.entries())
      visited.set(agent.id, { agent, left: this.#remaining[at] ?? null });
    return {
      state: this.#input.state,
      connectedFrameworks: this.#connected,
      machines: this.#machines,
      quotas: this.#quotas,
      hintsGeneration: this.#hintsGeneration,
      agentJournalPosition: this.#agentJournalPosition,
      visited,
      skipReasons: this.#reasons,
    };
  }

  /** Agents not visited keep the reasons earlier cycles gave, within each framework's bound. */
  #carryOverReasons(): void {
    const earlier = this.#input.incremental?.memory.skipReasons;
    if (earlier === undefined) return;
    const visited = new Set(this.#agents.map((agent) => agent.id));
    const connected = new Set(this.#frameworkIds);
    const limit = this.#input.config.maxSkipReasonsPerFramework;
    for (const [frameworkId, reasons] of earlier) {
      if (!connected.has(frameworkId)) continue;
      let fresh = this.#reasons.get(frameworkId);
      for (const [agentId, reason] of reasons) {
        if (visited.has(agentId) || !this.#input.state.agents.has(agentId)) continue;
        if (fresh === undefined) {
          fresh = new Map();
          this.#reasons.set(frameworkId, fresh);
        }
        if (fresh.size >= limit) break;
        if (!fresh.has(agentId)) fresh.set(agentId, reason);
      }
    }
  }

  /** Stage 1: roles below their guarantee, lowest weighted share first. */
  #allocateGuarantees(agent: Agent, at: number): void {
    if (this.#remaining[at] === undefined || this.quota.isEmpty) return;
    const roles = this.quota
      .rolesBelowGuarantee()
      .map((role) => ({ role, share: this.tree.findNode(role)?.share ?? 0 }))
      .sort((left, right) => left.share - right.share || compareStrings(left.role, right.role));
    for (const { role } of roles) {
      for (const leaf of this.tree.leavesUnder(role)) this.#offerRole(agent, at, leaf, role);
    }
  }

  /** Stage 2: fair sharing of what is left, then each role's own reservations. */
  #allocateFairly(agent: Agent, at: number): void {
    if (this.#touched.size > 0) this.#touched.clear();
    const unavailable = this.#offerable(agent) ?? this.#notBookedBecause[at] ?? null;
    if (unavailable !== null || this.#remaining[at] === undefined) {
      this.#noteUntouched(agent.id, unavailable ?? 'AGENT_NOT_ACTIVE');
      return;
    }
    if (this.#unreservedAllocatable(at)) {
      this.#visiting = agent;
      this.#visitingAt = at;
      this.tree.visitLeavesInOrder(this.#offerLeaf);
    }
    // Frameworks not reached by now could only have had the unreserved rest: say why not.
    const left = this.#remaining[at]!;
    const reason: SkipReason = isEmpty(left)
      ? 'NOTHING_FREE'
      : !left.some(isUnreserved)
        ? 'RESERVED_FOR_OTHER_ROLES'
        : 'BELOW_MIN_ALLOCATABLE';
    const reserved = left.every(isUnreserved) ? noRoles : reservedRolesIn(left);
    for (const role of reserved) {
      const leaf = this.tree.findLeaf(role);
      if (leaf !== undefined) this.#offerRole(agent, at, leaf, null);
    }
    this.#noteUntouched(agent.id, reason);
  }

  /** Stage 2's visit of one leaf for `#visiting`: stops once nothing unreserved is left to offer. */
  readonly #offerLeaf = (leaf: RoleNode): boolean =>
    this.#offerRole(this.#visiting!, this.#visitingAt, leaf, null, true) &&
    !this.#unreservedAllocatable(this.#visitingAt);

  #unreservedAllocatable(at: number): boolean {
    return meetsMinimum(this.#remaining[at]!, this.#input.config.minAllocatable, unreservedRole);
  }

  /**
   * Offers the agent to the first eligible framework of the leaf's role. `guaranteeOf` is the
   * quota role whose guarantee stage 1 is filling (null in stage 2); `unreservedAllocatable`, that
   * the unreserved part of what is free is known to meet the minimum. Returns whether it offered.
   */
  #offerRole(
    agent: Agent,
    at: number,
    leaf: RoleNode,
    guaranteeOf: Role | null,
    unreservedAllocatable = false,
  ): boolean {
    const { hints, nowMs } = this.#input;
    const noting = guaranteeOf === null;
    let candidate: Candidate | null = null;
    for (const framework of this.tree.frameworksInOrder(leaf)) {
      if (hints.isSuppressed(framework.id, leaf.role)) {
        if (noting) this.#note(framework.id, agent.id, 'SUPPRESSED');
        continue;
      }
      if (hints.isFiltered(framework.id, agent.id, nowMs)) {
        if (noting) this.#note(framework.id, agent.id, 'FILTERED');
        continue;
      }
      candidate ??= this.#candidate(at, leaf.role, guaranteeOf, unreservedAllocatable);
      if ('reason' in candidate) {
        if (noting) this.#note(framework.id, agent.id, candidate.reason);
        continue;
      }
      this.#decide(framework.id, agent.id, at, leaf.role, candidate.resources);
      this.tree.allocate(leaf.role, candidate.resources, framework);
      return true;
    }
    return false;
  }

  #decide(frameworkId: FrameworkId, agentId: AgentId, at: number, role: Role, resources: Resources): void {
    const remaining = this.#remaining[at];
    // Every offer fits what its agent has free: an allocator that offers more over-commits it.
    // (Messages built only on failure: this runs for every offer of a cycle.)
    if (remaining === undefined) assert(false, `an offer on agent ${agentId}, which has nothing booked as free`);
    if (isEmpty(resources)) assert(false, `an empty offer to ${frameworkId} on ${agentId}`);
    if (!contains(remaining, resources))
      assert(false, `an offer to ${frameworkId} exceeds what agent ${agentId} has free`);
    const latest = this.#latestDecisionOnAgent[at];
    let existing = latest;
    while (existing !== undefined && (existing.frameworkId !== frameworkId || existing.role !== role))
      existing = existing.earlierOnAgent;
    if (existing === undefined) {
      const decision = { frameworkId, agentId, role, resources, earlierOnAgent: latest };
      this.#latestDecisionOnAgent[at] = decision;
      this.#decisions.push(decision);
    } else existing.resources = add(existing.resources, resources);
    // Usually the whole of what is free is offered at once: then nothing is left, no walk needed.
    this.#remaining[at] = resources === remaining ? emptyResources : subtract(remaining, resources);
    if (!this.quota.isEmpty) this.quota.charge(role, resources);
    // Only `#noteUntouched` reads it, and only while reports have room (which never comes back).
    if (this.#frameworksWithRoom > 0) this.#touched.add(frameworkId);
  }

  /** What `role` may be offered of the agent now, or why nothing. */
  #candidate(at: number, role: Role, guaranteeOf: Role | null, unreservedAllocatable: boolean): Candidate {
    const remaining = this.#remaining[at]!;
    if (isEmpty(remaining)) return nothingFree;
    // Usually everything free is unreserved or the role's own: then the whole list is what it may
    // take, the same entries in the same order as cutting and merging it again would give.
    const allUsable = onlyRoles(remaining, role, unreservedRole);
    if (this.quota.isEmpty && (allUsable || !hasRole(remaining, role))) {
      // Without quota the role takes all it may: everything, or (none of it its own) the unreserved part.
      const whole = allUsable ? remaining : filterRole(remaining, unreservedRole);
      if (isEmpty(whole)) return reservedForOthers;
      // What it takes holds all that is unreserved: known to meet the minimum, it meets it.
      if (unreservedAllocatable || meetsMinimum(whole, this.#input.config.minAllocatable)) return { resources: whole };
      return belowMinimum;
    }
    const reserved = role === unreservedRole ? emptyResources : filterRole(remaining, role);
    const unreserved = allUsable && reserved.length === 0 ? remaining : filterRole(remaining, unreservedRole);
    if (isEmpty(reserved) && isEmpty(unreserved)) return { reason: 'RESERVED_FOR_OTHER_ROLES' };
    const { minAllocatable } = this.#input.config;
    const whole = allUsable ? remaining : add(reserved, unreserved);
    if (!meetsMinimum(whole, minAllocatable)) return { reason: 'BELOW_MIN_ALLOCATABLE' };
    if (this.quota.isEmpty) return { resources: whole };
    const limitCaps = this.quota.limitCaps(role);
    let caps = mergeCaps(limitCaps, this.quota.headroomCaps(role));
    if (guaranteeOf !== null) caps = mergeCaps(caps, this.quota.deficit(guaranteeOf));
    const offered = add(reserved, chop(unreserved, caps));
    if (guaranteeOf !== null && !this.#fillsGuarantee(offered, guaranteeOf)) return { reason: 'NOTHING_FREE' };
    if (meetsMinimum(offered, minAllocatable)) return { resources: offered };
    const withinLimits = add(reserved, chop(unreserved, limitCaps));
    return { reason: meetsMinimum(withinLimits, minAllocatable) ? 'HELD_FOR_QUOTA_GUARANTEE' : 'QUOTA_LIMIT' };
  }

  /** Stage 1 only hands out an offer that brings the guarantee closer. */
  #fillsGuarantee(offered: Resources, quotaRole: Role): boolean {
    const deficit = this.quota.deficit(quotaRole);
    return offered.some((resource) => deficit.has(resource.name));
  }

  #note(frameworkId: FrameworkId, agentId: AgentId, reason: SkipReason): void {
    if (this.#frameworksWithRoom > 0) this.#touched.add(frameworkId);
    this.#record(frameworkId, agentId, reason);
  }

  /** A reason kept, within the framework's bound (`#note` without marking it touched). */
  #record(frameworkId: FrameworkId, agentId: AgentId, reason: SkipReason): void {
    let reasons = this.#reasons.get(frameworkId);
    if (reasons === undefined) {
      reasons = new Map();
      this.#reasons.set(frameworkId, reasons);
    }
    const limit = this.#input.config.maxSkipReasonsPerFramework;
    if (reasons.has(agentId)) {
      reasons.set(agentId, reason);
      return;
    }
    if (reasons.size >= limit) return;
    reasons.set(agentId, reason);
    if (reasons.size === limit) this.#frameworksWithRoom -= 1;
  }

  /** Frameworks the agent's traversal never reached get `reason`, while reports have room. */
  #noteUntouched(agentId: AgentId, reason: SkipReason): void {
    if (this.#frameworksWithRoom <= 0) return;
    for (const frameworkId of this.#frameworkIds) {
      // Recorded, not noted: marking each as touched too would only grow the set to be cleared.
      if (!this.#touched.has(frameworkId)) this.#record(frameworkId, agentId, reason);
    }
  }
}

/** The whole cycle at once (tests, benchmarks); the driver runs slices instead. */
export function allocate(input: AllocationInput): AllocationResult {
  const cycle = new AllocationCycle(input);
  cycle.runSlice(Number.MAX_SAFE_INTEGER);
  return cycle.result();
}
