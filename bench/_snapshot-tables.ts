// What a snapshot holds, table by table, read from its bytes: for finding what grows in one (the
// churn bench's samples, scripts/snapshot-tables.ts, the churn tests). A Raft snapshot blob is the
// envelope of src/raft/state-machine-host.ts (version byte, the idempotency table's length as u32
// BE, the table's JSON) followed by the state machine's SQLite database (src/state-machine/snapshot.ts);
// the figures of both parts come out as rows of one list.
import Database from 'better-sqlite3';

/** The envelope's header: its version byte and the idempotency table's length. */
const envelopeHeaderBytes = 5;
/** The envelope version whose table is the idempotency table (1 held client sessions, COMPAT). */
const idempotencyEnvelopeVersion = 2;
/** The name the idempotency table's figures go under (no SQLite table has parentheses). */
export const idempotencyTableName = '(envelope) idempotency';

export interface TableFigures {
  readonly name: string;
  readonly rows: number;
  /** The bytes of the rows' keys and texts as stored (UTF-8); for the idempotency table, its JSON. */
  readonly bytes: number;
  /** The SQLite pages the table takes (dbstat, overflow pages included); the JSON's bytes for the idempotency table. */
  readonly pageBytes: number;
}

export interface SnapshotFigures {
  readonly bytes: number;
  /** The state machine's SQLite database: the whole blob but the envelope. */
  readonly databaseBytes: number;
  /** The idempotency table (when the blob is a Raft envelope), then every SQLite table by name. */
  readonly tables: readonly TableFigures[];
}

/** A Raft snapshot blob's figures: its envelope's idempotency table, then its database's tables. */
export function raftSnapshotFigures(blob: Buffer): SnapshotFigures {
  if (blob.byteLength < envelopeHeaderBytes || blob.readUInt8(0) !== idempotencyEnvelopeVersion)
    throw new Error(`not a version ${idempotencyEnvelopeVersion} Raft snapshot envelope`);
  const tableLength = blob.readUInt32BE(1);
  const tableText = blob.subarray(envelopeHeaderBytes, envelopeHeaderBytes + tableLength).toString('utf8');
  const records = (JSON.parse(tableText) as { records: unknown[] }).records;
  const idempotency = { name: idempotencyTableName, rows: records.length, bytes: tableLength, pageBytes: tableLength };
  const database = databaseFigures(blob.subarray(envelopeHeaderBytes + tableLength));
  return { bytes: blob.byteLength, databaseBytes: database.bytes, tables: [idempotency, ...database.tables] };
}

/** The state machine's snapshot database (no envelope): each table's rows, bytes and pages. */
export function databaseFigures(bytes: Buffer): SnapshotFigures {
  const database = new Database(bytes);
  try {
    const pageBytes = pageBytesByTable(database);
    const names = database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[];
    const tables = names.map(({ name }) => {
      const valueColumn = name === 'meta' ? 'value' : 'row';
      const sums = database
        .prepare(
          `SELECT count(*) AS rows, coalesce(sum(length(CAST(key AS BLOB)) + length(CAST(${valueColumn} AS BLOB))), 0)
             AS bytes FROM ${name}`,
        )
        .get() as { rows: number; bytes: number };
      return { name, rows: sums.rows, bytes: sums.bytes, pageBytes: pageBytes.get(name) ?? Number.NaN };
    });
    return { bytes: bytes.byteLength, databaseBytes: bytes.byteLength, tables };
  } finally {
    database.close();
  }
}

/**
 * Each table's pages in bytes, from SQLite's dbstat table (empty where SQLite lacks it). Summed
 * from dbstat's own page sizes: a database opened from a buffer answers PRAGMA page_size with the
 * default, not the file's (the snapshot writer's are 16 KiB).
 */
function pageBytesByTable(database: Database.Database): Map<string, number> {
  try {
    const rows = database.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as {
      name: string;
      bytes: number;
    }[];
    return new Map(rows.map((row) => [row.name, row.bytes]));
  } catch {
    return new Map();
  }
}
