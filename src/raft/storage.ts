// Durable storage of one replica: hard state, log entries and the latest snapshot's meta in
// SQLite (WAL, synchronous=FULL), snapshot bytes in files beside it. The driver calls persist()
// once per Ready, so one transaction — one fsync — carries every proposal of that Ready (group
// commit), and it returns before any message that depends on it is sent (DESIGN.md, "Raft").
//
// The commit index rides in the entry rows an append writes anyway (entries.commit_index), and
// the hard_state row is rewritten only when term or vote changed or a batch has no entries to
// carry it (issue 19): every Ready of a leader moves the commit index, and rewriting the row with
// each append cost every transaction, on leader and followers, a second WAL page. load() reads
// the commit as the highest of the row's and the entries', so a SIGKILLed replica's log still
// says how far it was committed (the offline replays of jepsen-lite and e2e/bounded-history).
//
// Layout of a data directory:
//   raft.db (+ -wal)                    tables meta, hard_state, entries, snapshot_meta
//   snapshots/snapshot-<term>-<index>.bin  the snapshot named by snapshot_meta; nothing else survives open()
//
// Everything read back is checked: entry checksums and contiguity, snapshot length and CRC-32.
// A mismatch is a named error that stops the replica, never data silently applied.
//
// WAL checkpoints (issue 19): SQLite's automatic checkpoint ran inside the commit that crossed
// 1,000 WAL pages, two extra fsyncs in that commit. The connection keeps it only as a backstop
// (walBackstopFactor); the replica asks walCheckpointUrgency() between turns and runs
// checkpoint() on this same connection. The same connection matters: with locking_mode=EXCLUSIVE
// no reader holds the WAL, so the checkpoint copies every frame and the next transaction writes
// the WAL from its start again (a second connection's checkpoint always raced a commit and the
// WAL never rewound: ckpt13). Durability is SQLite's: a commit is durable once its frames are
// synced; a checkpoint a crash interrupts is redone from the WAL on open.
import { assert } from '../util/assert.ts';
import Database from 'better-sqlite3';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CorruptEntryError, entryChecksum } from './checksum.ts';
import { StorageWriteError, diskFailureCode } from './disk-errors.ts';
import { walBackstopFactor, walCheckpointForceFactor, walCheckpointPages } from './limits.ts';
import { NO_NODE, nodeId } from './types.ts';
import type {
  Entry,
  EntryType,
  HardState,
  IdempotencyStamp,
  LogIndex,
  Membership,
  NodeId,
  PersistedState,
  Snapshot,
  SnapshotMeta,
  Term,
} from './types.ts';

/**
 * Bumped on any schema change; a build refuses a database whose version it does not know.
 * 2: entries carry an idempotency stamp (key, fingerprint, at_ms) instead of a client session
 * stamp (client, sequence). Version 1 databases are migrated on open (see migrateFromVersion1).
 * 3: entries carry the commit index known when they were written (commit_index). Version 2
 * databases are migrated on open (see migrateFromVersion2).
 */
export const storageFormatVersion = 3;
export const databaseFileName = 'raft.db';
export const snapshotDirectoryName = 'snapshots';

const snapshotFilePattern = /^snapshot-(\d+)-(\d+)\.bin$/;
/**
 * better-sqlite3 returns an empty BLOB as a Buffer with no backing store, and zlib's crc32 given
 * a null pointer returns 0 instead of continuing the running checksum, so entryChecksum of such
 * data differs from the writer's. An empty view into a real allocation checksums like any other
 * empty array. Shared: a zero-length view has nothing to mutate.
 */
const emptyEntryData = new Uint8Array(1).subarray(0, 0);
const temporarySuffix = '.tmp';

// Stored entry type codes, forever: a retired code is never reused.
const entryTypeCodes = { normal: 1, config: 2, noop: 3 } as const satisfies Record<EntryType, number>;
const entryTypeByCode: ReadonlyMap<number, EntryType> = new Map(
  (Object.keys(entryTypeCodes) as EntryType[]).map((type) => [entryTypeCodes[type], type]),
);

export class CorruptSnapshotError extends Error {
  readonly code = 'RAFT_SNAPSHOT_CORRUPT';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`raft snapshot file ${file} is corrupt (${reason}); refusing to install it`);
    this.name = 'CorruptSnapshotError';
  }
}

/** The database is not one this build can read: a newer format, or not a Flotilla raft.db at all. */
export class StorageFormatError extends Error {
  readonly code = 'RAFT_STORAGE_FORMAT_UNSUPPORTED';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`raft storage ${path}: ${detail}`);
    this.name = 'StorageFormatError';
  }
}

/** Rows that are individually intact but do not form a valid log or state (a gap, a bad row). */
export class CorruptStorageError extends Error {
  readonly code = 'RAFT_STORAGE_CORRUPT';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`raft storage ${path} is corrupt: ${detail}`);
    this.name = 'CorruptStorageError';
  }
}

export interface StorageOptions {
  /**
   * A cap on raft.db (SQLite max_page_count): past it every write fails with SQLITE_FULL, as on a
   * full disk. For tests of the full-disk path without a small filesystem; none by default.
   */
  readonly maxDatabaseBytes?: number;
  /**
   * Estimated WAL pages past which walCheckpointUrgency() says 'when-idle' (twice as many: 'now');
   * walCheckpointPages by default. Tests set fewer.
   */
  readonly walCheckpointPages?: number;
}

/** How soon the WAL should be copied back: not yet, once no write waits, or in the next turn. */
export type WalCheckpointUrgency = 'none' | 'when-idle' | 'now';

export interface WalCheckpointResult {
  /** Frames the WAL held (pages written since it last started over). */
  readonly framesInWal: number;
  /** Frames copied into raft.db: all of them, as no other connection can read the WAL. */
  readonly framesCopied: number;
}

export interface PersistBatch {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
}

interface HardStateRow {
  term: number;
  vote: string;
  commit_index: number;
}
interface EntryRow {
  idx: number;
  term: number;
  type: number;
  idempotency_key: string | null;
  idempotency_fingerprint: string | null;
  idempotency_at_ms: number | null;
  commit_index: number;
  checksum: number;
  data: unknown;
}
interface SnapshotRow {
  idx: number;
  term: number;
  membership: string;
  file_name: string;
  bytes: number;
  crc: number;
}
/**
 * What the database says now, kept so an append need not read it: the hard_state row's term and
 * vote (null: no row yet) and the latest commit index handed to persist(), which the next entry
 * rows record when their batch brings no hard state (the core then says nothing changed).
 */
interface WrittenState {
  readonly termAndVote: { readonly term: Term; readonly vote: NodeId } | null;
  readonly commit: LogIndex;
}

interface SnapshotFileRecord {
  readonly fileName: string;
  readonly bytes: number;
  readonly crc: number;
}

const schemaStatements = [
  'CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL)',
  `CREATE TABLE hard_state (id INTEGER PRIMARY KEY CHECK (id = 1),
     term INTEGER NOT NULL, vote TEXT NOT NULL, commit_index INTEGER NOT NULL)`,
  `CREATE TABLE entries (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type INTEGER NOT NULL,
     checksum INTEGER NOT NULL, data BLOB NOT NULL,
     idempotency_key TEXT, idempotency_fingerprint TEXT, idempotency_at_ms INTEGER,
     commit_index INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE snapshot_meta (id INTEGER PRIMARY KEY CHECK (id = 1), idx INTEGER NOT NULL,
     term INTEGER NOT NULL, membership TEXT NOT NULL, file_name TEXT NOT NULL, bytes INTEGER NOT NULL,
     crc INTEGER NOT NULL)`,
];

export class SqliteRaftStorage {
  private readonly snapshotDirectory: string;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly persistTransaction: (batch: PersistBatch, file: SnapshotFileRecord | null) => void;
  private readonly persistAllTransaction: (batches: readonly PersistBatch[]) => void;
  private readonly recordSnapshotTransaction: (meta: SnapshotMeta, file: SnapshotFileRecord) => void;
  /** null: unknown since a write failed and rolled back; read again before the next write. */
  private written: WrittenState | null = null;
  /** WAL pages written since the last checkpoint, estimated from the rows written (walPagesOf). */
  private walPagesEstimate = 0;

  private constructor(
    private readonly database: Database.Database,
    readonly dataDirectory: string,
    readonly databasePath: string,
    private readonly checkpointPages: number,
  ) {
    this.snapshotDirectory = join(dataDirectory, snapshotDirectoryName);
    this.statements = prepareStatements(database);
    this.persistTransaction = database.transaction((batch: PersistBatch, file: SnapshotFileRecord | null) => {
      this.persistInTransaction(batch, file);
    });
    // Each batch's own transaction nests as a savepoint; only the outer one commits and syncs.
    this.persistAllTransaction = database.transaction((batches: readonly PersistBatch[]) => {
      for (const batch of batches) this.persistBatch(batch, { durable: true });
    });
    this.recordSnapshotTransaction = database.transaction((meta: SnapshotMeta, file: SnapshotFileRecord) => {
      this.statements.upsertSnapshot.run(snapshotRowParameters(meta, file));
      this.walPagesEstimate += 1;
    });
  }

  /** Opens (creating if needed) the storage in `dataDirectory`; refuses an unknown format version. */
  static open(dataDirectory: string, options: StorageOptions = {}): SqliteRaftStorage {
    mkdirSync(join(dataDirectory, snapshotDirectoryName), { recursive: true });
    const databasePath = join(dataDirectory, databaseFileName);
    const database = new Database(databasePath);
    try {
      const checkpointPages = options.walCheckpointPages ?? walCheckpointPages;
      assert(Number.isSafeInteger(checkpointPages) && checkpointPages > 0, `walCheckpointPages ${checkpointPages}`);
      configureDurability(database, databasePath, walBackstopFactor * checkpointPages);
      if (options.maxDatabaseBytes !== undefined) limitDatabaseSize(database, options.maxDatabaseBytes);
      prepareSchema(database, databasePath);
      const storage = new SqliteRaftStorage(database, dataDirectory, databasePath, checkpointPages);
      storage.removeUnrecordedSnapshotFiles();
      return storage;
    } catch (error) {
      database.close();
      throw error;
    }
  }

  close(): void {
    if (this.database.open) this.database.close();
  }

  /**
   * Everything persisted, verified: entry checksums (CorruptEntryError naming the index), log
   * contiguity after the snapshot, and the snapshot file's length and CRC (CorruptSnapshotError).
   */
  load(bootstrap: Membership): PersistedState {
    const storedHardState = this.loadHardState();
    const snapshot = this.loadSnapshot();
    const { entries, highestCommit } = this.loadEntries(snapshot?.meta ?? null);
    const commit = Math.max(storedHardState.commit, highestCommit);
    return { hardState: { ...storedHardState, commit }, snapshot, entries, bootstrap };
  }

  /**
   * Persists one Ready in one transaction. A snapshot (received from the leader) is recorded and
   * the log trimmed to what follows it (paper §7, figure 13: keep the suffix only if the log holds
   * the snapshot's last entry with its term); entries at or below the stored last index replace
   * the stored suffix from their first index on; the hard state is overwritten.
   */
  persist(batch: PersistBatch, options: { durable: boolean } = { durable: true }): void {
    this.guarded('persist', () => this.forgettingWrittenOnFailure(() => this.persistBatch(batch, options)));
  }

  /**
   * Persists several Readies in one transaction and one fsync, in order (the storage writer's
   * group commit: the Readies posted while the previous transaction was being written).
   */
  persistAll(batches: readonly PersistBatch[]): void {
    this.guarded('persist', () => this.forgettingWrittenOnFailure(() => this.persistAllTransaction(batches)));
  }

  /**
   * Records a snapshot the local state machine made. Returns false, changing nothing, when a
   * snapshot at or past its index is already recorded: a snapshot written in the background can
   * lose the race against one installed from the leader meanwhile.
   */
  saveSnapshot(snapshot: Snapshot): boolean {
    return this.guarded('save-snapshot', () => this.saveSnapshotFile(snapshot));
  }

  /**
   * saveSnapshot with the file written off the event loop: libuv's thread pool writes and fsyncs
   * it, its CRC is computed a few MiB per turn, and only recording it (one small transaction)
   * runs in one turn. At 110 MB (100,000 tasks) the synchronous write held the event loop for
   * 210-330 ms (CRC 31-139 ms, write 120 ms, fsync 60 ms). The caller runs one at a time. A file
   * removed meanwhile by a snapshot installed from the leader, or a snapshot recorded past this
   * one, loses the race as in saveSnapshot: false, and the file is gone.
   */
  async saveSnapshotInBackground(snapshot: Snapshot): Promise<boolean> {
    let file: SnapshotFileRecord;
    try {
      file = await this.writeSnapshotFileInBackground(snapshot);
    } catch (error) {
      if (this.recordedSnapshotIndex() >= snapshot.meta.index) return false;
      const code = diskFailureCode(error);
      if (code === null) throw error;
      throw new StorageWriteError(this.dataDirectory, 'save-snapshot', code, error as Error);
    }
    return this.guarded('save-snapshot', () => this.recordWrittenSnapshot(snapshot, file));
  }

  /** Deletes entries at or below `throughIndex`, which the recorded snapshot must cover. */
  compact(throughIndex: LogIndex): void {
    this.guarded('compact', () => this.compactThrough(throughIndex));
  }

  /** Whether the WAL is past the checkpoint threshold (estimated pages since the last checkpoint). */
  walCheckpointUrgency(): WalCheckpointUrgency {
    if (this.walPagesEstimate >= walCheckpointForceFactor * this.checkpointPages) return 'now';
    return this.walPagesEstimate >= this.checkpointPages ? 'when-idle' : 'none';
  }

  /**
   * Copies the WAL back into raft.db (fsync of the WAL, the pages written, fsync of raft.db), on
   * this connection, between transactions: the next transaction starts the WAL over.
   */
  checkpoint(): WalCheckpointResult {
    return this.guarded('checkpoint', () => {
      const rows = this.database.pragma('wal_checkpoint(PASSIVE)') as {
        busy: number;
        log: number;
        checkpointed: number;
      }[];
      const row = rows[0];
      assert(row !== undefined && row.busy === 0, `raft storage ${this.databasePath}: wal_checkpoint was busy`);
      this.walPagesEstimate = 0;
      return { framesInWal: row.log, framesCopied: row.checkpointed };
    });
  }

  /**
   * A full disk or a failed write or fsync becomes a StorageWriteError (see disk-errors.ts for
   * why the replica then stops); anything else — an assertion, a corrupt batch — stays what it is.
   * SQLite rolls the transaction back on such an error, so nothing of the batch is kept.
   */
  private guarded<Result>(operation: string, write: () => Result): Result {
    try {
      return write();
    } catch (error) {
      const code = diskFailureCode(error);
      if (code === null) throw error;
      throw new StorageWriteError(this.dataDirectory, operation, code, error as Error);
    }
  }

  // --- writing ---------------------------------------------------------------------------

  /** A failed transaction rolled back what `written` already says: it is read again, later. */
  private forgettingWrittenOnFailure(write: () => void): void {
    try {
      write();
    } catch (error) {
      this.written = null;
      throw error;
    }
  }

  private writtenState(): WrittenState {
    if (this.written === null) {
      const row = this.statements.selectHardState.get();
      const lastEntryCommit = this.statements.selectLastEntryCommit.get()?.commit_index ?? 0;
      this.written = {
        termAndVote: row === undefined ? null : { term: row.term, vote: nodeId(row.vote) },
        commit: Math.max(row?.commit_index ?? 0, lastEntryCommit),
      };
    }
    return this.written;
  }

  private persistBatch(batch: PersistBatch, options: { durable: boolean }): void {
    if (!options.durable) {
      // Only the commit index moved: it is volatile state in Raft (a restarted replica relearns
      // it from the leader), so it may skip the fsync (etcd-raft MustSync). The next durable
      // transaction's WAL sync covers it anyway.
      assert(
        batch.entries.length === 0 && batch.snapshot === null,
        'a batch with entries or a snapshot must be durable',
      );
      this.database.pragma('synchronous = NORMAL');
      try {
        this.persistTransaction(batch, null);
      } finally {
        this.database.pragma('synchronous = FULL');
      }
      return;
    }
    const recorded = this.statements.selectSnapshot.get();
    let writtenFile: SnapshotFileRecord | null = null;
    if (batch.snapshot !== null) {
      const meta = batch.snapshot.meta;
      assert(
        recorded === undefined || meta.index >= recorded.idx,
        `snapshot ${meta.index} is older than the stored snapshot ${recorded?.idx}`,
      );
      const alreadyRecorded = recorded !== undefined && recorded.idx === meta.index && recorded.term === meta.term;
      if (!alreadyRecorded) writtenFile = this.writeSnapshotFile(batch.snapshot);
    }
    try {
      this.persistTransaction(batch, writtenFile);
    } catch (error) {
      if (writtenFile !== null) rmSync(join(this.snapshotDirectory, writtenFile.fileName), { force: true });
      throw error;
    }
    if (writtenFile !== null) this.removeSnapshotFilesExcept(writtenFile.fileName);
  }

  private saveSnapshotFile(snapshot: Snapshot): boolean {
    if (this.recordedSnapshotIndex() >= snapshot.meta.index) return false;
    return this.recordWrittenSnapshot(snapshot, this.writeSnapshotFile(snapshot));
  }

  private recordedSnapshotIndex(): LogIndex {
    return this.statements.selectSnapshot.get()?.idx ?? 0;
  }

  /** Records a snapshot file already written and synced, unless one at or past its index is recorded. */
  private recordWrittenSnapshot(snapshot: Snapshot, file: SnapshotFileRecord): boolean {
    const meta = snapshot.meta;
    if (this.recordedSnapshotIndex() >= meta.index) {
      rmSync(join(this.snapshotDirectory, file.fileName), { force: true });
      return false;
    }
    const termInLog = this.statements.selectTermAt.get(meta.index)?.term;
    assert(
      termInLog === undefined || termInLog === meta.term,
      `snapshot ${meta.index} has term ${meta.term}, the log says ${termInLog}`,
    );
    try {
      this.recordSnapshotTransaction(meta, file);
    } catch (error) {
      rmSync(join(this.snapshotDirectory, file.fileName), { force: true });
      throw error;
    }
    this.removeSnapshotFilesExcept(file.fileName);
    return true;
  }

  private compactThrough(throughIndex: LogIndex): void {
    assert(Number.isSafeInteger(throughIndex) && throughIndex >= 0, `compact index ${throughIndex} is not a log index`);
    const snapshotIndex = this.statements.selectSnapshot.get()?.idx ?? 0;
    assert(
      throughIndex <= snapshotIndex,
      `compact through ${throughIndex} would drop entries the snapshot (${snapshotIndex}) does not cover`,
    );
    this.deleteEntries(this.statements.deleteEntriesThrough.run(throughIndex).changes);
  }

  /** Deleted rows' leaves are freed, not written: their parents, the freelist and page 1 are. */
  private deleteEntries(rowsDeleted: number): void {
    this.walPagesEstimate += deletePages(rowsDeleted);
  }

  private persistInTransaction(batch: PersistBatch, writtenFile: SnapshotFileRecord | null): void {
    if (batch.snapshot !== null) {
      const meta = batch.snapshot.meta;
      if (writtenFile !== null) {
        this.statements.upsertSnapshot.run(snapshotRowParameters(meta, writtenFile));
        this.walPagesEstimate += 1;
      }
      const termInLog = this.statements.selectTermAt.get(meta.index)?.term;
      const deleted =
        termInLog === meta.term
          ? this.statements.deleteEntriesThrough.run(meta.index)
          : this.statements.deleteAllEntries.run();
      this.deleteEntries(deleted.changes);
    }
    const written = this.writtenState();
    const hardState = batch.hardState;
    const commit = hardState?.commit ?? written.commit;
    if (batch.entries.length > 0) {
      this.appendEntries(batch.entries, commit);
      this.walPagesEstimate += appendPages(batch.entries);
    }
    // Only the commit index moved and the entry rows carry it: the row stays as it is.
    const rowCurrent =
      written.termAndVote !== null &&
      hardState !== null &&
      hardState.term === written.termAndVote.term &&
      hardState.vote === written.termAndVote.vote;
    let termAndVote = written.termAndVote;
    if (hardState !== null && !(rowCurrent && batch.entries.length > 0)) {
      this.statements.upsertHardState.run({ term: hardState.term, vote: hardState.vote, commit });
      this.walPagesEstimate += 1;
      termAndVote = { term: hardState.term, vote: hardState.vote };
    }
    this.written = { termAndVote, commit };
  }

  private appendEntries(entries: readonly Entry[], commit: LogIndex): void {
    const first = entries[0];
    assert(first !== undefined, 'appendEntries needs at least one entry');
    const snapshotIndex = this.statements.selectSnapshot.get()?.idx ?? 0;
    const lastIndex = Math.max(this.statements.selectLastIndex.get()?.lastIndex ?? 0, snapshotIndex);
    assert(
      first.index > snapshotIndex,
      `entry ${first.index} would rewrite the log covered by snapshot ${snapshotIndex}`,
    );
    assert(
      first.index <= lastIndex + 1,
      `entry ${first.index} would leave a gap after the last stored index ${lastIndex}`,
    );
    if (first.index <= lastIndex) this.statements.deleteEntriesFrom.run(first.index);
    let expectedIndex = first.index;
    for (const entry of entries) {
      // An if, not assert(): the message template would be built for every entry of every batch.
      if (entry.index !== expectedIndex) {
        throw new Error(`batch entries are not contiguous: ${entry.index} where ${expectedIndex} belongs`);
      }
      // Checked before the write too, so a corrupted in-memory entry fails here, named, instead
      // of being made durable and found only at the next restart.
      if (entryChecksum(entry.term, entry.index, entry.type, entry.data, entry.idempotency) !== entry.checksum) {
        throw new CorruptEntryError(entry.index, 'the batch given to persist()');
      }
      this.statements.insertEntry.run(
        entry.index,
        entry.term,
        entryTypeCodes[entry.type],
        entry.checksum,
        entry.data,
        entry.idempotency?.key ?? null,
        entry.idempotency?.fingerprint ?? null,
        entry.idempotency?.atMs ?? null,
        commit,
      );
      expectedIndex += 1;
    }
  }

  /** Durable before it is recorded: tmp file, fsync, rename, fsync of the directory. */
  private snapshotFilePaths(snapshot: Snapshot): { fileName: string; finalPath: string; temporaryPath: string } {
    const { index, term } = snapshot.meta;
    assert(
      Number.isSafeInteger(index) && Number.isSafeInteger(term) && index >= 0 && term >= 0,
      `snapshot ${index}/${term} is not a log position`,
    );
    const fileName = `snapshot-${term}-${index}.bin`;
    const finalPath = join(this.snapshotDirectory, fileName);
    return { fileName, finalPath, temporaryPath: finalPath + temporarySuffix };
  }

  /** writeSnapshotFile's steps, awaited: the same file, the same CRC. */
  private async writeSnapshotFileInBackground(snapshot: Snapshot): Promise<SnapshotFileRecord> {
    const { fileName, finalPath, temporaryPath } = this.snapshotFilePaths(snapshot);
    const handle = await open(temporaryPath, 'w');
    try {
      await handle.writeFile(snapshot.data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporaryPath, finalPath);
    const directory = await open(this.snapshotDirectory, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
    return { fileName, bytes: snapshot.data.byteLength, crc: await crc32InSteps(snapshot.data) };
  }

  private writeSnapshotFile(snapshot: Snapshot): SnapshotFileRecord {
    const { fileName, finalPath, temporaryPath } = this.snapshotFilePaths(snapshot);
    const descriptor = openSync(temporaryPath, 'w');
    try {
      writeFileSync(descriptor, snapshot.data);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporaryPath, finalPath);
    fsyncDirectory(this.snapshotDirectory);
    return { fileName, bytes: snapshot.data.byteLength, crc: crc32(snapshot.data) };
  }

  private removeSnapshotFilesExcept(keptFileName: string): void {
    for (const fileName of readdirSync(this.snapshotDirectory)) {
      const isOurs = snapshotFilePattern.test(fileName) || fileName.endsWith(temporarySuffix);
      if (isOurs && fileName !== keptFileName) rmSync(join(this.snapshotDirectory, fileName), { force: true });
    }
  }

  /** A crash between writing a file and recording it (or between recording and cleaning up) leaves strays. */
  private removeUnrecordedSnapshotFiles(): void {
    const recordedFileName = this.statements.selectSnapshot.get()?.file_name ?? '';
    this.removeSnapshotFilesExcept(recordedFileName);
  }

  // --- reading ---------------------------------------------------------------------------

  private loadHardState(): HardState {
    const row = this.statements.selectHardState.get();
    if (row === undefined) return { term: 0, vote: NO_NODE, commit: 0 };
    if (!isLogPosition(row.term) || !isLogPosition(row.commit_index) || typeof row.vote !== 'string') {
      throw new CorruptStorageError(this.databasePath, `hard state row ${JSON.stringify(row)} is malformed`);
    }
    return { term: row.term, vote: nodeId(row.vote), commit: row.commit_index };
  }

  private loadSnapshot(): Snapshot | null {
    const row = this.statements.selectSnapshot.get();
    if (row === undefined) return null;
    if (!isLogPosition(row.idx) || !isLogPosition(row.term) || !snapshotFilePattern.test(row.file_name)) {
      throw new CorruptStorageError(this.databasePath, `snapshot_meta row for index ${row.idx} is malformed`);
    }
    const membership = parseMembership(row.membership, this.databasePath);
    const data = this.readSnapshotFile(row);
    return { meta: { index: row.idx, term: row.term, membership }, data };
  }

  private readSnapshotFile(row: SnapshotRow): Uint8Array {
    const path = join(this.snapshotDirectory, row.file_name);
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (error) {
      throw new CorruptSnapshotError(path, `cannot read it: ${(error as Error).message}`);
    }
    if (data.byteLength !== row.bytes) {
      throw new CorruptSnapshotError(path, `${data.byteLength} bytes on disk, ${row.bytes} recorded`);
    }
    const crc = crc32(data);
    if (crc !== row.crc) throw new CorruptSnapshotError(path, `CRC-32 ${crc} on disk, ${row.crc} recorded`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /** The entries after the snapshot, and the highest commit index their rows recorded. */
  private loadEntries(snapshotMeta: SnapshotMeta | null): { entries: Entry[]; highestCommit: LogIndex } {
    const afterIndex = snapshotMeta?.index ?? 0;
    let previousTerm: Term = snapshotMeta?.term ?? 0;
    let highestCommit: LogIndex = 0;
    const entries: Entry[] = [];
    for (const row of this.statements.selectEntriesAfter.iterate(afterIndex)) {
      const expectedIndex = afterIndex + entries.length + 1;
      if (row.idx !== expectedIndex) {
        throw new CorruptStorageError(
          this.databasePath,
          `log gap: entry ${row.idx} found where ${expectedIndex} belongs`,
        );
      }
      const entry = this.entryFromRow(row);
      // Raft logs never decrease in term (paper §5.3); a row that does was not written by us.
      if (entry.term < previousTerm) {
        throw new CorruptStorageError(
          this.databasePath,
          `entry ${entry.index} has term ${entry.term} after term ${previousTerm}`,
        );
      }
      previousTerm = entry.term;
      entries.push(entry);
      if (!isLogPosition(row.commit_index)) {
        throw new CorruptStorageError(this.databasePath, `entry ${row.idx} records commit index ${row.commit_index}`);
      }
      highestCommit = Math.max(highestCommit, row.commit_index);
    }
    return { entries, highestCommit };
  }

  private entryFromRow(row: EntryRow): Entry {
    const type = entryTypeByCode.get(row.type);
    if (type === undefined || !(row.data instanceof Uint8Array) || !isLogPosition(row.term)) {
      throw new CorruptEntryError(row.idx, this.databasePath);
    }
    const idempotency = this.stampFromRow(row);
    const data =
      row.data.byteLength === 0
        ? emptyEntryData
        : new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength);
    if (entryChecksum(row.term, row.idx, type, data, idempotency) !== row.checksum) {
      throw new CorruptEntryError(row.idx, this.databasePath);
    }
    const base = { term: row.term, index: row.idx, type, data, checksum: row.checksum };
    return idempotency === undefined ? base : { ...base, idempotency };
  }

  /** All three columns or none: anything else was not written by persist(). */
  private stampFromRow(row: EntryRow): IdempotencyStamp | undefined {
    const key = row.idempotency_key;
    const fingerprint = row.idempotency_fingerprint;
    const atMs = row.idempotency_at_ms;
    if (key === null && fingerprint === null && atMs === null) return undefined;
    if (typeof key !== 'string' || typeof fingerprint !== 'string' || !Number.isSafeInteger(atMs) || atMs! < 0) {
      throw new CorruptEntryError(row.idx, this.databasePath);
    }
    return { key, fingerprint, atMs: atMs! };
  }
}

// --- module-level helpers (pure, or touching only what they are given) ------------------------

/** Bytes of a 4 KiB page that hold rows (less the page header, cell pointers and free space). */
const pageRowBytes = 3_900;
/** An entry row's bytes besides its data and stamp: the record header and the integer columns. */
const entryRowOverheadBytes = 40;
/** Row pointers in one interior page of the entries table, about (each a page number and a key). */
const rowsPerInteriorPointer = 8 * 400;

/**
 * WAL pages one append writes, estimated: the rightmost leaf it lands in, and once its rows fill
 * pages, one per page filled plus the interior page pointing at them. Exact for the common small
 * append (one page: storage.test.ts counts WAL frames); walBackstopFactor bounds the WAL should
 * it fall short.
 */
function appendPages(entries: readonly Entry[]): number {
  let bytes = 0;
  for (const entry of entries) {
    const stampBytes = (entry.idempotency?.key.length ?? 0) + (entry.idempotency?.fingerprint.length ?? 0);
    bytes += entry.data.byteLength + stampBytes + entryRowOverheadBytes;
  }
  const pagesFilled = Math.floor(bytes / pageRowBytes);
  return pagesFilled === 0 ? 1 : 2 + pagesFilled;
}

/** WAL pages a delete of `rows` entry rows writes, estimated: page 1, the freelist, the boundary leaf, interior pages. */
function deletePages(rows: number): number {
  return rows === 0 ? 0 : 3 + Math.ceil(rows / rowsPerInteriorPointer);
}

function configureDurability(database: Database.Database, databasePath: string, backstopPages: number): void {
  // Set before WAL is first used: SQLite then keeps the WAL index in heap memory (no -shm file)
  // and takes the file's lock once, for as long as this connection is open, instead of ~10 fcntl
  // lock calls per transaction. The price: no other connection can open raft.db while this one
  // does (SQLITE_BUSY) — a running master is the only one that may (data-directory-check.ts).
  const lockingMode: unknown = database.pragma('locking_mode = EXCLUSIVE', { simple: true });
  assert(lockingMode === 'exclusive', `raft storage ${databasePath}: locking_mode is ${String(lockingMode)}`);
  const journalMode: unknown = database.pragma('journal_mode = WAL', { simple: true });
  database.pragma('synchronous = FULL');
  const synchronous: unknown = database.pragma('synchronous', { simple: true });
  const fullSynchronous = 2;
  // Without these the group commit's durability promise is false: refuse to run rather than lie.
  if (journalMode !== 'wal' || synchronous !== fullSynchronous) {
    throw new Error(
      `raft storage ${databasePath}: could not set journal_mode=WAL and synchronous=FULL (got ${String(journalMode)}, ${String(synchronous)}); is it on a network filesystem?`,
    );
  }
  // The replica checkpoints between turns (checkpoint()); a commit checkpoints only past this.
  database.pragma(`wal_autocheckpoint = ${backstopPages}`);
  const autocheckpoint: unknown = database.pragma('wal_autocheckpoint', { simple: true });
  assert(
    autocheckpoint === backstopPages,
    `raft storage ${databasePath}: wal_autocheckpoint is ${String(autocheckpoint)}`,
  );
}

function limitDatabaseSize(database: Database.Database, maxDatabaseBytes: number): void {
  assert(Number.isSafeInteger(maxDatabaseBytes) && maxDatabaseBytes > 0, `maxDatabaseBytes ${maxDatabaseBytes}`);
  const pageBytes = Number(database.pragma('page_size', { simple: true }));
  const pages = Math.max(1, Math.floor(maxDatabaseBytes / pageBytes));
  database.pragma(`max_page_count = ${pages}`);
  assert(Number(database.pragma('max_page_count', { simple: true })) >= pages, 'max_page_count was not set');
}

function prepareSchema(database: Database.Database, databasePath: string): void {
  const tables = database
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
    .all()
    .map((row) => row.name);
  if (tables.length === 0) {
    database.transaction(() => {
      for (const statement of schemaStatements) database.exec(statement);
      database.prepare("INSERT INTO meta (key, value) VALUES ('format_version', ?)").run(storageFormatVersion);
    })();
    return;
  }
  if (!tables.includes('meta')) {
    throw new StorageFormatError(
      databasePath,
      `has tables (${tables.join(', ')}) but no meta table: not a Flotilla raft database`,
    );
  }
  const row = database.prepare<[], { value: unknown }>("SELECT value FROM meta WHERE key = 'format_version'").get();
  if (row?.value === 1) {
    migrateFromVersion1(database, databasePath);
    migrateFromVersion2(database);
    return;
  }
  if (row?.value === 2) {
    migrateFromVersion2(database);
    return;
  }
  if (row?.value !== storageFormatVersion) {
    throw new StorageFormatError(
      databasePath,
      `format version ${JSON.stringify(row?.value ?? null)} is not supported; this build reads version ${storageFormatVersion}`,
    );
  }
}

/**
 * COMPAT: version 1 (until the idempotency table replaced client sessions) had the columns
 * client and sequence, which only tests ever filled: the master never stamped a proposal. Such a
 * database is migrated in place, in one transaction; one that does hold client stamps is refused,
 * since its entries' checksums cover stamps this build no longer reads.
 */
function migrateFromVersion1(database: Database.Database, databasePath: string): void {
  database.transaction(() => {
    const stamped = database
      .prepare<[], { count: number }>(
        'SELECT COUNT(*) AS count FROM entries WHERE client IS NOT NULL OR sequence IS NOT NULL',
      )
      .get();
    if ((stamped?.count ?? 0) > 0) {
      throw new StorageFormatError(
        databasePath,
        `format version 1 with ${stamped!.count} client-stamped entries cannot be migrated to version ${storageFormatVersion}`,
      );
    }
    database.exec('ALTER TABLE entries DROP COLUMN client');
    database.exec('ALTER TABLE entries DROP COLUMN sequence');
    database.exec('ALTER TABLE entries ADD COLUMN idempotency_key TEXT');
    database.exec('ALTER TABLE entries ADD COLUMN idempotency_fingerprint TEXT');
    database.exec('ALTER TABLE entries ADD COLUMN idempotency_at_ms INTEGER');
    database.prepare("UPDATE meta SET value = 2 WHERE key = 'format_version'").run();
  })();
}

/**
 * COMPAT: version 2 (until the commit index rode in the entry rows) rewrote hard_state with every
 * append, so its row holds the commit index; its entries get 0, which load() reads below it.
 */
function migrateFromVersion2(database: Database.Database): void {
  database.transaction(() => {
    database.exec('ALTER TABLE entries ADD COLUMN commit_index INTEGER NOT NULL DEFAULT 0');
    database.prepare("UPDATE meta SET value = 3 WHERE key = 'format_version'").run();
  })();
}

function prepareStatements(database: Database.Database) {
  return {
    selectHardState: database.prepare<[], HardStateRow>('SELECT term, vote, commit_index FROM hard_state WHERE id = 1'),
    upsertHardState: database.prepare<[{ term: Term; vote: string; commit: LogIndex }]>(
      `INSERT INTO hard_state (id, term, vote, commit_index) VALUES (1, @term, @vote, @commit)
       ON CONFLICT (id) DO UPDATE SET term = excluded.term, vote = excluded.vote, commit_index = excluded.commit_index`,
    ),
    selectSnapshot: database.prepare<[], SnapshotRow>(
      'SELECT idx, term, membership, file_name, bytes, crc FROM snapshot_meta WHERE id = 1',
    ),
    upsertSnapshot: database.prepare<[ReturnType<typeof snapshotRowParameters>]>(
      `INSERT INTO snapshot_meta (id, idx, term, membership, file_name, bytes, crc)
       VALUES (1, @index, @term, @membership, @fileName, @bytes, @crc)
       ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, term = excluded.term, membership = excluded.membership,
         file_name = excluded.file_name, bytes = excluded.bytes, crc = excluded.crc`,
    ),
    selectEntriesAfter: database.prepare<[LogIndex], EntryRow>(
      `SELECT idx, term, type, checksum, data, idempotency_key, idempotency_fingerprint, idempotency_at_ms, commit_index
       FROM entries WHERE idx > ? ORDER BY idx`,
    ),
    // The last row was written last (an append deletes what follows it), so it holds the highest commit.
    selectLastEntryCommit: database.prepare<[], { commit_index: LogIndex }>(
      'SELECT commit_index FROM entries ORDER BY idx DESC LIMIT 1',
    ),
    selectLastIndex: database.prepare<[], { lastIndex: LogIndex | null }>('SELECT MAX(idx) AS lastIndex FROM entries'),
    selectTermAt: database.prepare<[LogIndex], { term: Term }>('SELECT term FROM entries WHERE idx = ?'),
    insertEntry: database.prepare<
      [LogIndex, Term, number, number, Uint8Array, string | null, string | null, number | null, LogIndex]
    >(
      `INSERT INTO entries (idx, term, type, checksum, data, idempotency_key, idempotency_fingerprint, idempotency_at_ms,
         commit_index)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteEntriesFrom: database.prepare<[LogIndex]>('DELETE FROM entries WHERE idx >= ?'),
    deleteEntriesThrough: database.prepare<[LogIndex]>('DELETE FROM entries WHERE idx <= ?'),
    deleteAllEntries: database.prepare<[]>('DELETE FROM entries'),
  };
}

function snapshotRowParameters(meta: SnapshotMeta, file: SnapshotFileRecord) {
  const membership = JSON.stringify({
    voters: meta.membership.voters,
    learners: meta.membership.learners,
    addresses: meta.membership.addresses,
  });
  return { index: meta.index, term: meta.term, membership, fileName: file.fileName, bytes: file.bytes, crc: file.crc };
}

function isLogPosition(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function parseMembership(json: string, databasePath: string): Membership {
  const fail = (detail: string): never => {
    throw new CorruptStorageError(databasePath, `snapshot membership ${detail}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return fail('is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) return fail('is not an object');
  const { voters, learners, addresses } = parsed as Record<string, unknown>;
  const isStringList = (value: unknown): value is string[] =>
    Array.isArray(value) && value.every((item) => typeof item === 'string');
  if (!isStringList(voters) || !isStringList(learners)) return fail('voters and learners must be lists of node ids');
  if (typeof addresses !== 'object' || addresses === null || Array.isArray(addresses))
    return fail('addresses must be an object');
  const addressEntries: unknown[][] = Object.entries(addresses);
  const stringEntries = addressEntries.filter((pair): pair is [string, string] => typeof pair[1] === 'string');
  if (stringEntries.length !== addressEntries.length) return fail('addresses must map node ids to strings');
  // fromEntries defines own properties, so a "__proto__" node id stays an ordinary key.
  return { voters: voters.map(nodeId), learners: learners.map(nodeId), addresses: Object.fromEntries(stringEntries) };
}

/** Bytes checksummed per event-loop turn: 1.5-4 ms here. */
const crcBytesPerStep = 4 * 1024 * 1024;

/** zlib.crc32 of `data` (non-empty), a few MiB per event-loop turn. */
async function crc32InSteps(data: Uint8Array): Promise<number> {
  let crc = 0;
  for (let offset = 0; offset < data.byteLength; offset += crcBytesPerStep) {
    crc = crc32(data.subarray(offset, offset + crcBytesPerStep), crc);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return crc;
}

function fsyncDirectory(directory: string): void {
  // The rename is durable only once the directory entry is; without this a crash could keep the
  // database row naming a file the filesystem forgot.
  const descriptor = openSync(directory, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}
