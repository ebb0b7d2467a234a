// Placement is Marathon's: constraints on hostname, the fault domain and agent attributes, and
// an unusable offer counted under the first reason of Marathon's reason funnel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Offer, Resource } from '../../../src/protocol/mesos.ts';
import type { AppDefinition } from '../../../src/frameworks/services/app-definition.ts';
import { parseApp } from '../../../src/frameworks/services/app-parse.ts';
import { type AgentFacts, meetsConstraint } from '../../../src/frameworks/services/constraints.ts';
import {
  agentFactsOf,
  firstReason,
  matchApp,
  subtractResources,
} from '../../../src/frameworks/services/offer-match.ts';
import { quotaShortfall } from '../../../src/frameworks/services/quota.ts';
import { stampVersion } from '../../../src/frameworks/services/versioning.ts';

function app(input: Record<string, unknown>): AppDefinition {
  const outcome = parseApp({ id: '/a', cmd: 'x', cpus: 1, mem: 64, ...input }, { role: '*' });
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.details));
  return stampVersion(outcome.spec, null, '2020-01-01T00:00:00.000Z');
}

const scalar = (name: string, value: number, role = '*'): Resource => ({
  name,
  type: 'SCALAR',
  scalar: { value },
  role,
});
const ports = (begin: number, end: number): Resource => ({
  name: 'ports',
  type: 'RANGES',
  ranges: { range: [{ begin, end }] },
  role: '*',
});

const agent = (hostname: string, zone: string): AgentFacts => ({ hostname, attributes: { zone }, zone, region: null });

test('UNIQUE, CLUSTER, LIKE, UNLIKE, MAX_PER, IS on hostname and attributes', () => {
  const placed = [{ hostname: 'h1', zone: 'dc1' }];
  const none = new Set<string>();
  assert.is(meetsConstraint(['hostname', 'UNIQUE'], agent('h1', 'dc1'), placed, none), false);
  assert.is(meetsConstraint(['hostname', 'UNIQUE'], agent('h2', 'dc1'), placed, none), true);
  assert.is(meetsConstraint(['zone', 'CLUSTER', 'dc2'], agent('h2', 'dc1'), placed, none), false);
  assert.is(meetsConstraint(['zone', 'CLUSTER'], agent('h2', 'dc1'), placed, none), true);
  assert.is(meetsConstraint(['hostname', 'LIKE', 'h[0-9]'], agent('h2', 'dc1'), placed, none), true);
  assert.is(meetsConstraint(['hostname', 'LIKE', 'h'], agent('h2', 'dc1'), placed, none), false, 'a full match');
  assert.is(meetsConstraint(['rack', 'UNLIKE', 'r1'], agent('h2', 'dc1'), placed, none), true, 'missing: UNLIKE holds');
  assert.is(meetsConstraint(['rack', 'LIKE', '.*'], agent('h2', 'dc1'), placed, none), false, 'missing: LIKE fails');
  assert.is(meetsConstraint(['zone', 'MAX_PER', '1'], agent('h2', 'dc1'), placed, none), false);
  assert.is(meetsConstraint(['zone', 'IS', 'dc1'], agent('h2', 'dc1'), placed, none), true);
});

test('GROUP_BY spreads over the values seen, and over the values promised', () => {
  const zones = new Set(['dc1', 'dc2', 'dc3']);
  const placed = [{ zone: 'dc1' }, { zone: 'dc2' }];
  assert.is(meetsConstraint(['zone', 'GROUP_BY'], agent('h', 'dc1'), placed, zones), false);
  assert.is(meetsConstraint(['zone', 'GROUP_BY'], agent('h', 'dc3'), placed, zones), true);
  const seenTwo = new Set(['dc1', 'dc2']);
  assert.is(meetsConstraint(['zone', 'GROUP_BY', '3'], agent('h', 'dc1'), [{ zone: 'dc1' }], seenTwo), false);
  assert.is(meetsConstraint(['zone', 'GROUP_BY'], agent('h', 'dc1'), [{ zone: 'dc1' }], seenTwo), false);
  assert.is(meetsConstraint(['zone', 'GROUP_BY'], agent('h', 'dc2'), [{ zone: 'dc1' }], seenTwo), true);
});

test('an offer that cannot hold the app says why, first reason by the funnel', () => {
  const offered = [scalar('cpus', 0.5), scalar('mem', 32), ports(31000, 31000)];
  const input = { resources: offered, agent: agent('h1', 'dc1'), placed: [], knownValues: () => new Set<string>() };
  const result = matchApp({
    ...input,
    app: app({ portDefinitions: [{ port: 0 }, { port: 0 }] }),
    acceptedRoles: ['*'],
  });
  assert.is(result.ok, false);
  if (result.ok) return;
  assert.equal(result.reasons, ['InsufficientCpus', 'InsufficientMemory', 'InsufficientPorts']);
  assert.is(firstReason(result.reasons), 'InsufficientCpus');
  const constrained = matchApp({
    ...input,
    app: app({ constraints: [['hostname', 'UNIQUE']] }),
    placed: [{ hostname: 'h1' }],
    acceptedRoles: ['*'],
  });
  assert.is(!constrained.ok && firstReason(constrained.reasons), 'UnfulfilledConstraint');
  const reserved = matchApp({ ...input, resources: [scalar('cpus', 4, 'gpu')], app: app({}), acceptedRoles: ['*'] });
  assert.is(!reserved.ok && firstReason(reserved.reasons), 'UnfulfilledRole');
});

test('a match takes fixed and dynamic ports in order; what is taken is gone from the offer', () => {
  const offered = [scalar('cpus', 4), scalar('mem', 1024), ports(31000, 31010)];
  const result = matchApp({
    app: app({ requirePorts: true, portDefinitions: [{ port: 31005 }, { port: 31002 }] }),
    resources: offered,
    agent: agent('h', 'z'),
    placed: [],
    knownValues: () => new Set(),
    acceptedRoles: ['*'],
  });
  assert.ok(result.ok);
  if (!result.ok) return;
  assert.equal(result.hostPorts, [31005, 31002]);
  const left = subtractResources(offered, result.resources);
  assert.equal(left.find((resource) => resource.name === 'cpus')?.scalar?.value, 3);
  assert.equal(left.find((resource) => resource.name === 'ports')?.ranges?.range, [
    { begin: 31000, end: 31001 },
    { begin: 31003, end: 31004 },
    { begin: 31006, end: 31010 },
  ]);
});

test('agent facts come from the offer: attributes and the fault domain', () => {
  const offer = {
    hostname: 'h9',
    attributes: [
      { name: 'rack', type: 'TEXT', text: { value: 'r1' } },
      { name: 'slots', type: 'SCALAR', scalar: { value: 4 } },
    ],
    domain: { fault_domain: { region: { name: 'eu' }, zone: { name: 'eu-1' } } },
  } as unknown as Offer;
  assert.equal(agentFactsOf(offer), {
    hostname: 'h9',
    attributes: { rack: 'r1', slots: '4' },
    zone: 'eu-1',
    region: 'eu',
  });
});

test('a role at its quota limit is named with the resource that is short', () => {
  const quota = { limits: { cpus: 2, mem: 1024 }, used: { cpus: 1.95, mem: 100 } };
  assert.is(quotaShortfall(quota, { cpus: 0.1, mem: 16 }), 'cpus 1.95 of 2');
  assert.is(quotaShortfall(quota, { cpus: 0.05, mem: 16 }), null);
});

test.run();
