// Partition shapes as grudges (node → the nodes it must not hear from), after Jepsen's
// jepsen.nemesis: pure functions of the nodes, already shuffled by the caller's seeded random.
import type { Grudge } from '../net/faults.ts';

export type PartitionShape = 'isolate-leader' | 'isolate-node' | 'majority-minority' | 'majorities-ring' | 'bridge';

export const partitionShapes: readonly PartitionShape[] = [
  'isolate-leader',
  'isolate-node',
  'majority-minority',
  'majorities-ring',
  'bridge',
];

/** Nobody hears anyone outside their own component. */
export function componentsGrudge(components: readonly (readonly string[])[]): Grudge {
  const grudge = new Map<string, Set<string>>();
  for (const component of components) {
    const others = components.filter((other) => other !== component).flat();
    for (const node of component) grudge.set(node, new Set(others));
  }
  return grudge;
}

/** One node alone, the rest together. */
export function isolate(nodes: readonly string[], victim: string): Grudge {
  if (!nodes.includes(victim)) throw new Error(`partition: ${victim} is not among ${nodes.join(', ')}`);
  return componentsGrudge([[victim], nodes.filter((node) => node !== victim)]);
}

/** The first ⌊n/2⌋ of the (shuffled) nodes against the rest. */
export function majorityMinority(shuffled: readonly string[]): Grudge {
  const minority = Math.floor(shuffled.length / 2);
  return componentsGrudge([shuffled.slice(0, minority), shuffled.slice(minority)]);
}

/**
 * Two halves that do not hear each other, and one node in the middle that hears everyone:
 * each half plus the bridge is a majority, and the bridge is in both.
 */
export function bridge(shuffled: readonly string[]): Grudge {
  if (shuffled.length < 3) throw new Error('partition: a bridge needs at least three nodes');
  const half = Math.floor((shuffled.length - 1) / 2);
  const left = shuffled.slice(0, half);
  const middle = shuffled[half]!;
  const right = shuffled.slice(half + 1);
  const grudge = new Map<string, Set<string>>();
  for (const node of left) grudge.set(node, new Set(right));
  for (const node of right) grudge.set(node, new Set(left));
  grudge.set(middle, new Set());
  return grudge;
}

/**
 * The nodes on a ring; each hears the majority of nodes nearest to it (itself, +1, -1, +2, …),
 * so every node sees a majority and no two nodes see the same one (for five nodes).
 */
export function majoritiesRing(shuffled: readonly string[]): Grudge {
  const count = shuffled.length;
  const majority = Math.floor(count / 2) + 1;
  const offsets = [0];
  for (let distance = 1; offsets.length < majority; distance++) {
    offsets.push(distance);
    if (offsets.length < majority) offsets.push(-distance);
  }
  const grudge = new Map<string, Set<string>>();
  shuffled.forEach((node, position) => {
    const heard = new Set(offsets.map((offset) => shuffled[(position + offset + count) % count]!));
    grudge.set(node, new Set(shuffled.filter((other) => !heard.has(other))));
  });
  return grudge;
}

/** The grudge as text for the report: "m1 ✕ m2 m3; m2 ✕ m1". */
export function describeGrudge(grudge: Grudge): string {
  return [...grudge.entries()]
    .filter(([, blocked]) => blocked.size > 0)
    .map(([node, blocked]) => `${node} ✕ ${[...blocked].sort().join(' ')}`)
    .join('; ');
}
