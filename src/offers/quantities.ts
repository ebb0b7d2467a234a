// Scalar quantities (resource name → amount, in whole thousandths as the state machine keeps
// them), which is what DRF shares, quota and minimum allocatable resources are counted in.
// Ranges count their values (ports: one per port), as Mesos' ResourceQuantities do. The
// arithmetic itself lives in the state machine (its allocation book keeps held quantities as
// commands apply); this module adds what only the allocator needs.
import { canonicalize, type Resource, type Resources, type ValueRange } from '../state-machine/resources.ts';
import type { Role } from '../state-machine/roles.ts';
import {
  addQuantities,
  amountMillis,
  fromMillis,
  millisPerUnit,
  quantitiesOf,
  toMillis,
  type Quantities,
} from '../state-machine/quantities.ts';

export { addQuantities, fromMillis, quantitiesOf, toMillis, type Quantities };

/** From the API's units (ResourceQuantities) to thousandths. */
export function fromRecord(record: Readonly<Record<string, number>>): Quantities {
  return new Map(Object.entries(record).map(([name, amount]) => [name, toMillis(amount)]));
}

export function toRecord(quantities: Quantities): Record<string, number> {
  return Object.fromEntries(
    [...quantities]
      .sort(([left], [right]) => (left < right ? -1 : 1))
      .map(([name, millis]) => [name, fromMillis(millis)]),
  );
}

/**
 * DRF's dominant share: the largest fraction of the cluster total the allocation holds of any
 * one resource (Ghodsi et al., "Dominant Resource Fairness", NSDI 2011, section 4).
 */
export function dominantShare(allocation: Quantities, totals: Quantities): number {
  let share = 0;
  for (const [name, millis] of allocation) {
    const total = totals.get(name) ?? 0;
    if (total > 0) share = Math.max(share, millis / total);
  }
  return share;
}

/**
 * Mesos `--min_allocatable_resources`: allocatable when it holds at least one of the alternatives
 * in full. `role`: count only the resources of that role (the unreserved part of an agent's free
 * resources, without cutting a list for it first).
 */
export function meetsMinimum(resources: Resources, alternatives: readonly Quantities[], role?: Role): boolean {
  if (role === undefined ? resources.length === 0 : !hasRole(resources, role)) return false;
  if (alternatives.length === 0) return true;
  // Summed per name on demand, not into a map first, and over plain arrays rather than the
  // alternatives' maps (whose iterators allocate an entry per step): run for every agent of
  // every cycle, often twice.
  for (const alternative of flatAlternatives(alternatives)) if (holdsAll(resources, alternative, role)) return true;
  return false;
}

/** One alternative's names and amounts, in its map's order. */
interface FlatAlternative {
  readonly names: readonly string[];
  readonly millis: readonly number[];
}

/** Per alternatives list (the allocator's config: one list for many cycles), its flat form. */
const flattened = new WeakMap<readonly Quantities[], readonly FlatAlternative[]>();

function flatAlternatives(alternatives: readonly Quantities[]): readonly FlatAlternative[] {
  let flat = flattened.get(alternatives);
  if (flat === undefined) {
    flat = alternatives.map((alternative) => ({ names: [...alternative.keys()], millis: [...alternative.values()] }));
    flattened.set(alternatives, flat);
  }
  return flat;
}

function hasRole(resources: Resources, role: Role): boolean {
  for (let at = 0; at < resources.length; at += 1) if (resources[at]!.role === role) return true;
  return false;
}

function holdsAll(resources: Resources, alternative: FlatAlternative, role: Role | undefined): boolean {
  const { names, millis } = alternative;
  for (let at = 0; at < names.length; at += 1) if (heldMillis(resources, names[at]!, role) < millis[at]!) return false;
  return true;
}

function heldMillis(resources: Resources, name: string, role: Role | undefined): number {
  let millis = 0;
  for (let at = 0; at < resources.length; at += 1) {
    const resource = resources[at]!;
    if (resource.name === name && (role === undefined || resource.role === role)) millis += amountMillis(resource);
  }
  return millis;
}

function firstValues(ranges: readonly ValueRange[], count: number): ValueRange[] {
  const out: ValueRange[] = [];
  let left = count;
  for (const range of ranges) {
    if (left <= 0) break;
    const size = range.end - range.begin + 1;
    out.push(size <= left ? range : { begin: range.begin, end: range.begin + left - 1 });
    left -= size;
  }
  return out;
}

/**
 * Cuts `resources` down so each named amount is at most `cap` (names absent from `cap` stay
 * whole): scalars are shortened, ranges keep their lowest values. Quota headroom is applied so.
 */
export function chop(resources: Resources, cap: ReadonlyMap<string, number>): Resources {
  const remaining = new Map(cap);
  const out: Resource[] = [];
  for (const resource of resources) {
    const left = remaining.get(resource.name);
    if (left === undefined) {
      out.push(resource);
      continue;
    }
    if (left <= 0) continue;
    if (resource.type === 'SCALAR' && resource.disk !== undefined) {
      // A persistent volume is offered whole or not at all: a task can only use it whole.
      const millis = toMillis(resource.scalar);
      if (millis > left) continue;
      out.push(resource);
      remaining.set(resource.name, left - millis);
    } else if (resource.type === 'SCALAR') {
      const millis = Math.min(toMillis(resource.scalar), left);
      out.push({ ...resource, scalar: fromMillis(millis) });
      remaining.set(resource.name, left - millis);
    } else {
      const ranges = firstValues(resource.ranges, Math.floor(left / millisPerUnit));
      if (ranges.length > 0) out.push({ ...resource, ranges });
      remaining.set(resource.name, left - amountMillis({ ...resource, ranges }));
    }
  }
  return canonicalize(out);
}
