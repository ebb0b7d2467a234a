// Mesos-style resources ("attributes-resources.md"): named scalars (cpus, mem, disk, gpus) and
// ranges (ports), each unreserved (role "*") or reserved for one role. A `Resources` value is
// always canonical: one entry per (name, role, type), sorted by them in code-unit order, no
// empty entries, scalars in whole thousandths (Mesos' fixed-point precision) and ranges sorted,
// disjoint and coalesced. Every function here takes and returns canonical values, so equal
// resources are equal arrays and serialise to equal bytes on every replica.
//
// Scalars are quantities, ranges are sets: add sums scalars and unites ranges; subtract takes
// away (a scalar never below zero, a range by set difference); contains(a, b) means b fits in a.
import { assert } from '../util/assert.ts';
import type { Brand } from './ids.ts';
import { maxScalarValue } from './limits.ts';
import { compareStrings } from './ordering.ts';
import { isValidRole, unreservedRole, type Role } from './roles.ts';

/** Inclusive on both ends, as in Mesos' Value.Range. */
export interface ValueRange {
  readonly begin: number;
  readonly end: number;
}

/**
 * A persistent volume (Mesos Resource.DiskInfo with `persistence` and `volume`): disk reserved to
 * a role, made persistent under an id unique per agent and role, mounted at `containerPath` in
 * the sandbox of the task that uses it. `principal` is who created it (null: unauthenticated).
 */
export interface DiskInfo {
  readonly persistenceId: string;
  readonly principal: string | null;
  readonly containerPath: string;
  readonly mode: 'RW' | 'RO';
}

export interface ScalarResource {
  readonly name: string;
  readonly role: Role;
  readonly type: 'SCALAR';
  readonly scalar: number;
  /** Only on a persistent volume: absent (not null) otherwise, so older states encode unchanged. */
  readonly disk?: DiskInfo;
}

export interface RangesResource {
  readonly name: string;
  readonly role: Role;
  readonly type: 'RANGES';
  readonly ranges: readonly ValueRange[];
}

export type Resource = ScalarResource | RangesResource;
export type Resources = Brand<readonly Resource[], 'Resources'>;

export class InvalidResourcesError extends Error {
  override name = 'InvalidResourcesError';
}

export const emptyResources = Object.freeze([]) as unknown as Resources;

// A Map, not an object literal: a resource named "constructor" must not find Object's.
const wellKnownTypes = new Map<string, Resource['type']>([
  ['cpus', 'SCALAR'],
  ['mem', 'SCALAR'],
  ['disk', 'SCALAR'],
  ['gpus', 'SCALAR'],
  ['ports', 'RANGES'],
]);
const resourceNamePattern = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const millisPerUnit = 1000;

const toMillis = (value: number): number => Math.round(value * millisPerUnit);
const fromMillis = (millis: number): number => millis / millisPerUnit;
/** A volume's id, "" for every other resource: a volume is its own entry, never summed with plain disk. */
const persistenceOf = (resource: Resource): string =>
  resource.type === 'SCALAR' && resource.disk !== undefined ? resource.disk.persistenceId : '';
const keyOf = (resource: Resource): string =>
  `${resource.name}\u0000${resource.role}\u0000${resource.type}\u0000${persistenceOf(resource)}`;

function compareResources(left: Resource, right: Resource): number {
  // Resources are never changed in place, and the allocator compares offers cut from an agent's
  // own free list against that list: the same object is the same key, without four string compares.
  if (left === right) return 0;
  return (
    compareStrings(left.name, right.name) ||
    compareStrings(left.role, right.role) ||
    compareStrings(left.type, right.type) ||
    compareStrings(persistenceOf(left), persistenceOf(right))
  );
}

const persistenceIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const containerPathSegmentPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const maxContainerPathLength = 1024;

/**
 * Mesos: a persistent volume's container path is relative to the sandbox. Flotilla also refuses
 * "." and ".." segments and odd characters, so the path can never leave the sandbox.
 */
export function containerPathProblem(path: string): string | null {
  if (path.length === 0 || path.length > maxContainerPathLength)
    return `a container path has 1 to ${maxContainerPathLength} characters`;
  if (path.startsWith('/')) return 'a volume container path is relative to the sandbox';
  const segments = path.split('/');
  if (!segments.every((segment) => containerPathSegmentPattern.test(segment)))
    return 'each segment of a container path is a letter, digit or "_", then letters, digits, "_", "." or "-"';
  return null;
}

function diskProblem(resource: ScalarResource, disk: DiskInfo): string | null {
  if (resource.name !== 'disk') return 'only disk resources can be persistent volumes';
  if (resource.role === unreservedRole) return 'a persistent volume must be on disk reserved to a role';
  if (!persistenceIdPattern.test(disk.persistenceId))
    return 'a persistence id is a letter or digit then up to 127 letters, digits, "_", "." or "-"';
  if (disk.mode !== 'RW' && disk.mode !== 'RO') return 'a volume mode is RW or RO';
  if (disk.principal !== null && (disk.principal.length === 0 || disk.principal.length > 255))
    return 'a principal has 1 to 255 characters';
  return containerPathProblem(disk.containerPath);
}

export function isVolume(resource: Resource): resource is ScalarResource & { readonly disk: DiskInfo } {
  return resource.type === 'SCALAR' && resource.disk !== undefined;
}

/** The persistent volumes among `resources`. */
export function volumesOf(resources: Resources): (ScalarResource & { readonly disk: DiskInfo })[] {
  return resources.filter(isVolume);
}

/** The same resources with their volumes turned back into plain disk of the same role. */
export function withoutVolumes(resources: Resources): Resources {
  return combine(
    resources.map((resource) => {
      if (!isVolume(resource)) return resource;
      const { disk: _disk, ...plain } = resource;
      return plain;
    }),
  );
}

/** Volumes as made by `principal` (Mesos records who created a volume; null: anonymous). */
export function signVolumes(resources: Resources, principal: string | null): Resources {
  return combine(
    resources.map((resource) =>
      isVolume(resource) ? { ...resource, disk: { ...resource.disk, principal } } : resource,
    ),
  );
}

export function sameDisk(left: DiskInfo, right: DiskInfo): boolean {
  return (
    left.persistenceId === right.persistenceId &&
    left.principal === right.principal &&
    left.containerPath === right.containerPath &&
    left.mode === right.mode
  );
}

/**
 * A module-level function, not a closure made per resource: validateResource runs for every
 * resource of every decoded command, and under tsx (esbuild's keepNames) each closure made costs an
 * Object.defineProperty of its name, 3.6% of decoding a ten-task ACCEPT.
 */
function invalidResource(resource: Resource, problem: string): never {
  throw new InvalidResourcesError(`resource "${resource.name}" (role "${resource.role}"): ${problem}`);
}

function validateResource(resource: Resource): void {
  if (!resourceNamePattern.test(resource.name))
    invalidResource(resource, 'a name is a letter then up to 63 letters, digits, "_", "." or "-"');
  if (!isValidRole(resource.role)) invalidResource(resource, 'invalid role');
  const expected = wellKnownTypes.get(resource.name);
  if (expected !== undefined && expected !== resource.type) invalidResource(resource, `must be of type ${expected}`);
  if (resource.type === 'SCALAR') {
    if (!Number.isFinite(resource.scalar) || resource.scalar < 0 || resource.scalar > maxScalarValue) {
      invalidResource(resource, `a scalar is a number from 0 to ${maxScalarValue}`);
    }
    const problem = resource.disk === undefined ? null : diskProblem(resource, resource.disk);
    if (problem !== null) invalidResource(resource, problem);
    return;
  }
  for (const range of resource.ranges) {
    if (
      !Number.isSafeInteger(range.begin) ||
      !Number.isSafeInteger(range.end) ||
      range.begin < 0 ||
      range.begin > range.end
    ) {
      invalidResource(resource, `range [${range.begin}, ${range.end}] is not 0 <= begin <= end in whole numbers`);
    }
  }
}

/** Validates and brings any list of resources into canonical form; throws InvalidResourcesError. */
export function canonicalize(list: readonly Resource[]): Resources {
  for (const resource of list) validateResource(resource);
  return combine(list);
}

/**
 * canonicalize for a list a schema has just built (value-schema.ts), whose resources carry no
 * member but their own: one that is canonical already (the usual case: snapshot rows and command
 * lists that a canonical list was written from) is validated and returned as it is, not rebuilt;
 * rebuilding every task's resources was a sixth of a snapshot restore's schema time.
 */
export function canonicalizeParsed(list: readonly Resource[]): Resources {
  for (const resource of list) validateResource(resource);
  return isCanonical(list) ? (list as Resources) : combine(list);
}

/** What combine would return, value for value: sorted by distinct keys, no empty entry, scalars in whole thousandths, ranges normalised. */
function isCanonical(list: readonly Resource[]): boolean {
  for (let position = 0; position < list.length; position++) {
    const resource = list[position]!;
    if (position > 0 && compareResources(list[position - 1]!, resource) >= 0) return false;
    if (resource.type === 'SCALAR') {
      const millis = toMillis(resource.scalar);
      if (millis <= 0 || fromMillis(millis) !== resource.scalar) return false;
    } else if (!rangesNormalized(resource.ranges)) return false;
  }
  return true;
}

function rangesNormalized(ranges: readonly ValueRange[]): boolean {
  if (ranges.length === 0) return false;
  for (let position = 0; position < ranges.length; position++) {
    const range = ranges[position]!;
    if (range.begin > range.end) return false;
    if (position > 0 && range.begin <= ranges[position - 1]!.end + 1) return false;
  }
  return true;
}

/** Groups by key, sums scalars, unites ranges, drops empties, sorts. Input must be valid. */
function combine(list: readonly Resource[]): Resources {
  const scalarMillis = new Map<string, { resource: ScalarResource; millis: number }>();
  const rangeLists = new Map<string, { resource: RangesResource; ranges: ValueRange[] }>();
  for (const resource of list) {
    const key = keyOf(resource);
    if (resource.type === 'SCALAR') {
      const sum = scalarMillis.get(key);
      scalarMillis.set(key, { resource, millis: (sum?.millis ?? 0) + toMillis(resource.scalar) });
    } else {
      const union = rangeLists.get(key);
      rangeLists.set(key, { resource, ranges: [...(union?.ranges ?? []), ...resource.ranges] });
    }
  }
  const out: Resource[] = [];
  for (const { resource, millis } of scalarMillis.values()) {
    if (millis <= 0) continue;
    const scalar = fromMillis(millis);
    const disk = resource.disk;
    out.push({
      name: resource.name,
      role: resource.role,
      type: 'SCALAR',
      scalar,
      ...(disk === undefined ? {} : { disk }),
    });
  }
  for (const { resource, ranges } of rangeLists.values()) {
    const normalized = normalizeRanges(ranges);
    if (normalized.length > 0)
      out.push({ name: resource.name, role: resource.role, type: 'RANGES', ranges: normalized });
  }
  return out.sort(compareResources) as readonly Resource[] as Resources;
}

/** Sorted, disjoint, and coalesced: [1-2] and [3-4] become [1-4]. */
export function normalizeRanges(ranges: readonly ValueRange[]): ValueRange[] {
  const sorted = [...ranges].sort((left, right) => left.begin - right.begin || left.end - right.end);
  const out: ValueRange[] = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && range.begin <= last.end + 1) {
      if (range.end > last.end) out[out.length - 1] = { begin: last.begin, end: range.end };
    } else {
      out.push({ begin: range.begin, end: range.end });
    }
  }
  return out;
}

/** Set difference of two normalized range lists. */
function subtractRanges(from: readonly ValueRange[], cuts: readonly ValueRange[]): ValueRange[] {
  const out: ValueRange[] = [];
  for (const range of from) {
    let begin = range.begin;
    for (const cut of cuts) {
      if (cut.end < begin || begin > range.end) continue;
      if (cut.begin > range.end) break;
      if (cut.begin > begin) out.push({ begin, end: cut.begin - 1 });
      begin = Math.max(begin, cut.end + 1);
    }
    if (begin <= range.end) out.push({ begin, end: range.end });
  }
  return out;
}

/** Whether every range of `inner` lies in one range of the normalized `outer`. */
function rangesContain(outer: readonly ValueRange[], inner: readonly ValueRange[]): boolean {
  return inner.every((range) =>
    outer.some((candidate) => candidate.begin <= range.begin && range.end <= candidate.end),
  );
}

function rangesIntersect(left: readonly ValueRange[], right: readonly ValueRange[]): boolean {
  return left.some((a) => right.some((b) => a.begin <= b.end && b.begin <= a.end));
}

function indexByKey(resources: Resources): Map<string, Resource> {
  return new Map(resources.map((resource) => [keyOf(resource), resource]));
}

/**
 * Both canonical, so one merge walk in key order does it (no keys built, no sort): the allocator
 * adds, subtracts and compares resources for every agent of every cycle.
 */
export function add(left: Resources, right: Resources): Resources {
  if (right.length === 0) return left;
  if (left.length === 0) return right;
  const out: Resource[] = [];
  let at = 0;
  for (const resource of left) {
    while (at < right.length && compareResources(right[at]!, resource) < 0) out.push(right[at++]!);
    const other = at < right.length && compareResources(right[at]!, resource) === 0 ? right[at++] : undefined;
    out.push(other === undefined ? resource : sumOfSameKey(resource, other));
  }
  while (at < right.length) out.push(right[at++]!);
  return out as readonly Resource[] as Resources;
}

/** Two entries of one key: scalars summed (the later entry's volume info, as `combine` keeps), ranges united. */
function sumOfSameKey(left: Resource, right: Resource): Resource {
  if (left.type === 'SCALAR' && right.type === 'SCALAR') {
    const scalar = fromMillis(toMillis(left.scalar) + toMillis(right.scalar));
    const disk = right.disk;
    return { name: right.name, role: right.role, type: 'SCALAR', scalar, ...(disk === undefined ? {} : { disk }) };
  }
  assert(left.type === 'RANGES' && right.type === 'RANGES', `resource ${left.name}: one key, two types`);
  const ranges = normalizeRanges([...left.ranges, ...right.ranges]);
  return { name: right.name, role: right.role, type: 'RANGES', ranges };
}

/**
 * The position in `list` (canonical) of the first entry at or after `from` that does not sort
 * before `resource`: the entry with its key if there is one. A number, not a record, so the merge
 * walks below allocate nothing per entry (they run for every agent of every allocation cycle).
 */
function seekFrom(list: Resources, from: number, resource: Resource): number {
  let at = from;
  while (at < list.length && compareResources(list[at]!, resource) < 0) at += 1;
  return at;
}

function sameKeyAt(list: Resources, at: number, resource: Resource): Resource | undefined {
  return at < list.length && compareResources(list[at]!, resource) === 0 ? list[at] : undefined;
}

export function sum(lists: Iterable<Resources>): Resources {
  const all: Resource[] = [];
  for (const list of lists) all.push(...list);
  return combine(all);
}

/** `left` minus `right`; a scalar stops at zero, so callers check `contains` first when it matters. */
export function subtract(left: Resources, right: Resources): Resources {
  if (right.length === 0) return left;
  const out: Resource[] = [];
  let at = 0;
  for (const resource of left) {
    at = seekFrom(right, at, resource);
    const cut = sameKeyAt(right, at, resource);
    if (cut === undefined) out.push(resource);
    else if (cut === resource) continue;
    else if (resource.type === 'SCALAR' && cut.type === 'SCALAR') {
      const millis = toMillis(resource.scalar) - toMillis(cut.scalar);
      if (millis > 0) out.push({ ...resource, scalar: fromMillis(millis) });
    } else if (resource.type === 'RANGES' && cut.type === 'RANGES') {
      const ranges = subtractRanges(resource.ranges, cut.ranges);
      if (ranges.length > 0) out.push({ ...resource, ranges });
    }
  }
  return out as readonly Resource[] as Resources;
}

/** Whether `inner` fits in `outer`: every scalar at most as large, every range a subset. */
export function contains(outer: Resources, inner: Resources): boolean {
  if (outer === inner) return true;
  let at = 0;
  // Indexed, not for-of: the allocator checks every offer of a cycle, and the iterator allocated.
  for (let index = 0; index < inner.length; index += 1) {
    const needed = inner[index]!;
    at = seekFrom(outer, at, needed);
    const have = sameKeyAt(outer, at, needed);
    if (have === undefined) return false;
    if (have === needed) continue;
    if (have.type === 'SCALAR' && needed.type === 'SCALAR') {
      if (toMillis(have.scalar) < toMillis(needed.scalar)) return false;
    } else if (have.type === 'RANGES' && needed.type === 'RANGES') {
      if (!rangesContain(have.ranges, needed.ranges)) return false;
    } else return false;
  }
  return true;
}

export function equals(left: Resources, right: Resources): boolean {
  if (left.length !== right.length) return false;
  return left.every((resource, position) => {
    const other = right[position];
    if (other === undefined || compareResources(resource, other) !== 0) return false;
    if (resource.type === 'SCALAR' && other.type === 'SCALAR') {
      if (resource.disk !== undefined && other.disk !== undefined && !sameDisk(resource.disk, other.disk)) return false;
      return resource.scalar === other.scalar;
    }
    if (resource.type === 'RANGES' && other.type === 'RANGES') {
      return (
        resource.ranges.length === other.ranges.length &&
        resource.ranges.every(
          (range, at) => range.begin === other.ranges[at]?.begin && range.end === other.ranges[at]?.end,
        )
      );
    }
    return false;
  });
}

/** Whether some range of one list overlaps a range of the other under the same name and role. */
export function rangesOverlap(left: Resources, right: Resources): boolean {
  const index = indexByKey(left);
  return right.some((resource) => {
    const other = index.get(keyOf(resource));
    return resource.type === 'RANGES' && other?.type === 'RANGES' && rangesIntersect(resource.ranges, other.ranges);
  });
}

/**
 * Whether the same range value appears under two roles (port 80 both unreserved and reserved):
 * one physical port counted twice could be given to two tasks. Agents must not report that.
 */
export function rangesOverlapAcrossRoles(resources: Resources): boolean {
  const byName = new Map<string, ValueRange[][]>();
  for (const resource of resources) {
    if (resource.type !== 'RANGES') continue;
    const lists = byName.get(resource.name) ?? [];
    if (lists.some((ranges) => rangesIntersect(ranges, resource.ranges))) return true;
    byName.set(resource.name, [...lists, [...resource.ranges]]);
  }
  return false;
}

export function isEmpty(resources: Resources): boolean {
  return resources.length === 0;
}

/** The same resources reserved for `role` ("*" unreserves them). */
export function withRole(resources: Resources, role: Role): Resources {
  return combine(resources.map((resource) => ({ ...resource, role })));
}

/** Volumes become plain disk first: an unreserved resource is never a volume. */
export function unreserved(resources: Resources): Resources {
  return withRole(withoutVolumes(resources), unreservedRole);
}

export function filterRole(resources: Resources, role: Role): Resources {
  return resources.filter((resource) => resource.role === role) as readonly Resource[] as Resources;
}

export function reservedRoles(resources: Resources): Role[] {
  return [
    ...new Set(resources.filter((resource) => resource.role !== unreservedRole).map((resource) => resource.role)),
  ].sort(compareStrings);
}

/** Total scalar amount of `name` across roles; ranges count their values. */
export function quantityOf(resources: Resources, name: string): number {
  let millis = 0;
  for (const resource of resources) {
    if (resource.name !== name) continue;
    if (resource.type === 'SCALAR') millis += toMillis(resource.scalar);
    else for (const range of resource.ranges) millis += (range.end - range.begin + 1) * millisPerUnit;
  }
  return fromMillis(millis);
}

/** Name → quantity across roles, keys sorted: what quota and role summaries count. */
export function quantities(resources: Resources): Record<string, number> {
  const names = [...new Set(resources.map((resource) => resource.name))].sort(compareStrings);
  return Object.fromEntries(names.map((name) => [name, quantityOf(resources, name)]));
}
