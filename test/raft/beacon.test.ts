// The liveness beacon's threads (src/raft/beacon.ts): real worker threads and real UDP on
// loopback. Progress is counted in the threads' own intervals (the shared counters), never in
// wall time: a loaded machine only makes the waits longer.
import { createSocket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Beacon, type BeaconOptions } from '../../src/raft/beacon.ts';
import { beaconKey, decodeBeacon, encodeBeacon } from '../../src/raft/beacon-datagram.ts';
import { nodeId } from '../../src/raft/types.ts';
import { waitFor } from '../support/wait.ts';

const secret = 'beacon-test-secret';
const host = '127.0.0.1';
const waitMs = 60_000;

function start(self: string, options: Partial<BeaconOptions> = {}): Beacon {
  return Beacon.start({
    self: nodeId(self),
    secret,
    host,
    preferredPort: 0,
    intervalMs: 10,
    boundMs: 50,
    // Far longer than any test runs: freshness here is about which leader and term, not time.
    freshMs: 600_000,
    onFailed: (message) => {
      throw new Error(`beacon ${self} failed: ${message}`);
    },
    ...options,
  });
}

async function bound(beacon: Beacon): Promise<number> {
  return waitFor(() => beacon.port(), { timeoutMs: waitMs, what: 'the beacon thread to bind its port' });
}

test('datagram: what is encoded decodes; a changed byte or another secret does not', () => {
  const key = beaconKey(secret);
  const packet = encodeBeacon(key, { from: 'm1', term: 7, sequence: 42 });
  assert.equal(decodeBeacon(key, packet), { from: 'm1', term: 7, sequence: 42 });
  for (let position = 0; position < packet.length; position++) {
    const tampered = Buffer.from(packet);
    tampered[position] = tampered[position]! ^ 1;
    assert.is(decodeBeacon(key, tampered), null, `byte ${position} flipped`);
  }
  assert.is(decodeBeacon(beaconKey('another-secret'), packet), null);
  assert.is(decodeBeacon(key, packet.subarray(0, packet.length - 1)), null);
});

test('a leader beacons while its main loop turns, and stops once it stood still past the bound', async () => {
  const follower = start('m2');
  const leader = start('m1');
  const bumping = setInterval(() => leader.bump(), 2);
  try {
    const port = await bound(follower);
    follower.follow(nodeId('m1'), 3);
    leader.lead(3, [{ host, port }]);
    await waitFor(() => follower.counts().received >= 3, { timeoutMs: waitMs, what: 'three beacons received' });
    assert.ok(follower.fresh(), 'a received beacon of the followed leader is fresh');

    // The main loop stops turning: after the bound (5 intervals) the thread withholds its beacons.
    clearInterval(bumping);
    await waitFor(() => leader.counts().withheld >= 1, { timeoutMs: waitMs, what: 'a withheld beacon' });
    const sent = leader.counts().sent;
    const withheld = leader.counts().withheld;
    await waitFor(() => leader.counts().withheld >= withheld + 5, { timeoutMs: waitMs, what: 'five more intervals' });
    assert.is(leader.counts().sent, sent, 'no beacon while the main loop stands still');

    // It turns again: beacons resume.
    leader.bump();
    await waitFor(() => leader.counts().sent > sent, { timeoutMs: waitMs, what: 'beacons to resume' });
  } finally {
    clearInterval(bumping);
    await Promise.all([leader.close(), follower.close()]);
  }
});

test('a follower takes only the followed leader and term, each sequence once, and only with the secret', async () => {
  const follower = start('m2');
  const sender = createSocket('udp4');
  const key = beaconKey(secret);
  const send = (packet: Buffer, port: number) =>
    new Promise<void>((resolve, reject) =>
      sender.send(packet, port, host, (error) => (error ? reject(error) : resolve())),
    );
  try {
    const port = await bound(follower);
    follower.follow(nodeId('m1'), 3);
    await send(encodeBeacon(key, { from: 'm1', term: 3, sequence: 5 }), port);
    await waitFor(() => follower.counts().received === 1, { timeoutMs: waitMs, what: 'the first beacon' });
    assert.ok(follower.fresh());

    const refusals = [
      encodeBeacon(key, { from: 'm1', term: 3, sequence: 5 }), // replayed
      encodeBeacon(key, { from: 'm1', term: 3, sequence: 4 }), // older
      encodeBeacon(key, { from: 'm1', term: 2, sequence: 9 }), // a deposed leader's term
      encodeBeacon(key, { from: 'm3', term: 3, sequence: 9 }), // not the followed leader
      encodeBeacon(beaconKey('forged'), { from: 'm1', term: 3, sequence: 9 }), // no secret
    ];
    for (const packet of refusals) await send(packet, port);
    await waitFor(() => follower.counts().refused === refusals.length, { timeoutMs: waitMs, what: 'every refusal' });
    assert.is(follower.counts().received, 1);

    await send(encodeBeacon(key, { from: 'm1', term: 3, sequence: 6 }), port);
    await waitFor(() => follower.counts().received === 2, { timeoutMs: waitMs, what: 'the next beacon' });

    // A new leader: the old one's arrival is not taken for the new one's.
    follower.follow(nodeId('m3'), 4);
    assert.not.ok(follower.fresh());
  } finally {
    sender.close();
    await follower.close();
  }
});

test.run();
