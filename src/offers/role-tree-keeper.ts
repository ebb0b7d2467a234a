// The DRF role tree kept from one allocation cycle to the next (issue 12: work per cycle in
// proportion to what changed). Built fresh, the tree costs every cycle one entry per framework
// and role and one charge per holding; kept, a cycle only brings up to date what changed since
// the last one:
//
//   - holdings whose quantities in the allocation book changed (the book stores a new map on
//     every change, so an unchanged holding is the same object) and the entries the last cycle
//     charged its own offers to (its offers may not all have been applied): set to the book's;
//   - frameworks whose record changed (connected, disconnected, roles changed, removed): put
//     into or taken out of their roles' leaves.
//
// Shares then follow from the same integer sums a fresh tree would add up, so the DRF order is
// the same (test/offers/incremental.test.ts compares every cycle with a fresh one). A change of
// the cluster's totals or of the weights changes every share: the tree is built again.
import type { FrameworkId } from '../state-machine/ids.ts';
import { sameQuantities } from '../state-machine/quantities.ts';
import type { Role } from '../state-machine/roles.ts';
import type { Framework, ReadonlyState, WeightEntry } from '../state-machine/state.ts';
import { maxLeftOverFactor, minEntriesKept } from './limits.ts';
import { RoleTree } from './role-tree.ts';

const noQuantities: ReadonlyMap<string, number> = new Map();

interface HeldSeen {
  readonly role: Role;
  readonly frameworkId: FrameworkId;
  readonly quantities: ReadonlyMap<string, number>;
}

/** A tree as the state stands: every CONNECTED framework in its roles, every holding charged. */
export function buildRoleTree(state: ReadonlyState): RoleTree {
  // A copy: nodes made later (a new role) must get the weights the tree was built with, which a
  // keeper checks are still the state's before each cycle.
  const weights = new Map(state.weights);
  const tree = new RoleTree(state.derived.allocation.activeTotals, (role) => weights.get(role)?.weight ?? 1);
  for (const framework of state.frameworks.values()) {
    if (framework.state !== 'CONNECTED') continue;
    for (const role of framework.info.roles) tree.addFramework(role, framework.id);
  }
  for (const [role, byFramework] of state.derived.allocation.heldByRole)
    for (const [frameworkId, held] of byFramework) tree.setHeld(role, frameworkId, held);
  return tree;
}

export class RoleTreeKeeper {
  #tree: RoleTree | null = null;
  #totals: ReadonlyMap<string, number> = new Map();
  #weights: ReadonlyMap<Role, WeightEntry> = new Map();
  /** Each framework as the tree last placed it. */
  readonly #frameworks = new Map<FrameworkId, Framework>();
  /** Per holding key, the book's quantities the tree was last set to. */
  readonly #held = new Map<string, HeldSeen>();

  /** The next cycle builds the tree afresh (leadership changed, a cycle was abandoned). */
  forget(): void {
    this.#tree = null;
    this.#frameworks.clear();
    this.#held.clear();
  }

  /** The tree brought up to date with `state`, for one cycle to allocate with. */
  sync(state: ReadonlyState): RoleTree {
    const book = state.derived.allocation;
    const tree = this.#tree;
    if (tree === null || !sameQuantities(book.activeTotals, this.#totals) || !sameWeights(state, this.#weights))
      return this.#rebuild(state);
    for (const entry of tree.changedEntries) {
      const held = book.heldByRole.get(entry.role)?.get(entry.id);
      this.#setHeld(tree, entry.role, entry.id, held);
    }
    tree.changedEntries.clear();
    for (const framework of state.frameworks.values()) this.#place(tree, framework.id, framework);
    for (const id of [...this.#frameworks.keys()]) if (!state.frameworks.has(id)) this.#place(tree, id, undefined);
    for (const [role, byFramework] of book.heldByRole) {
      for (const [frameworkId, held] of byFramework) {
        if (this.#held.get(holdingKey(role, frameworkId))?.quantities !== held)
          this.#setHeld(tree, role, frameworkId, held);
      }
    }
    for (const seen of [...this.#held.values()]) {
      if (book.heldByRole.get(seen.role)?.get(seen.frameworkId) === undefined)
        this.#setHeld(tree, seen.role, seen.frameworkId, undefined);
    }
    // Entries of frameworks long gone hold nothing and compete for nothing, but they would pile
    // up with framework churn (issue 12: bounded state): past twice what is live, start afresh.
    if (tree.entryCount > maxLeftOverFactor * (this.#held.size + this.#connectedRoles()) + minEntriesKept)
      return this.#rebuild(state);
    return tree;
  }

  #connectedRoles(): number {
    let count = 0;
    for (const framework of this.#frameworks.values())
      if (framework.state === 'CONNECTED') count += framework.info.roles.length;
    return count;
  }

  #rebuild(state: ReadonlyState): RoleTree {
    this.forget();
    const tree = buildRoleTree(state);
    this.#tree = tree;
    this.#totals = new Map(state.derived.allocation.activeTotals);
    this.#weights = new Map(state.weights);
    for (const framework of state.frameworks.values()) this.#frameworks.set(framework.id, framework);
    for (const [role, byFramework] of state.derived.allocation.heldByRole)
      for (const [frameworkId, quantities] of byFramework)
        this.#held.set(holdingKey(role, frameworkId), { role, frameworkId, quantities });
    return tree;
  }

  /** Sets the holding to the book's quantities (undefined: it holds nothing any more). */
  #setHeld(tree: RoleTree, role: Role, frameworkId: FrameworkId, held: ReadonlyMap<string, number> | undefined): void {
    tree.setHeld(role, frameworkId, held ?? noQuantities);
    const key = holdingKey(role, frameworkId);
    if (held === undefined) this.#held.delete(key);
    else this.#held.set(key, { role, frameworkId, quantities: held });
  }

  /** Moves a framework between leaves as its record changed (undefined: it left the state). */
  #place(tree: RoleTree, id: FrameworkId, framework: Framework | undefined): void {
    const before = this.#frameworks.get(id);
    if (before === framework) return;
    const wasIn = before?.state === 'CONNECTED' ? before.info.roles : [];
    const isIn = framework?.state === 'CONNECTED' ? framework.info.roles : [];
    for (const role of wasIn) if (!isIn.includes(role)) tree.removeFramework(role, id);
    for (const role of isIn) tree.addFramework(role, id);
    if (framework === undefined) this.#frameworks.delete(id);
    else this.#frameworks.set(id, framework);
  }
}

function holdingKey(role: Role, frameworkId: FrameworkId): string {
  return `${role}\u0000${frameworkId}`;
}

/** Weight entries are never changed in place: the same entries mean the same weights. */
function sameWeights(state: ReadonlyState, before: ReadonlyMap<Role, WeightEntry>): boolean {
  if (state.weights.size !== before.size) return false;
  for (const [role, entry] of state.weights) if (before.get(role) !== entry) return false;
  return true;
}
