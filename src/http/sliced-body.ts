// Text made by a generator in steps (operator/state-json.ts), turned into an HTTP body without
// holding the event loop: each slice runs steps for at most `responseSliceBudgetMs`, then gives
// the loop back (setImmediate: a slice must not chain into the next through nextTick, which runs
// before any I/O). Reading is pulled by the socket, so a slow client slows the writer instead of
// filling memory.
//
// Each step's text is encoded as UTF-8 straight into the slice's chunk of bytes. Joining a slice's
// pieces into one string and encoding that (as this did) copied a GET_STATE answer twice more
// and made a megabyte string per chunk for the garbage collector: at 100,000 tasks, 109 MB of
// large strings per read, a third of the leader's time in the read besides the writes (issue 12).
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { maxResponseChunkBytes, responseSliceBudgetMs } from './limits.ts';

/** Bytes most steps' text fits in after a chunk's last full step (a task's text is ~1 KB). */
export const chunkHeadroomBytes = 64 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2). */
const maxBytesPerCodeUnit = 3;

/**
 * The bytes of one chunk, filled step by step. A chunk less than half full is copied out, so a
 * short slice (the answer's tail, a sort step) does not keep a megabyte alive in the socket's queue.
 */
export class ChunkBuilder {
  #buffer: Buffer | null = null;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  append(text: string): void {
    let buffer = this.#buffer ?? Buffer.allocUnsafeSlow(maxResponseChunkBytes + chunkHeadroomBytes);
    const free = buffer.byteLength - this.#length;
    if (text.length * maxBytesPerCodeUnit > free) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > free) {
        const grown = Buffer.allocUnsafeSlow(this.#length + bytes);
        buffer.copy(grown, 0, 0, this.#length);
        buffer = grown;
      }
    }
    this.#buffer = buffer;
    this.#length += buffer.write(text, this.#length, 'utf8');
  }

  /** The bytes appended since the last take; the builder starts a new chunk. */
  take(): Buffer {
    const buffer = this.#buffer;
    const length = this.#length;
    this.#length = 0;
    if (buffer === null || length === 0) return Buffer.alloc(0);
    if (length * 2 >= buffer.byteLength) {
      this.#buffer = null;
      return buffer.subarray(0, length);
    }
    return Buffer.from(buffer.subarray(0, length));
  }
}

/** Runs steps until `budgetMs` is spent or a chunk's worth of bytes is ready. */
export function runSlice(
  steps: Iterator<string>,
  chunk: ChunkBuilder = new ChunkBuilder(),
  budgetMs: number = responseSliceBudgetMs,
): { bytes: Buffer; done: boolean } {
  const started = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done === true) return { bytes: chunk.take(), done: true };
    if (step.value !== '') chunk.append(step.value);
    if (chunk.length >= maxResponseChunkBytes || performance.now() - started >= budgetMs)
      return { bytes: chunk.take(), done: false };
  }
}

/** A response body that writes `steps` as it is read. An error in a step ends the body with it. */
export function slicedBody(steps: Iterator<string>): Readable {
  let scheduled = false;
  const chunk = new ChunkBuilder();
  const body: Readable = new Readable({
    read() {
      if (scheduled) return;
      scheduled = true;
      setImmediate(writeSlice);
    },
  });
  function writeSlice(): void {
    // A client that went away leaves the rest of the answer unwritten.
    if (body.destroyed) return;
    let slice: { bytes: Buffer; done: boolean };
    try {
      slice = runSlice(steps, chunk);
    } catch (error) {
      body.destroy(error as Error);
      return;
    }
    // A slice that spent its budget on steps without text (sorting, summing holdings) pushes
    // nothing, and Readable calls read() again only after a push: the next slice is ours to
    // schedule, or the answer stalls for good (on a loaded leader, most slices of the sort are such).
    if (slice.bytes.byteLength === 0 && !slice.done) {
      setImmediate(writeSlice);
      return;
    }
    scheduled = false;
    if (slice.bytes.byteLength > 0) body.push(slice.bytes);
    if (slice.done) body.push(null);
  }
  return body;
}

/** All of `steps`' bytes, made in slices with the loop given back between them. */
export async function collectInSlices(steps: Iterator<string>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  const chunk = new ChunkBuilder();
  for (;;) {
    const slice = runSlice(steps, chunk);
    if (slice.bytes.byteLength > 0) chunks.push(slice.bytes);
    if (slice.done) return chunks;
    await nextTurn();
  }
}
