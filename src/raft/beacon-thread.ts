// The body of the liveness beacon's worker thread (beacon.ts starts it and says why). Its own
// isolate and event loop: the main thread's GC pauses and long turns do not hold it, so a leader
// that only stalls keeps beaconing, and a follower's arrival times are taken when datagrams land.
//
// Leading: every interval, one datagram to each target, while the main thread's turn counter
// moved within the bound (a main loop stuck for longer, livelocked or wedged, must be deposed).
// Following: a datagram from the followed leader for its term, with a sequence above the last
// taken, stamps the arrival time the main thread reads.
import { createSocket, type Socket } from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';
import { decodeBeacon, encodeBeacon } from './beacon-datagram.ts';
import {
  arrivalSlot,
  type BeaconReply,
  type BeaconRequest,
  type BeaconThreadData,
  epochMicros,
  slot,
} from './beacon-shared.ts';

const port = parentPort;
if (port === null) throw new Error('beacon-thread.ts runs only as a worker thread');
const data = workerData as BeaconThreadData;
const counters = new Int32Array(data.shared, 0, slot.count);
const arrival = new BigInt64Array(data.shared, arrivalSlot.byteOffset, 1);
const key = Buffer.from(data.key);
/** Intervals in a row the main thread's counter may stand still before beaconing stops. */
const boundIntervals = Math.max(1, Math.ceil(data.boundMs / data.intervalMs));

let leading: { term: number; targets: readonly { host: string; port: number }[] } | null = null;
let following: { leader: string; term: number; lastSequence: number } | null = null;
let sequence = 0;
let lastTurns = Atomics.load(counters, slot.turns);
let stillIntervals = 0;

const socket = bind(data.host, data.preferredPort);

function bind(host: string, preferred: number): Socket {
  const udp = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  let fellBack = false;
  udp.on('error', (error: NodeJS.ErrnoException) => {
    // The preferred port (the Raft port's number) is taken: any port, said in later handshakes.
    if (!fellBack && preferred !== 0 && error.code === 'EADDRINUSE') {
      fellBack = true;
      udp.bind(0, host);
      return;
    }
    port!.postMessage({ type: 'failed', message: error.message } satisfies BeaconReply);
  });
  udp.on('listening', () => port!.postMessage({ type: 'bound', port: udp.address().port } satisfies BeaconReply));
  udp.on('message', (packet) => receive(packet));
  udp.bind(preferred, host);
  return udp;
}

function receive(packet: Buffer): void {
  const beacon = decodeBeacon(key, packet);
  if (
    beacon === null ||
    following === null ||
    beacon.from !== following.leader ||
    beacon.term !== following.term ||
    beacon.sequence <= following.lastSequence
  ) {
    Atomics.add(counters, slot.refused, 1);
    return;
  }
  following.lastSequence = beacon.sequence;
  Atomics.store(arrival, 0, epochMicros());
  Atomics.add(counters, slot.received, 1);
}

const timer = setInterval(() => {
  const turns = Atomics.load(counters, slot.turns);
  stillIntervals = turns === lastTurns ? stillIntervals + 1 : 0;
  lastTurns = turns;
  if (leading === null) return;
  if (stillIntervals >= boundIntervals) {
    Atomics.add(counters, slot.withheld, 1);
    return;
  }
  sequence = (sequence + 1) >>> 0;
  const datagram = encodeBeacon(key, { from: data.self, term: leading.term, sequence });
  for (const target of leading.targets) socket.send(datagram, target.port, target.host);
  Atomics.add(counters, slot.sent, 1);
}, data.intervalMs);

port.on('message', (request: BeaconRequest) => {
  switch (request.type) {
    case 'lead':
      leading = { term: request.term, targets: request.targets };
      following = null;
      return;
    case 'follow':
      leading = null;
      following = request.leader === null ? null : { leader: request.leader, term: request.term, lastSequence: -1 };
      // Cleared before the generation is published: the main thread never pairs the new
      // generation with the previous leader's arrival.
      Atomics.store(arrival, 0, 0n);
      Atomics.store(counters, slot.generation, request.generation);
      return;
    case 'close':
      clearInterval(timer);
      try {
        socket.close(() => port.close());
      } catch {
        port.close(); // never bound, or closed after an error
      }
      return;
  }
});
