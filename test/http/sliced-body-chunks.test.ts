// The bytes of a sliced answer (sliced-body.ts): each step's text is encoded straight into the
// chunk, so a chunk is bounded in bytes (not in UTF-16 code units: a text beyond ASCII made chunks
// of twice the bound), a piece larger than a chunk goes out whole, and a short tail does not hold
// a megabyte buffer in the socket's queue.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maxResponseChunkBytes } from '../../src/http/limits.ts';
import { ChunkBuilder, chunkHeadroomBytes, collectInSlices, runSlice } from '../../src/http/sliced-body.ts';

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

test.run();
