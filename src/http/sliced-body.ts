// Text made by a generator in steps (operator/state-json.ts), turned into an HTTP body without
// holding the event loop: the slices between two of the loop's check phases run steps for at most
// `responseSliceBudgetMs` in all, then the loop is given back (setImmediate: a slice must not
// chain into the next through nextTick, which runs before any I/O). Reading is pulled by the
// socket, so a slow client slows the writer instead of filling memory.
//
// Each step's text is encoded as UTF-8 straight into the slice's chunk of bytes. Joining a slice's
// pieces into one string and encoding that (as this did) copied a GET_STATE answer twice more
// and made a megabyte string per chunk for the garbage collector: at 100,000 tasks, 109 MB of
// large strings per read, a third of the leader's time in the read besides the writes (issue 12).
import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { maxBufferedResponseBytes, maxResponseChunkBytes, responseSliceBudgetMs } from './limits.ts';

/** Bytes most steps' text fits in after a chunk's last full step (a task's text is ~1 KB). */
export const chunkHeadroomBytes = 64 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2). */
const maxBytesPerCodeUnit = 3;

/** Milliseconds from some start; a test passes one that counts steps instead. */
export type Clock = () => number;
const wallClock: Clock = () => performance.now();

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

/**
 * Pieces of text appended between two reads of the clock (a step without text, where a generator
 * did its longer work, always reads it). GET_STATE at 100,000 tasks is ~200,000 pieces of ~0.5 KB
 * each, and a clock read per piece (~50 ns) was ~6% of the answer's CPU.
 */
export const piecesPerClockRead = 16;

/** Runs steps until `budgetMs` is spent or a chunk's worth of bytes is ready. */
export function runSlice(
  steps: Iterator<string>,
  chunk: ChunkBuilder = new ChunkBuilder(),
  budgetMs: number = responseSliceBudgetMs,
  clock: Clock = wallClock,
): { bytes: Buffer; done: boolean } {
  const started = clock();
  let unclocked = 0;
  for (;;) {
    const step = steps.next();
    if (step.done === true) return { bytes: chunk.take(), done: true };
    if (step.value !== '') {
      chunk.append(step.value);
      if (chunk.length >= maxResponseChunkBytes) return { bytes: chunk.take(), done: false };
      if (++unclocked < piecesPerClockRead) continue;
    }
    unclocked = 0;
    if (clock() - started >= budgetMs) return { bytes: chunk.take(), done: false };
  }
}

/**
 * The budget of the slices run between two of the loop's check phases. A slice run straight from
 * the socket's request for more (in the poll phase, among the loop's other I/O) is charged to it;
 * once it is spent, the next slice waits for the check phase, where the turn's charge is reset
 * first (its reset was queued before that slice). So however often a reader asks within one turn
 * (a reader that keeps up asks again through nextTick), the loop holds at most one budget of ours.
 */
class TurnBudget {
  #spentMs = 0;
  #resetQueued = false;

  constructor(
    readonly budgetMs: number,
    readonly clock: Clock,
  ) {}

  /** What is left of this turn's budget (<= 0: spent). */
  get leftMs(): number {
    return this.budgetMs - this.#spentMs;
  }

  /** A slice starts: its time is this turn's until the next check phase. */
  begin(): number {
    if (!this.#resetQueued) {
      this.#resetQueued = true;
      setImmediate(() => {
        this.#resetQueued = false;
        this.#spentMs = 0;
      });
    }
    return this.clock();
  }

  end(startedAt: number): number {
    const endedAt = this.clock();
    this.#spentMs += endedAt - startedAt;
    return endedAt;
  }
}

/**
 * Where a sliced answer's time went (issue 12: a GET_STATE whose slices cost ~170 ms of CPU took
 * 1.5-2 s on a live leader): in its own slices, waiting for the loop's turn once the socket asked
 * for more, or waiting for the socket (backpressure) with a chunk handed over. Each sum is in ms.
 */
export class SliceTimeline {
  readonly startedAt = performance.now();
  slices = 0;
  /** Chunks handed to the reader (slices that made bytes). */
  chunks = 0;
  bytes = 0;
  buildMs = 0;
  longestSliceMs = 0;
  /** From the reader asking for more (or a slice without bytes) to the next slice's start. */
  loopWaitMs = 0;
  longestLoopWaitMs = 0;
  /** From a chunk handed over to the reader asking for more. */
  socketWaitMs = 0;
  firstSliceAt = Number.NaN;
  endedAt = Number.NaN;
  #askedAt = Number.NaN;
  #pushedAt = Number.NaN;

  asked(): void {
    const now = performance.now();
    this.#askedAt = now;
    if (!Number.isNaN(this.#pushedAt)) this.socketWaitMs += now - this.#pushedAt;
    this.#pushedAt = Number.NaN;
  }

  chunked(bytes: number): void {
    this.chunks += 1;
    this.bytes += bytes;
  }

  /** One turn's slice (its chunks counted by `chunked`): whether it handed bytes over, whether it ended the answer. */
  sliced(startedAt: number, endedAt: number, pushed: boolean, done: boolean): void {
    if (this.slices === 0) this.firstSliceAt = startedAt;
    this.slices += 1;
    const waited = startedAt - this.#askedAt;
    this.loopWaitMs += waited;
    this.longestLoopWaitMs = Math.max(this.longestLoopWaitMs, waited);
    const took = endedAt - startedAt;
    this.buildMs += took;
    this.longestSliceMs = Math.max(this.longestSliceMs, took);
    if (pushed) this.#pushedAt = endedAt;
    // A slice without bytes schedules the next at once: its wait for the loop starts now.
    this.#askedAt = endedAt;
    if (done) this.endedAt = endedAt;
  }

  /** The sums, rounded to 0.1 ms, for a log line. */
  summary(): Record<string, number> {
    const ms = (value: number) => Math.round(value * 10) / 10;
    return {
      slices: this.slices,
      chunks: this.chunks,
      bytes: this.bytes,
      firstSliceMs: ms(this.firstSliceAt - this.startedAt),
      buildMs: ms(this.buildMs),
      longestSliceMs: ms(this.longestSliceMs),
      loopWaitMs: ms(this.loopWaitMs),
      longestLoopWaitMs: ms(this.longestLoopWaitMs),
      socketWaitMs: ms(this.socketWaitMs),
      lastSliceMs: ms(this.endedAt - this.startedAt),
    };
  }
}

/** A readable body with the timeline of its slices. */
export type SlicedBody = Readable & { readonly timeline: SliceTimeline };

/**
 * A response body that writes `steps` as it is read. An error in a step ends the body with it.
 *
 * One turn of the loop writes chunks until its budget is spent or `maxBufferedResponseBytes` wait
 * in the body: a turn that stopped at one chunk (as this did) gave the loop back every megabyte,
 * ~1.5 ms of work, and on a live leader each turn back cost ~16 ms of its other work (10,000
 * agents, Raft): GET_TASKS at 100,000 tasks spent 1.8 of its 2.8 s waiting for turns (issue 12).
 *
 * A slice runs as soon as the socket asks for more while the turn's budget lasts (TurnBudget): a
 * slice put off to the check phase (as every slice was) waited behind the rest of the turn's
 * I/O, twice as long as the slices took on a leader with 10,000 agents (issue 12).
 */
export function slicedBody(
  steps: Iterator<string>,
  budgetMs: number = responseSliceBudgetMs,
  clock: Clock = wallClock,
): SlicedBody {
  let scheduled = false;
  const chunk = new ChunkBuilder();
  const timeline = new SliceTimeline();
  const turn = new TurnBudget(budgetMs, clock);
  const body: Readable = new Readable({
    highWaterMark: maxBufferedResponseBytes,
    read() {
      if (scheduled) return;
      scheduled = true;
      timeline.asked();
      if (turn.leftMs > 0) writeSlice();
      else setImmediate(writeSlice);
    },
  });
  function writeSlice(): void {
    // A client that went away leaves the rest of the answer unwritten.
    if (body.destroyed) return;
    const wallStartedAt = performance.now();
    const startedAt = turn.begin();
    const budget = turn.leftMs;
    let pushed = false;
    for (;;) {
      let slice: { bytes: Buffer; done: boolean };
      try {
        slice = runSlice(steps, chunk, budget - (clock() - startedAt), clock);
      } catch (error) {
        turn.end(startedAt);
        body.destroy(error as Error);
        return;
      }
      const bytes = slice.bytes.byteLength;
      if (bytes > 0) timeline.chunked(bytes);
      pushed ||= bytes > 0;
      if (slice.done) {
        turn.end(startedAt);
        timeline.sliced(wallStartedAt, performance.now(), pushed, true);
        scheduled = false;
        if (bytes > 0) body.push(slice.bytes);
        body.push(null);
        return;
      }
      // push() says whether the body wants more now: false once its buffer is full.
      const wantsMore = bytes === 0 || body.push(slice.bytes);
      if (!wantsMore || clock() - startedAt >= budget) break;
    }
    turn.end(startedAt);
    timeline.sliced(wallStartedAt, performance.now(), pushed, false);
    // A turn that spent its budget on steps without text (sorting, summing holdings) pushed
    // nothing, and Readable calls read() again only after a push: the next slice is ours to
    // schedule, or the answer stalls for good (on a loaded leader, most slices of the sort are such).
    if (!pushed) {
      setImmediate(writeSlice);
      return;
    }
    scheduled = false;
  }
  return Object.assign(body, { timeline });
}

/**
 * All of `steps`' bytes, made in slices with the loop given back between them: a turn goes on
 * past a full chunk until its budget is spent (one turn per megabyte, as this gave back, made
 * SUBSCRIBED's 56 MB record wait ~55 turns of the leader's other work).
 */
export async function collectInSlices(
  steps: Iterator<string>,
  budgetMs: number = responseSliceBudgetMs,
  clock: Clock = wallClock,
): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  const chunk = new ChunkBuilder();
  for (;;) {
    const startedAt = clock();
    for (;;) {
      const slice = runSlice(steps, chunk, budgetMs - (clock() - startedAt), clock);
      if (slice.bytes.byteLength > 0) chunks.push(slice.bytes);
      if (slice.done) return chunks;
      if (clock() - startedAt >= budgetMs) break;
    }
    await nextTurn();
  }
}
