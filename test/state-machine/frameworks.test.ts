// Frameworks: subscribe, failover, update, disconnect, teardown (Mesos: a torn-down framework's
// tasks are killed with REASON_FRAMEWORK_REMOVED and it can never come back).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { taskKey } from '../../src/state-machine/ids.ts';
import {
  baseTime,
  cpus,
  createOffers,
  F1,
  frameworkInfo,
  Harness,
  O1,
  O2,
  offerDefinition,
  registerAgent,
  resources,
  runningTaskSetup,
  subscribe,
  T1,
} from './support/fixtures.ts';

test('subscribe_framework registers a CONNECTED framework with sorted unique roles', () => {
  const harness = new Harness();
  harness.ok(subscribe(F1, { roles: ['web', 'batch', 'web'] }));
  const framework = harness.state.frameworks.get(F1);
  assert.is(framework?.state, 'CONNECTED');
  assert.equal(framework?.info.roles, ['batch', 'web']);
  assert.is(framework?.registeredAt, baseTime);
  assert.equal(
    harness.events.map((event) => event.type),
    ['FRAMEWORK_ADDED'],
  );
});

test('subscribe again (failover) reconnects a disconnected framework and records the time', () => {
  const harness = new Harness([subscribe(), { type: 'disconnect_framework', at: baseTime + 1, frameworkId: F1 }]);
  harness.ok(subscribe(F1, { name: 'services-v2' }, baseTime + 2));
  const framework = harness.state.frameworks.get(F1);
  assert.is(framework?.state, 'CONNECTED');
  assert.is(framework?.info.name, 'services-v2');
  assert.is(framework?.reregisteredAt, baseTime + 2);
  assert.is(framework?.disconnectedAt, null);
  assert.is(harness.events.at(-1)?.type, 'FRAMEWORK_UPDATED');
});

test('update_framework: offers for roles left behind are removed, the others stay', () => {
  const harness = new Harness([
    registerAgent(),
    subscribe(F1, { roles: ['web', 'batch'] }),
    createOffers(
      offerDefinition(O1, resources(cpus(1)), { role: 'web' }),
      offerDefinition(O2, resources(cpus(1)), { role: 'batch' }),
    ),
  ]);
  harness.ok({ type: 'update_framework', at: baseTime, frameworkId: F1, info: frameworkInfo({ roles: ['web'] }) });
  assert.equal([...harness.state.offers.keys()], [O1]);
  assert.equal(harness.state.frameworks.get(F1)?.info.roles, ['web']);
});

test('disconnect_framework removes its offers; a second disconnect changes nothing', () => {
  const harness = new Harness([registerAgent(), subscribe(), createOffers(offerDefinition(O1, resources(cpus(1))))]);
  harness.ok({ type: 'disconnect_framework', at: baseTime + 1, frameworkId: F1 });
  assert.is(harness.state.frameworks.get(F1)?.state, 'DISCONNECTED');
  assert.is(harness.state.offers.size, 0);
  const before = harness.state.frameworks.get(F1);
  harness.ok({ type: 'disconnect_framework', at: baseTime + 2, frameworkId: F1 });
  assert.is(harness.state.frameworks.get(F1), before);
});

test('teardown_framework kills live tasks with REASON_FRAMEWORK_REMOVED and completes the framework', () => {
  const harness = new Harness(runningTaskSetup());
  const before = harness.events.length;
  harness.ok({ type: 'teardown_framework', at: baseTime + 4, frameworkId: F1 });
  const task = harness.state.tasks.get(taskKey(F1, T1));
  assert.is(task?.state, 'TASK_KILLED');
  assert.is(task?.statuses.at(-1)?.reason, 'REASON_FRAMEWORK_REMOVED');
  assert.is(harness.state.frameworks.get(F1)?.state, 'COMPLETED');
  assert.is(harness.state.frameworks.get(F1)?.completedAt, baseTime + 4);
  assert.equal(
    harness.eventsSince(before).map((event) => event.type),
    ['TASK_UPDATED', 'FRAMEWORK_REMOVED'],
  );
});

test.run();
