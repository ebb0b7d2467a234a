// A backup of the cluster state, as `GET /api/v1/backup` answers it and `flotilla backup` saves
// it (docs/operating.md, "Backups"). One file, versioned and checksummed:
//
//   "FLOTILLA-BACKUP\n"          16 bytes, the magic
//   header length                 u32 big-endian
//   header                        JSON: {format, takenBy, takenAtMs, term, appliedIndex, snapshotBytes}
//   state snapshot                the state machine's own snapshot (a SQLite file carrying its
//                                 applied index and state hash: src/state-machine/snapshot.ts)
//   CRC-32                        u32 big-endian, of every byte before it
//
// What it leaves out, on purpose: the Raft log and membership (a restore names its own masters)
// and the idempotency table of recent requests' keys (a restored cluster is a new cluster; a
// client retrying across a restore is retrying against different history anyway).
import { crc32 } from 'node:zlib';

const magic = Buffer.from('FLOTILLA-BACKUP\n', 'ascii');
/** Bumped on any change of the layout above; a build refuses a format it does not know. */
export const backupFormat = 1;
const lengthBytes = 4;
const checksumBytes = 4;
/** A header is a few hundred bytes; more is not a backup. */
const maxHeaderBytes = 64 * 1024;

export interface BackupHeader {
  readonly format: number;
  /** The master that answered, and its clock when it captured the state. */
  readonly takenBy: string;
  readonly takenAtMs: number;
  readonly term: number;
  /** The state is exactly that of the log up to this index. */
  readonly appliedIndex: number;
  readonly snapshotBytes: number;
}

export class BackupFormatError extends Error {
  override name = 'BackupFormatError';
}

export function encodeBackup(header: Omit<BackupHeader, 'format' | 'snapshotBytes'>, snapshot: Uint8Array): Buffer {
  const headerBytes = Buffer.from(
    JSON.stringify({ format: backupFormat, ...header, snapshotBytes: snapshot.byteLength }),
    'utf8',
  );
  const length = Buffer.alloc(lengthBytes);
  length.writeUInt32BE(headerBytes.byteLength);
  const body = Buffer.concat([magic, length, headerBytes, snapshot]);
  const checksum = Buffer.alloc(checksumBytes);
  checksum.writeUInt32BE(crc32(body));
  return Buffer.concat([body, checksum]);
}

/** The header and the state snapshot; BackupFormatError says what is wrong with a bad file. */
export function decodeBackup(file: Uint8Array): { header: BackupHeader; snapshot: Uint8Array } {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.byteLength < magic.byteLength + lengthBytes + checksumBytes || !bytes.subarray(0, 16).equals(magic)) {
    throw new BackupFormatError('not a Flotilla backup (it does not start with FLOTILLA-BACKUP)');
  }
  const bodyEnd = bytes.byteLength - checksumBytes;
  const expected = bytes.readUInt32BE(bodyEnd);
  const actual = crc32(bytes.subarray(0, bodyEnd));
  if (expected !== actual) {
    throw new BackupFormatError(`the file is damaged or cut short: CRC-32 ${actual}, the file says ${expected}`);
  }
  const headerLength = bytes.readUInt32BE(magic.byteLength);
  const headerStart = magic.byteLength + lengthBytes;
  if (headerLength > maxHeaderBytes || headerStart + headerLength > bodyEnd) {
    throw new BackupFormatError(`a header of ${headerLength} bytes does not fit the file`);
  }
  const header = parseHeader(bytes.subarray(headerStart, headerStart + headerLength));
  const snapshot = bytes.subarray(headerStart + headerLength, bodyEnd);
  if (snapshot.byteLength !== header.snapshotBytes) {
    throw new BackupFormatError(
      `the snapshot has ${snapshot.byteLength} bytes, the header says ${header.snapshotBytes}`,
    );
  }
  return { header, snapshot };
}

function parseHeader(bytes: Buffer): BackupHeader {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new BackupFormatError('the header is not JSON');
  }
  if (raw.format !== backupFormat) {
    throw new BackupFormatError(`backup format ${JSON.stringify(raw.format)}; this build reads format ${backupFormat}`);
  }
  const whole = (name: string): number => {
    const value = raw[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
      throw new BackupFormatError(`the header's ${name} is not a whole number`);
    return value;
  };
  if (typeof raw.takenBy !== 'string') throw new BackupFormatError("the header's takenBy is not a string");
  return {
    format: backupFormat,
    takenBy: raw.takenBy,
    takenAtMs: whole('takenAtMs'),
    term: whole('term'),
    appliedIndex: whole('appliedIndex'),
    snapshotBytes: whole('snapshotBytes'),
  };
}
