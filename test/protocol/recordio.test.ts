// RecordIO framing (Mesos scheduler-http-api.md, "RecordIO response format"): the encoder's
// bytes, the incremental decoder under every split of its input, its bound on record size, and
// the ASCII JSON records are made of.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asciiJson } from '../../src/protocol/ascii-json.ts';
import { encodeRecord, RecordIoDecoder, RecordIoError } from '../../src/protocol/recordio.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (record: Uint8Array): string => new TextDecoder().decode(record);
const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((part) => [...part]));

function decodeAll(decoder: RecordIoDecoder, chunks: Uint8Array[]): string[] {
  return chunks.flatMap((chunk) => decoder.decode(chunk)).map(text);
}

function errorCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.instance(error, RecordIoError);
    return (error as RecordIoError).code;
  }
  return 'no error';
}

test('a record is its byte length, a line feed, then its bytes', () => {
  assert.is(text(encodeRecord('{"type":"HEARTBEAT"}')), '20\n{"type":"HEARTBEAT"}');
  assert.is(text(encodeRecord('é')), '2\né', 'the length counts UTF-8 bytes, not characters');
  assert.is(text(encodeRecord(new Uint8Array(0))), '0\n');
});

test('records across chunks, several per chunk, and the empty record', () => {
  const decoder = new RecordIoDecoder({ maxRecordBytes: 100 });
  const stream = concat([encodeRecord('first'), encodeRecord(''), encodeRecord('third one')]);
  assert.equal(decodeAll(decoder, [stream.subarray(0, 1), stream.subarray(1, 9), stream.subarray(9)]), [
    'first',
    '',
    'third one',
  ]);
  assert.ok(decoder.atBoundary);
  decoder.finish();
});

test('every split point of the input gives the same records', () => {
  const records = ['{"a":1}', '', 'x'.repeat(130), '{"b":[1,2,3]}'];
  const stream = concat(records.map((record) => encodeRecord(record)));
  for (let split = 0; split <= stream.length; split += 1) {
    const decoder = new RecordIoDecoder({ maxRecordBytes: 1000 });
    assert.equal(decodeAll(decoder, [stream.subarray(0, split), stream.subarray(split)]), records, `split at ${split}`);
  }
});

test('property: any records, cut into any chunks, decode to themselves', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
      (records, sizes) => {
        const stream = concat(records.map((record) => encodeRecord(record)));
        const decoder = new RecordIoDecoder({ maxRecordBytes: 300 });
        const decoded: Uint8Array[] = [];
        for (let position = 0, turn = 0; position < stream.length; turn += 1) {
          const size = sizes[turn % sizes.length]!;
          decoded.push(...decoder.decode(stream.subarray(position, position + size)));
          position += size;
        }
        decoder.finish();
        assert.equal(
          decoded.map((record) => [...record]),
          records.map((record) => [...record]),
        );
      },
    ),
    { seed: 1729, numRuns: 300 },
  );
});

test('a record longer than maxRecordBytes fails at its length line, before buffering it', () => {
  const decoder = new RecordIoDecoder({ maxRecordBytes: 10 });
  assert.equal(decodeAll(decoder, [encodeRecord('0123456789')]), ['0123456789'], 'exactly the bound is fine');
  assert.is(
    errorCode(() => decoder.decode(bytes('11\n'))),
    'RECORD_TOO_LARGE',
  );
  const huge = new RecordIoDecoder({ maxRecordBytes: 1024 });
  assert.is(
    errorCode(() => huge.decode(bytes('99999999999999999999999999'))),
    'RECORD_TOO_LARGE',
    'no newline needed: the digits alone are too many',
  );
});

test('a length that is not decimal digits fails, and the failure sticks', () => {
  assert.is(
    errorCode(() => new RecordIoDecoder({ maxRecordBytes: 100 }).decode(bytes('\n'))),
    'INVALID_LENGTH',
  );
  assert.is(
    errorCode(() => new RecordIoDecoder({ maxRecordBytes: 100 }).decode(bytes('-1\n'))),
    'INVALID_LENGTH',
  );
  assert.is(
    errorCode(() => new RecordIoDecoder({ maxRecordBytes: 100 }).decode(bytes('1 \nx'))),
    'INVALID_LENGTH',
  );
  assert.is(
    errorCode(() => new RecordIoDecoder({ maxRecordBytes: 100 }).decode(bytes('{"type":"x"}'))),
    'INVALID_LENGTH',
  );
  const broken = new RecordIoDecoder({ maxRecordBytes: 100 });
  assert.is(
    errorCode(() => broken.decode(bytes('x'))),
    'INVALID_LENGTH',
  );
  assert.is(
    errorCode(() => broken.decode(encodeRecord('fine'))),
    'INVALID_LENGTH',
    'the framing is lost for good',
  );
});

test('a stream that ends inside a record is truncated', () => {
  const insideLength = new RecordIoDecoder({ maxRecordBytes: 100 });
  insideLength.decode(bytes('1'));
  assert.is(
    errorCode(() => insideLength.finish()),
    'TRUNCATED',
  );
  const insideBody = new RecordIoDecoder({ maxRecordBytes: 100 });
  insideBody.decode(bytes('5\nabc'));
  assert.not.ok(insideBody.atBoundary);
  assert.is(
    errorCode(() => insideBody.finish()),
    'TRUNCATED',
  );
});

test('a decoded record is a copy: reusing the input buffer does not change it', () => {
  const decoder = new RecordIoDecoder({ maxRecordBytes: 100 });
  const chunk = Uint8Array.from(encodeRecord('abc'));
  const [record] = decoder.decode(chunk);
  chunk.fill(0);
  assert.is(text(record!), 'abc');
});

test('ASCII JSON: one line, every code unit above 0x7e escaped, and it parses back the same', () => {
  const value = { city: 'Zürich', check: '✓', emoji: '😀', lines: 'a\nb\r\u2028c', del: '\u007f' };
  const encoded = asciiJson(value);
  assert.ok(
    [...encoded].every((character) => character.charCodeAt(0) >= 0x20 && character.charCodeAt(0) < 0x7f),
    encoded,
  );
  assert.not.match(encoded, /\n/);
  assert.equal(JSON.parse(encoded), value);
  assert.is(encodeRecord(encoded).length, `${encoded.length}\n`.length + encoded.length, 'bytes equal characters');
});

test.run();
