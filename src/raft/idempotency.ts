// The idempotency table: exactly-once for writes a client retries after a timeout or a failover
// (dissertation §6.3, keyed by the client's Idempotency-Key instead of a session's sequence).
//
// A proposal may carry a stamp {key, fingerprint, atMs}. The core only carries it; the decision is
// made here, when the entry is applied, in log order, on every replica. So every replica decides
// the same, whichever of them leads when the retry comes, and these races come out right:
//   1. The retry arrives while the first attempt is still uncommitted (same leader, or a new one
//      that has it in its log): both entries end up in the log, the first one applied records
//      the key, the second is a duplicate and answers the recorded result.
//   2. The leader changes between the two attempts: the record is replicated state, the new
//      leader applies the retry against the same table.
//   3. A replica restores a snapshot (restart, or catch-up from the leader): the table is in it.
//
// Time: `atMs` is the proposing leader's clock, stamped by the master; apply reads no clock. The
// table's clock is the highest `atMs` applied so far, so it never runs backwards when a new
// leader's clock is behind the old one's, and a record's time is the table's clock when it was
// recorded: records are then in time order in insertion order, and the oldest is always first.
// (A leader whose clock jumps far ahead expires every key at once: the window assumes masters'
// clocks agree to well within it.)
//
// Bounds: a record lives for `idempotencyWindowMs` of table time, and there are at most
// `maxIdempotencyKeys` records; beyond either, the oldest go first. Both are constants, never
// flags: replicas with different limits would decide differently.
import { idempotencyWindowMs, maxEvictionsPerApply, maxIdempotencyKeys } from './limits.ts';
import { assert } from '../util/assert.ts';
import type { IdempotencyStamp, LogIndex } from './types.ts';

/** Records serialised per slice of a background snapshot, between which the event loop runs. */
const recordsPerSlice = 2_000;

export const idempotencyTableFormatVersion = 1;

export interface IdempotencyRecord {
  readonly key: string;
  readonly fingerprint: string;
  /** The table's clock when recorded; never decreases along the table's insertion order. */
  readonly recordedAtMs: number;
  /** The index of the entry whose apply produced `result`. */
  readonly index: LogIndex;
  /** The state machine's result; JSON-serialisable (it is kept in snapshots). */
  readonly result: unknown;
}

/** What became of a stamped entry when it was applied. */
export type IdempotencyOutcome =
  | { readonly type: 'applied' }
  /** The key was recorded with this fingerprint: nothing applied, the first result answered. */
  | { readonly type: 'duplicate'; readonly firstIndex: LogIndex }
  /** The key was recorded with another fingerprint: nothing applied, no result. */
  | { readonly type: 'key-reused'; readonly firstIndex: LogIndex };

export class IdempotencyFormatError extends Error {
  readonly code = 'RAFT_IDEMPOTENCY_TABLE_INVALID';
  constructor(detail: string) {
    super(`idempotency table in snapshot: ${detail}`);
    this.name = 'IdempotencyFormatError';
  }
}

export class IdempotencyTable {
  /** Insertion order is record order, which is time order: the first record is the oldest. */
  private readonly records = new Map<string, IdempotencyRecord>();
  private tableClockMs = 0;

  get size(): number {
    return this.records.size;
  }

  get clockMs(): number {
    return this.tableClockMs;
  }

  /**
   * Applies one stamped entry: `applyCommand` runs only if the key is not remembered. Returns
   * what happened and the result to answer (the recorded one for a duplicate, none if reused).
   */
  apply(
    stamp: IdempotencyStamp,
    index: LogIndex,
    applyCommand: () => unknown,
  ): { outcome: IdempotencyOutcome; result: unknown } {
    assertStamp(stamp);
    this.tableClockMs = Math.max(this.tableClockMs, stamp.atMs);
    this.evictExpired();
    const known = this.lookup(stamp.key);
    if (known !== undefined) {
      if (known.fingerprint === stamp.fingerprint) {
        return { outcome: { type: 'duplicate', firstIndex: known.index }, result: known.result };
      }
      return { outcome: { type: 'key-reused', firstIndex: known.index }, result: undefined };
    }
    // Expired but not yet evicted: it goes now, so the new record is inserted last, in time order.
    this.records.delete(stamp.key);
    const result = applyCommand();
    const record = { key: stamp.key, fingerprint: stamp.fingerprint, recordedAtMs: this.tableClockMs, index, result };
    this.records.set(stamp.key, record);
    if (this.records.size > maxIdempotencyKeys) this.records.delete(this.oldestKey());
    assert(this.records.size <= maxIdempotencyKeys, 'idempotency table above its cap');
    return { outcome: { type: 'applied' }, result };
  }

  /** The record for `key`, if remembered and live at the table's clock (for tests and tools). */
  lookup(key: string): IdempotencyRecord | undefined {
    const record = this.records.get(key);
    return record !== undefined && this.isLive(record) ? record : undefined;
  }

  /** Writes the table now, in one go (see `beginEncode` for the background form). */
  encode(): Buffer {
    return encodeRecords(this.tableClockMs, [...this.records.values()]);
  }

  /**
   * Captures the table now (an array of pointers: records are immutable) and returns the function
   * that writes it later in slices, giving the event loop back between them.
   */
  beginEncode(): (yieldToEventLoop: () => Promise<void>) => Promise<Buffer> {
    const clockMs = this.tableClockMs;
    const records = [...this.records.values()];
    return async (yieldToEventLoop) => {
      const parts: string[] = [];
      for (let start = 0; start < records.length; start += recordsPerSlice) {
        if (start > 0) await yieldToEventLoop();
        parts.push(
          records
            .slice(start, start + recordsPerSlice)
            .map(recordJson)
            .join(','),
        );
      }
      return Buffer.from(`${headerJson(clockMs)}${parts.join(',')}]}`, 'utf8');
    };
  }

  /** Reads a table written by `encode`; throws IdempotencyFormatError on anything it cannot trust. */
  static decode(bytes: Uint8Array): IdempotencyTable {
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    } catch (error) {
      throw new IdempotencyFormatError(`not JSON (${(error as Error).message})`);
    }
    const body = raw as { version?: unknown; clockMs?: unknown; records?: unknown };
    if (body?.version !== idempotencyTableFormatVersion) {
      throw new IdempotencyFormatError(
        `unknown format version ${JSON.stringify(body?.version ?? null)}; this build reads version ${idempotencyTableFormatVersion}`,
      );
    }
    if (!isTime(body.clockMs)) throw new IdempotencyFormatError(`clockMs ${String(body.clockMs)} is not a time`);
    if (!Array.isArray(body.records)) throw new IdempotencyFormatError('records is not a list');
    if (body.records.length > maxIdempotencyKeys) {
      throw new IdempotencyFormatError(`${body.records.length} records exceed the cap of ${maxIdempotencyKeys}`);
    }
    const table = new IdempotencyTable();
    table.tableClockMs = body.clockMs;
    let previousAtMs = 0;
    for (const item of body.records) {
      const record = parseRecord(item);
      if (record.recordedAtMs < previousAtMs || record.recordedAtMs > body.clockMs) {
        throw new IdempotencyFormatError(`record ${JSON.stringify(record.key)} is out of time order`);
      }
      if (table.records.has(record.key)) throw new IdempotencyFormatError(`key ${JSON.stringify(record.key)} twice`);
      previousAtMs = record.recordedAtMs;
      table.records.set(record.key, record);
    }
    return table;
  }

  private isLive(record: IdempotencyRecord): boolean {
    return record.recordedAtMs + idempotencyWindowMs > this.tableClockMs;
  }

  /** From the oldest on, at most maxEvictionsPerApply: records are in time order. */
  private evictExpired(): void {
    let evicted = 0;
    for (const record of this.records.values()) {
      if (this.isLive(record) || evicted === maxEvictionsPerApply) return;
      this.records.delete(record.key);
      evicted += 1;
    }
  }

  private oldestKey(): string {
    const first = this.records.keys().next();
    assert(first.done !== true, 'idempotency table: no oldest key in an empty table');
    return first.value;
  }
}

function assertStamp(stamp: IdempotencyStamp): void {
  assert(stamp.key.length > 0 && stamp.fingerprint.length > 0, 'idempotency stamp with an empty key or fingerprint');
  assert(isTime(stamp.atMs), `idempotency stamp time ${stamp.atMs} is not a non-negative safe integer`);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function headerJson(clockMs: number): string {
  return `{"version":${idempotencyTableFormatVersion},"clockMs":${clockMs},"records":[`;
}

/** [key, fingerprint, recordedAtMs, index] and the result, left out when undefined (JSON has no undefined). */
function recordJson(record: IdempotencyRecord): string {
  const head = [record.key, record.fingerprint, record.recordedAtMs, record.index];
  return JSON.stringify(record.result === undefined ? head : [...head, record.result]);
}

function encodeRecords(clockMs: number, records: readonly IdempotencyRecord[]): Buffer {
  return Buffer.from(`${headerJson(clockMs)}${records.map(recordJson).join(',')}]}`, 'utf8');
}

function parseRecord(item: unknown): IdempotencyRecord {
  if (!Array.isArray(item) || (item.length !== 4 && item.length !== 5)) {
    throw new IdempotencyFormatError('a record is not a list of 4 or 5 items');
  }
  const [key, fingerprint, recordedAtMs, index, result] = item as unknown[];
  if (typeof key !== 'string' || key.length === 0 || typeof fingerprint !== 'string' || fingerprint.length === 0) {
    throw new IdempotencyFormatError('a record has no key or no fingerprint');
  }
  if (!isTime(recordedAtMs) || !isTime(index) || index === 0) {
    throw new IdempotencyFormatError(`record ${JSON.stringify(key)} has a bad time or index`);
  }
  return { key, fingerprint, recordedAtMs, index, result };
}
