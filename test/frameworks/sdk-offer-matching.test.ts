// Offer matching (src/frameworks/sdk/offer-matching.ts): sums, reserved slices, ports.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Offer, Resource } from '../../src/protocol/mesos.ts';
import {
  explainMismatch,
  matchOffer,
  pickPorts,
  portsToRanges,
  scalarTotal,
  takeScalar,
} from '../../src/frameworks/sdk/offer-matching.ts';

const scalar = (name: string, value: number, role?: string): Resource => ({
  name,
  type: 'SCALAR',
  scalar: { value },
  ...(role === undefined ? {} : { allocation_info: { role } }),
});
const ports = (...ranges: [number, number][]): Resource => ({
  name: 'ports',
  type: 'RANGES',
  ranges: { range: ranges.map(([begin, end]) => ({ begin, end })) },
});

function offer(resources: Resource[]): Offer {
  return {
    id: { value: 'o1' },
    framework_id: { value: 'f1' },
    agent_id: { value: 'a1' },
    hostname: 'host-a',
    url: { scheme: 'http', address: { ip: '127.0.0.1', port: 5055 } },
    resources,
    attributes: [],
    allocation_info: { role: '*' },
  };
}

test('a task that fits takes exactly what it asks for', () => {
  const match = matchOffer(offer([scalar('cpus', 2), scalar('mem', 1024), scalar('disk', 100)]), {
    cpus: 0.1,
    memMb: 32,
  });
  assert.ok(match);
  assert.equal(match.resources, [scalar('cpus', 0.1), scalar('mem', 32)]);
  assert.equal(match.ports, []);
});

test('too little of anything is no match, and the mismatch is explained', () => {
  const small = offer([scalar('cpus', 0.05), scalar('mem', 1024)]);
  assert.is(matchOffer(small, { cpus: 0.1, memMb: 32 }), null);
  assert.is(explainMismatch(small, { cpus: 0.1, memMb: 32 }), 'cpus 0.05 < 0.1');
  assert.is(explainMismatch(small, { cpus: 0.01, memMb: 32 }), null);
  assert.is(matchOffer(offer([scalar('cpus', 1), scalar('mem', 16)]), { cpus: 0.1, memMb: 32 }), null);
  assert.is(matchOffer(offer([scalar('cpus', 1), scalar('mem', 64)]), { cpus: 0.1, memMb: 32, diskMb: 1 }), null);
});

test("scalars add up across slices (reserved + unreserved) and keep each slice's reservation", () => {
  const reserved: Resource = { ...scalar('cpus', 0.5), role: 'web', reservations: [{ type: 'STATIC', role: 'web' }] };
  const resources = [reserved, scalar('cpus', 1)];
  assert.is(scalarTotal(resources, 'cpus'), 1.5);
  const taken = takeScalar(resources, 'cpus', 0.7);
  assert.equal(taken, [{ ...reserved, scalar: { value: 0.5 } }, scalar('cpus', 0.2)]);
  assert.is(takeScalar(resources, 'cpus', 1.6), null);
  // Fixed point with three decimals, as Mesos compares: 0.1 + 0.2 is 0.3.
  assert.ok(takeScalar([scalar('cpus', 0.1), scalar('cpus', 0.2)], 'cpus', 0.3));
});

test('a role restricts which slices a multi-role framework may take', () => {
  const resources = [scalar('cpus', 1, 'batch'), scalar('cpus', 1, 'web'), scalar('mem', 64, 'web')];
  const match = matchOffer(offer(resources), { cpus: 1.5, memMb: 32, role: 'web' });
  assert.is(match, null);
  const fits = matchOffer(offer(resources), { cpus: 1, memMb: 32, role: 'web' });
  assert.equal(fits?.resources, [scalar('cpus', 1, 'web'), scalar('mem', 32, 'web')]);
});

test('ports are picked lowest first across ranges and resources, and folded back into ranges', () => {
  const picked = pickPorts([ports([31000, 31001], [31005, 31010]), ports([40000, 40000])], 4);
  assert.ok(picked);
  assert.equal(picked.ports, [31000, 31001, 31005, 31006]);
  assert.equal(picked.resources, [ports([31000, 31001], [31005, 31006])]);
  assert.is(pickPorts([ports([31000, 31001])], 3), null);
  assert.equal(pickPorts([ports([31000, 31001]), ports([40000, 40005])], 3)?.resources, [
    ports([31000, 31001]),
    ports([40000, 40000]),
  ]);
  assert.equal(portsToRanges([5, 3, 4, 9]), [
    { begin: 3, end: 5 },
    { begin: 9, end: 9 },
  ]);
  assert.throws(() => pickPorts([], -1), /port count/);
});

test('a match with ports lists them beside cpus and mem', () => {
  const match = matchOffer(offer([scalar('cpus', 1), scalar('mem', 64), ports([31000, 32000])]), {
    cpus: 1,
    memMb: 64,
    portCount: 2,
  });
  assert.equal(match?.ports, [31000, 31001]);
  assert.equal(
    match?.resources.map((resource) => resource.name),
    ['cpus', 'mem', 'ports'],
  );
  assert.is(
    explainMismatch(offer([scalar('cpus', 1), scalar('mem', 64)]), { cpus: 1, memMb: 64, portCount: 1 }),
    'fewer than 1 ports',
  );
});

test.run();
