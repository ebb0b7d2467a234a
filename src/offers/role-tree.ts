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
import { maxRepositions } from './limits.ts';
import type { FrameworkId } from '../state-machine/ids.ts';
import { compareStrings } from '../state-machine/ordering.ts';
import type { Role } from '../state-machine/roles.ts';
import { mergeQuantities } from '../state-machine/quantities.ts';
import { dominantShare, quantitiesOf, type Quantities } from './quantities.ts';
import type { Resources } from '../state-machine/resources.ts';

export interface FrameworkEntry {
  readonly id: FrameworkId;
  /** What the framework holds in this role (tasks and offers), for its share within the role. */
  readonly allocation: Quantities;
  share: number;
}

export interface RoleNode {
  readonly role: Role;
  readonly parent: RoleNode | null;
  /** A virtual leaf holds the role's own allocation and frameworks; a real node its subtree's. */
  readonly virtual: boolean;
  readonly weight: number;
  readonly allocation: Quantities;
  /** Dominant share of `allocation` divided by `weight`. */
  share: number;
  readonly children: RoleNode[];
  /** Children whose share changed since `children` was last put in order. */
  readonly changedChildren: Set<RoleNode>;
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
    allocation: new Map(),
    share: 0,
    children: [],
    changedChildren: new Set(),
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

  constructor(
    private readonly totals: Quantities,
    private readonly weightOf: (role: Role) => number,
  ) {}

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

  addFramework(role: Role, id: FrameworkId): FrameworkEntry {
    const key = `${role}\u0000${id}`;
    const found = this.#entries.get(key);
    if (found !== undefined) return found;
    const leaf = this.leaf(role);
    const entry: FrameworkEntry = { id, allocation: new Map(), share: 0 };
    leaf.frameworks.push(entry);
    this.#entries.set(key, entry);
    for (let node: RoleNode | null = leaf; node !== null; node = node.parent) node.frameworkCount += 1;
    return entry;
  }

  framework(role: Role, id: FrameworkId): FrameworkEntry | undefined {
    return this.#entries.get(`${role}\u0000${id}`);
  }

  /** Charges `resources` to `role` (and its ancestors) and, if given, to a framework in it. */
  allocate(role: Role, resources: Resources, framework: FrameworkEntry | undefined): void {
    const quantities = quantitiesOf(resources);
    this.#charge(role, framework, (into) => mergeQuantities(into, quantities));
  }

  /** As `allocate`, with quantities already counted (the allocation book's, at the start of a cycle). */
  allocateQuantities(role: Role, quantities: ReadonlyMap<string, number>, framework: FrameworkEntry | undefined): void {
    this.#charge(role, framework, (into) => mergeQuantities(into, quantities));
  }

  #charge(role: Role, framework: FrameworkEntry | undefined, addTo: (into: Quantities) => void): void {
    if (framework !== undefined) {
      addTo(framework.allocation);
      framework.share = dominantShare(framework.allocation, this.totals);
    }
    const leaf = this.leaf(role);
    leaf.frameworksDirty = true;
    for (let node: RoleNode | null = leaf; node !== null && node !== this.root; node = node.parent) {
      addTo(node.allocation);
      node.share = dominantShare(node.allocation, this.totals) / node.weight;
      if (node.parent !== null) node.parent.changedChildren.add(node);
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
  if (node.childrenUnsorted || node.changedChildren.size > maxRepositions) {
    node.children.sort(compareNodes);
    node.childrenUnsorted = false;
    node.changedChildren.clear();
    return;
  }
  // All changed ones out first: binary search needs the rest in order.
  for (const child of node.changedChildren) node.children.splice(node.children.indexOf(child), 1);
  for (const child of node.changedChildren) {
    let low = 0;
    let high = node.children.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareNodes(node.children[middle]!, child) < 0) low = middle + 1;
      else high = middle;
    }
    node.children.splice(low, 0, child);
  }
  node.changedChildren.clear();
}
