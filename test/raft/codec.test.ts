// The Raft wire format: every message type survives a round trip bit for bit, and every kind of
// hostile frame (truncated, garbage, oversized, lying counts, flipped bits) is refused by a
// named error rather than misread.
import { maxFrameBytes } from '../../src/raft/limits.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CorruptEntryError, entryChecksum } from '../../src/raft/checksum.ts';
import {
  CodecError,
  decodeMessages,
  encodedMessageBytes,
  encodeMessages,
  frameFormatVersion,
  maxStringBytes,
} from '../../src/raft/codec.ts';
import { nodeId } from '../../src/raft/types.ts';
import type { Entry, EntryType, IdempotencyStamp, Message, MessageType, SnapshotMeta } from '../../src/raft/types.ts';

const leader = nodeId('m1');
const follower = nodeId('m2');
const headerBytes = 10;

function makeEntry(
  index: number,
  term: number,
  type: EntryType,
  data: Uint8Array,
  idempotency?: IdempotencyStamp,
): Entry {
  const checksum = entryChecksum(term, index, type, data, idempotency);
  return idempotency === undefined
    ? { term, index, type, data, checksum }
    : { term, index, type, data, idempotency, checksum };
}

const stamp = (key: string, atMs = 1_700_000_000_123): IdempotencyStamp => ({
  key,
  fingerprint: `sha256:${key}`,
  atMs,
});

const text = (value: string): Uint8Array => new Uint8Array(Buffer.from(value, 'utf8'));

/** mulberry32, local so the test's byte patterns never change under it. */
function seededBytes(seed: number, length: number): Uint8Array {
  let state = seed >>> 0;
  const bytes = new Uint8Array(length);
  for (let position = 0; position < length; position += 1) {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    bytes[position] = (mixed ^ (mixed >>> 14)) & 0xff;
  }
  return bytes;
}

const snapshotMeta: SnapshotMeta = {
  index: 4_000,
  term: 12,
  membership: {
    voters: [leader, follower, nodeId('m3')],
    learners: [nodeId('m4')],
    addresses: { m1: '127.0.0.1:5050', m2: '127.0.0.1:5051', m3: '127.0.0.1:5052', m4: '[::1]:5053' },
  },
};

const base = { from: leader, to: follower, term: 7 };

// A Record keyed by MessageType: adding a message type to types.ts breaks this file's build
// until the new type has a fixture here.
const everyMessageType: Record<MessageType, Message> = {
  'pre-vote': { ...base, type: 'pre-vote', lastIndex: 41, lastTerm: 6 },
  'pre-vote-response': { ...base, type: 'pre-vote-response', reject: true },
  vote: { ...base, type: 'vote', lastIndex: 42, lastTerm: 7, transfer: true },
  'vote-response': { ...base, type: 'vote-response', reject: false },
  append: {
    ...base,
    type: 'append',
    prevIndex: 99,
    prevTerm: 6,
    commit: 98,
    answerWanted: false,
    entries: [
      makeEntry(100, 7, 'noop', new Uint8Array(0)),
      makeEntry(101, 7, 'normal', text('{"type":"register-agent"}'), stamp('anonymous framework-ü/17')),
      makeEntry(102, 7, 'config', text('add-learner m4')),
    ],
  },
  'append-response': { ...base, type: 'append-response', reject: true, index: 99, hintIndex: 50, hintTerm: 5 },
  heartbeat: { ...base, type: 'heartbeat', commit: 102, round: 9, context: 'read-17' },
  'heartbeat-response': { ...base, type: 'heartbeat-response', round: 9, context: '' },
  'snapshot-chunk': {
    ...base,
    type: 'snapshot-chunk',
    meta: snapshotMeta,
    offset: 1024,
    totalBytes: 4096,
    data: seededBytes(1, 2048),
  },
  'snapshot-response': { ...base, type: 'snapshot-response', snapshotIndex: 4_000, receivedBytes: -1, done: false },
  'timeout-now': { ...base, type: 'timeout-now' },
  'read-index': { ...base, type: 'read-index', context: 'ctx-☃' },
  'read-index-response': { ...base, type: 'read-index-response', context: 'ctx-9', index: 102, reject: false },
};

const allMessages = Object.values(everyMessageType);

function assertThrowsInstance(
  action: () => unknown,
  errorClass: new (...args: never[]) => Error,
  label: string,
): Error {
  try {
    action();
  } catch (error) {
    assert.instance(error, errorClass, `${label}: threw ${String(error)}`);
    return error as Error;
  }
  assert.unreachable(`${label}: expected ${errorClass.name}, nothing was thrown`);
  throw new Error('unreachable');
}

function flipBits(bytes: Uint8Array, position: number, mask: number): void {
  const original = bytes[position];
  assert.ok(original !== undefined, `byte ${position} is outside the ${bytes.byteLength}-byte buffer`);
  bytes[position] = original ^ mask;
}

const timeoutNowFrame = (): Buffer => encodeMessages([everyMessageType['timeout-now']]);

// --- round trips ---------------------------------------------------------------------------

test('every message type round-trips alone, all fields intact', () => {
  for (const message of allMessages) {
    const frame = encodeMessages([message]);
    assert.is(frame.byteLength, headerBytes + encodedMessageBytes(message), `${message.type} size`);
    assert.equal(decodeMessages(frame), [message], message.type);
  }
});

test('a batch of every message type round-trips in order', () => {
  assert.equal(decodeMessages(encodeMessages(allMessages)), allMessages);
});

test('an empty batch round-trips', () => {
  const frame = encodeMessages([]);
  assert.is(frame.byteLength, headerBytes);
  assert.equal(decodeMessages(frame), []);
});

test('integers at the edges of the safe range round-trip', () => {
  const message: Message = {
    ...base,
    term: Number.MAX_SAFE_INTEGER,
    type: 'append-response',
    reject: false,
    index: 2 ** 32,
    hintIndex: 2 ** 32 - 1,
    hintTerm: 0,
  };
  assert.equal(decodeMessages(encodeMessages([message])), [message]);
});

test('big entry data and a big snapshot chunk round-trip byte for byte', () => {
  const bigData = seededBytes(7, 8 * 1024 * 1024);
  const append: Message = {
    ...base,
    type: 'append',
    prevIndex: 0,
    prevTerm: 0,
    commit: 0,
    answerWanted: true,
    entries: [makeEntry(1, 1, 'normal', bigData, stamp('c', 0)), makeEntry(2, 1, 'normal', new Uint8Array(0))],
  };
  const chunk: Message = {
    ...base,
    type: 'snapshot-chunk',
    meta: snapshotMeta,
    offset: 0,
    totalBytes: bigData.byteLength,
    data: bigData,
  };
  assert.equal(decodeMessages(encodeMessages([append, chunk])), [append, chunk]);
});

test('decoded entry data is a view into the frame, not a copy (as documented)', () => {
  const frame = encodeMessages([everyMessageType.append]);
  const [decoded] = decodeMessages(frame);
  assert.ok(decoded !== undefined && decoded.type === 'append');
  const data = decoded.entries[1]!.data;
  assert.is(data.buffer, frame.buffer);
  assert.is(data.constructor, Uint8Array, 'plain Uint8Array, so it compares equal to what the core made');
});

test('a frame inside a larger buffer (non-zero byteOffset) decodes', () => {
  const frame = encodeMessages(allMessages);
  const padded = new Uint8Array(frame.byteLength + 13);
  padded.set(frame, 7);
  assert.equal(decodeMessages(padded.subarray(7, 7 + frame.byteLength)), allMessages);
});

// --- hostile frames --------------------------------------------------------------------------

test('every truncation of a valid frame is a CodecError', () => {
  const frame = encodeMessages(allMessages.filter((message) => message.type !== 'snapshot-chunk'));
  for (let length = 0; length < frame.byteLength; length += 1) {
    assertThrowsInstance(() => decodeMessages(frame.subarray(0, length)), CodecError, `truncated to ${length}`);
  }
});

test('trailing bytes after the last message are a CodecError', () => {
  const frame = Buffer.concat([timeoutNowFrame(), Buffer.from([0])]);
  const error = assertThrowsInstance(() => decodeMessages(frame), CodecError, 'trailing byte');
  assert.match(error.message, /unexpected bytes/);
});

test('garbage, a wrong magic, an unknown version or flags are CodecErrors', () => {
  assertThrowsInstance(() => decodeMessages(seededBytes(3, 4096)), CodecError, 'random bytes');
  const badMagic = timeoutNowFrame();
  flipBits(badMagic, 0, 0xff);
  assert.match(assertThrowsInstance(() => decodeMessages(badMagic), CodecError, 'magic').message, /bad magic/);
  const newerVersion = timeoutNowFrame();
  newerVersion[4] = frameFormatVersion + 1;
  assert.match(
    assertThrowsInstance(() => decodeMessages(newerVersion), CodecError, 'version').message,
    /format version 3/,
  );
  // Version 1 (before an append carried answerWanted) is refused, not misread: a version-1 append
  // read with this layout would take its entry count's low byte for the flag.
  const olderVersion = timeoutNowFrame();
  olderVersion[4] = 1;
  assert.match(
    assertThrowsInstance(() => decodeMessages(olderVersion), CodecError, 'older version').message,
    /unsupported format version 1; this replica speaks version 2/,
  );
  const flags = timeoutNowFrame();
  flags[5] = 1;
  assertThrowsInstance(() => decodeMessages(flags), CodecError, 'flags');
});

test('an unknown message type code is a CodecError', () => {
  const frame = timeoutNowFrame();
  frame[headerBytes] = 200;
  assert.match(
    assertThrowsInstance(() => decodeMessages(frame), CodecError, 'type').message,
    /unknown message type code 200/,
  );
});

test('a frame above maxFrameBytes is refused before it is read', () => {
  const oversized = new Uint8Array(maxFrameBytes + 1);
  assert.match(assertThrowsInstance(() => decodeMessages(oversized), CodecError, 'oversized').message, /maxFrameBytes/);
});

test('counts and lengths that claim more than the frame holds are refused, not allocated', () => {
  const hugeMessageCount = timeoutNowFrame();
  hugeMessageCount.writeUInt32LE(0xffffffff, 6);
  assertThrowsInstance(() => decodeMessages(hugeMessageCount), CodecError, 'message count');

  const marker = text('MARKER-PAYLOAD');
  const append: Message = {
    ...base,
    type: 'append',
    prevIndex: 0,
    prevTerm: 0,
    commit: 0,
    answerWanted: true,
    entries: [makeEntry(1, 1, 'normal', marker)],
  };
  const frame = encodeMessages([append]);
  const dataStart = frame.indexOf(Buffer.from(marker));
  assert.ok(dataStart > 0);
  const hugeDataLength = Buffer.from(frame);
  hugeDataLength.writeUInt32LE(0xffffffff, dataStart - 4);
  assertThrowsInstance(() => decodeMessages(hugeDataLength), CodecError, 'data length');

  const entryCountOffset = dataStart - 4 - 4 - 1 - 1 - 8 - 8 - 4;
  assert.is(frame.readUInt32LE(entryCountOffset), 1, 'test located the entry count');
  const hugeEntryCount = Buffer.from(frame);
  hugeEntryCount.writeUInt32LE(100_000_000, entryCountOffset);
  assert.match(
    assertThrowsInstance(() => decodeMessages(hugeEntryCount), CodecError, 'entry count').message,
    /cannot fit/,
  );
});

test('bad enum codes, booleans, UTF-8 and integers inside a message are CodecErrors', () => {
  const marker = text('MARKER-PAYLOAD');
  const append: Message = {
    ...base,
    type: 'append',
    prevIndex: 0,
    prevTerm: 0,
    commit: 0,
    answerWanted: true,
    entries: [makeEntry(1, 1, 'normal', marker)],
  };
  const frame = encodeMessages([append]);
  const dataStart = frame.indexOf(Buffer.from(marker));
  const typeOffset = dataStart - 4 - 4 - 1 - 1;
  assert.is(frame[typeOffset], 1, 'test located the entry type');
  const badEntryType = Buffer.from(frame);
  badEntryType[typeOffset] = 9;
  assert.match(
    assertThrowsInstance(() => decodeMessages(badEntryType), CodecError, 'entry type').message,
    /entry type code 9/,
  );

  const vote = encodeMessages([everyMessageType.vote]);
  vote[vote.byteLength - 1] = 2;
  assert.match(assertThrowsInstance(() => decodeMessages(vote), CodecError, 'boolean').message, /not a boolean/);

  const fromOffset = headerBytes + 1;
  const badUtf8 = timeoutNowFrame();
  badUtf8[fromOffset + 2] = 0xff;
  assert.match(assertThrowsInstance(() => decodeMessages(badUtf8), CodecError, 'utf8').message, /UTF-8/);

  const termOffset = headerBytes + 1 + 2 + 2 + 2 + 2;
  const unsafeTerm = timeoutNowFrame();
  assert.is(unsafeTerm.readUInt32LE(termOffset), 7, 'test located the term');
  unsafeTerm.writeInt32LE(0x7fffffff, termOffset + 4);
  assert.match(assertThrowsInstance(() => decodeMessages(unsafeTerm), CodecError, 'term').message, /safe integer/);
  const negativeTerm = timeoutNowFrame();
  negativeTerm.writeInt32LE(-1, termOffset + 4);
  assertThrowsInstance(() => decodeMessages(negativeTerm), CodecError, 'negative term');
});

test('a snapshot chunk running past totalBytes is a CodecError on both sides', () => {
  const chunk: Message = {
    ...base,
    type: 'snapshot-chunk',
    meta: snapshotMeta,
    offset: 10,
    totalBytes: 12,
    data: new Uint8Array(3),
  };
  assertThrowsInstance(() => encodeMessages([chunk]), CodecError, 'encode');
  const valid = encodeMessages([{ ...chunk, totalBytes: 13 }]);
  const totalBytesOffset = valid.byteLength - 3 - 4 - 8;
  assert.is(valid.readUInt32LE(totalBytesOffset), 13, 'test located totalBytes');
  valid.writeUInt32LE(12, totalBytesOffset);
  assertThrowsInstance(() => decodeMessages(valid), CodecError, 'decode');
});

test('a flipped bit in entry data is a CorruptEntryError naming the entry', () => {
  const frame = encodeMessages([everyMessageType.append]);
  const dataStart = frame.indexOf(Buffer.from('register-agent'));
  assert.ok(dataStart > 0);
  flipBits(frame, dataStart, 0b0000_0100);
  const error = assertThrowsInstance(() => decodeMessages(frame), CorruptEntryError, 'flipped bit');
  assert.is((error as CorruptEntryError).index, 101);
  assert.match(error.message, /entry 101/);
  assert.match(error.message, /m1/, 'names the sending peer');
});

test('the idempotency stamp is covered by the checksum: a changed key or time is a CorruptEntryError', () => {
  const frame = encodeMessages([everyMessageType.append]);
  const keyStart = frame.indexOf(Buffer.from('anonymous framework'));
  assert.ok(keyStart > 0, 'test located the key');
  frame[keyStart] = 'b'.charCodeAt(0);
  const error = assertThrowsInstance(() => decodeMessages(frame), CorruptEntryError, 'changed key');
  assert.is((error as CorruptEntryError).index, 101);
  const entry = makeEntry(1, 1, 'normal', text('x'), stamp('k', 1_000));
  const single = encodeMessages([
    { ...base, type: 'append', prevIndex: 0, prevTerm: 0, commit: 0, answerWanted: true, entries: [entry] },
  ]);
  // The atMs integer sits right before the data (u32 length 1, then 'x'), as 8 bytes.
  const atMsOffset = single.byteLength - 1 - 4 - 8;
  assert.is(single.readUInt32LE(atMsOffset), 1_000, 'test located atMs');
  single.writeUInt32LE(1_001, atMsOffset);
  assertThrowsInstance(() => decodeMessages(single), CorruptEntryError, 'changed time');
});

test('the retired client-session flag (entry flags bit 0) is refused, never read as a stamp', () => {
  const entry = makeEntry(1, 1, 'normal', text('x'), stamp('k', 1_000));
  const frame = encodeMessages([
    { ...base, type: 'append', prevIndex: 0, prevTerm: 0, commit: 0, answerWanted: true, entries: [entry] },
  ]);
  const flagsOffset = frame.indexOf(Buffer.from('k')) - 2 - 4 - 1;
  assert.is(frame[flagsOffset], 0b10, 'test located the entry flags');
  frame[flagsOffset] = 0b11;
  const error = assertThrowsInstance(() => decodeMessages(frame), CodecError, 'retired flag');
  assert.match(error.message, /unknown flags 0x3/);
  frame[flagsOffset] = 0b01;
  assertThrowsInstance(() => decodeMessages(frame), CodecError, 'retired flag alone');
});

test('random corruption never escapes as anything but CodecError or CorruptEntryError', () => {
  const seed = 20240611;
  const noise = seededBytes(seed, 40_000);
  const frame = encodeMessages(allMessages);
  let refused = 0;
  for (let trial = 0; trial < 2_000; trial += 1) {
    const mutated = Buffer.from(frame);
    const position =
      ((noise[trial * 3]! << 16) | (noise[trial * 3 + 1]! << 8) | noise[trial * 3 + 2]!) % mutated.byteLength;
    flipBits(mutated, position, noise[20_000 + trial]! | 1);
    try {
      decodeMessages(mutated);
    } catch (error) {
      const named = error instanceof CodecError || error instanceof CorruptEntryError;
      assert.ok(named, `seed ${seed} trial ${trial} byte ${position}: ${String(error)}`);
      refused += 1;
    }
  }
  assert.ok(refused > 0, 'some mutations must be refused');
});

// --- the encoder's own limits -------------------------------------------------------------

test('the encoder refuses what it cannot represent', () => {
  const longContext = 'x'.repeat(maxStringBytes + 1);
  assertThrowsInstance(
    () => encodeMessages([{ ...base, type: 'read-index', context: longContext }]),
    CodecError,
    'long string',
  );
  assertThrowsInstance(
    () => encodeMessages([{ ...base, term: 1.5, type: 'timeout-now' }]),
    CodecError,
    'fractional term',
  );
  assertThrowsInstance(() => encodeMessages([{ ...base, term: -1, type: 'timeout-now' }]), CodecError, 'negative term');
  const tooBig = makeEntry(1, 1, 'normal', new Uint8Array(maxFrameBytes));
  const append: Message = {
    ...base,
    type: 'append',
    prevIndex: 0,
    prevTerm: 0,
    commit: 0,
    answerWanted: true,
    entries: [tooBig],
  };
  assert.match(
    assertThrowsInstance(() => encodeMessages([append]), CodecError, 'frame too big').message,
    /maxFrameBytes/,
  );
});

test('throughput of 10,000 small entries (logged, not asserted)', () => {
  const entries = Array.from({ length: 10_000 }, (_, position) =>
    makeEntry(position + 1, 3, 'normal', seededBytes(position, 100), stamp(`framework-1/${position}`)),
  );
  const append: Message = {
    ...base,
    type: 'append',
    prevIndex: 0,
    prevTerm: 0,
    commit: 0,
    answerWanted: true,
    entries,
  };
  const encodeStart = performance.now();
  const frame = encodeMessages([append]);
  const encodeMilliseconds = performance.now() - encodeStart;
  const decodeStart = performance.now();
  const [decoded] = decodeMessages(frame);
  const decodeMilliseconds = performance.now() - decodeStart;
  assert.ok(decoded !== undefined && decoded.type === 'append' && decoded.entries.length === 10_000);
  console.log(
    JSON.stringify({
      bench: 'codec-10k-entries',
      frameBytes: frame.byteLength,
      encodeMilliseconds: Number(encodeMilliseconds.toFixed(2)),
      decodeMilliseconds: Number(decodeMilliseconds.toFixed(2)),
    }),
  );
});

test.run();
