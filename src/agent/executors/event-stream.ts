// Where an executor's events go. An executor that subscribed over HTTP reads a RecordIO stream
// of ASCII JSON, one record per HTTP chunk (mesos-framework's reader needs that); the agent's
// built-in executors subscribe in-process and get the very same events as objects. A reader
// that stops reading falls behind the bound and is disconnected (it subscribes again), never
// buffered without end.
import { Readable } from 'node:stream';
import { asciiJson } from '../../protocol/ascii-json.ts';
import type { ExecutorEvent } from '../../protocol/executor.ts';
import { encodeRecord } from '../../protocol/recordio.ts';

export interface ExecutorStream {
  readonly open: boolean;
  /** True for a stream over HTTP (heartbeats keep its connection alive; in-process ones need none). */
  readonly remote: boolean;
  send(event: ExecutorEvent): void;
  /** Ends the stream once what was sent has gone out. */
  end(): void;
  onClose(listener: () => void): void;
}

/** An executor more than this far behind its stream is disconnected. */
const maxQueuedBytes = 8 * 1024 * 1024;

export class HttpExecutorStream implements ExecutorStream {
  readonly remote = true;
  readonly body: Readable;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #reading = false;
  #ending = false;

  constructor() {
    this.body = new Readable({ objectMode: true, highWaterMark: 1, read: () => this.#flush() });
    this.body.on('error', () => {});
  }

  get open(): boolean {
    return !this.body.destroyed && !this.#ending;
  }

  send(event: ExecutorEvent): void {
    if (!this.open) return;
    const record = encodeRecord(asciiJson(event));
    if (this.#queuedBytes + record.byteLength > maxQueuedBytes) {
      this.#queue.length = 0;
      this.body.destroy(new Error(`an executor fell more than ${maxQueuedBytes} bytes behind its event stream`));
      return;
    }
    this.#queue.push(record);
    this.#queuedBytes += record.byteLength;
    if (this.#reading) this.#flush();
  }

  end(): void {
    if (!this.open) return;
    this.#ending = true;
    if (this.#reading) this.#flush();
  }

  onClose(listener: () => void): void {
    this.body.once('close', listener);
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

/**
 * A built-in executor's stream: events are handed over on the next turn (as they would arrive
 * from a socket), so an event sent while a call is being handled reaches the executor after it.
 */
export class InProcessExecutorStream implements ExecutorStream {
  readonly remote = false;
  #open = true;
  readonly #closeListeners: (() => void)[] = [];

  constructor(private readonly deliver: (event: ExecutorEvent) => void) {}

  get open(): boolean {
    return this.#open;
  }

  send(event: ExecutorEvent): void {
    if (!this.#open) return;
    queueMicrotask(() => this.deliver(event));
  }

  end(): void {
    if (!this.#open) return;
    this.#open = false;
    for (const listener of this.#closeListeners.splice(0)) queueMicrotask(listener);
  }

  onClose(listener: () => void): void {
    this.#closeListeners.push(listener);
  }
}
