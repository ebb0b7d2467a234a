// Operator SUBSCRIBE streams (master.proto Event; operator-http-api.md "Events"): each subscriber
// gets SUBSCRIBED with a snapshot of the state, a HEARTBEAT at once and then every
// `heartbeatIntervalSeconds`, and the Mesos-named change events in apply order, as RecordIO
// records of ASCII JSON, one record per HTTP chunk (a SUBSCRIBED larger than 1 MiB spans several).
//
// SUBSCRIBED's state is captured at once and written in slices (state-json.ts), so a large state
// does not hold the event loop; events applied meanwhile wait behind it in the stream.
//
// One listener on the master serves every subscriber: an event is converted and encoded once,
// and sent to each subscriber that may see what it is about (visibility.ts: view_tasks,
// view_frameworks), as Mesos filters its operator stream per subscriber; the SUBSCRIBED
// snapshot is filtered the same way.
// Bounded twice: at most `maxSubscribers` streams, and at most `maxQueuedBytes` of events
// waiting for one subscriber's socket; a subscriber that falls further behind is disconnected
// (it resubscribes and starts from a fresh snapshot), never buffered without end.
import type { Readable } from 'node:stream';
import { asciiJson } from '../../protocol/ascii-json.ts';
import type * as Operator from '../../protocol/operator.ts';
import { encodeRecord } from '../../protocol/recordio.ts';
import type { ChangeEvent } from '../../state-machine/events.ts';
import { HttpError } from '../errors.ts';
import type { MasterCore } from '../../master/interface.ts';
import { retryAfterSeconds } from '../limits.ts';
import { RecordStream } from '../record-stream.ts';
import { collectInSlices } from '../sliced-body.ts';
import { heartbeatEvent, mesosEvent } from './mesos-events.ts';
import { type CapturedView, captureView, getStateJson } from './state-json.ts';
import { seeEverything, type Visibility } from './visibility.ts';

export interface SubscriptionLimits {
  readonly maxSubscribers: number;
  /** Streams of one authenticated principal; anonymous and the cluster count against the total only. */
  readonly maxSubscribersPerPrincipal: number;
  /** Bytes of event records waiting for one subscriber's socket (the snapshot is not counted). */
  readonly maxQueuedBytes: number;
  readonly heartbeatIntervalSeconds: number;
}

const millisecondsPerSecond = 1000;
/** Room for a few heartbeats at least, or no subscriber could ever keep up. */
const minQueuedBytes = 1024;

const eventRecord = (event: Operator.Event): Uint8Array => encodeRecord(asciiJson(event));

/**
 * The SUBSCRIBED record (mesos-events.ts `subscribedEvent`, the same bytes), as chunks: made in
 * slices (sliced-body.ts), the length line in front of the first chunk. A small state makes one
 * chunk (one record per HTTP chunk, as every other event); a large one spans several (joining
 * 50 MB into one chunk held the loop for long). ASCII JSON, so bytes are characters.
 */
export async function subscribedRecord(view: CapturedView, heartbeatIntervalSeconds: number): Promise<Uint8Array[]> {
  function* text(): Generator<string> {
    yield '{"type":"SUBSCRIBED","subscribed":{"get_state":';
    yield* getStateJson(view);
    yield `,"heartbeat_interval_seconds":${heartbeatIntervalSeconds}}}`;
  }
  const chunks = await collectInSlices(text());
  const length = chunks.reduce((total, chunk) => total + chunk.byteLength, 0);
  const first = Buffer.concat([Buffer.from(`${length}\n`, 'utf8'), chunks[0] ?? Buffer.alloc(0)]);
  return [first, ...chunks.slice(1)];
}

interface Subscriber {
  readonly stream: RecordStream;
  readonly visibility: Visibility;
  /** The authenticated principal that opened it, or null. */
  readonly principal: string | null;
}

/** Whether a subscriber may see what `event` is about: its task or framework; agents are for everyone. */
function mayView(visibility: Visibility, event: ChangeEvent): boolean {
  if (visibility.everything) return true;
  switch (event.type) {
    case 'TASK_ADDED':
    case 'TASK_UPDATED':
      return visibility.task(event.task);
    case 'FRAMEWORK_ADDED':
    case 'FRAMEWORK_UPDATED':
    case 'FRAMEWORK_REMOVED':
      return visibility.framework(event.framework);
    default:
      return true;
  }
}

export class OperatorSubscriptions {
  readonly #subscribers = new Set<Subscriber>();
  #stopListening: (() => void) | null = null;
  #heartbeatTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly master: MasterCore,
    private readonly limits: SubscriptionLimits,
  ) {
    if (
      !(
        limits.maxSubscribers > 0 &&
        limits.maxSubscribersPerPrincipal > 0 &&
        limits.maxQueuedBytes >= minQueuedBytes &&
        limits.heartbeatIntervalSeconds > 0
      )
    ) {
      throw new RangeError(
        `subscription limits must be positive, with at least ${minQueuedBytes} queued bytes: ${JSON.stringify(limits)}`,
      );
    }
  }

  get count(): number {
    return this.#subscribers.size;
  }

  /** A new stream, already holding SUBSCRIBED and a HEARTBEAT; throws 429 when full, in total or for `principal`. */
  open(visibility: Visibility = seeEverything, principal: string | null = null): Readable {
    this.#checkCapacity(principal);
    // The capture and the registration happen in one synchronous step. Apply is synchronous
    // too, so every change is either in the snapshot or delivered as an event, never neither.
    const view = captureView(this.master.state(), () => null, asciiJson, visibility);
    const snapshot = subscribedRecord(view, this.limits.heartbeatIntervalSeconds);
    this.#startListening();
    const stream = new RecordStream(this.limits.maxQueuedBytes, 'an operator event subscriber', snapshot);
    stream.sendRecord(eventRecord(heartbeatEvent));
    const subscriber: Subscriber = { stream, visibility, principal };
    this.#subscribers.add(subscriber);
    stream.body.once('close', () => this.#remove(subscriber));
    return stream.body;
  }

  #checkCapacity(principal: string | null): void {
    const retry = { 'retry-after': retryAfterSeconds };
    if (this.#subscribers.size >= this.limits.maxSubscribers) {
      throw new HttpError(
        'TOO_MANY_REQUESTS',
        `at most ${this.limits.maxSubscribers} operator event streams may be open at once`,
        retry,
      );
    }
    if (principal === null) return;
    let count = 0;
    for (const subscriber of this.#subscribers) if (subscriber.principal === principal) count += 1;
    if (count >= this.limits.maxSubscribersPerPrincipal) {
      throw new HttpError(
        'TOO_MANY_REQUESTS',
        `at most ${this.limits.maxSubscribersPerPrincipal} operator event streams of principal ${principal} may be open at once`,
        retry,
      );
    }
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    for (const subscriber of [...this.#subscribers]) subscriber.stream.end();
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
    this.#heartbeatTimer = setInterval(
      () => this.#broadcast(heartbeat, null),
      this.limits.heartbeatIntervalSeconds * millisecondsPerSecond,
    );
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
      for (const subscriber of [...this.#subscribers]) subscriber.stream.end();
      return;
    }
    const converted = mesosEvent(event, this.master.state());
    if (converted !== null) this.#broadcast(eventRecord(converted), event);
  }

  /** `about`: the change the record reports, for the subscribers' visibility; null (a heartbeat): everyone. */
  #broadcast(record: Uint8Array, about: ChangeEvent | null): void {
    for (const subscriber of [...this.#subscribers]) {
      if (about === null || mayView(subscriber.visibility, about)) subscriber.stream.sendRecord(record);
    }
  }
}
