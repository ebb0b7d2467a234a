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

function offeredPorts(resources: readonly Resource[]): { resource: Resource; port: number }[] {
  const out: { resource: Resource; port: number }[] = [];
  for (const resource of resources) {
    if (resource.name !== 'ports' || resource.type !== 'RANGES') continue;
    for (const range of resource.ranges?.range ?? []) {
      // A range of a million ports is legal; nobody needs more than a few from one.
      for (let port = range.begin; port <= range.end && out.length < 100_000; port++) out.push({ resource, port });
    }
  }
  return out;
}

/** The host ports in `wanted` order (fixed ones exactly, 0 as the lowest free), with their slices. */
export function takePorts(
  resources: readonly Resource[],
  wanted: readonly number[],
): { resources: Resource[]; ports: number[] } | null {
  if (wanted.length === 0) return { resources: [], ports: [] };
  const free = offeredPorts(resources);
  const used = new Set<number>();
  const chosen: { resource: Resource; port: number }[] = [];
  for (const port of wanted.filter((item) => item !== 0)) {
    const found = free.find((candidate) => candidate.port === port && !used.has(port));
    if (found === undefined) return null;
    used.add(port);
    chosen.push(found);
  }
  const ports = wanted.map((port) => {
    if (port !== 0) return port;
    const found = free.find((candidate) => !used.has(candidate.port));
    if (found === undefined) return -1;
    used.add(found.port);
    chosen.push(found);
    return found.port;
  });
  if (ports.includes(-1)) return null;
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
  const taken = new Set<number>();
  for (const range of slice.ranges?.range ?? [])
    for (let port = range.begin; port <= range.end; port++) taken.add(port);
  return resources.map((resource) => {
    if (!sameSlot(resource, slice)) return resource;
    const ranges: ValueRange[] = [];
    for (const range of resource.ranges?.range ?? []) ranges.push(...cutRange(range, taken));
    return { ...resource, ranges: { range: ranges } };
  });
}

function cutRange(range: ValueRange, taken: ReadonlySet<number>): ValueRange[] {
  const out: ValueRange[] = [];
  let start: number | null = null;
  for (let port = range.begin; port <= range.end + 1; port++) {
    const free = port <= range.end && !taken.has(port);
    if (free && start === null) start = port;
    if (!free && start !== null) {
      out.push({ begin: start, end: port - 1 });
      start = null;
    }
    // Ranges are bounded by 65535 ports: the loop is too.
  }
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
