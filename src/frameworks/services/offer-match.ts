// Does an offer (or what is left of it) hold one more instance of an app, and which slices does
// the instance take? Pure. When it does not, the reasons are Marathon's NoOfferMatchReason
// names, so /v2/queue reads as Marathon's does; Marathon counts each unused offer under the
// first reason in `reasonFunnel` order.
import type { Offer, Resource, ValueRange } from '../../protocol/mesos.ts';
import { portsToRanges, scalarTotal, takeScalar } from '../sdk/offer-matching.ts';
import { type AppDefinition, hostPortCount, usesPortMappings } from './app-definition.ts';
import { type AgentFacts, meetsAll } from './constraints.ts';

export type NoMatchReason =
  | 'UnfulfilledRole'
  | 'UnfulfilledConstraint'
  | 'NoCorrespondingReservationFound'
  | 'InsufficientCpus'
  | 'InsufficientMemory'
  | 'InsufficientDisk'
  | 'InsufficientGpus'
  | 'InsufficientPorts';

/** NoOfferMatchReason.reasonFunnel, in Marathon's order. */
export const reasonFunnel: readonly NoMatchReason[] = [
  'UnfulfilledRole',
  'UnfulfilledConstraint',
  'NoCorrespondingReservationFound',
  'InsufficientCpus',
  'InsufficientMemory',
  'InsufficientDisk',
  'InsufficientGpus',
  'InsufficientPorts',
];

export function firstReason(reasons: readonly NoMatchReason[]): NoMatchReason {
  return reasonFunnel.find((reason) => reasons.includes(reason)) ?? reasons[0]!;
}

export interface MatchInput {
  readonly app: AppDefinition;
  /** The offer's resources still free (earlier launches from the same offer taken out). */
  readonly resources: readonly Resource[];
  readonly agent: AgentFacts;
  /** Constrained field values of the app's live instances (and those placed from this offer). */
  readonly placed: readonly Readonly<Record<string, string>>[];
  readonly knownValues: (field: string) => ReadonlySet<string>;
  /** The roles whose resources the app may use (acceptedResourceRoles, else "*" and the framework's). */
  readonly acceptedRoles: readonly string[];
}

export type MatchResult =
  | { readonly ok: true; readonly resources: Resource[]; readonly hostPorts: number[] }
  | { readonly ok: false; readonly reasons: NoMatchReason[] };

/** The role a resource is reserved for, "*" when unreserved (either JSON format). */
export function reservationRole(resource: Resource): string {
  const stack = resource.reservations ?? [];
  return stack.length > 0 ? (stack[stack.length - 1]!.role ?? '*') : (resource.role ?? '*');
}

export function matchApp(input: MatchInput): MatchResult {
  const { app } = input;
  const usable = input.resources.filter((resource) => input.acceptedRoles.includes(reservationRole(resource)));
  const reasons: NoMatchReason[] = [];
  if (usable.length === 0 && input.resources.length > 0) reasons.push('UnfulfilledRole');
  if (!meetsAll(app.constraints, input.agent, input.placed, input.knownValues)) reasons.push('UnfulfilledConstraint');
  const cpus = takeScalar(usable, 'cpus', app.cpus);
  const mem = takeScalar(usable, 'mem', app.mem);
  const disk = takeScalar(usable, 'disk', app.disk);
  if (cpus === null) reasons.push('InsufficientCpus');
  if (mem === null) reasons.push('InsufficientMemory');
  if (disk === null) reasons.push('InsufficientDisk');
  if (app.gpus > 0 && scalarTotal(usable, 'gpus') < app.gpus) reasons.push('InsufficientGpus');
  const ports = takePorts(usable, wantedHostPorts(app));
  if (ports === null) reasons.push('InsufficientPorts');
  if (reasons.length > 0 || cpus === null || mem === null || disk === null || ports === null) {
    return { ok: false, reasons };
  }
  const gpus = app.gpus > 0 ? (takeScalar(usable, 'gpus', app.gpus) ?? []) : [];
  return { ok: true, resources: [...cpus, ...mem, ...disk, ...gpus, ...ports.resources], hostPorts: ports.ports };
}

/** One entry per host port: the port asked for, or 0 for "any". */
export function wantedHostPorts(app: AppDefinition): number[] {
  if (usesPortMappings(app)) return (app.container?.portMappings ?? []).map((mapping) => mapping.hostPort);
  if (app.requirePorts) return app.portDefinitions.map((definition) => definition.port);
  return new Array<number>(hostPortCount(app)).fill(0);
}

interface OfferedRange {
  readonly resource: Resource;
  readonly begin: number;
  readonly end: number;
}

function offeredRanges(resources: readonly Resource[]): OfferedRange[] {
  const out: OfferedRange[] = [];
  for (const resource of resources) {
    if (resource.name !== 'ports' || resource.type !== 'RANGES') continue;
    for (const range of resource.ranges?.range ?? []) out.push({ resource, begin: range.begin, end: range.end });
  }
  return out;
}

/** The lowest offered port not in `used`; walks ranges, not ports (a range may hold 65,535). */
function lowestFree(
  ranges: readonly OfferedRange[],
  used: ReadonlySet<number>,
): { resource: Resource; port: number } | null {
  for (const range of ranges) {
    // `used` holds at most a few ports per task: the walk past them is short.
    for (let port = range.begin; port <= range.end; port++)
      if (!used.has(port)) return { resource: range.resource, port };
  }
  return null;
}

/** The host ports in `wanted` order (fixed ones exactly, 0 as the lowest free), with their slices. */
export function takePorts(
  resources: readonly Resource[],
  wanted: readonly number[],
): { resources: Resource[]; ports: number[] } | null {
  if (wanted.length === 0) return { resources: [], ports: [] };
  const ranges = offeredRanges(resources);
  const used = new Set<number>();
  const chosen: { resource: Resource; port: number }[] = [];
  for (const port of wanted.filter((item) => item !== 0)) {
    const range = ranges.find((candidate) => port >= candidate.begin && port <= candidate.end);
    if (range === undefined || used.has(port)) return null;
    used.add(port);
    chosen.push({ resource: range.resource, port });
  }
  const ports: number[] = [];
  for (const port of wanted) {
    if (port !== 0) {
      ports.push(port);
      continue;
    }
    const found = lowestFree(ranges, used);
    if (found === null) return null;
    used.add(found.port);
    chosen.push(found);
    ports.push(found.port);
  }
  const byResource = new Map<Resource, number[]>();
  for (const { resource, port } of chosen) byResource.set(resource, [...(byResource.get(resource) ?? []), port]);
  const slices = [...byResource].map(([resource, list]) => ({ ...resource, ranges: { range: portsToRanges(list) } }));
  return { resources: slices, ports };
}

/** `resources` less `taken` (same name and role), for the next launch from the same offer. */
export function subtractResources(resources: readonly Resource[], taken: readonly Resource[]): Resource[] {
  let left: Resource[] = resources.map((resource) => ({ ...resource }));
  for (const slice of taken) {
    if (slice.type === 'SCALAR') left = subtractScalar(left, slice);
    else if (slice.type === 'RANGES') left = subtractRanges(left, slice);
  }
  return left.filter((resource) => resource.type !== 'SCALAR' || (resource.scalar?.value ?? 0) > 0.0005);
}

function sameSlot(left: Resource, right: Resource): boolean {
  return left.name === right.name && left.type === right.type && reservationRole(left) === reservationRole(right);
}

function subtractScalar(resources: Resource[], slice: Resource): Resource[] {
  let remaining = slice.scalar?.value ?? 0;
  return resources.map((resource) => {
    if (remaining <= 0 || !sameSlot(resource, slice)) return resource;
    const have = resource.scalar?.value ?? 0;
    const take = Math.min(have, remaining);
    remaining = Math.round((remaining - take) * 1000) / 1000;
    return { ...resource, scalar: { value: Math.round((have - take) * 1000) / 1000 } };
  });
}

function subtractRanges(resources: Resource[], slice: Resource): Resource[] {
  const taken = slice.ranges?.range ?? [];
  return resources.map((resource) => {
    if (!sameSlot(resource, slice)) return resource;
    let ranges: ValueRange[] = [...(resource.ranges?.range ?? [])];
    for (const cut of taken) ranges = ranges.flatMap((range) => cutRange(range, cut));
    return { ...resource, ranges: { range: ranges } };
  });
}

/** `range` without `cut`: zero, one or two ranges. */
function cutRange(range: ValueRange, cut: ValueRange): ValueRange[] {
  if (cut.end < range.begin || cut.begin > range.end) return [range];
  const out: ValueRange[] = [];
  if (cut.begin > range.begin) out.push({ begin: range.begin, end: cut.begin - 1 });
  if (cut.end < range.end) out.push({ begin: cut.end + 1, end: range.end });
  return out;
}

/** What constraints read about an offer's agent. */
export function agentFactsOf(offer: Offer): AgentFacts {
  const attributes: Record<string, string> = {};
  for (const attribute of offer.attributes ?? []) {
    if (attribute.text !== undefined) attributes[attribute.name] = attribute.text.value;
    else if (attribute.scalar !== undefined) attributes[attribute.name] = String(attribute.scalar.value);
  }
  return {
    hostname: offer.hostname,
    attributes,
    zone: offer.domain?.fault_domain.zone.name ?? null,
    region: offer.domain?.fault_domain.region.name ?? null,
  };
}
