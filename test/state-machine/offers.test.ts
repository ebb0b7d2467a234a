// Offers and ACCEPT: create, rescind, decline, and accept with LAUNCH, RESERVE and UNRESERVE
// operations run in order against the pooled offers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { taskKey } from '../../src/state-machine/ids.ts';
import { emptyResources } from '../../src/state-machine/resources.ts';
import {
  A1,
  accept,
  baseTime,
  cpus,
  createOffers,
  F1,
  Harness,
  launch,
  mem,
  O1,
  O2,
  O3,
  offerDefinition,
  ports,
  registerAgent,
  resources,
  subscribe,
  T1,
  T2,
  taskDefinition,
} from './support/fixtures.ts';

const setup = () => [registerAgent(), subscribe(F1, { roles: ['*', 'web'] })];

test('create_offers: several offers on one agent, charged to its offered books, OFFER_ADDED each', () => {
  const harness = new Harness(setup());
  harness.ok(
    createOffers(
      offerDefinition(O1, resources(cpus(1), ports(31000, 31009))),
      offerDefinition(O2, resources(cpus(2)), { role: 'web' }),
    ),
  );
  assert.is(harness.state.offers.size, 2);
  assert.equal(harness.state.agents.get(A1)?.offered, resources(cpus(3), ports(31000, 31009)));
  assert.equal(
    harness.events.slice(-2).map((event) => event.type),
    ['OFFER_ADDED', 'OFFER_ADDED'],
  );
});

test('rescind_offer and decline_offers give the resources back; decline reports offers already gone', () => {
  const harness = new Harness([
    ...setup(),
    createOffers(offerDefinition(O1, resources(cpus(1))), offerDefinition(O2, resources(cpus(1)))),
  ]);
  harness.ok({ type: 'rescind_offer', at: baseTime, offerId: O1 });
  const result = harness.ok({ type: 'decline_offers', at: baseTime, frameworkId: F1, offerIds: [O2, O3] });
  assert.equal(result, { ok: true, unknownOfferIds: [O3] });
  assert.is(harness.state.offers.size, 0);
  assert.equal(harness.state.agents.get(A1)?.offered, emptyResources);
});

test('accept LAUNCH: tasks start in TASK_STAGING, unused offer resources return to the agent', () => {
  const harness = new Harness([
    ...setup(),
    createOffers(offerDefinition(O1, resources(cpus(2), mem(256))), offerDefinition(O2, resources(cpus(1)))),
  ]);
  harness.ok(
    accept(
      [O1, O2],
      [launch(taskDefinition(T1, resources(cpus(1), mem(128))), taskDefinition(T2, resources(cpus(1.5))))],
    ),
  );
  const task = harness.state.tasks.get(taskKey(F1, T1));
  assert.is(task?.state, 'TASK_STAGING');
  assert.is(task?.agentId, A1);
  assert.is(task?.role, '*');
  assert.is(task?.statuses.length, 1);
  assert.is(harness.state.offers.size, 0);
  const agent = harness.state.agents.get(A1);
  assert.equal(agent?.used, resources(cpus(2.5), mem(128)));
  assert.equal(agent?.offered, emptyResources);
  assert.equal(
    harness.events.slice(-4).map((event) => event.type),
    ['OFFER_REMOVED', 'OFFER_REMOVED', 'TASK_ADDED', 'TASK_ADDED'],
  );
});

test('accept with no operations is a decline', () => {
  const harness = new Harness([...setup(), createOffers(offerDefinition(O1, resources(cpus(1))))]);
  harness.ok(accept([O1], []));
  assert.is(harness.state.offers.size, 0);
  assert.is(harness.state.tasks.size, 0);
});

test('accept RESERVE then LAUNCH on the reserved resources: the agent total now holds the reservation', () => {
  const harness = new Harness([
    ...setup(),
    createOffers(offerDefinition(O1, resources(cpus(2), mem(512)), { role: 'web' })),
  ]);
  harness.ok(
    accept(
      [O1],
      [
        { type: 'RESERVE', resources: resources(cpus(1, 'web'), mem(256, 'web')) },
        launch(taskDefinition(T1, resources(cpus(1, 'web'), mem(128, 'web')))),
      ],
    ),
  );
  const agent = harness.state.agents.get(A1);
  assert.equal(agent?.resources, resources(cpus(3), cpus(1, 'web'), mem(3840), mem(256, 'web'), ports(31000, 31099)));
  assert.equal(agent?.used, resources(cpus(1, 'web'), mem(128, 'web')));
  assert.is(harness.state.tasks.get(taskKey(F1, T1))?.role, 'web');
});

test('accept UNRESERVE returns reserved offer resources to "*"', () => {
  const harness = new Harness([
    registerAgent(A1, { resources: resources(cpus(2), cpus(2, 'web')) }),
    subscribe(F1, { roles: ['web'] }),
    createOffers(offerDefinition(O1, resources(cpus(2, 'web')), { role: 'web' })),
  ]);
  harness.ok(accept([O1], [{ type: 'UNRESERVE', resources: resources(cpus(2, 'web')) }]));
  assert.equal(harness.state.agents.get(A1)?.resources, resources(cpus(4)));
});

test.run();
