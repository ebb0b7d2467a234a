// Resource arithmetic: canonical form, and the laws add/subtract/contains/equals obey, checked
// by fast-check over random resources (seed printed; replay with FLOTILLA_SEED=<n>).
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  add,
  canonicalize,
  canonicalizeParsed,
  contains,
  emptyResources,
  equals,
  InvalidResourcesError,
  quantities,
  rangesOverlap,
  rangesOverlapAcrossRoles,
  subtract,
  sum,
  unreserved,
  withRole,
  type Resource,
  type Resources,
} from '../../src/state-machine/resources.ts';
import { cpus, mem, ports, resources } from './support/fixtures.ts';
import { propertySeed } from './support/seed.ts';

const seed = propertySeed();
console.log(`resources.test.ts seed ${seed} (replay: FLOTILLA_SEED=${seed})`);
const runs = { seed, numRuns: 300 };

const roleArbitrary = fc.constantFrom('*', 'web', 'batch');
const scalarArbitrary: fc.Arbitrary<Resource> = fc.record({
  name: fc.constantFrom('cpus', 'mem', 'disk', 'gpus'),
  role: roleArbitrary,
  type: fc.constant('SCALAR' as const),
  scalar: fc.integer({ min: 0, max: 100_000 }).map((millis) => millis / 1000),
});
const rangesArbitrary: fc.Arbitrary<Resource> = fc.record({
  name: fc.constant('ports'),
  role: roleArbitrary,
  type: fc.constant('RANGES' as const),
  ranges: fc.array(
    fc
      .tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 20 }))
      .map(([begin, length]) => ({ begin, end: begin + length })),
    { maxLength: 4 },
  ),
});
const resourcesArbitrary: fc.Arbitrary<Resources> = fc
  .array(fc.oneof(scalarArbitrary, rangesArbitrary), { maxLength: 8 })
  .map(canonicalize);
const scalarsOnly: fc.Arbitrary<Resources> = fc.array(scalarArbitrary, { maxLength: 8 }).map(canonicalize);

const same = (left: Resources, right: Resources): boolean =>
  equals(left, right) && JSON.stringify(left) === JSON.stringify(right);

test('canonical form: merged by name and role, sorted, empty entries dropped, ranges coalesced', () => {
  const list = canonicalize([ports(10, 12), cpus(1), mem(0), ports(13, 20), cpus(0.5), cpus(2, 'web'), ports(5, 6)]);
  assert.equal(list, [
    { name: 'cpus', role: '*', type: 'SCALAR', scalar: 1.5 },
    { name: 'cpus', role: 'web', type: 'SCALAR', scalar: 2 },
    {
      name: 'ports',
      role: '*',
      type: 'RANGES',
      ranges: [
        { begin: 5, end: 6 },
        { begin: 10, end: 20 },
      ],
    },
  ]);
});

test('scalars are kept in thousandths, so 0.1 + 0.2 is 0.3', () => {
  assert.equal(add(resources(cpus(0.1)), resources(cpus(0.2))), resources(cpus(0.3)));
  assert.equal(canonicalize([cpus(0.0004)]), []);
});

test('invalid resources are refused by name', () => {
  const bad: Resource[] = [
    { name: 'cpus', role: '*', type: 'SCALAR', scalar: -1 },
    { name: 'cpus', role: '*', type: 'RANGES', ranges: [] },
    { name: 'ports', role: '*', type: 'RANGES', ranges: [{ begin: 5, end: 4 }] },
    { name: 'ports', role: '*', type: 'RANGES', ranges: [{ begin: 1.5, end: 4 }] },
    { name: '9lives', role: '*', type: 'SCALAR', scalar: 1 },
    { name: 'cpus', role: '/bad', type: 'SCALAR', scalar: 1 },
    { name: 'cpus', role: '*', type: 'SCALAR', scalar: Number.NaN },
  ];
  for (const resource of bad)
    assert.throws(
      () => canonicalize([resource]),
      (error: unknown) => error instanceof InvalidResourcesError,
    );
});

test('subtract stops scalars at zero and cuts ranges', () => {
  assert.equal(subtract(resources(cpus(1)), resources(cpus(2))), []);
  assert.equal(subtract(resources(ports(1, 10)), resources(ports(3, 4))), resources(ports(1, 2), ports(5, 10)));
});

test('contains: scalars by amount, ranges by subset, role matters', () => {
  assert.ok(contains(resources(cpus(2), ports(1, 10)), resources(cpus(2), ports(2, 3))));
  assert.not.ok(contains(resources(cpus(2)), resources(cpus(2.001))));
  assert.not.ok(contains(resources(ports(1, 10)), resources(ports(10, 11))));
  assert.not.ok(contains(resources(cpus(2)), resources(cpus(1, 'web'))));
  assert.ok(contains(resources(cpus(2)), emptyResources));
});

test('range overlap detection, within a role and across roles', () => {
  assert.ok(rangesOverlap(resources(ports(1, 5)), resources(ports(5, 9))));
  assert.not.ok(rangesOverlap(resources(ports(1, 5)), resources(ports(6, 9))));
  assert.ok(rangesOverlapAcrossRoles(resources(ports(1, 5), ports(3, 3, 'web'))));
  assert.not.ok(rangesOverlapAcrossRoles(resources(ports(1, 5), ports(6, 6, 'web'))));
});

test('roles: withRole reserves, unreserved undoes, quantities sum across roles', () => {
  const reserved = withRole(resources(cpus(1), ports(1, 2)), 'web');
  assert.equal(reserved, resources(cpus(1, 'web'), ports(1, 2, 'web')));
  assert.equal(unreserved(reserved), resources(cpus(1), ports(1, 2)));
  assert.equal(quantities(resources(cpus(1), cpus(2, 'web'), ports(1, 10))), { cpus: 3, ports: 10 });
});

test('property: canonicalizeParsed gives what canonicalize gives, and a canonical list back as it is', () => {
  const rawList = fc.array(
    fc.oneof(
      scalarArbitrary,
      rangesArbitrary,
      scalarArbitrary.map((resource) => ({ ...resource, scalar: 0.0004 })),
    ),
    {
      maxLength: 8,
    },
  );
  fc.assert(
    fc.property(rawList, (list) => JSON.stringify(canonicalizeParsed(list)) === JSON.stringify(canonicalize(list))),
    runs,
  );
  fc.assert(
    fc.property(resourcesArbitrary, (list) => canonicalizeParsed(list) === list),
    runs,
  );
  // Not canonical: each is rebuilt (merged, dropped, rounded, sorted, coalesced).
  const notCanonical: Resource[][] = [
    [cpus(1), cpus(1)],
    [mem(1), cpus(1)],
    [cpus(0)],
    [cpus(0.0004)],
    [{ name: 'ports', role: '*', type: 'RANGES', ranges: [] }],
    [
      {
        name: 'ports',
        role: '*',
        type: 'RANGES',
        ranges: [
          { begin: 5, end: 6 },
          { begin: 1, end: 2 },
        ],
      },
    ],
    [
      {
        name: 'ports',
        role: '*',
        type: 'RANGES',
        ranges: [
          { begin: 1, end: 2 },
          { begin: 3, end: 4 },
        ],
      },
    ],
  ];
  for (const list of notCanonical) {
    const parsed = canonicalizeParsed(list);
    assert.is.not(parsed, list);
    assert.equal(parsed, canonicalize(list));
  }
});

test('property: canonicalize is idempotent', () => {
  fc.assert(
    fc.property(resourcesArbitrary, (list) => same(canonicalize(list), list)),
    runs,
  );
});

test('property: add is commutative and associative, with empty as identity', () => {
  fc.assert(
    fc.property(
      resourcesArbitrary,
      resourcesArbitrary,
      resourcesArbitrary,
      (a, b, c) =>
        same(add(a, b), add(b, a)) && same(add(add(a, b), c), add(a, add(b, c))) && same(add(a, emptyResources), a),
    ),
    runs,
  );
});

test('property: a sum contains its parts; contains is reflexive and transitive', () => {
  fc.assert(
    fc.property(resourcesArbitrary, resourcesArbitrary, resourcesArbitrary, (a, b, c) => {
      const ab = add(a, b);
      const transitive = !(contains(a, b) && contains(b, c)) || contains(a, c);
      return contains(ab, a) && contains(ab, b) && contains(a, a) && transitive;
    }),
    runs,
  );
});

test('property: what fits can be taken away and put back: contains(a, b) ⇒ (a − b) + b = a', () => {
  fc.assert(
    fc.property(resourcesArbitrary, resourcesArbitrary, (a, b) => {
      const inner = subtract(a, subtract(a, b)); // a ∩ b for ranges, min for scalars: always fits in a
      return contains(a, inner) && same(add(subtract(a, inner), inner), a);
    }),
    runs,
  );
});

test('property: for quantities, (a + b) − b = a', () => {
  fc.assert(
    fc.property(scalarsOnly, scalarsOnly, (a, b) => same(subtract(add(a, b), b), a)),
    runs,
  );
});

test('property: a − a is empty, a − b fits in a, and equality is mutual containment', () => {
  fc.assert(
    fc.property(
      resourcesArbitrary,
      resourcesArbitrary,
      (a, b) =>
        subtract(a, a).length === 0 &&
        contains(a, subtract(a, b)) &&
        equals(a, b) === (contains(a, b) && contains(b, a)),
    ),
    runs,
  );
});

test('property: sum of many equals repeated add, in any order', () => {
  fc.assert(
    fc.property(fc.array(resourcesArbitrary, { maxLength: 6 }), (lists) => {
      const folded = lists.reduce((total, list) => add(total, list), emptyResources);
      return same(sum(lists), folded) && same(sum([...lists].reverse()), folded);
    }),
    runs,
  );
});

test.run();
