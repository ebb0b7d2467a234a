// What GET_STATE keeps from one read to the next (issue 12): each task's and agent's JSON text per
// entity object (entity-json.ts) and the key order of the tasks and agents (key-order.ts). A read
// after changes is byte for byte the reference answer of the state as it is then, in JSON and in
// RecordIO's ASCII; an unchanged entity is not converted again; and a read sorts only what is new.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EntityJson } from '../../src/http/operator/entity-json.ts';
import { HeldSum } from '../../src/http/operator/held-sums.ts';
import { sortedKeyPositions } from '../../src/http/operator/key-order.ts';
import { subscribedEvent } from '../../src/http/operator/mesos-events.ts';
import { captureView, getFrameworksJson, getStateJson } from '../../src/http/operator/state-json.ts';
import { getFrameworks, getState } from '../../src/http/operator/state-view.ts';
import { subscribedRecord } from '../../src/http/operator/subscriptions.ts';
import { collectInSlices } from '../../src/http/sliced-body.ts';
import { mesosTask } from '../../src/master/mesos/mesos-tasks.ts';
import { asciiJson } from '../../src/protocol/ascii-json.ts';
import { encodeRecord } from '../../src/protocol/recordio.ts';
import { offerId, taskId } from '../../src/state-machine/ids.ts';
import { compareStrings, sortedPositionsInSteps } from '../../src/state-machine/ordering.ts';
import { add, emptyResources, type Resources } from '../../src/state-machine/resources.ts';
import type { Task } from '../../src/state-machine/state.ts';
import {
  A2,
  accept,
  baseTime,
  createOffers,
  cpus,
  disk,
  F2,
  Harness,
  launch,
  mem,
  offerDefinition,
  ports,
  registerAgent,
  resources,
  subscribe,
  T1,
  T2,
  taskDefinition,
  updateStatus,
  uuid,
  volume,
} from '../state-machine/support/fixtures.ts';
import { richScenario } from '../state-machine/support/scenario.ts';

const sliced = async (steps: Iterator<string>) => Buffer.concat(await collectInSlices(steps)).toString('utf8');

async function assertReadsAsReference(harness: Harness): Promise<void> {
  const state = harness.state;
  assert.is(await sliced(getStateJson(captureView(state, () => null))), JSON.stringify(getState(state)));
  const chunks = await subscribedRecord(
    captureView(state, () => null, asciiJson),
    15,
  );
  assert.equal(Buffer.concat(chunks), Buffer.from(encodeRecord(asciiJson(subscribedEvent(state, 15)))));
}

test('a task changed, launched or gone between two reads: each read is the reference answer of its state', async () => {
  const harness = new Harness(richScenario);
  await assertReadsAsReference(harness);
  harness.ok(updateStatus(T1, 'TASK_FAILED', { uuid: uuid(7), message: 'exit 1' }));
  await assertReadsAsReference(harness);
  // A name and a label beyond ASCII: raw in JSON, escaped in the RecordIO stream's text.
  harness.ok(createOffers(offerDefinition(offerId('o9'), resources(cpus(0.1), mem(16)))));
  const named = taskDefinition(taskId('t9'), resources(cpus(0.1), mem(16)), {
    name: 'größe',
    labels: { key: 'значение' },
  });
  harness.ok(accept([offerId('o9')], [launch(named)]));
  await assertReadsAsReference(harness);
  assert.ok(JSON.stringify(getState(harness.state)).includes('größe'));
  harness.ok({ type: 'update_agent_state', at: baseTime + 1, agentId: A2, state: 'UNREACHABLE' });
  harness.ok({
    type: 'acknowledge_task_status',
    at: baseTime,
    frameworkId: F2,
    taskId: T2,
    agentId: A2,
    uuid: uuid(2),
  });
  await assertReadsAsReference(harness);
});

test('a task object is converted once, whatever reads and encodings follow; its replacement once more', () => {
  const harness = new Harness(richScenario);
  const converted: Task[] = [];
  const cache = new EntityJson<Task>((task) => {
    converted.push(task);
    return mesosTask(task);
  });
  const tasks = [...harness.state.tasks.values()];
  for (let read = 0; read < 3; read++) {
    for (const task of tasks) {
      assert.is(cache.text(task, JSON.stringify), JSON.stringify(mesosTask(task)));
      assert.is(cache.text(task, asciiJson), asciiJson(mesosTask(task)));
    }
  }
  assert.is(converted.length, tasks.length);
  harness.ok(updateStatus(T1, 'TASK_FAILED', { uuid: uuid(7) }));
  const replaced = [...harness.state.tasks.values()].filter((task) => !tasks.includes(task));
  assert.is(replaced.length, 1);
  assert.match(cache.text(replaced[0]!, JSON.stringify), /TASK_FAILED/);
  assert.is(converted.length, tasks.length + 1);
});

function drain(steps: Generator<void, Uint32Array>): { order: Uint32Array; steps: number } {
  let count = 0;
  for (;;) {
    const step = steps.next();
    if (step.done === true) return { order: step.value, steps: count };
    count += 1;
  }
}

const keyOrder = (keys: readonly string[]) => [...keys].sort(compareStrings);

test('key order across reads of a changing map: always the sorted keys', () => {
  const operation = fc.oneof(
    fc.record({ put: fc.string({ maxLength: 4 }) }),
    fc.record({ remove: fc.nat() }),
    fc.record({ read: fc.constant(true) }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
      const map = new Map<string, number>();
      for (const operation of [...operations, { read: true as const }]) {
        if ('put' in operation) map.set(operation.put, 0);
        else if ('remove' in operation) map.delete([...map.keys()][operation.remove % Math.max(1, map.size)] ?? '');
        else {
          const keys = [...map.keys()];
          const { order } = drain(sortedKeyPositions(map, keys));
          assert.equal(
            [...order].map((position) => keys[position]),
            keyOrder(keys),
          );
        }
      }
    }),
    { seed: 12, numRuns: 300 },
  );
});

test('a read after a few changes sorts only those: a fraction of the steps of a full sort', () => {
  const map = new Map<string, number>();
  for (let index = 0; index < 50_000; index++) map.set(`f${index % 7}\u0000t${(index * 7919) % 50_000}`, index);
  const first = drain(sortedKeyPositions(map, [...map.keys()]));
  const full = drain(sortedPositionsInSteps([...map.keys()]));
  assert.equal(first.order, full.order);
  for (let index = 0; index < 20; index++) map.delete(`f${index % 7}\u0000t${(index * 7919) % 50_000}`);
  for (let index = 0; index < 20; index++) map.set(`new${index}`, index);
  const keys = [...map.keys()];
  const second = drain(sortedKeyPositions(map, keys));
  assert.equal(
    [...second.order].map((position) => keys[position]),
    keyOrder(keys),
  );
  assert.ok(second.steps * 4 < full.steps, `${second.steps} steps after 40 changes, ${full.steps} for a full sort`);
});

test("a framework's held resources summed per resource: the fold of `add` over its tasks, ranges and volumes too", () => {
  const resource = fc.oneof(
    fc
      .record({ millis: fc.integer({ min: 1, max: 100_000 }), role: fc.constantFrom('*', 'web') })
      .map(({ millis, role }) => cpus(millis / 1000, role)),
    fc.integer({ min: 1, max: 5_000 }).map((amount) => mem(amount)),
    fc.integer({ min: 1, max: 500 }).map((amount) => disk(amount, 'web')),
    fc.constantFrom('v1', 'v2').map((id) => volume(id, 10)),
    fc.integer({ min: 31_000, max: 31_100 }).map((port) => ports(port, port + 2)),
  );
  const taskResources = fc.array(resource, { minLength: 1, maxLength: 5 }).map((list) => resources(...list));
  fc.assert(
    fc.property(fc.array(taskResources, { maxLength: 40 }), (tasks) => {
      const held = new HeldSum();
      for (const list of tasks) held.add(list);
      assert.equal(
        held.total(),
        tasks.reduce<Resources>((total, list) => add(total, list), emptyResources),
      );
    }),
    { seed: 12, numRuns: 300 },
  );
});

test('a framework holding many offers is written offer by offer, with yield points among them', async () => {
  const offers = 600;
  const harness = new Harness([
    registerAgent(),
    subscribe(),
    createOffers(
      ...Array.from({ length: offers }, (_, index) => offerDefinition(offerId(`o${index}`), resources(mem(1)))),
    ),
  ]);
  const pieces: string[] = [];
  const steps = getFrameworksJson(captureView(harness.state, () => null));
  for (let step = steps.next(); step.done !== true; step = steps.next()) pieces.push(step.value);
  assert.is(pieces.join(''), JSON.stringify(getFrameworks(harness.state)));
  const longest = Math.max(...pieces.map((piece) => piece.length));
  const oneOffer = JSON.stringify(getFrameworks(harness.state).frameworks[0]!.offers[0]);
  assert.ok(longest < 4 * oneOffer.length, `a piece of ${longest} characters; one offer is ${oneOffer.length}`);
  const yieldPoints = pieces.filter((piece) => piece === '').length;
  assert.ok(yieldPoints >= offers / 256, `${yieldPoints} yield points for ${offers} offers`);
});

test.run();
