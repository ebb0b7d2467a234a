// Every entry carries a CRC-32 so a torn or flipped log record is detected on read and named by
// its index, never applied (a disk may lie; SQLite's own checks do not cover our payloads).
import { crc32 } from 'node:zlib';
import type { EntryType, IdempotencyStamp, LogIndex, Term } from './types.ts';

const typeCode: Record<EntryType, number> = { normal: 1, config: 2, noop: 3 };

export function entryChecksum(
  term: Term,
  index: LogIndex,
  type: EntryType,
  data: Uint8Array,
  idempotency: IdempotencyStamp | undefined,
): number {
  // An unstamped entry checksums as it always has; a stamp is JSON so no key can mimic another.
  const stamp = idempotency ? JSON.stringify([idempotency.key, idempotency.fingerprint, idempotency.atMs]) : '';
  const header = `${term}:${index}:${typeCode[type]}:${stamp}|`;
  const headerChecksum = crc32(header);
  // zlib.crc32 ignores its seed for an empty view without backing memory (e.g. an empty BLOB
  // from SQLite) and returns 0, so the same empty entry would checksum two ways.
  return data.byteLength === 0 ? headerChecksum : crc32(data, headerChecksum);
}

export class CorruptEntryError extends Error {
  readonly code = 'RAFT_ENTRY_CORRUPT';
  constructor(
    readonly index: LogIndex,
    readonly where: string,
  ) {
    super(`raft log entry ${index} is corrupt (checksum mismatch) in ${where}; refusing to apply it`);
    this.name = 'CorruptEntryError';
  }
}
