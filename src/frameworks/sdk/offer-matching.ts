// Does an offer hold what a task needs, and which slices of it does the task take? Pure.
// A taken slice keeps the offered resource's role, reservations and allocation_info: Mesos
// matches ACCEPTed resources against the offer by all of them (a reserved cpu is not an
// unreserved cpu), so a slice stripped of them would be refused as "not in the offer".
import { maxPortsPerTask } from './limits.ts';
import type { Offer, Resource, ValueRange } from '../../protocol/mesos.ts';

export interface TaskRequirement {
  readonly cpus: number;
  readonly memMb: number;
  readonly diskMb?: number;
  /** How many ports, any from the offered ranges. */
  readonly portCount?: number;
  /** Only resources allocated to this role (multi-role frameworks); any role when absent. */
  readonly role?: string;
}

export interface OfferMatch {
  readonly resources: readonly Resource[];
  /** The ports taken, in ascending order (PORT0, PORT1… on the agent). */
  readonly ports: readonly number[];
}

/** Mesos compares scalars in fixed point with three decimals (values.cpp). */
const scalarEpsilon = 0.0005;

function roundScalar(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** A persistent volume (`disk` with DiskInfo) is never a generic slice: a task asks for it by id, whole. */
function usable(resource: Resource, name: string, role: string | undefined): boolean {
  if (resource.name !== name || resource.disk !== undefined) return false;
  return role === undefined || resource.allocation_info === undefined || resource.allocation_info.role === role;
}

/** The sum of a scalar resource in `resources`. */
export function scalarTotal(resources: readonly Resource[], name: string, role?: string): number {
  let total = 0;
  for (const resource of resources) {
    if (usable(resource, name, role) && resource.type === 'SCALAR') total += resource.scalar?.value ?? 0;
  }
  return roundScalar(total);
}

/** Slices of `name` adding up to `amount`, taken in offer order; null if the offer has too little. */
export function takeScalar(
  resources: readonly Resource[],
  name: string,
  amount: number,
  role?: string,
): Resource[] | null {
  if (!(amount >= 0)) throw new RangeError(`${name}: the amount must be a non-negative number, got ${amount}`);
  if (amount === 0) return [];
  let remaining = roundScalar(amount);
  const taken: Resource[] = [];
  for (const resource of resources) {
    if (remaining <= scalarEpsilon) break;
    if (!usable(resource, name, role) || resource.type !== 'SCALAR') continue;
    const take = roundScalar(Math.min(resource.scalar?.value ?? 0, remaining));
    if (take <= 0) continue;
    taken.push({ ...resource, scalar: { value: take } });
    remaining = roundScalar(remaining - take);
  }
  return remaining > scalarEpsilon ? null : taken;
}

/** Adjacent ports folded into ranges: [31000, 31001, 31005] → 31000-31001, 31005-31005. */
export function portsToRanges(ports: readonly number[]): ValueRange[] {
  const ranges: ValueRange[] = [];
  for (const port of [...ports].sort((left, right) => left - right)) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.end + 1 === port) ranges[ranges.length - 1] = { begin: last.begin, end: port };
    else ranges.push({ begin: port, end: port });
  }
  return ranges;
}

/** `count` ports, lowest first, as one slice per offered ports resource they come from. */
export function pickPorts(resources: readonly Resource[], count: number, role?: string): OfferMatch | null {
  if (!Number.isInteger(count) || count < 0 || count > maxPortsPerTask) {
    throw new RangeError(`the port count must be a whole number from 0 to ${maxPortsPerTask}, got ${count}`);
  }
  const taken: Resource[] = [];
  const ports: number[] = [];
  for (const resource of resources) {
    if (ports.length === count) break;
    if (!usable(resource, 'ports', role) || resource.type !== 'RANGES') continue;
    const fromThis: number[] = [];
    for (const range of resource.ranges?.range ?? []) {
      for (let port = range.begin; port <= range.end && ports.length + fromThis.length < count; port++)
        fromThis.push(port);
    }
    if (fromThis.length === 0) continue;
    ports.push(...fromThis);
    taken.push({ ...resource, ranges: { range: portsToRanges(fromThis) } });
  }
  return ports.length === count ? { resources: taken, ports } : null;
}

/** The resources a task takes from `offer`, or null when the offer cannot hold it. */
export function matchOffer(offer: Offer, requirement: TaskRequirement): OfferMatch | null {
  const role = requirement.role;
  const cpus = takeScalar(offer.resources, 'cpus', requirement.cpus, role);
  const mem = takeScalar(offer.resources, 'mem', requirement.memMb, role);
  const disk = takeScalar(offer.resources, 'disk', requirement.diskMb ?? 0, role);
  const ports = pickPorts(offer.resources, requirement.portCount ?? 0, role);
  if (cpus === null || mem === null || disk === null || ports === null) return null;
  return { resources: [...cpus, ...mem, ...disk, ...ports.resources], ports: ports.ports };
}

/** Why `offer` cannot hold the task, in words (for logs and `flotilla run`), or null if it can. */
export function explainMismatch(offer: Offer, requirement: TaskRequirement): string | null {
  const role = requirement.role;
  const short: string[] = [];
  const check = (name: string, wanted: number): void => {
    const offered = scalarTotal(offer.resources, name, role);
    if (offered + scalarEpsilon < wanted) short.push(`${name} ${offered} < ${wanted}`);
  };
  check('cpus', requirement.cpus);
  check('mem', requirement.memMb);
  check('disk', requirement.diskMb ?? 0);
  if (pickPorts(offer.resources, requirement.portCount ?? 0, role) === null)
    short.push(`fewer than ${requirement.portCount} ports`);
  return short.length === 0 ? null : short.join(', ');
}
