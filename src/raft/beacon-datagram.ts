// The liveness beacon's datagram (beacon.ts): who sends it, for which term, in which order, and
// a MAC with a key derived from the cluster secret. Without the MAC anyone who can send a UDP
// packet to a follower could keep it from replacing a dead leader (up to beaconBoundTicks, which
// the core enforces whatever arrives); the sequence keeps a captured datagram from being replayed
// to the same follower for the same leader and term (beacon-thread.ts refuses one not above the
// last it took).
//
//   "FB" 1 | id length (1 byte) | id (UTF-8) | term (float64 BE) | sequence (uint32 BE) | MAC (16 bytes)
import { createHmac, timingSafeEqual } from 'node:crypto';

const magic0 = 0x46; // 'F'
const magic1 = 0x42; // 'B'
const version = 1;
const macBytes = 16;
const maxIdBytes = 255;

export interface BeaconDatagram {
  readonly from: string;
  readonly term: number;
  readonly sequence: number;
}

/** The beacon's key: its own, so a beacon's MAC never doubles as proof of anything else. */
export function beaconKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('flotilla raft liveness beacon 1').digest();
}

export function encodeBeacon(key: Buffer, datagram: BeaconDatagram): Buffer {
  const id = Buffer.from(datagram.from, 'utf8');
  if (id.length === 0 || id.length > maxIdBytes) throw new Error(`beacon: member id of ${id.length} bytes`);
  const body = Buffer.alloc(4 + id.length + 12);
  body[0] = magic0;
  body[1] = magic1;
  body[2] = version;
  body[3] = id.length;
  id.copy(body, 4);
  body.writeDoubleBE(datagram.term, 4 + id.length);
  body.writeUInt32BE(datagram.sequence >>> 0, 12 + id.length);
  return Buffer.concat([body, mac(key, body)]);
}

/** null: not a beacon of this cluster (wrong shape, version or MAC). */
export function decodeBeacon(key: Buffer, packet: Buffer): BeaconDatagram | null {
  if (packet.length < 4 + 1 + 12 + macBytes) return null;
  if (packet[0] !== magic0 || packet[1] !== magic1 || packet[2] !== version) return null;
  const idLength = packet[3]!;
  const bodyLength = 4 + idLength + 12;
  if (idLength === 0 || packet.length !== bodyLength + macBytes) return null;
  const body = packet.subarray(0, bodyLength);
  if (!timingSafeEqual(mac(key, body), packet.subarray(bodyLength))) return null;
  const term = body.readDoubleBE(4 + idLength);
  if (!Number.isSafeInteger(term) || term < 0) return null;
  return {
    from: body.toString('utf8', 4, 4 + idLength),
    term,
    sequence: body.readUInt32BE(12 + idLength),
  };
}

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest().subarray(0, macBytes);
}
