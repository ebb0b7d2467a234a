// Maintenance seen by frameworks (Mesos "maintenance.md", "Draining mode"), on a real
// single-voter master over real HTTP: scheduling an agent's machine sends INVERSE_OFFERS to the
// framework running a task there (and to no other), with the agent's url, agent_id,
// framework_id and the window's unavailability in nanoseconds; offers from the machine carry the
// unavailability; ACCEPT/DECLINE_INVERSE_OFFERS show in GET_MAINTENANCE_STATUS as
// allocator.proto InverseOfferStatus; a changed window rescinds and re-sends; a machine taken
// out of the schedule rescinds. Agents are registered by command (what the agent gateway does).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type * as Mesos from '../../src/protocol/mesos.ts';
import type * as Operator from '../../src/protocol/operator.ts';
import { agentId, frameworkId as toFrameworkId, offerId } from '../../src/state-machine/ids.ts';
import { agentFreeResources } from '../../src/state-machine/queries.ts';
import { isEmpty } from '../../src/state-machine/resources.ts';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';
import { registerAgent } from '../state-machine/support/fixtures.ts';
import { assertRedirectedToLeader, followerFacade } from './support/follower.ts';
import { read, writeOk } from './support/operator.ts';
import { frameworkInfo, SchedulerClient } from './support/scheduler-client.ts';

const A1 = agentId('maint-a1');
const machine = { hostname: 'maint-node', ip: '127.0.0.1' };
const agentPort = 5051;
const hourMs = 3600 * 1000;
const nanosecondsPerMillisecond = 1_000_000;
// Whole seconds, so nanoseconds stay exact in a JSON number.
const windowStartMs = Math.ceil((Date.now() + hourMs) / 1000) * 1000;

let cluster: SingleMaster;
let busy: SchedulerClient;
let idle: SchedulerClient;
let offerSequence = 0;

const updateSchedule = (windows: unknown[]): Record<string, unknown> => ({
  type: 'UPDATE_MAINTENANCE_SCHEDULE',
  update_maintenance_schedule: { schedule: { windows } },
});
const window = (durationMs: number): Record<string, unknown> => ({
  machine_ids: [machine],
  unavailability: {
    start: { nanoseconds: windowStartMs * nanosecondsPerMillisecond },
    duration: { nanoseconds: durationMs * nanosecondsPerMillisecond },
  },
});

/**
 * An offer on A1 for the client: the allocator's, or one made here from the agent's free
 * resources. Waits on the state, not with `maybeNextOf`: a timed-out read goes on reading the
 * stream in the background and would swallow later events.
 */
async function nextOffer(client: SchedulerClient): Promise<Mesos.Offer> {
  const fromAllocator = await waitFor(() => offersOf(client).length > 0, { timeoutMs: 1500, what: 'an offer' }).then(
    () => true,
    () => false,
  );
  if (fromAllocator) return (await client.nextOf('OFFERS')).offers.offers[0]!;
  return makeOffer(client);
}

async function makeOffer(client: SchedulerClient): Promise<Mesos.Offer> {
  const free = agentFreeResources(cluster.master.facade.state().agents.get(A1)!);
  assert.not.ok(isEmpty(free), 'the agent has free resources to offer');
  offerSequence += 1;
  const { result } = await cluster.master.facade.submit({
    type: 'create_offers',
    at: Date.now(),
    offers: [
      {
        offerId: offerId(`maint-offer-${offerSequence}`),
        frameworkId: toFrameworkId(client.frameworkId),
        agentId: A1,
        role: '*',
        resources: free,
      },
    ],
  });
  assert.ok(result.ok, JSON.stringify(result));
  return (await client.nextOf('OFFERS')).offers.offers[0]!;
}

const offersOf = (client: SchedulerClient): string[] =>
  [...cluster.master.facade.state().offers.values()]
    .filter((offer) => offer.frameworkId === client.frameworkId)
    .map((offer) => offer.id);

/** GET_MAINTENANCE_STATUS's statuses for our machine (null when it is not draining). */
async function statusesOfMachine(): Promise<readonly Operator.InverseOfferStatus[] | null> {
  const { status } = await read(cluster, 'GET_MAINTENANCE_STATUS');
  const draining = status.draining_machines.find((entry) => entry.id.hostname === machine.hostname);
  return draining === undefined ? null : draining.statuses;
}

test.before(async () => {
  cluster = await startSingleMaster();
  const { result } = await cluster.master.facade.submit(
    registerAgent(A1, { hostname: machine.hostname, address: { ip: machine.ip, port: agentPort } }),
  );
  assert.ok(result.ok, JSON.stringify(result));
  busy = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'busy' }));
  const offer = await nextOffer(busy);
  // The idle framework must use nothing on A1: it asks for no offers before busy's ACCEPT frees
  // part of the agent, and declines any it got meanwhile.
  idle = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'idle' }));
  await idle.callOk('SUPPRESS');
  await waitFor(
    async () => {
      const held = offersOf(idle);
      if (held.length > 0)
        await idle.callOk('DECLINE', {
          decline: { offer_ids: held.map((id) => ({ value: id })), filters: { refuse_seconds: 3600 } },
        });
      return held.length === 0;
    },
    { timeoutMs: 10_000, what: 'the idle framework to hold no offers' },
  );
  const launch = {
    type: 'LAUNCH',
    launch: {
      task_infos: [
        {
          name: 'stays',
          task_id: { value: 'stays' },
          agent_id: offer.agent_id,
          command: { value: 'sleep 1000' },
          resources: [
            { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
            { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
          ],
        },
      ],
    },
  };
  await busy.callOk('ACCEPT', {
    accept: { offer_ids: [offer.id], operations: [launch], filters: { refuse_seconds: 3600 } },
  });
  assert.ok(
    [...cluster.master.facade.state().tasks.values()].some(
      (task) => task.agentId === A1 && task.frameworkId === busy.frameworkId,
    ),
  );
});

test.after(async () => {
  busy?.close();
  idle?.close();
  await cluster.stop();
});

let inverseOfferId = '';

test('scheduling the machine sends INVERSE_OFFERS to the framework with a task there, and to no other', async () => {
  assert.equal(offersOf(idle), [], 'the idle framework uses nothing on the agent');
  await writeOk(cluster, updateSchedule([window(2 * hourMs)]));
  const event = await busy.nextOf('INVERSE_OFFERS');
  const offers = event.inverse_offers.inverse_offers;
  assert.is(offers.length, 1);
  const inverse = offers[0]!;
  assert.match(inverse.id.value, /^inverse-[0-9a-f]{24}$/);
  assert.equal(inverse.framework_id, { value: busy.frameworkId });
  assert.equal(inverse.agent_id, { value: A1 });
  assert.equal(inverse.url, {
    scheme: 'http',
    address: { hostname: machine.hostname, ip: machine.ip, port: agentPort },
    path: '/slave(1)',
  });
  assert.equal(inverse.unavailability, {
    start: { nanoseconds: windowStartMs * nanosecondsPerMillisecond },
    duration: { nanoseconds: 2 * hourMs * nanosecondsPerMillisecond },
  });
  inverseOfferId = inverse.id.value;
  // Both streams are brought up to date in the same round, and every inverse offer sent and not
  // answered is listed as UNKNOWN: the idle framework has none. (Its stream is checked in the
  // last test: the first INVERSE_OFFERS it ever receives is for a later window.)
  const statuses = await statusesOfMachine();
  assert.equal(
    statuses!.map((status) => status.framework_id.value),
    [busy.frameworkId],
    'a framework with nothing on the agent gets no inverse offer',
  );
});

test('GET_MAINTENANCE_STATUS: UNKNOWN until the framework answers', async () => {
  const statuses = await statusesOfMachine();
  assert.is(statuses?.length, 1, JSON.stringify(statuses));
  const only = statuses![0]!;
  assert.is(only.status, 'UNKNOWN');
  assert.equal(only.framework_id, { value: busy.frameworkId });
  assert.type(only.timestamp.nanoseconds, 'number');
  assert.equal(
    Object.keys(only).sort(),
    ['framework_id', 'status', 'timestamp'],
    'the fields of allocator.proto InverseOfferStatus',
  );
});

test('ACCEPT_INVERSE_OFFERS → ACCEPT; DECLINE_INVERSE_OFFERS → DECLINE; unknown or foreign ids are ignored', async () => {
  const before = Date.now();
  await busy.callOk('ACCEPT_INVERSE_OFFERS', {
    accept_inverse_offers: { inverse_offer_ids: [{ value: inverseOfferId }] },
  });
  let statuses = await statusesOfMachine();
  assert.equal(
    statuses!.map((status) => [status.status, status.framework_id.value]),
    [['ACCEPT', busy.frameworkId]],
  );
  assert.ok(statuses![0]!.timestamp.nanoseconds >= before * nanosecondsPerMillisecond, 'stamped when the answer came');

  await busy.callOk('DECLINE_INVERSE_OFFERS', {
    decline_inverse_offers: { inverse_offer_ids: [{ value: inverseOfferId }], filters: { refuse_seconds: 60 } },
  });
  statuses = await statusesOfMachine();
  assert.equal(
    statuses!.map((status) => [status.status, status.framework_id.value]),
    [['DECLINE', busy.frameworkId]],
  );

  // As master.cpp: an answer to an inverse offer that is not (or no longer) the caller's is ignored, with a 202.
  await busy.callOk('ACCEPT_INVERSE_OFFERS', {
    accept_inverse_offers: { inverse_offer_ids: [{ value: 'inverse-000000000000000000000000' }] },
  });
  await idle.callOk('ACCEPT_INVERSE_OFFERS', {
    accept_inverse_offers: { inverse_offer_ids: [{ value: inverseOfferId }] },
  });
  statuses = await statusesOfMachine();
  assert.equal(
    statuses!.map((status) => [status.status, status.framework_id.value]),
    [['DECLINE', busy.frameworkId]],
  );
});

test('an offer from the draining machine carries its unavailability', async () => {
  const offer = await makeOffer(busy);
  assert.is(offer.agent_id.value, A1);
  assert.equal(offer.unavailability, {
    start: { nanoseconds: windowStartMs * nanosecondsPerMillisecond },
    duration: { nanoseconds: 2 * hourMs * nanosecondsPerMillisecond },
  });
  await busy.callOk('DECLINE', { decline: { offer_ids: [offer.id], filters: { refuse_seconds: 3600 } } });
});

test('bad ACCEPT/DECLINE_INVERSE_OFFERS bodies are 400 and change nothing', async () => {
  const cases: Record<string, unknown>[] = [
    {},
    { accept_inverse_offers: 'yes' },
    { accept_inverse_offers: { inverse_offer_ids: 'x' } },
    { accept_inverse_offers: { inverse_offer_ids: [{}] } },
    { accept_inverse_offers: { inverse_offer_ids: [{ value: 'has spaces' }] } },
    { accept_inverse_offers: { inverse_offer_ids: [{ value: 7 }] } },
    { accept_inverse_offers: { inverse_offer_ids: [{ value: inverseOfferId }], filters: { refuse_seconds: -1 } } },
    { accept_inverse_offers: { inverse_offer_ids: [{ value: inverseOfferId }], filters: { refuse_seconds: 'soon' } } },
  ];
  for (const body of cases) {
    for (const type of ['ACCEPT_INVERSE_OFFERS', 'DECLINE_INVERSE_OFFERS']) {
      const renamed = Object.fromEntries(
        Object.entries(body).map(([key, value]) => [
          key.replace('accept_', `${type.split('_')[0]!.toLowerCase()}_`),
          value,
        ]),
      );
      const answer = await busy.call(type, renamed);
      assert.is(
        answer.status,
        400,
        `${type} ${JSON.stringify(renamed)} → ${answer.status} ${JSON.stringify(answer.body)}`,
      );
      assert.is(errorOf(answer.body).code, 'INVALID_BODY');
    }
  }
  const statuses = await statusesOfMachine();
  assert.equal(
    statuses!.map((status) => status.status),
    ['DECLINE'],
  );
});

test('a changed window rescinds the inverse offer and sends a new one; the old answer is forgotten', async () => {
  await writeOk(cluster, updateSchedule([window(3 * hourMs)]));
  const rescind = await busy.nextOf('RESCIND_INVERSE_OFFER');
  assert.equal(rescind.rescind_inverse_offer, { inverse_offer_id: { value: inverseOfferId } });
  const event = await busy.nextOf('INVERSE_OFFERS');
  const inverse = event.inverse_offers.inverse_offers[0]!;
  assert.is.not(inverse.id.value, inverseOfferId);
  assert.equal(inverse.unavailability.duration, { nanoseconds: 3 * hourMs * nanosecondsPerMillisecond });
  inverseOfferId = inverse.id.value;
  const statuses = await statusesOfMachine();
  assert.equal(
    statuses!.map((status) => status.status),
    ['UNKNOWN'],
    'Mesos resets the statuses when the unavailability changes',
  );
  await busy.callOk('ACCEPT_INVERSE_OFFERS', {
    accept_inverse_offers: { inverse_offer_ids: [{ value: inverseOfferId }] },
  });
  assert.equal(
    (await statusesOfMachine())!.map((status) => status.status),
    ['ACCEPT'],
  );
});

test('taking the machine out of the schedule rescinds the inverse offer', async () => {
  await writeOk(cluster, updateSchedule([]));
  const rescind = await busy.nextOf('RESCIND_INVERSE_OFFER');
  assert.equal(rescind.rescind_inverse_offer, { inverse_offer_id: { value: inverseOfferId } });
  assert.is(await statusesOfMachine(), null);
  assert.equal((await read(cluster, 'GET_MAINTENANCE_STATUS')).status, { draining_machines: [], down_machines: [] });
});

test('an answer does not outlive the window: scheduling the machine again starts from UNKNOWN', async () => {
  await writeOk(cluster, updateSchedule([window(3 * hourMs)]));
  const inverse = (await busy.nextOf('INVERSE_OFFERS')).inverse_offers.inverse_offers[0]!;
  assert.is(inverse.id.value, inverseOfferId, 'the same (agent, framework, unavailability): the same id');
  assert.equal(
    (await statusesOfMachine())!.map((status) => status.status),
    ['UNKNOWN'],
  );
  await writeOk(cluster, updateSchedule([]));
  await busy.nextOf('RESCIND_INVERSE_OFFER');
});

test('an offer on a scheduled agent brings an inverse offer before the next heartbeat; giving it back rescinds it', async () => {
  await writeOk(cluster, updateSchedule([window(hourMs)]));
  await busy.nextOf('INVERSE_OFFERS');
  const offer = await makeOffer(idle);
  assert.ok(offer.unavailability !== undefined, 'the offer says the machine is scheduled');
  // The heartbeat (15 s) also refreshes inverse offers: this must come sooner, from the offer itself.
  const inverse = (await idle.nextOf('INVERSE_OFFERS', () => true, 5000)).inverse_offers.inverse_offers[0]!;
  assert.equal([inverse.framework_id.value, inverse.agent_id?.value], [idle.frameworkId, A1]);
  assert.equal(
    inverse.unavailability.duration,
    { nanoseconds: hourMs * nanosecondsPerMillisecond },
    'the first inverse offer the idle framework ever got',
  );
  assert.equal(
    (await statusesOfMachine())!.map((status) => [status.status, status.framework_id.value]).sort(),
    [
      ['UNKNOWN', busy.frameworkId],
      ['UNKNOWN', idle.frameworkId],
    ].sort(),
  );
  await idle.callOk('DECLINE', { decline: { offer_ids: [offer.id], filters: { refuse_seconds: 3600 } } });
  const rescind = await idle.nextOf('RESCIND_INVERSE_OFFER', () => true, 5000);
  assert.equal(rescind.rescind_inverse_offer, { inverse_offer_id: inverse.id });
  await writeOk(cluster, updateSchedule([]));
  await busy.nextOf('RESCIND_INVERSE_OFFER');
});

test('GET_MAINTENANCE_STATUS on a follower: 307 to the leader, which holds the answers', async () => {
  const follower = followerFacade({
    inverseOfferStatuses: () => assert.unreachable('a follower must not answer from its own memory'),
  });
  await assertRedirectedToLeader(follower, 'GET_MAINTENANCE_STATUS');
});

test.run();
