// Scalar quantities (resource name → amount, in whole thousandths as resources keep them): what
// DRF shares and quota are counted in, and what the allocation book (allocation-book.ts) keeps
// per role and framework as commands apply. Ranges count their values (ports: one per port), as
// Mesos' ResourceQuantities do.
import type { Resource, Resources } from './resources.ts';
import { unreservedRole } from './roles.ts';

/** name → thousandths. Integers, so repeated sums and differences never drift. */
export type Quantities = Map<string, number>;

export const millisPerUnit = 1000;
export const toMillis = (value: number): number => Math.round(value * millisPerUnit);
export const fromMillis = (millis: number): number => millis / millisPerUnit;

export function amountMillis(resource: Resource): number {
  if (resource.type === 'SCALAR') return toMillis(resource.scalar);
  let values = 0;
  for (const range of resource.ranges) values += range.end - range.begin + 1;
  return values * millisPerUnit;
}

/** Adds `sign` × the quantities of `resources` into `into`; `only` picks reserved or unreserved ones. */
export function addQuantities(
  into: Quantities,
  resources: Resources,
  sign = 1,
  only?: 'unreserved' | 'reserved',
): void {
  for (const resource of resources) {
    if (only === 'unreserved' && resource.role !== unreservedRole) continue;
    if (only === 'reserved' && resource.role === unreservedRole) continue;
    const next = (into.get(resource.name) ?? 0) + sign * amountMillis(resource);
    if (next === 0) into.delete(resource.name);
    else into.set(resource.name, next);
  }
}

/** Adds `sign` × `from` into `into`, dropping names that reach zero. */
export function mergeQuantities(into: Quantities, from: ReadonlyMap<string, number>, sign = 1): void {
  for (const [name, millis] of from) {
    const next = (into.get(name) ?? 0) + sign * millis;
    if (next === 0) into.delete(name);
    else into.set(name, next);
  }
}

export function quantitiesOf(resources: Resources, only?: 'unreserved' | 'reserved'): Quantities {
  const out: Quantities = new Map();
  addQuantities(out, resources, 1, only);
  return out;
}

export function sameQuantities(left: ReadonlyMap<string, number>, right: ReadonlyMap<string, number>): boolean {
  if (left.size !== right.size) return false;
  for (const [name, millis] of left) if (right.get(name) !== millis) return false;
  return true;
}
