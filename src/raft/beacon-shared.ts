// What the beacon's two threads share (beacon.ts, beacon-thread.ts): the layout of the
// SharedArrayBuffer, the messages between them, and the clock both read.

/** Int32 slots at the start of the shared buffer. */
export const slot = {
  /** Bumped by the main thread each tick: it is turning. */
  turns: 0,
  /** The follow request the thread took last; arrival belongs to it. */
  generation: 1,
  /** Intervals in which the thread sent a beacon. */
  sent: 2,
  /** Intervals in which it led but sent none: the main thread stood still past the bound. */
  withheld: 3,
  /** Datagrams taken from the followed leader. */
  received: 4,
  /** Datagrams refused: not a beacon of this cluster, not the followed leader or term, or replayed. */
  refused: 5,
  count: 6,
} as const;

/** The arrival time (epoch microseconds, 0: none) of the followed leader's latest beacon. */
export const arrivalSlot = { byteOffset: 32 } as const;
export const sharedBytes = 40;

export interface BeaconThreadData {
  readonly self: string;
  readonly shared: SharedArrayBuffer;
  readonly key: Uint8Array;
  readonly host: string;
  readonly preferredPort: number;
  readonly intervalMs: number;
  readonly boundMs: number;
}

export type BeaconRequest =
  | { readonly type: 'lead'; readonly term: number; readonly targets: readonly { host: string; port: number }[] }
  | { readonly type: 'follow'; readonly leader: string | null; readonly term: number; readonly generation: number }
  | { readonly type: 'close' };

export type BeaconReply =
  | { readonly type: 'bound'; readonly port: number }
  | { readonly type: 'failed'; readonly message: string };

/**
 * Wall-clock microseconds since the epoch: each thread's performance.now() counts from its own
 * origin, so both add it to timeOrigin to compare instants.
 */
export function epochMicros(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}
