// The hierarchical DRF sorter (Mesos `HierarchicalDRFSorter`): roles form a tree by their "/"
// separated names; siblings are ordered by weighted dominant share, where a role's allocation
// includes its sub-roles'. A role that has frameworks and also sub-roles gets a virtual leaf
// child holding its own allocation (Mesos does the same with a "." child), so its frameworks
// compete with its sub-roles on equal terms. Within a leaf, frameworks go by dominant share.
//
// Sorting is lazy: an allocation marks the nodes on its path dirty, and a node sorts its
// children again only when a traversal next enters it. Within one agent's traversal the order
// therefore stays as it was when the traversal began, as in Mesos, where `sort()` is called
// once per agent.
//
// Allocations are numeric vectors (one slot per resource name, thousandths, `ResourceSlots`),
// not maps: every offer of a cycle adds to each node on its path and recomputes its share, and
// a plain array of numbers does that without hashing a name per resource per node.
import { maxRepositions } from './limits.ts';
import type { FrameworkId } from '../state-machine/ids.ts';
import { compareStrings } from '../state-machine/ordering.ts';
import type { Role } from '../state-machine/roles.ts';
import { amountMillis } from '../state-machine/quantities.ts';
import type { Quantities } from './quantities.ts';
import type { Resources } from '../state-machine/resources.ts';

/** Thousandths per resource name, at the slot `ResourceSlots` gave the name; a missing slot is 0. */
export type QuantityVector = number[];

/** Resource name ↔ slot in a `QuantityVector`, assigned in the order names are first seen. */
export class ResourceSlots {
  readonly #byName = new Map<string, number>();
  readonly names: string[] = [];

  slot(name: string): number {
    let slot = this.#byName.get(name);
    if (slot === undefined) {
      slot = this.names.length;
      this.names.push(name);
      this.#byName.set(name, slot);
    }
    return slot;
  }

  vectorOf(quantities: ReadonlyMap<string, number>): QuantityVector {
    const vector: QuantityVector = [];
    for (const [name, millis] of quantities) addAt(vector, this.slot(name), millis);
    return vector;
  }

  /** Back to name → thousandths, zero slots left out (what `mergeQuantities` would have kept). */
  quantitiesOf(vector: QuantityVector): Quantities {
    const out: Quantities = new Map();
    for (let slot = 0; slot < vector.length; slot += 1)
      if (vector[slot] !== 0) out.set(this.names[slot]!, vector[slot]!);
    return out;
  }
}

function addAt(vector: QuantityVector, slot: number, millis: number): void {
  while (vector.length <= slot) vector.push(0);
  vector[slot] = vector[slot]! + millis;
}

function addVector(into: QuantityVector, delta: QuantityVector): void {
  while (into.length < delta.length) into.push(0);
  for (let slot = 0; slot < delta.length; slot += 1) into[slot] = into[slot]! + delta[slot]!;
}

/**
 * DRF's dominant share over vectors: the largest fraction of the total held of any one resource.
 * The same divisions as `dominantShare` on maps, so the same shares and the same order.
 */
function vectorShare(allocation: QuantityVector, totals: QuantityVector): number {
  let share = 0;
  const length = Math.min(allocation.length, totals.length);
  for (let slot = 0; slot < length; slot += 1) {
    const total = totals[slot]!;
    if (total > 0) {
      const fraction = allocation[slot]! / total;
      if (fraction > share) share = fraction;
    }
  }
  return share;
}

export interface FrameworkEntry {
  readonly id: FrameworkId;
  readonly role: Role;
  /** What the framework holds in this role (tasks and offers), for its share within the role. */
  readonly allocation: QuantityVector;
  share: number;
  /**
   * Whether it is among its leaf's frameworks (CONNECTED, subscribed to the role). An entry that
   * is not only carries what a framework holds in a role, so that it needs no recount on joining.
   */
  inLeaf: boolean;
}

export interface RoleNode {
  readonly role: Role;
  readonly parent: RoleNode | null;
  /** A virtual leaf holds the role's own allocation and frameworks; a real node its subtree's. */
  readonly virtual: boolean;
  readonly weight: number;
  readonly allocation: QuantityVector;
  /** Dominant share of `allocation` divided by `weight`. */
  share: number;
  readonly children: RoleNode[];
  /**
   * Children whose share changed since `children` was last put in order, each once (an array
   * and a flag on the child, not a set: every offer of a cycle notes a child per level).
   */
  readonly changedChildren: RoleNode[];
  /** Whether this node is in its parent's `changedChildren`. */
  awaitingPlace: boolean;
  childrenUnsorted: boolean;
  readonly frameworks: FrameworkEntry[];
  frameworksDirty: boolean;
  /** Frameworks anywhere below (or in) this node: traversal skips subtrees without any. */
  frameworkCount: number;
}

const byShare = (left: { share: number }, right: { share: number }): number => left.share - right.share;
const compareNodes = (left: RoleNode, right: RoleNode): number =>
  byShare(left, right) || compareStrings(left.role, right.role);
const compareFrameworks = (left: FrameworkEntry, right: FrameworkEntry): number =>
  byShare(left, right) || compareStrings(left.id, right.id);

function newNode(role: Role, parent: RoleNode | null, virtual: boolean, weight: number): RoleNode {
  return {
    role,
    parent,
    virtual,
    weight,
    allocation: [],
    share: 0,
    children: [],
    changedChildren: [],
    awaitingPlace: false,
    childrenUnsorted: true,
    frameworks: [],
    frameworksDirty: true,
    frameworkCount: 0,
  };
}

export class RoleTree {
  readonly root = newNode('', null, false, 1);
  readonly #nodes = new Map<Role, RoleNode>();
  readonly #leaves = new Map<Role, RoleNode>();
  readonly #entries = new Map<string, FrameworkEntry>();
  readonly slots = new ResourceSlots();
  readonly #totals: QuantityVector;
  readonly #scratch: QuantityVector = [];

  constructor(
    totals: ReadonlyMap<string, number>,
    private readonly weightOf: (role: Role) => number,
  ) {
    this.#totals = this.slots.vectorOf(totals);
  }

  /** The real node of `role`, created with its ancestors. */
  node(role: Role): RoleNode {
    const found = this.#nodes.get(role);
    if (found !== undefined) return found;
    const cut = role.lastIndexOf('/');
    const parent = cut < 0 ? this.root : this.node(role.slice(0, cut));
    const created = newNode(role, parent, false, this.weightOf(role));
    parent.children.push(created);
    parent.childrenUnsorted = true;
    this.#nodes.set(role, created);
    return created;
  }

  /** The virtual leaf of `role`: where its frameworks and own allocation live. */
  leaf(role: Role): RoleNode {
    const found = this.#leaves.get(role);
    if (found !== undefined) return found;
    const owner = this.node(role);
    const created = newNode(role, owner, true, owner.weight);
    owner.children.push(created);
    owner.childrenUnsorted = true;
    this.#leaves.set(role, created);
    return created;
  }

  findLeaf(role: Role): RoleNode | undefined {
    return this.#leaves.get(role);
  }

  findNode(role: Role): RoleNode | undefined {
    return this.#nodes.get(role);
  }

  #entry(role: Role, id: FrameworkId): FrameworkEntry {
    const key = `${role}\u0000${id}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { id, role, allocation: [], share: 0, inLeaf: false };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** The framework competes for offers in `role` (it is CONNECTED and subscribed to it). */
  addFramework(role: Role, id: FrameworkId): FrameworkEntry {
    const entry = this.#entry(role, id);
    if (entry.inLeaf) return entry;
    const leaf = this.leaf(role);
    entry.inLeaf = true;
    leaf.frameworks.push(entry);
    leaf.frameworksDirty = true;
    for (let node: RoleNode | null = leaf; node !== null; node = node.parent) node.frameworkCount += 1;
    return entry;
  }

  /** No longer: what it holds in the role still counts toward the role's share. */
  removeFramework(role: Role, id: FrameworkId): void {
    const entry = this.#entries.get(`${role}\u0000${id}`);
    if (entry === undefined || !entry.inLeaf) return;
    const leaf = this.leaf(role);
    entry.inLeaf = false;
    leaf.frameworks.splice(leaf.frameworks.indexOf(entry), 1);
    for (let node: RoleNode | null = leaf; node !== null; node = node.parent) node.frameworkCount -= 1;
  }

  /** Entries, live or not: a kept tree is built again once most of them are left over (role-tree-keeper.ts). */
  get entryCount(): number {
    return this.#entries.size;
  }

  /** A framework competing in `role`, or undefined. */
  framework(role: Role, id: FrameworkId): FrameworkEntry | undefined {
    const entry = this.#entries.get(`${role}\u0000${id}`);
    return entry?.inLeaf === true ? entry : undefined;
  }

  /**
   * Entries a cycle charged offers to since `changedEntries.clear()`: a tree kept across cycles
   * (role-tree-keeper.ts) sets them back to what the allocation book says they hold.
   */
  readonly changedEntries = new Set<FrameworkEntry>();

  /** An offer of `resources` to a framework in `role`: charged to it, its role and the role's ancestors. */
  allocate(role: Role, resources: Resources, framework: FrameworkEntry): void {
    this.changedEntries.add(framework);
    // Into one scratch vector, not a new one per offer: #charge only adds it where it belongs.
    const delta = this.#scratch;
    delta.fill(0);
    for (const resource of resources) addAt(delta, this.slots.slot(resource.name), amountMillis(resource));
    this.#charge(role, framework, delta);
  }

  /** What the framework holds in `role` is now `quantities` (the allocation book's): charges the difference. */
  setHeld(role: Role, id: FrameworkId, quantities: ReadonlyMap<string, number>): void {
    const entry = this.#entry(role, id);
    const delta = this.slots.vectorOf(quantities);
    let changed = false;
    while (delta.length < entry.allocation.length) delta.push(0);
    for (let slot = 0; slot < delta.length; slot += 1) {
      delta[slot] = delta[slot]! - (entry.allocation[slot] ?? 0);
      if (delta[slot] !== 0) changed = true;
    }
    if (changed) this.#charge(role, entry, delta);
  }

  /** What a node or framework entry holds, by name (GET_ALLOCATION). */
  quantitiesOf(allocation: QuantityVector): Quantities {
    return this.slots.quantitiesOf(allocation);
  }

  #charge(role: Role, framework: FrameworkEntry | undefined, delta: QuantityVector): void {
    if (framework !== undefined) {
      addVector(framework.allocation, delta);
      framework.share = vectorShare(framework.allocation, this.#totals);
    }
    const leaf = this.leaf(role);
    leaf.frameworksDirty = true;
    for (let node: RoleNode | null = leaf; node !== null && node !== this.root; node = node.parent) {
      addVector(node.allocation, delta);
      node.share = vectorShare(node.allocation, this.#totals) / node.weight;
      if (node.parent !== null && !node.awaitingPlace) {
        node.awaitingPlace = true;
        node.parent.changedChildren.push(node);
      }
    }
  }

  /** Leaves with frameworks, in weighted-share order, depth first. */
  leavesInOrder(node: RoleNode = this.root): RoleNode[] {
    const out: RoleNode[] = [];
    this.visitLeavesInOrder((leaf) => {
      out.push(leaf);
      return false;
    }, node);
    return out;
  }

  /**
   * Calls `visit` on the leaves with frameworks in weighted-share order, depth first, until it
   * returns true (stop); returns whether it stopped. A plain walk, not a generator: the
   * allocator walks once per agent and usually stops at the first leaf.
   */
  visitLeavesInOrder(visit: (leaf: RoleNode) => boolean, node: RoleNode = this.root): boolean {
    putChildrenInOrder(node);
    for (const child of node.children) {
      if (child.frameworkCount === 0) continue;
      if (child.virtual ? visit(child) : this.visitLeavesInOrder(visit, child)) return true;
    }
    return false;
  }

  /** The leaf's frameworks by dominant share (sorted again only if something changed). */
  frameworksInOrder(leaf: RoleNode): readonly FrameworkEntry[] {
    if (leaf.frameworksDirty) {
      leaf.frameworks.sort(compareFrameworks);
      leaf.frameworksDirty = false;
    }
    return leaf.frameworks;
  }

  /** Every leaf in `role`'s subtree (the role's own leaf included), for quota on a parent role. */
  leavesUnder(role: Role): RoleNode[] {
    const top = this.#nodes.get(role);
    if (top === undefined) return [];
    return this.leavesInOrder(top);
  }

  roles(): Role[] {
    return [...this.#nodes.keys()].sort(compareStrings);
  }
}

/**
 * Orders `node.children` before a traversal iterates them (never during one). Usually one
 * child changed (the one just allocated to): it is moved to its place by binary search, which
 * at 1,000 sibling roles is far cheaper than sorting them all again for every agent.
 */
function putChildrenInOrder(node: RoleNode): void {
  const changed = node.changedChildren;
  if (node.children.length <= 1) {
    // A role with only its own leaf (the usual case) has nothing to order.
    node.childrenUnsorted = false;
    forgetChanged(changed);
    return;
  }
  if (node.childrenUnsorted || changed.length > maxRepositions) {
    node.children.sort(compareNodes);
    node.childrenUnsorted = false;
    forgetChanged(changed);
    return;
  }
  if (changed.length === 1) moveIntoPlace(node.children, changed[0]!);
  else {
    // All changed ones out first: binary search needs the rest in order.
    for (const child of changed) node.children.splice(node.children.indexOf(child), 1);
    for (const child of changed) {
      let low = 0;
      let high = node.children.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (compareNodes(node.children[middle]!, child) < 0) low = middle + 1;
        else high = middle;
      }
      node.children.splice(low, 0, child);
    }
  }
  forgetChanged(changed);
}

function forgetChanged(changed: RoleNode[]): void {
  // Popped, not cut with `length = 0` (which V8 makes a runtime call): usually one or none.
  for (let child = changed.pop(); child !== undefined; child = changed.pop()) child.awaitingPlace = false;
}

/**
 * Moves the one child out of place to where it belongs, the others shifting by one: no array is
 * spliced (each splice allocates the removed part), and the usual child (the one just allocated
 * to, at the front) finds its place by binary search among the rest. The same place as removing
 * and inserting it: siblings' roles differ, so `compareNodes` never ties.
 */
function moveIntoPlace(children: RoleNode[], child: RoleNode): void {
  const from = children.indexOf(child);
  // Binary search for the first child (other than `child`) that sorts after it.
  let low = 0;
  let high = children.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const other = children[middle < from ? middle : middle + 1]!;
    if (compareNodes(other, child) < 0) low = middle + 1;
    else high = middle;
  }
  // `low` is its place among the others, so its index once they are shifted around it. The usual
  // case, the first child (lowest share, just allocated to) going last, is a rotation: V8 shifts
  // the front off by moving the array's start, not its elements, so no store per sibling.
  if (from === 0 && low === children.length - 1) children.push(children.shift()!);
  else if (low > from) for (let at = from; at < low; at += 1) children[at] = children[at + 1]!;
  else for (let at = from; at > low; at -= 1) children[at] = children[at - 1]!;
  children[low] = child;
}
