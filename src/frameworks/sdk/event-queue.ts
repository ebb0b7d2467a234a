// Events for `for await (const event of client.events())`: a bounded queue between the
// subscription (which never waits for the consumer) and one reader. A reader that falls more
// than `capacity` events behind gets an error instead of the process growing without bound.

export class EventQueue<Item> implements AsyncIterableIterator<Item> {
  readonly #items: Item[] = [];
  #waiting: { resolve: (result: IteratorResult<Item>) => void; reject: (error: Error) => void } | null = null;
  #ended = false;
  #failure: Error | null = null;

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new RangeError(`EventQueue capacity must be a positive integer, got ${capacity}`);
  }

  push(item: Item): void {
    if (this.#ended) return;
    if (this.#waiting !== null) {
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting.resolve({ value: item, done: false });
      return;
    }
    if (this.#items.length >= this.capacity) {
      this.end(new Error(`the event reader fell more than ${this.capacity} events behind`));
      return;
    }
    this.#items.push(item);
  }

  /** No more items: the reader drains what is queued, then finishes (or throws `failure`). */
  end(failure?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failure = failure ?? null;
    if (this.#waiting !== null && this.#items.length === 0) {
      const waiting = this.#waiting;
      this.#waiting = null;
      if (this.#failure === null) waiting.resolve({ value: undefined, done: true });
      else waiting.reject(this.#failure);
    }
  }

  next(): Promise<IteratorResult<Item>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false });
    if (this.#ended)
      return this.#failure === null ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.#failure);
    if (this.#waiting !== null)
      return Promise.reject(new Error('EventQueue has one reader; next() was called while a read was pending'));
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** `break` out of a for-await loop ends the queue. */
  return(): Promise<IteratorResult<Item>> {
    this.#items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Item> {
    return this;
  }
}
