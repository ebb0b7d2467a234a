// Marathon's event bus (event-bus.md) inside the framework: every event a Marathon 1.x server
// publishes that this framework has a cause for, fanned out to the /v2/events subscribers. A
// subscriber that cannot keep up is dropped by its stream (api/events-route.ts), never buffered
// without bound.
import { maxEventSubscribers } from './limits.ts';

export interface MarathonEvent {
  readonly eventType: string;
  readonly timestamp: string;
  readonly [field: string]: unknown;
}

type Listener = (event: MarathonEvent) => void;

interface Subscriber {
  readonly listener: Listener;
  readonly types: ReadonlySet<string> | null;
  /** Ends the subscriber's stream (closeAll). */
  readonly close: () => void;
}

export class EventBus {
  readonly #listeners = new Set<Subscriber>();

  get subscribers(): number {
    return this.#listeners.size;
  }

  /** null `types`: every event. Returns the unsubscribe, or null when the bus is full. */
  subscribe(types: ReadonlySet<string> | null, listener: Listener, close: () => void): (() => void) | null {
    if (this.#listeners.size >= maxEventSubscribers) return null;
    const entry = { listener, types, close };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /**
   * Ends every stream: this instance stopped leading, and its events stop with it (a client
   * reconnects, through any master, to the next leader's instance, as Marathon's do).
   */
  closeAll(): void {
    const subscribers = [...this.#listeners];
    this.#listeners.clear();
    for (const subscriber of subscribers) subscriber.close();
  }

  publish(eventType: string, fields: Record<string, unknown>, nowMs = Date.now()): void {
    if (this.#listeners.size === 0) return;
    const event: MarathonEvent = { ...fields, eventType, timestamp: new Date(nowMs).toISOString() };
    for (const { listener, types } of this.#listeners) {
      if (types === null || types.has(eventType)) listener(event);
    }
  }
}
