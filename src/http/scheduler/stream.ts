// One framework's event stream: RecordIO records of ASCII JSON, each pushed as its own chunk
// (objectMode, so no record is merged with or split across another on its way to the socket),
// fed from a queue bounded in bytes. A scheduler that stops reading falls behind the bound and
// is disconnected, never buffered without end (it re-subscribes and gets its updates again).
import { Readable } from 'node:stream';
import { asciiJson } from '../../protocol/ascii-json.ts';
import type { SchedulerEvent } from '../../protocol/scheduler.ts';
import { encodeRecord } from '../../protocol/recordio.ts';

export const eventRecord = (event: SchedulerEvent): Uint8Array => encodeRecord(asciiJson(event));

export class SchedulerStream {
  readonly body: Readable;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #reading = false;
  #ending = false;

  constructor(private readonly maxQueuedBytes: number) {
    this.body = new Readable({ objectMode: true, highWaterMark: 1, read: () => this.#flush() });
    // Our own slow-reader disconnect is this stream's only error; fastify logs it once piped.
    this.body.on('error', () => {});
  }

  get open(): boolean {
    return !this.body.destroyed && !this.#ending;
  }

  send(event: SchedulerEvent): void {
    this.sendRecord(eventRecord(event));
  }

  sendRecord(record: Uint8Array): void {
    if (!this.open) return;
    if (this.#queuedBytes + record.byteLength > this.maxQueuedBytes) {
      this.#queue.length = 0;
      this.body.destroy(new Error(`a scheduler fell more than ${this.maxQueuedBytes} bytes behind its event stream and was disconnected`));
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
    while (this.#queue.length > 0) {
      const record = this.#queue.shift()!;
      this.#queuedBytes -= record.byteLength;
      if (!this.body.push(record)) {
        this.#reading = false;
        return;
      }
    }
    if (this.#ending) this.body.push(null);
  }
}
