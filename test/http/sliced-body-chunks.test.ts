// The bytes of a sliced answer (sliced-body.ts): each step's text is encoded straight into the
// chunk, so a chunk is bounded in bytes (not in UTF-16 code units: a text beyond ASCII made chunks
// of twice the bound), a piece larger than a chunk goes out whole, and a short tail does not hold
// a megabyte buffer in the socket's queue.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { maxBufferedResponseBytes, maxResponseChunkBytes } from '../../src/http/limits.ts';
import { ChunkBuilder, chunkHeadroomBytes, collectInSlices, runSlice, slicedBody } from '../../src/http/sliced-body.ts';
import { turnCounter } from '../support/turn-counter.ts';

/** Two bytes per character in UTF-8, one code unit in a string. */
const cyrillic = 'ж'.repeat(1000);

test('chunks beyond ASCII are bounded in bytes, and decode to the text', () => {
  const pieces = Math.ceil((3 * maxResponseChunkBytes) / Buffer.byteLength(cyrillic)) + 5;
  function* text(): Generator<string> {
    for (let piece = 0; piece < pieces; piece++) yield cyrillic;
  }
  const steps = text();
  const builder = new ChunkBuilder();
  const chunks: Buffer[] = [];
  // No time budget: a slice ends only when its chunk is full (or at the end).
  for (let slice = runSlice(steps, builder, Number.POSITIVE_INFINITY); ; ) {
    chunks.push(slice.bytes);
    if (slice.done) break;
    slice = runSlice(steps, builder, Number.POSITIVE_INFINITY);
  }
  assert.ok(chunks.length >= 4, `${chunks.length} chunks`);
  for (const chunk of chunks.slice(0, -1)) {
    assert.ok(chunk.byteLength >= maxResponseChunkBytes, `a chunk of ${chunk.byteLength} bytes before the last`);
    assert.ok(chunk.byteLength <= maxResponseChunkBytes + chunkHeadroomBytes, `a chunk of ${chunk.byteLength} bytes`);
  }
  assert.is(Buffer.concat(chunks).toString('utf8'), cyrillic.repeat(pieces));
});

test('a piece larger than a chunk goes out whole; surrogate pairs and ASCII around it intact', async () => {
  const large = `é😀${'ü'.repeat(maxResponseChunkBytes)}😀`;
  const steps = ['{"a":', large, '', '}'];
  const chunks = await collectInSlices(steps[Symbol.iterator]());
  assert.is(Buffer.concat(chunks).toString('utf8'), steps.join(''));
});

test("a short tail is copied out of the chunk's megabyte; a full chunk is handed over as it is", () => {
  const builder = new ChunkBuilder();
  builder.append('{"short":1}');
  const tail = builder.take();
  assert.is(tail.toString('utf8'), '{"short":1}');
  assert.ok(tail.buffer.byteLength < maxResponseChunkBytes, `the tail holds ${tail.buffer.byteLength} bytes`);
  const full = runSlice(['x'.repeat(maxResponseChunkBytes), 'never reached'][Symbol.iterator](), builder);
  assert.is(full.done, false);
  assert.is(full.bytes.byteLength, maxResponseChunkBytes);
  assert.is(builder.take().byteLength, 0);
});

const kibibyte = 'k'.repeat(1024);

function* mebibytes(count: number): Generator<string> {
  for (let piece = 0; piece < (count * maxResponseChunkBytes) / 1024; piece++) {
    yield kibibyte;
    if (piece % 256 === 255) yield '';
  }
}

// On a live leader each turn given back costs the loop's other work (~16 ms at 1,000 agents):
// a turn that stopped at one chunk made GET_TASKS at 100,000 tasks wait 1.8 s of its 2.8 s for
// 108 turns (issue 12). A turn whose budget is not spent goes on until the body's buffer is full.
test("one turn writes chunks until the body's buffer is full, not one chunk", async () => {
  const body = slicedBody(mebibytes(20), Number.POSITIVE_INFINITY);
  body.read(0);
  const counter = turnCounter();
  while (counter.turns() < 5) await new Promise((resolve) => setImmediate(resolve));
  counter.stop();
  assert.is(body.timeline.slices, 1);
  assert.is(body.timeline.chunks, maxBufferedResponseBytes / maxResponseChunkBytes);
  assert.is(body.readableLength, maxBufferedResponseBytes);
  body.destroy();
});

test('a reader that keeps up takes a whole unspent budget in one turn, a chunk per write', async () => {
  const mebibytesInAll = 20;
  const writes: number[] = [];
  const reader = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.byteLength);
      done();
    },
  });
  const body = slicedBody(mebibytes(mebibytesInAll), Number.POSITIVE_INFINITY);
  const counter = turnCounter();
  await pipeline(body, reader);
  // Slices run as the reader asks (several when the body's buffer fills), all in the first turn.
  assert.is(counter.turns(), 0);
  counter.stop();
  assert.is(writes.length, mebibytesInAll);
  for (const bytes of writes) assert.is(bytes, maxResponseChunkBytes);
  assert.is(body.timeline.chunks, mebibytesInAll);
  assert.is(body.timeline.bytes, mebibytesInAll * maxResponseChunkBytes);
});

test.run();
