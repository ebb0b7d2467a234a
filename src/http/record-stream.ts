// An HTTP response body of RecordIO records (operator and scheduler SUBSCRIBE): each record is
// pushed as its own chunk (objectMode, so none is merged with or split across another on its
// way to the socket), fed from a queue when the reader asks, so the queue holds exactly what
// the socket has not taken yet and can be bounded in bytes. A burst from one apply (a torn-down
// framework's thousand updates) fits; a reader that stops reading falls behind the bound and is
// disconnected (it subscribes again), never buffered without end.
//
// The first records (a SUBSCRIBED snapshot) may still be in the making when the stream opens
// (written in slices, operator/subscriptions.ts): records sent meanwhile wait behind them.
import { Readable } from 'node:stream';

export class RecordStream {
  readonly body: Readable;
  readonly #queue: Uint8Array[] = [];
  /** Bytes queued, not counting `initial` (a snapshot may be larger than the bound). */
  #queuedBytes = 0;
  /** Chunks of `initial` still at the head of the queue (not counted in `#queuedBytes`). */
  #initialQueued: number;
  /** `initial` is a promise not settled yet: nothing goes out before it. */
  #initialPending: boolean;
  /** The reader asked for more and got nothing yet: the next record goes straight out. */
  #reading = false;
  /** Ends once the queue is drained; nothing more is queued. */
  #ending = false;

  /**
   * `reader` names who falls behind, for the disconnect's error. `initial` goes out first: one
   * record, or the chunks of records still being made (a rejected promise ends the stream with
   * its error).
   */
  constructor(
    private readonly maxQueuedBytes: number,
    private readonly reader: string,
    initial: Uint8Array | Promise<readonly Uint8Array[]> | null = null,
  ) {
    this.#initialQueued = initial instanceof Uint8Array ? 1 : 0;
    this.#initialPending = initial instanceof Promise;
    if (initial instanceof Uint8Array) this.#queue.push(initial);
    if (initial instanceof Promise)
      initial.then(
        (chunks) => this.#initialReady(chunks),
        (error) => this.#fail(error),
      );
    this.body = new Readable({ objectMode: true, highWaterMark: 1, read: () => this.#flush() });
    // Our own slow-reader disconnect is this stream's only error, which fastify logs once it
    // pipes the stream; until then, an 'error' with no listener must not crash the master.
    this.body.on('error', () => {});
  }

  #initialReady(chunks: readonly Uint8Array[]): void {
    this.#initialPending = false;
    if (this.body.destroyed) return;
    this.#queue.unshift(...chunks);
    this.#initialQueued = chunks.length;
    if (this.#reading) this.#flush();
  }

  #fail(error: unknown): void {
    this.#initialPending = false;
    this.#queue.length = 0;
    this.body.destroy(error instanceof Error ? error : new Error(String(error)));
  }

  get open(): boolean {
    return !this.body.destroyed && !this.#ending;
  }

  sendRecord(record: Uint8Array): void {
    if (!this.open) return;
    if (this.#queuedBytes + record.byteLength > this.maxQueuedBytes) {
      this.#queue.length = 0;
      this.body.destroy(
        new Error(
          `${this.reader} fell more than ${this.maxQueuedBytes} bytes behind its event stream and was disconnected`,
        ),
      );
      return;
    }
    this.#queue.push(record);
    this.#queuedBytes += record.byteLength;
    if (this.#reading) this.#flush();
  }

  /** Ends the stream once what is queued has gone out. */
  end(): void {
    if (!this.open) return;
    this.#ending = true;
    if (this.#reading) this.#flush();
  }

  #flush(): void {
    this.#reading = true;
    if (this.#initialPending) return;
    while (this.#queue.length > 0) {
      const record = this.#queue.shift()!;
      if (this.#initialQueued > 0) this.#initialQueued -= 1;
      else this.#queuedBytes -= record.byteLength;
      if (!this.body.push(record)) {
        this.#reading = false;
        return;
      }
    }
    if (this.#ending) this.body.push(null);
  }
}
