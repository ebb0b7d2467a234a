// The binary wire format of Raft messages between replicas: one frame carries a batch of
// messages for one peer. Entry data and snapshot chunks travel as raw bytes (never base64 or
// JSON) because replication moves thousands of entries a second through here.
//
// Frame, all integers little-endian:
//
//   header   magic "FLRT" (4 bytes) | format version u8 | flags u8 (must be 0) | message count u32
//   message  type code u8 | from string | to string | term int | body (by type, see writeBody)
//   string   byte length u16 | UTF-8 bytes
//   int      a safe integer as 64 bits: low u32, then high i32 (two's complement, so -1 fits)
//   bytes    byte length u32 | raw bytes
//   entry    term int | index int | entry type u8 | flags u8 (bit 1: idempotency stamp) | checksum u32
//            | [key string | fingerprint string | atMs int] | data bytes
//            (bit 0 was the client session stamp, retired: never reused, and refused if set)
//
// A peer is another process, possibly of another version, possibly broken: decode checks every
// length against the bytes left, every code against its table, and every entry checksum, and
// throws a CodecError (or CorruptEntryError) instead of reading out of bounds or trusting a count.
import { maxFrameBytes, maxMembershipNodes } from './limits.ts';
import { assertNever } from '../util/assert.ts';
import { isUtf8 } from 'node:buffer';
import { CorruptEntryError, entryChecksum } from './checksum.ts';
import { nodeId } from './types.ts';
import type {
  Entry,
  EntryType,
  IdempotencyStamp,
  Membership,
  Message,
  MessageType,
  NodeId,
  SnapshotMeta,
} from './types.ts';

/** Node ids, addresses, idempotency keys and read contexts are short; the u16 prefix bounds them. */
export const maxStringBytes = 0xffff;

export const frameMagic = 0x54524c46; // "FLRT" read as a little-endian u32
/**
 * Bumped on any layout change; an older decoder refuses a newer frame instead of misreading it.
 * 2 (issue 19): an append carries answerWanted after its commit index. A replica of version 1 and
 * one of version 2 refuse each other's frames (logged as undecodable, dropped): mixed versions do
 * not replicate to each other, so upgrade a cluster's masters together (README, "Upgrading").
 */
export const frameFormatVersion = 2;

const headerBytes = 4 + 1 + 1 + 4;
/** type code + two empty strings + term: a count claiming more messages than this allows is a lie. */
const smallestMessageBytes = 1 + 2 + 2 + 8;
const smallestEntryBytes = 8 + 8 + 1 + 1 + 4 + 4;
const smallestStringBytes = 2;
/**
 * Entry flag bits, forever: bit 0 (a client session stamp) is retired. A replica of the previous
 * build refuses bit 1 as an unknown flag, cleanly, instead of misreading the stamp.
 */
const entryFlagHasIdempotency = 0b10;
const twoTo32 = 0x1_0000_0000;
/** The high word of a safe integer lies in [-2^21, 2^21 - 1]. */
const highWordLimit = 0x20_0000;

// Wire codes are forever: a retired code is never reused for another meaning.
const messageTypeCodes = {
  'pre-vote': 1,
  'pre-vote-response': 2,
  vote: 3,
  'vote-response': 4,
  append: 5,
  'append-response': 6,
  heartbeat: 7,
  'heartbeat-response': 8,
  'snapshot-chunk': 9,
  'snapshot-response': 10,
  'timeout-now': 11,
  'read-index': 12,
  'read-index-response': 13,
} as const satisfies Record<MessageType, number>;

const entryTypeCodes = { normal: 1, config: 2, noop: 3 } as const satisfies Record<EntryType, number>;

const messageTypeByCode = invertCodes(messageTypeCodes);
const entryTypeByCode = invertCodes(entryTypeCodes);

export class CodecError extends Error {
  readonly code = 'RAFT_FRAME_INVALID';
  constructor(message: string) {
    super(`raft frame: ${message}`);
    this.name = 'CodecError';
  }
}

function invertCodes<Name extends string>(codes: Record<Name, number>): ReadonlyMap<number, Name> {
  const byCode = new Map<number, Name>();
  for (const name of Object.keys(codes) as Name[]) byCode.set(codes[name], name);
  return byCode;
}

// ---------------------------------------------------------------------------------------------
// Encoding. One description of the layout (writeMessage) runs twice: against a MeasuringSink to
// size the frame exactly (and validate it), then against a BufferSink that fills one allocation.
// ---------------------------------------------------------------------------------------------

interface FrameSink {
  uint8(value: number): void;
  uint32(value: number): void;
  integer(value: number, minimum: number, field: string): void;
  boolean(value: boolean): void;
  string(value: string, field: string): void;
  bytes(value: Uint8Array): void;
}

class MeasuringSink implements FrameSink {
  byteCount = 0;

  uint8(): void {
    this.byteCount += 1;
  }

  uint32(): void {
    this.byteCount += 4;
  }

  integer(value: number, minimum: number, field: string): void {
    if (!Number.isSafeInteger(value) || value < minimum) {
      throw new CodecError(`cannot encode ${field}: expected a safe integer >= ${minimum}, got ${value}`);
    }
    this.byteCount += 8;
  }

  boolean(): void {
    this.byteCount += 1;
  }

  string(value: string, field: string): void {
    const byteLength = Buffer.byteLength(value, 'utf8');
    if (byteLength > maxStringBytes) {
      throw new CodecError(`cannot encode ${field}: ${byteLength} bytes exceeds maxStringBytes ${maxStringBytes}`);
    }
    this.byteCount += 2 + byteLength;
  }

  bytes(value: Uint8Array): void {
    this.byteCount += 4 + value.byteLength;
  }
}

class BufferSink implements FrameSink {
  offset = 0;
  constructor(readonly buffer: Buffer) {}

  uint8(value: number): void {
    this.offset = this.buffer.writeUInt8(value, this.offset);
  }

  uint32(value: number): void {
    this.offset = this.buffer.writeUInt32LE(value, this.offset);
  }

  integer(value: number): void {
    // `>>> 0` is the value modulo 2^32 for every safe integer, negative ones included.
    this.buffer.writeUInt32LE(value >>> 0, this.offset);
    this.buffer.writeInt32LE(Math.floor(value / twoTo32), this.offset + 4);
    this.offset += 8;
  }

  boolean(value: boolean): void {
    this.offset = this.buffer.writeUInt8(value ? 1 : 0, this.offset);
  }

  string(value: string): void {
    // The measuring pass checked the length; writing first and back-filling the prefix saves a
    // second Buffer.byteLength per string.
    const written = this.buffer.write(value, this.offset + 2, 'utf8');
    this.buffer.writeUInt16LE(written, this.offset);
    this.offset += 2 + written;
  }

  bytes(value: Uint8Array): void {
    this.offset = this.buffer.writeUInt32LE(value.byteLength, this.offset);
    this.buffer.set(value, this.offset);
    this.offset += value.byteLength;
  }
}

/** Encoded size of one message inside a frame, so a transport can cut batches under maxFrameBytes. */
export function encodedMessageBytes(message: Message): number {
  const sink = new MeasuringSink();
  writeMessage(sink, message);
  return sink.byteCount;
}

/** Encodes a batch of messages (all to one peer) into one frame of at most maxFrameBytes. */
export function encodeMessages(messages: readonly Message[]): Buffer {
  const measure = new MeasuringSink();
  for (const message of messages) writeMessage(measure, message);
  const frameBytes = headerBytes + measure.byteCount;
  if (frameBytes > maxFrameBytes) {
    throw new CodecError(
      `cannot encode ${messages.length} messages: ${frameBytes} bytes exceeds maxFrameBytes ${maxFrameBytes}`,
    );
  }
  // allocUnsafe is safe here: every byte is written, which the final assertion proves.
  const sink = new BufferSink(Buffer.allocUnsafe(frameBytes));
  sink.uint32(frameMagic);
  sink.uint8(frameFormatVersion);
  sink.uint8(0);
  sink.uint32(messages.length);
  for (const message of messages) writeMessage(sink, message);
  if (sink.offset !== frameBytes) {
    throw new Error(`raft codec: wrote ${sink.offset} bytes into a frame measured at ${frameBytes}`);
  }
  return sink.buffer;
}

function writeMessage(sink: FrameSink, message: Message): void {
  sink.uint8(messageTypeCodes[message.type]);
  sink.string(message.from, 'from');
  sink.string(message.to, 'to');
  sink.integer(message.term, 0, 'term');
  writeBody(sink, message);
}

function writeBody(sink: FrameSink, message: Message): void {
  switch (message.type) {
    case 'pre-vote':
      sink.integer(message.lastIndex, 0, 'lastIndex');
      sink.integer(message.lastTerm, 0, 'lastTerm');
      return;
    case 'vote':
      sink.integer(message.lastIndex, 0, 'lastIndex');
      sink.integer(message.lastTerm, 0, 'lastTerm');
      sink.boolean(message.transfer);
      return;
    case 'pre-vote-response':
    case 'vote-response':
      sink.boolean(message.reject);
      return;
    case 'append':
      sink.integer(message.prevIndex, 0, 'prevIndex');
      sink.integer(message.prevTerm, 0, 'prevTerm');
      sink.integer(message.commit, 0, 'commit');
      sink.boolean(message.answerWanted);
      sink.uint32(message.entries.length);
      for (const entry of message.entries) writeEntry(sink, entry);
      return;
    case 'append-response':
      sink.boolean(message.reject);
      sink.integer(message.index, 0, 'index');
      sink.integer(message.hintIndex, 0, 'hintIndex');
      sink.integer(message.hintTerm, 0, 'hintTerm');
      return;
    case 'heartbeat':
      sink.integer(message.commit, 0, 'commit');
      sink.integer(message.round, 0, 'round');
      sink.string(message.context, 'context');
      return;
    case 'heartbeat-response':
      sink.integer(message.round, 0, 'round');
      sink.string(message.context, 'context');
      return;
    case 'read-index':
      sink.string(message.context, 'context');
      return;
    case 'snapshot-chunk':
      writeSnapshotChunk(sink, message);
      return;
    case 'snapshot-response':
      sink.integer(message.snapshotIndex, 0, 'snapshotIndex');
      sink.integer(message.receivedBytes, -1, 'receivedBytes');
      sink.boolean(message.done);
      return;
    case 'timeout-now':
      return;
    case 'read-index-response':
      sink.string(message.context, 'context');
      sink.integer(message.index, 0, 'index');
      sink.boolean(message.reject);
      return;
    default:
      assertNever(message);
  }
}

type SnapshotChunkMessage = Extract<Message, { type: 'snapshot-chunk' }>;

function writeSnapshotChunk(sink: FrameSink, message: SnapshotChunkMessage): void {
  if (message.offset + message.data.byteLength > message.totalBytes) {
    throw new CodecError(
      `cannot encode snapshot-chunk: offset ${message.offset} + ${message.data.byteLength} bytes exceeds totalBytes ${message.totalBytes}`,
    );
  }
  writeSnapshotMeta(sink, message.meta);
  sink.integer(message.offset, 0, 'offset');
  sink.integer(message.totalBytes, 0, 'totalBytes');
  sink.bytes(message.data);
}

function writeSnapshotMeta(sink: FrameSink, meta: SnapshotMeta): void {
  sink.integer(meta.index, 0, 'snapshot index');
  sink.integer(meta.term, 0, 'snapshot term');
  writeNodeList(sink, meta.membership.voters, 'voters');
  writeNodeList(sink, meta.membership.learners, 'learners');
  const addresses = Object.entries(meta.membership.addresses);
  writeCount(sink, addresses.length, 'addresses');
  for (const [node, address] of addresses) {
    sink.string(node, 'address node');
    sink.string(address, 'address');
  }
}

function writeNodeList(sink: FrameSink, nodes: readonly NodeId[], field: string): void {
  writeCount(sink, nodes.length, field);
  for (const node of nodes) sink.string(node, field);
}

function writeCount(sink: FrameSink, count: number, field: string): void {
  if (count > maxMembershipNodes) {
    throw new CodecError(`cannot encode ${field}: ${count} exceeds maxMembershipNodes ${maxMembershipNodes}`);
  }
  sink.uint32(count);
}

function writeEntry(sink: FrameSink, entry: Entry): void {
  sink.integer(entry.term, 0, 'entry term');
  sink.integer(entry.index, 1, 'entry index');
  sink.uint8(entryTypeCodes[entry.type]);
  sink.uint8(entry.idempotency === undefined ? 0 : entryFlagHasIdempotency);
  sink.uint32(entry.checksum);
  if (entry.idempotency !== undefined) {
    sink.string(entry.idempotency.key, 'entry idempotency key');
    sink.string(entry.idempotency.fingerprint, 'entry idempotency fingerprint');
    sink.integer(entry.idempotency.atMs, 0, 'entry idempotency atMs');
  }
  sink.bytes(entry.data);
}

// ---------------------------------------------------------------------------------------------
// Decoding.
// ---------------------------------------------------------------------------------------------

/** A cursor over an untrusted frame: every read checks the bytes left before it touches them. */
class FrameReader {
  private offset = 0;
  private readonly buffer: Buffer;

  constructor(frame: Uint8Array) {
    // A Buffer view over the same memory, for its fast typed reads; nothing is copied.
    this.buffer = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  }

  get remaining(): number {
    return this.buffer.byteLength - this.offset;
  }

  private need(byteCount: number, field: string): void {
    if (byteCount > this.remaining) {
      throw new CodecError(
        `truncated: ${field} at byte ${this.offset} needs ${byteCount} bytes, ${this.remaining} left`,
      );
    }
  }

  uint8(field: string): number {
    this.need(1, field);
    const value = this.buffer.readUInt8(this.offset);
    this.offset += 1;
    return value;
  }

  uint32(field: string): number {
    this.need(4, field);
    const value = this.buffer.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }

  integer(minimum: number, field: string): number {
    this.need(8, field);
    const low = this.buffer.readUInt32LE(this.offset);
    const high = this.buffer.readInt32LE(this.offset + 4);
    if (high >= highWordLimit || high < -highWordLimit) {
      throw new CodecError(`${field} at byte ${this.offset} is outside the safe integer range`);
    }
    const value = high * twoTo32 + low;
    if (value < minimum) throw new CodecError(`${field} at byte ${this.offset} is ${value}, below ${minimum}`);
    this.offset += 8;
    return value;
  }

  boolean(field: string): boolean {
    const value = this.uint8(field);
    if (value > 1) throw new CodecError(`${field} at byte ${this.offset - 1} is ${value}, not a boolean (0 or 1)`);
    return value === 1;
  }

  string(field: string): string {
    this.need(2, field);
    const byteLength = this.buffer.readUInt16LE(this.offset);
    this.need(2 + byteLength, field);
    const start = this.offset + 2;
    const end = start + byteLength;
    if (!isUtf8(this.buffer.subarray(start, end))) {
      throw new CodecError(`${field} at byte ${this.offset} is not valid UTF-8`);
    }
    this.offset = end;
    return this.buffer.toString('utf8', start, end);
  }

  /** A view into the frame, not a copy (see decodeMessages). */
  bytes(field: string): Uint8Array {
    const byteLength = this.uint32(`${field} length`);
    this.need(byteLength, field);
    const view = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset + this.offset, byteLength);
    this.offset += byteLength;
    return view;
  }

  /** A count is trusted only if that many of the smallest possible items fit in the bytes left. */
  count(smallestItemBytes: number, field: string): number {
    const count = this.uint32(`${field} count`);
    if (count * smallestItemBytes > this.remaining) {
      throw new CodecError(`${field} count ${count} cannot fit in the ${this.remaining} bytes left`);
    }
    return count;
  }
}

/**
 * Decodes one frame made by encodeMessages. Throws CodecError on any malformed input and
 * CorruptEntryError when an entry's checksum does not match its contents.
 *
 * Ownership: entry data and snapshot chunk data are views into `frame`, not copies. They stay
 * valid as long as nobody overwrites the frame's memory, and they keep the whole frame alive:
 * a caller that holds a few small entries of a big frame for long should copy them.
 */
export function decodeMessages(frame: Uint8Array): Message[] {
  if (frame.byteLength > maxFrameBytes) {
    throw new CodecError(`${frame.byteLength} bytes exceeds maxFrameBytes ${maxFrameBytes}`);
  }
  const reader = new FrameReader(frame);
  const count = readHeader(reader);
  const messages: Message[] = [];
  for (let position = 0; position < count; position += 1) messages.push(readMessage(reader));
  if (reader.remaining !== 0) {
    throw new CodecError(`${reader.remaining} unexpected bytes after the last of ${count} messages`);
  }
  return messages;
}

function readHeader(reader: FrameReader): number {
  if (reader.remaining < headerBytes) {
    throw new CodecError(`truncated: ${reader.remaining} bytes is shorter than the ${headerBytes}-byte header`);
  }
  const magic = reader.uint32('magic');
  if (magic !== frameMagic) {
    throw new CodecError(`bad magic 0x${magic.toString(16)}: not a Flotilla Raft frame`);
  }
  const version = reader.uint8('format version');
  if (version !== frameFormatVersion) {
    throw new CodecError(`unsupported format version ${version}; this replica speaks version ${frameFormatVersion}`);
  }
  const flags = reader.uint8('flags');
  if (flags !== 0) throw new CodecError(`unknown frame flags 0x${flags.toString(16)}`);
  return reader.count(smallestMessageBytes, 'message');
}

function readMessage(reader: FrameReader): Message {
  const code = reader.uint8('message type');
  const type = messageTypeByCode.get(code);
  if (type === undefined) throw new CodecError(`unknown message type code ${code}`);
  const from = nodeId(reader.string('from'));
  const to = nodeId(reader.string('to'));
  const term = reader.integer(0, 'term');
  return readBody(reader, { type, from, to, term });
}

interface MessageHead {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

function readBody(reader: FrameReader, head: MessageHead): Message {
  const { from, to, term } = head;
  switch (head.type) {
    case 'pre-vote':
      return {
        type: 'pre-vote',
        from,
        to,
        term,
        lastIndex: reader.integer(0, 'lastIndex'),
        lastTerm: reader.integer(0, 'lastTerm'),
      };
    case 'vote': {
      const lastIndex = reader.integer(0, 'lastIndex');
      const lastTerm = reader.integer(0, 'lastTerm');
      return { type: 'vote', from, to, term, lastIndex, lastTerm, transfer: reader.boolean('transfer') };
    }
    case 'pre-vote-response':
    case 'vote-response':
      return { type: head.type, from, to, term, reject: reader.boolean('reject') };
    case 'append':
      return readAppend(reader, head);
    case 'append-response': {
      const reject = reader.boolean('reject');
      const index = reader.integer(0, 'index');
      const hintIndex = reader.integer(0, 'hintIndex');
      return {
        type: 'append-response',
        from,
        to,
        term,
        reject,
        index,
        hintIndex,
        hintTerm: reader.integer(0, 'hintTerm'),
      };
    }
    case 'heartbeat': {
      const commit = reader.integer(0, 'commit');
      const round = reader.integer(0, 'round');
      return { type: 'heartbeat', from, to, term, commit, round, context: reader.string('context') };
    }
    case 'heartbeat-response': {
      const round = reader.integer(0, 'round');
      return { type: 'heartbeat-response', from, to, term, round, context: reader.string('context') };
    }
    case 'read-index':
      return { type: head.type, from, to, term, context: reader.string('context') };
    case 'snapshot-chunk':
      return readSnapshotChunk(reader, head);
    case 'snapshot-response': {
      const snapshotIndex = reader.integer(0, 'snapshotIndex');
      const receivedBytes = reader.integer(-1, 'receivedBytes');
      return { type: 'snapshot-response', from, to, term, snapshotIndex, receivedBytes, done: reader.boolean('done') };
    }
    case 'timeout-now':
      return { type: 'timeout-now', from, to, term };
    case 'read-index-response': {
      const context = reader.string('context');
      const index = reader.integer(0, 'index');
      return { type: 'read-index-response', from, to, term, context, index, reject: reader.boolean('reject') };
    }
    default:
      return assertNever(head.type);
  }
}

function readAppend(reader: FrameReader, head: MessageHead): Message {
  const prevIndex = reader.integer(0, 'prevIndex');
  const prevTerm = reader.integer(0, 'prevTerm');
  const commit = reader.integer(0, 'commit');
  const answerWanted = reader.boolean('answerWanted');
  const count = reader.count(smallestEntryBytes, 'entry');
  const where = `a frame from ${head.from}`;
  const entries: Entry[] = [];
  for (let position = 0; position < count; position += 1) entries.push(readEntry(reader, where));
  const { from, to, term } = head;
  return { type: 'append', from, to, term, prevIndex, prevTerm, entries, commit, answerWanted };
}

function readEntry(reader: FrameReader, where: string): Entry {
  const term = reader.integer(0, 'entry term');
  const index = reader.integer(1, 'entry index');
  const typeCode = reader.uint8('entry type');
  const type = entryTypeByCode.get(typeCode);
  if (type === undefined) throw new CodecError(`entry ${index} has unknown entry type code ${typeCode}`);
  const flags = reader.uint8('entry flags');
  if ((flags & ~entryFlagHasIdempotency) !== 0)
    throw new CodecError(`entry ${index} has unknown flags 0x${flags.toString(16)}`);
  const checksum = reader.uint32('entry checksum');
  let idempotency: IdempotencyStamp | undefined;
  if ((flags & entryFlagHasIdempotency) !== 0) {
    const key = reader.string('entry idempotency key');
    const fingerprint = reader.string('entry idempotency fingerprint');
    idempotency = { key, fingerprint, atMs: reader.integer(0, 'entry idempotency atMs') };
  }
  const data = reader.bytes('entry data');
  if (entryChecksum(term, index, type, data, idempotency) !== checksum) throw new CorruptEntryError(index, where);
  return idempotency === undefined
    ? { term, index, type, data, checksum }
    : { term, index, type, data, idempotency, checksum };
}

function readSnapshotChunk(reader: FrameReader, head: MessageHead): Message {
  const meta = readSnapshotMeta(reader);
  const offset = reader.integer(0, 'offset');
  const totalBytes = reader.integer(0, 'totalBytes');
  const data = reader.bytes('snapshot chunk data');
  if (offset + data.byteLength > totalBytes) {
    throw new CodecError(`snapshot-chunk offset ${offset} + ${data.byteLength} bytes exceeds totalBytes ${totalBytes}`);
  }
  return { type: 'snapshot-chunk', from: head.from, to: head.to, term: head.term, meta, offset, totalBytes, data };
}

function readSnapshotMeta(reader: FrameReader): SnapshotMeta {
  const index = reader.integer(0, 'snapshot index');
  const term = reader.integer(0, 'snapshot term');
  const voters = readNodeList(reader, 'voters');
  const learners = readNodeList(reader, 'learners');
  const addressCount = readMembershipCount(reader, 2 * smallestStringBytes, 'addresses');
  const addresses: [string, string][] = [];
  const seen = new Set<string>();
  for (let position = 0; position < addressCount; position += 1) {
    const node = reader.string('address node');
    if (seen.has(node)) throw new CodecError(`membership lists an address for ${JSON.stringify(node)} twice`);
    seen.add(node);
    addresses.push([node, reader.string('address')]);
  }
  // fromEntries defines own properties, so a hostile "__proto__" key cannot reach the prototype.
  const membership: Membership = { voters, learners, addresses: Object.fromEntries(addresses) };
  return { index, term, membership };
}

function readNodeList(reader: FrameReader, field: string): NodeId[] {
  const count = readMembershipCount(reader, smallestStringBytes, field);
  const nodes: NodeId[] = [];
  for (let position = 0; position < count; position += 1) nodes.push(nodeId(reader.string(field)));
  return nodes;
}

function readMembershipCount(reader: FrameReader, smallestItemBytes: number, field: string): number {
  const count = reader.count(smallestItemBytes, field);
  if (count > maxMembershipNodes) {
    throw new CodecError(`${field} count ${count} exceeds maxMembershipNodes ${maxMembershipNodes}`);
  }
  return count;
}
