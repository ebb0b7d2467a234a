// Operator SUBSCRIBE streams (master.proto Event; operator-http-api.md "Events"): each subscriber
// gets SUBSCRIBED with a snapshot of the state, a HEARTBEAT at once and then every
// `heartbeatIntervalSeconds`, and the Mesos-named change events in apply order, as RecordIO
// records of ASCII JSON, one record per HTTP chunk.
//
// One listener on the master serves every subscriber: an event is converted and encoded once.
// Bounded twice: at most `maxSubscribers` streams, and at most `maxQueuedBytes` of events
// waiting for one subscriber's socket; a subscriber that falls further behind is disconnected
// (it resubscribes and starts from a fresh snapshot), never buffered without end.
import { Readable } from 'node:stream';
import { asciiJson } from '../../protocol/ascii-json.ts';
import type * as Operator from '../../protocol/operator.ts';
import { encodeRecord } from '../../protocol/recordio.ts';
import type { ChangeEvent } from '../../state-machine/events.ts';
import { HttpError } from '../errors.ts';
import type { MasterFacade } from '../facade.ts';
import { retryAfterSeconds } from '../leader.ts';
import { heartbeatEvent, mesosEvent, subscribedEvent } from './mesos-events.ts';

export interface SubscriptionLimits {
  readonly maxSubscribers: number;
  /** Bytes of event records waiting for one subscriber's socket (the snapshot is not counted). */
  readonly maxQueuedBytes: number;
  readonly heartbeatIntervalSeconds: number;
}

const millisecondsPerSecond = 1000;
/** Room for a few heartbeats at least, or no subscriber could ever keep up. */
const minQueuedBytes = 1024;

const eventRecord = (event: Operator.Event): Uint8Array => encodeRecord(asciiJson(event));

/**
 * One stream, fed from its own queue when its reader asks (`read`), so the queue holds exactly
 * what the socket has not taken yet and can be bounded in bytes. A burst from one apply (a
 * torn-down framework's thousand TASK_UPDATEDs) fits; a reader that stops reading does not.
 */
class Subscriber {
  readonly stream: Readable;
  readonly #queue: Uint8Array[];
  /** Event bytes in the queue; the snapshot at its head is not counted. */
  #queuedBytes = 0;
  #snapshotQueued = true;
  /** The reader asked for more and got nothing yet: the next record goes straight out. */
  #reading = false;
  /** Ends once the queue is drained; nothing more is queued. */
  #ending = false;

  constructor(private readonly maxQueuedBytes: number, snapshot: Uint8Array) {
    this.#queue = [snapshot];
    // objectMode: every record stays one chunk on its way to the socket.
    this.stream = new Readable({ objectMode: true, highWaterMark: 1, read: () => this.#flush() });
    // The one error a subscriber stream has is our own slow-reader disconnect, which fastify
    // logs once it pipes the stream; until then, an 'error' with no listener must not crash.
    this.stream.on('error', () => {});
  }

  send(record: Uint8Array): void {
    if (this.stream.destroyed || this.#ending) return;
    if (this.#queuedBytes + record.byteLength > this.maxQueuedBytes) {
      this.#queue.length = 0;
      this.stream.destroy(new Error(`an operator event subscriber fell more than ${this.maxQueuedBytes} bytes behind and was disconnected`));
      return;
    }
    this.#queue.push(record);
    this.#queuedBytes += record.byteLength;
    if (this.#reading) this.#flush();
  }

  /** Ends the stream after what is already queued. */
  end(): void {
    if (this.stream.destroyed || this.#ending) return;
    this.#ending = true;
    if (this.#reading) this.#flush();
  }

  #flush(): void {
    this.#reading = true;
    while (this.#queue.length > 0) {
      const record = this.#queue.shift()!;
      if (this.#snapshotQueued) this.#snapshotQueued = false;
      else this.#queuedBytes -= record.byteLength;
      if (!this.stream.push(record)) {
        this.#reading = false;
        return;
      }
    }
    if (this.#ending) this.stream.push(null);
  }
}

export class OperatorSubscriptions {
  readonly #subscribers = new Set<Subscriber>();
  #stopListening: (() => void) | null = null;
  #heartbeatTimer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly master: MasterFacade, private readonly limits: SubscriptionLimits) {
    if (!(limits.maxSubscribers > 0 && limits.maxQueuedBytes >= minQueuedBytes && limits.heartbeatIntervalSeconds > 0)) {
      throw new RangeError(`subscription limits must be positive, with at least ${minQueuedBytes} queued bytes: ${JSON.stringify(limits)}`);
    }
  }

  get count(): number {
    return this.#subscribers.size;
  }

  /** A new stream, already holding SUBSCRIBED and a HEARTBEAT; throws 429 when full. */
  open(): Readable {
    if (this.#subscribers.size >= this.limits.maxSubscribers) {
      throw new HttpError('TOO_MANY_REQUESTS', `at most ${this.limits.maxSubscribers} operator event streams may be open at once`, {
        'retry-after': retryAfterSeconds,
      });
    }
    // The snapshot and the registration happen in one synchronous step. Apply is synchronous
    // too, so every change is either in the snapshot or delivered as an event, never neither.
    const snapshot = eventRecord(subscribedEvent(this.master.state(), this.limits.heartbeatIntervalSeconds));
    this.#startListening();
    const subscriber = new Subscriber(this.limits.maxQueuedBytes, snapshot);
    subscriber.send(eventRecord(heartbeatEvent));
    this.#subscribers.add(subscriber);
    subscriber.stream.once('close', () => this.#remove(subscriber));
    return subscriber.stream;
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    for (const subscriber of [...this.#subscribers]) subscriber.end();
    this.#stopListeningNow();
  }

  #remove(subscriber: Subscriber): void {
    this.#subscribers.delete(subscriber);
    if (this.#subscribers.size === 0) this.#stopListeningNow();
  }

  #startListening(): void {
    if (this.#stopListening !== null) return;
    this.#stopListening = this.master.onChange((event) => this.#onChange(event));
    const heartbeat = eventRecord(heartbeatEvent);
    this.#heartbeatTimer = setInterval(() => this.#broadcast(heartbeat), this.limits.heartbeatIntervalSeconds * millisecondsPerSecond);
    this.#heartbeatTimer.unref();
  }

  #stopListeningNow(): void {
    this.#stopListening?.();
    this.#stopListening = null;
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  /** Runs inside the state machine's apply: converts once, queues, never blocks or throws on I/O. */
  #onChange(event: ChangeEvent): void {
    if (event.type === 'STATE_RESTORED') {
      // A snapshot replaced the whole state: the subscribers' view no longer adds up. Mesos
      // clients resubscribe when a stream ends, and get a fresh SUBSCRIBED.
      for (const subscriber of [...this.#subscribers]) subscriber.end();
      return;
    }
    const converted = mesosEvent(event, this.master.state());
    if (converted !== null) this.#broadcast(eventRecord(converted));
  }

  #broadcast(record: Uint8Array): void {
    for (const subscriber of [...this.#subscribers]) subscriber.send(record);
  }
}
