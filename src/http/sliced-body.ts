// Text made by a generator in steps (operator/state-json.ts), turned into an HTTP body without
// holding the event loop: each slice runs steps for at most `responseSliceBudgetMs`, then gives
// the loop back (setImmediate: a slice must not chain into the next through nextTick, which runs
// before any I/O). Reading is pulled by the socket, so a slow client slows the writer instead of
// filling memory.
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { maxResponseChunkBytes, responseSliceBudgetMs } from './limits.ts';

/** Runs steps until the budget is spent or a chunk's worth of text is ready. */
export function runSlice(steps: Iterator<string>): { text: string; done: boolean } {
  const started = performance.now();
  const parts: string[] = [];
  let length = 0;
  for (;;) {
    const step = steps.next();
    if (step.done === true) return { text: parts.join(''), done: true };
    if (step.value !== '') {
      parts.push(step.value);
      length += step.value.length;
    }
    if (length >= maxResponseChunkBytes || performance.now() - started >= responseSliceBudgetMs)
      return { text: parts.join(''), done: false };
  }
}

/** A response body that writes `steps` as it is read. An error in a step ends the body with it. */
export function slicedBody(steps: Iterator<string>): Readable {
  let scheduled = false;
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
    let slice: { text: string; done: boolean };
    try {
      slice = runSlice(steps);
    } catch (error) {
      body.destroy(error as Error);
      return;
    }
    // A slice that spent its budget on steps without text (sorting, summing holdings) pushes
    // nothing, and Readable calls read() again only after a push: the next slice is ours to
    // schedule, or the answer stalls for good (on a loaded leader, most slices of the sort are such).
    if (slice.text === '' && !slice.done) {
      setImmediate(writeSlice);
      return;
    }
    scheduled = false;
    if (slice.text !== '') body.push(Buffer.from(slice.text, 'utf8'));
    if (slice.done) body.push(null);
  }
  return body;
}

/** All of `steps`' text, made in slices with the loop given back between them. */
export async function collectInSlices(steps: Iterator<string>): Promise<string[]> {
  const parts: string[] = [];
  for (;;) {
    const slice = runSlice(steps);
    if (slice.text !== '') parts.push(slice.text);
    if (slice.done) return parts;
    await nextTurn();
  }
}
