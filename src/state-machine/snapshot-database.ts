// The SQLite side of a snapshot (snapshot.ts): the in-memory database its rows go into and the
// bytes `serialize()` makes of it. One class for both writers, the straight one on the caller's
// thread and the background one in a worker thread (snapshot-thread.ts), so both run the same
// statements in the same order and make the same bytes.
import Database from 'better-sqlite3';
import { assert } from '../util/assert.ts';
import { RowsHasher, rowsHashMeta } from './snapshot-rows.ts';

/** The `meta` table's rows, in the order they are inserted. */
export type MetaRows = readonly (readonly [key: string, value: string])[];

/**
 * Pages of 16 KiB hold about 17 task rows (of about 900 bytes) where 4 KiB pages held 4 and left
 * more of each page empty: 9% fewer bytes at 20,000 tasks. Any SQLite reads any page size, so
 * the format is unchanged for readers.
 */
const snapshotPageBytes = 16 * 1024;

export class SnapshotDatabase {
  /** Databases this thread has opened: the event loop's stays at 0 with background snapshots only (tests). */
  static openedInThisThread = 0;
  private readonly database = new Database(':memory:');
  private insertRow: Database.Statement | null = null;
  private closed = false;
  /** Formats 9 and 10: the rows hash, made where the rows are inserted (the worker thread, for a background write). */
  private readonly hasher: RowsHasher | null;
  private rowsInTable = 0;

  /**
   * The `meta` table and one `(key, row)` table per name, all empty. With `hashRows`, every row
   * inserted is hashed as written (snapshot-rows.ts RowsHasher) and `finish` adds the rows hash
   * and the tables' digests after the meta rows it is given.
   */
  constructor(tableNames: readonly string[], hashRows = false) {
    SnapshotDatabase.openedInThisThread += 1;
    this.hasher = hashRows ? new RowsHasher() : null;
    try {
      this.database.pragma(`page_size = ${snapshotPageBytes}`);
      this.database.exec('CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)');
      for (const name of tableNames) {
        assert(/^[a-z_]+$/.test(name), `snapshot table name ${JSON.stringify(name)}`);
        // No index on `key`: the reader reads whole tables and rejects a key seen twice itself;
        // the index was a second copy of every key and half of the inserts' time.
        this.database.exec(`CREATE TABLE ${name} (key TEXT NOT NULL, row TEXT NOT NULL)`);
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** One transaction per table, open until endTable: this connection is the writer's alone. */
  beginTable(name: string): void {
    assert(this.insertRow === null, `beginTable ${name}: a table is still open`);
    this.insertRow = this.database.prepare(`INSERT INTO ${name} (key, row) VALUES (?, ?)`);
    this.database.exec('BEGIN');
    this.hasher?.beginTable(name);
    this.rowsInTable = 0;
  }

  insert(key: string, row: string): void {
    assert(this.insertRow !== null, 'insert: no table is open');
    this.insertRow.run(key, row);
    this.hasher?.row(key, row);
    this.rowsInTable += 1;
  }

  insertRows(keys: readonly string[], rows: readonly string[]): void {
    assert(this.insertRow !== null, 'insertRows: no table is open');
    assert(keys.length === rows.length, `${keys.length} keys for ${rows.length} rows`);
    for (let position = 0; position < keys.length; position++) {
      this.insertRow.run(keys[position], rows[position]);
      this.hasher?.row(keys[position]!, rows[position]!);
    }
    this.rowsInTable += keys.length;
  }

  endTable(): void {
    assert(this.insertRow !== null, 'endTable: no table is open');
    this.database.exec('COMMIT');
    this.insertRow = null;
    this.hasher?.endTable(this.rowsInTable);
  }

  /**
   * Inserts the meta rows and returns `prefix` followed by the database's bytes, in one buffer
   * that owns its memory (a worker transfers it instead of copying); closes the database.
   */
  finish(meta: MetaRows, prefix: Uint8Array): Uint8Array {
    assert(this.insertRow === null, 'finish: a table is still open');
    try {
      const insertMeta = this.database.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      for (const [key, value] of this.hasher === null ? meta : [...meta, ...rowsHashMeta(this.hasher)])
        insertMeta.run(key, value);
      const serialized = this.database.serialize();
      // The database's pages go before the copy: at 100,000 tasks each of the three is 150 MB.
      this.close();
      const bytes = new Uint8Array(new ArrayBuffer(prefix.byteLength + serialized.byteLength));
      bytes.set(prefix, 0);
      bytes.set(serialized, prefix.byteLength);
      return bytes;
    } finally {
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.database.close();
  }
}
