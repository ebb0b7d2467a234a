// The tasks workload takes only an offer its task fits in: one too small would be ACCEPTed and
// rightly refused by the master (a failed launch that says nothing about the masters), and held
// in the pool it would keep its resources from the allocator. Smaller offers are declined.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { matchOffer } from '../../src/frameworks/sdk/offer-matching.ts';
import type { Offer } from '../../src/protocol/mesos.ts';
import { SeededRandom } from '../../src/raft/random.ts';
import { SchedulerClient } from './client/scheduler-client.ts';

const offers = suite('scheduler client offers');

function offer(id: string, cpus: number, mem: number): Offer {
  const scalar = (name: string, value: number) => ({
    name,
    type: 'SCALAR' as const,
    scalar: { value },
    allocation_info: { role: '*' },
  });
  return {
    id: { value: id },
    framework_id: { value: 'f' },
    agent_id: { value: 'a' },
    hostname: 'localhost',
    url: { scheme: 'http', address: { hostname: 'localhost', ip: '127.0.0.1', port: 5051 } },
    resources: [scalar('cpus', cpus), scalar('mem', mem)],
    attributes: [],
    allocation_info: { role: '*' },
  };
}

function client(): SchedulerClient {
  const book = {
    nodeAt: () => undefined,
    endpoint: () => {
      throw new Error('no stream is open, so nothing may be sent');
    },
  };
  return new SchedulerClient(book, () => [], new SeededRandom(1), 'offers-test');
}

offers('an offer too small for the task is declined and the first one it fits in is taken', async () => {
  const scheduler = client();
  scheduler.offers.set('small', offer('small', 0.05, 512));
  scheduler.offers.set('no-memory', offer('no-memory', 1, 8));
  scheduler.offers.set('big', offer('big', 1, 512));
  scheduler.offers.set('later', offer('later', 1, 512));
  const taken = await scheduler.takeOffer(
    5_000,
    (candidate) => matchOffer(candidate, { cpus: 0.1, memMb: 16 }) !== null,
  );
  assert.is(taken?.id.value, 'big');
  assert.equal([...scheduler.offers.keys()], ['later']);
  scheduler.close();
});

offers('with no offer that fits, nothing is taken once the wait is over', async () => {
  const scheduler = client();
  scheduler.offers.set('small', offer('small', 0.05, 512));
  assert.is(await scheduler.takeOffer(20, () => false), null);
  assert.is(scheduler.offers.size, 0);
  scheduler.close();
});

offers.run();
