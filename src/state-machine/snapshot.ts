// Snapshots as SQLite files (DESIGN.md): the Raft snapshot blob of the state machine IS a SQLite
// database, made with better-sqlite3's `serialize()` and opened again with `new Database(bytes)`,
// so an operator can inspect one with the sqlite3 shell. One table per entity kind (tables.ts),
// each row `(key, row)` with `row` the entity's canonical JSON, and a `meta` table with the format
// version, the applied index and the state hash.
//
// Reading trusts nothing: a wrong version, a missing table, a row that does not parse, a hash
// that does not match what was read, or a state that breaks an invariant each throw a
// SnapshotError with its own code. A replica never carries on with a silently wrong state.
import Database from 'better-sqlite3';
import { canonicalJson } from './canonical-json.ts';
import { DerivedIndexes } from './derived-indexes.ts';
import { hashTableRows, StateHasher, stateHashFormat, type TableRows } from './hash.ts';
import { compareStrings, sortedPositionsInSteps } from './ordering.ts';
import { type LogIndex, type TaskKey, taskKey } from './ids.ts';
import { EntityInvariantChecks, InvariantViolation } from './invariants.ts';
import { SchemaError } from './schema.ts';
import { emptyState, type ReplicatedState, type State, type Task } from './state.ts';
import { assert } from '../util/assert.ts';
import { type MetaRows, SnapshotDatabase } from './snapshot-database.ts';
import {
  internedRowKey,
  internedTableName,
  InternedStrings,
  PositionalRowError,
  RowsHasher,
  rowsHashFormat,
  rowsHashMetaKeys,
  StringInterner,
  taskFromRow,
  taskRowJson,
} from './snapshot-rows.ts';
import { SnapshotWorker } from './snapshot-worker.ts';
import { type CapturedTable, tables, type Table } from './tables.ts';

/** The table whose rows formats 9 and 10 write by position (snapshot-rows.ts). */
const tasksTableName = 'tasks';
/**
 * Tables whose rows formats 9 and 10 read without their schemas once the table's hash is checked:
 * the rows are the writer's `JSON.stringify` of entities it held. The agents' schema (three
 * resource lists each) cost 210-330 ms of a restore's CPU at 10,000 agents.
 */
const vouchedTableNames: ReadonlySet<string> = new Set(['agents', 'frameworks', 'offers', 'executors']);

/**
 * Bumped on any change of tables or row shapes; older formats get a `COMPAT:` reader.
 * 2: tasks gained `user` and container fields, framework infos `user` (see codec.ts).
 * 3: the `executors` table; tasks gained `executor`, `data` and `taskGroup`, statuses `data`.
 * 4: the `history_limits` table (bounded history, history.ts).
 * 5: agents gained `deactivated` and `drain`, and lost the state DRAINING (a deactivated agent now).
 * 6: the `operations` table (GET_OPERATIONS, operations.ts); resources may carry `disk` (volumes).
 * 7: executor infos (in `executors` and in tasks) gained `container`.
 * 8: commands (of tasks and executors) gained `uris` (absent when empty).
 * 9: rows as snapshot-rows.ts writes them (tasks by position with interned strings, the `interned`
 *    table), hashed as written (`rows_hash`, `table_hashes`) instead of by the state hash.
 * 10: as 9, a task's resources, command, container, health check, labels and executor written as
 *    the position of their JSON text in the interned strings, a status's message as an interned string.
 */
export const snapshotFormatVersion = 10;
/** The first format of rows hashed as written (snapshot-rows.ts); written for members that read 9 but not 10. */
export const writtenRowsFormat = 9;
/**
 * The format written unless every member reads the newest (`membersSnapshotFormat`): InstallSnapshot
 * ships a snapshot's bytes as they are, so an older member must get one it reads.
 */
export const fallbackSnapshotFormat = 8;

/** The format to write, given the oldest format the other members read (null: unknown, assume the oldest). */
export function snapshotFormatFor(membersSnapshotFormat: number | null): number {
  if (membersSnapshotFormat === null || membersSnapshotFormat < writtenRowsFormat) return fallbackSnapshotFormat;
  return Math.min(membersSnapshotFormat, snapshotFormatVersion);
}

/** The formats this build writes: the newest, format 9 for members that read 9 and not 10, and 8. */
export const writtenSnapshotFormats: readonly number[] = [
  snapshotFormatVersion,
  writtenRowsFormat,
  fallbackSnapshotFormat,
];

const hasWrittenRows = (format: number): boolean => format === writtenRowsFormat || format === snapshotFormatVersion;
/**
 * COMPAT: formats 1 to 7 read through the same schemas, the members added later taking their
 * defaults, and lack the tables added later (Table.sinceFormat; without `history_limits` the
 * state has no limits: unbounded). Their hash covers the rows as they were written, so it is
 * checked on those rows. Format 9 is read as 10 is, its task members written as they are.
 */
const readableOlderFormats: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, writtenRowsFormat];

export type SnapshotErrorCode =
  | 'SNAPSHOT_NOT_SQLITE'
  | 'SNAPSHOT_VERSION_UNSUPPORTED'
  | 'SNAPSHOT_MISSING_TABLE'
  | 'SNAPSHOT_MALFORMED_ROW'
  | 'SNAPSHOT_HASH_MISMATCH'
  | 'SNAPSHOT_INVARIANT_VIOLATED';

export class SnapshotError extends Error {
  override name = 'SnapshotError';
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface RestoredSnapshot {
  readonly state: State;
  readonly appliedIndex: LogIndex;
}

const metaKeys = {
  formatVersion: 'format_version',
  hashFormat: 'hash_format',
  appliedIndex: 'applied_index',
  stateHash: 'state_hash',
  ...rowsHashMetaKeys,
} as const;

/**
 * Rows converted, hashed and inserted between two steps of the sliced writer; at each step the
 * caller's time budget decides whether to really yield. 500 rows a step held the event loop for
 * 30-40 ms (median step) and up to 227 ms at a load of 40, 10,000 tasks (bench/snapshot.ts):
 * small steps cost nothing now that a table's rows go in one transaction.
 */
export const snapshotRowsPerSlice = 32;

/**
 * The state as it is now, for a writer that finishes later: each table's keys and entities in
 * arrays (tables.ts CapturedTable). Apply replaces entities and never changes one in place
 * (state.ts), so this is a true snapshot; taking it costs pointers, not a copy of every map
 * (copying the task map alone held the loop for 60 ms at 100,000 tasks).
 */
export type CapturedState = readonly CapturedTable[];

export function captureState(state: ReplicatedState): CapturedState {
  return tables.map((table) => table.capture(state));
}

/**
 * Where the snapshot writer's rows go: a database on this thread, or one in the worker. For
 * formats 9 and 10 the sink hashes the rows as it inserts them and adds the rows hash to the meta
 * rows (SnapshotDatabase's `hashRows`): in the worker, the event loop no longer pays for it.
 */
interface RowSink {
  beginTable(name: string): void;
  insert(key: string, row: string): void;
  endTable(): void;
}

/**
 * The snapshot writer as steps: it yields after every `snapshotRowsPerSlice` rows (and within the
 * sort of each table's keys), so a caller can give the event loop back in between
 * (writeSnapshotInSlices) or run it straight through (writeSnapshot). Rows are made (format 8:
 * sorted and hashed) and handed to `sink` in one pass; the result is the meta table's rows, those
 * the sink does not add itself (formats 9 and 10: the rows hash). Both callers put them in a
 * SnapshotDatabase in the same order, so both make the same bytes.
 */
function* snapshotSteps(
  captured: CapturedState,
  appliedIndex: LogIndex,
  sink: RowSink,
  format: number,
): Generator<void, MetaRows> {
  if (hasWrittenRows(format)) {
    yield* writtenRowSteps(captured, sink, format);
    return [
      [metaKeys.formatVersion, canonicalJson(format)],
      [metaKeys.hashFormat, canonicalJson(rowsHashFormat)],
      [metaKeys.appliedIndex, canonicalJson(appliedIndex)],
    ];
  }
  assert(format === fallbackSnapshotFormat, `snapshot format ${format} is not written`);
  const digest = yield* hashedRowSteps(captured, sink);
  return [
    [metaKeys.formatVersion, canonicalJson(fallbackSnapshotFormat)],
    [metaKeys.hashFormat, canonicalJson(stateHashFormat)],
    [metaKeys.appliedIndex, canonicalJson(appliedIndex)],
    [metaKeys.stateHash, canonicalJson(digest)],
  ];
}

/**
 * Every captured row in key order, hashed and handed to `sink` (none: hashed only, as a restore
 * checks a state it read), yielding every `snapshotRowsPerSlice` rows; returns the state hash.
 */
function* hashedRowSteps(captured: CapturedState, sink: RowSink | null): Generator<void, string> {
  const hasher = new StateHasher();
  for (const { table, keys, values } of captured) {
    const order = yield* sortedPositionsInSteps(keys);
    hasher.table(table.name, keys.length);
    sink?.beginTable(table.name);
    let rowsInStep = 0;
    for (const position of order) {
      const key = keys[position]!;
      const json = table.rowJson(values[position]);
      hasher.row(key, json);
      sink?.insert(key, json);
      rowsInStep += 1;
      if (rowsInStep < snapshotRowsPerSlice) continue;
      rowsInStep = 0;
      yield;
    }
    sink?.endTable();
  }
  return hasher.digest();
}

/**
 * Formats 9 and 10: rows (snapshot-rows.ts) in the map's own order, no sort: the hash is over the rows
 * as written, so the reader needs no order, and the restored maps keep the writer's order. The
 * interned strings go last, in their own table, once every task has named its strings. The sink
 * hashes the rows (it was a fifth of the event loop's share of a write at 100,000 tasks).
 */
function* writtenRowSteps(captured: CapturedState, sink: RowSink, format: number): Generator<void, void> {
  const interner = new StringInterner();
  for (const { table, keys, values } of captured) {
    const positional = table.name === tasksTableName;
    sink.beginTable(table.name);
    let rowsInStep = 0;
    for (let position = 0; position < keys.length; position++) {
      const value = values[position];
      sink.insert(keys[position]!, positional ? taskRowJson(value as Task, interner, format) : JSON.stringify(value));
      rowsInStep += 1;
      if (rowsInStep < snapshotRowsPerSlice) continue;
      rowsInStep = 0;
      yield;
    }
    sink.endTable();
  }
  sink.beginTable(internedTableName);
  sink.insert(internedRowKey, JSON.stringify(interner.strings));
  sink.endTable();
}

/** The tables a snapshot of `format` has, the interned strings' after the state's. */
function snapshotTableNames(captured: CapturedState, format: number): string[] {
  const names = captured.map(({ table }) => table.name);
  return hasWrittenRows(format) ? [...names, internedTableName] : names;
}

const noPrefix: Uint8Array = new Uint8Array(0);

/**
 * The snapshot in one go, on this thread: `prefix` (an envelope's header, say) followed by the
 * database's bytes.
 */
export function writeSnapshot(
  state: ReplicatedState,
  appliedIndex: LogIndex,
  prefix = noPrefix,
  format = fallbackSnapshotFormat,
): Uint8Array {
  const captured = captureState(state);
  const database = new SnapshotDatabase(snapshotTableNames(captured, format), hasWrittenRows(format));
  try {
    const steps = snapshotSteps(captured, appliedIndex, database, format);
    for (;;) {
      const step = steps.next();
      if (step.done === true) return database.finish(step.value, prefix);
    }
  } finally {
    database.close();
  }
}

/**
 * writeSnapshot in slices, awaiting `yieldToLoop` at every step (it decides whether to really
 * yield). The rows are made here; from `workerMinimumRows` rows on, the database is built,
 * serialised and put behind `prefix` in the snapshot worker thread (snapshot-worker.ts), which
 * sends the bytes back without a copy: at 100,000 tasks `serialize()` and that copy held the
 * event loop for about 190 ms in one go.
 */
export async function writeSnapshotInSlices(
  captured: CapturedState,
  appliedIndex: LogIndex,
  yieldToLoop: () => Promise<void>,
  prefix = noPrefix,
  workerMinimumRows = 0,
  format = fallbackSnapshotFormat,
): Promise<Uint8Array> {
  const tableNames = snapshotTableNames(captured, format);
  const rows = captured.reduce((sum, { keys }) => sum + keys.length, 0);
  // A small state's database is built here, across the same slices: the worker would cost more.
  const hashRows = hasWrittenRows(format);
  const sink =
    rows >= workerMinimumRows
      ? SnapshotWorker.shared().open(tableNames, hashRows)
      : new SnapshotDatabase(tableNames, hashRows);
  try {
    const steps = snapshotSteps(captured, appliedIndex, sink, format);
    for (;;) {
      const step = steps.next();
      if (step.done === true) return await sink.finish(step.value, prefix);
      await yieldToLoop();
    }
  } finally {
    if (sink instanceof SnapshotDatabase) sink.close();
    else sink.abort();
  }
}

export function readSnapshot(data: Uint8Array): RestoredSnapshot {
  const steps = readSnapshotSteps(data);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/**
 * readSnapshot in slices, awaiting `yieldToLoop` at every step (it decides whether to really
 * yield, and may throw to abandon the read). The state is built aside and returned whole; the
 * caller swaps it in at once. Restoring 3.2 MB in one go held the event loop for 250 ms.
 */
export async function readSnapshotInSlices(
  data: Uint8Array,
  yieldToLoop: () => Promise<void>,
): Promise<RestoredSnapshot> {
  const steps = readSnapshotSteps(data);
  try {
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
      await yieldToLoop();
    }
  } finally {
    // Abandoned (yieldToLoop threw): the generator's finally blocks close the database.
    steps.return(undefined as never);
  }
}

/** The reader as steps, yielding every `snapshotRowsPerSlice` rows read, hashed or checked. */
function* readSnapshotSteps(data: Uint8Array): Generator<void, RestoredSnapshot> {
  let database: Database.Database;
  try {
    database = new Database(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  } catch (error) {
    throw new SnapshotError('SNAPSHOT_NOT_SQLITE', `cannot open the snapshot: ${(error as Error).message}`);
  }
  try {
    return yield* readDatabaseSteps(database);
  } catch (error) {
    if (error instanceof Database.SqliteError) throw new SnapshotError('SNAPSHOT_NOT_SQLITE', error.message);
    throw error;
  } finally {
    database.close();
  }
}

function* readDatabaseSteps(database: Database.Database): Generator<void, RestoredSnapshot> {
  const meta = readMeta(database);
  const loaded = hasWrittenRows(meta.formatVersion)
    ? yield* readWrittenRowsSteps(database, meta)
    : yield* readCanonicalRowsSteps(database, meta);
  yield;
  try {
    // One pass over the tasks builds the indexes and checks each task's invariants.
    const checks = new EntityInvariantChecks(loaded);
    const derived = yield* DerivedIndexes.rebuildInSteps(loaded, (key, task) => checks.visitTask(key, task));
    yield;
    yield* checks.finishInSteps();
    return { state: { ...loaded, derived }, appliedIndex: meta.appliedIndex };
  } catch (error) {
    if (error instanceof InvariantViolation) throw new SnapshotError('SNAPSHOT_INVARIANT_VIOLATED', error.message);
    throw error;
  }
}

/** Formats up to 8: canonical JSON rows, checked against the state hash. */
function* readCanonicalRowsSteps(database: Database.Database, meta: SnapshotMeta): Generator<void, State> {
  const loaded = emptyState();
  const rowsAsWritten: TableRows[] = [];
  // COMPAT: only a format before 8 needs the rows as written, sorted, for its hash; format 8
  // hashes the rows as they are read, which the writer put in key order.
  const keepRows = meta.formatVersion < fallbackSnapshotFormat;
  const hasher = keepRows ? null : new StateHasher();
  let hashedAsRead = hasher !== null;
  for (const table of tables) {
    if (table.sinceFormat > meta.formatVersion) continue;
    const read = yield* readTableSteps(database, table, loaded, keepRows, hashedAsRead ? hasher : null);
    rowsAsWritten.push({ name: table.name, rows: read.rows });
    hashedAsRead &&= read.inKeyOrder;
  }
  let hash: string;
  if (keepRows)
    hash = hashTableRows(rowsAsWritten.map(({ name, rows }) => ({ name, rows: [...rows].sort(compareRowKeys) })));
  // Rows out of key order (no Flotilla writer makes them): the state read is written again to hash it.
  else hash = hashedAsRead ? hasher!.digest() : yield* hashedRowSteps(captureState(loaded), null);
  if (hash !== meta.stateHash) {
    throw new SnapshotError('SNAPSHOT_HASH_MISMATCH', `the rows hash to ${hash}, the snapshot says ${meta.stateHash}`);
  }
  return loaded;
}

/**
 * Formats 9 and 10: rows as snapshot-rows.ts writes them, each table's text hashed as read and checked
 * against its digest in the meta table before the state is used (a mismatch names the table).
 * Tasks are decoded without their schema: the hash vouches for their text; the other tables' rows
 * go through their schemas, and every state through the invariants.
 */
function* readWrittenRowsSteps(database: Database.Database, meta: SnapshotMeta): Generator<void, State> {
  const loaded = emptyState();
  const hasher = new RowsHasher();
  const interned = readInternedStrings(database, hasher);
  const expected = meta.tableHashes!;
  for (const table of tables)
    yield* readWrittenTableSteps(database, table, loaded, interned, meta.formatVersion, hasher, expected);
  const names = new Set([...hasher.tableDigests.keys(), ...Object.keys(expected)]);
  for (const name of names) checkTableDigest(hasher, expected, name);
  const digest = hasher.digest();
  if (digest !== meta.rowsHash)
    throw new SnapshotError('SNAPSHOT_HASH_MISMATCH', `the rows hash to ${digest}, the snapshot says ${meta.rowsHash}`);
  return loaded;
}

function checkTableDigest(hasher: RowsHasher, expected: Readonly<Record<string, unknown>>, name: string): void {
  const digest = hasher.tableDigests.get(name);
  if (digest === expected[name]) return;
  throw new SnapshotError(
    'SNAPSHOT_HASH_MISMATCH',
    `table ${name}: its rows hash to ${digest ?? 'nothing'}, the snapshot says ${expected[name] ?? 'nothing'}`,
  );
}

function readInternedStrings(database: Database.Database, hasher: RowsHasher): InternedStrings {
  if (!tableExists(database, internedTableName))
    throw new SnapshotError('SNAPSHOT_MISSING_TABLE', `no table ${internedTableName}`);
  const rows = database.prepare(`SELECT key, row FROM ${internedTableName}`).all() as { key: unknown; row: unknown }[];
  const row = rows[0];
  if (rows.length !== 1 || row?.key !== internedRowKey || typeof row.row !== 'string')
    throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${internedTableName}: not one row "${internedRowKey}"`);
  hasher.beginTable(internedTableName);
  hasher.row(internedRowKey, row.row);
  hasher.endTable(1);
  let strings: unknown;
  try {
    strings = JSON.parse(row.row);
  } catch {
    strings = null;
  }
  if (!Array.isArray(strings) || !strings.every((text) => typeof text === 'string'))
    throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${internedTableName}: not a list of strings`);
  return new InternedStrings(strings as string[]);
}

function* readWrittenTableSteps(
  database: Database.Database,
  table: Table,
  state: State,
  interned: InternedStrings,
  format: number,
  hasher: RowsHasher,
  expected: Readonly<Record<string, unknown>>,
): Generator<void, void> {
  if (!tableExists(database, table.name)) throw new SnapshotError('SNAPSHOT_MISSING_TABLE', `no table ${table.name}`);
  const positional = table.name === tasksTableName;
  // Held until the table's hash is checked, then loaded without the schema.
  const vouched: [string, string][] | null = vouchedTableNames.has(table.name) ? [] : null;
  hasher.beginTable(table.name);
  // The task map itself finds a task key seen twice (each row is stored under its own key):
  // a second Set of 100,000 keys cost time and memory for nothing.
  const seen = positional ? null : new Set<string>();
  let rows = 0;
  let rowsInStep = 0;
  for (const row of database.prepare(`SELECT key, row FROM ${table.name}`).iterate() as Iterable<{
    key: unknown;
    row: unknown;
  }>) {
    const { key, row: text } = row;
    if (typeof key !== 'string' || typeof text !== 'string') {
      throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${table.name}: a key or row is not text`);
    }
    if (seen === null ? state.tasks.has(key as TaskKey) : seen.has(key))
      throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${table.name}: key ${JSON.stringify(key)} appears twice`);
    seen?.add(key);
    hasher.row(key, text);
    if (positional) loadTaskRow(state, key, text, interned, format);
    else if (vouched !== null) vouched.push([key, text]);
    else loadRow(table, state, key, text);
    rows += 1;
    rowsInStep += 1;
    if (rowsInStep < snapshotRowsPerSlice) continue;
    rowsInStep = 0;
    yield;
  }
  hasher.endTable(rows);
  if (vouched === null) return;
  checkTableDigest(hasher, expected, table.name);
  for (let position = 0; position < vouched.length; position++) {
    const [key, text] = vouched[position]!;
    loadVouchedRow(table, state, key, text);
    if ((position + 1) % snapshotRowsPerSlice === 0) yield;
  }
}

function loadVouchedRow(table: Table, state: State, key: string, text: string): void {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${table.name}[${JSON.stringify(key)}]: the row is not JSON`);
  }
  try {
    table.loadVouched(state, key, json);
  } catch (error) {
    if (error instanceof SchemaError) throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', error.message);
    // Only a file whose digests were made for rows no writer of Flotilla's makes gets here.
    if (error instanceof TypeError)
      throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${table.name}[${JSON.stringify(key)}]: not an entity`);
    throw error;
  }
}

function loadTaskRow(state: State, key: string, text: string, interned: InternedStrings, format: number): void {
  const where = `${tasksTableName}[${JSON.stringify(key)}]`;
  let task: Task;
  try {
    task = taskFromRow(JSON.parse(text), interned, format);
  } catch (error) {
    if (error instanceof SyntaxError)
      throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${where}: the row is not JSON`);
    if (error instanceof PositionalRowError)
      throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${where}: ${error.message}`);
    throw error;
  }
  const ownKey = taskKey(task.frameworkId, task.id);
  if (ownKey !== key) throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${where}: the row belongs under another key`);
  state.tasks.set(ownKey, task);
}

function compareRowKeys(left: readonly [string, string], right: readonly [string, string]): number {
  return compareStrings(left[0], right[0]);
}

function tableExists(database: Database.Database, name: string): boolean {
  return database.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

interface SnapshotMeta {
  readonly formatVersion: number;
  readonly appliedIndex: LogIndex;
  /** Formats up to 8. */
  readonly stateHash: string | null;
  /** Formats 9 and 10: the rows hash and each table's. */
  readonly rowsHash: string | null;
  readonly tableHashes: Readonly<Record<string, unknown>> | null;
}

function readMeta(database: Database.Database): SnapshotMeta {
  if (!tableExists(database, 'meta'))
    throw new SnapshotError('SNAPSHOT_MISSING_TABLE', 'no meta table: not a Flotilla state snapshot');
  const rows = database.prepare('SELECT key, value FROM meta').all() as { key: unknown; value: unknown }[];
  const values = new Map(rows.map((row) => [String(row.key), row.value]));
  const parsed = (key: string): unknown => {
    const text = values.get(key);
    if (typeof text !== 'string') throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `meta "${key}" is missing`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `meta "${key}" is not JSON`);
    }
  };
  const version = parsed(metaKeys.formatVersion);
  if (version !== snapshotFormatVersion && !readableOlderFormats.includes(version as number)) {
    throw new SnapshotError(
      'SNAPSHOT_VERSION_UNSUPPORTED',
      `format version ${JSON.stringify(version)}, this replica reads ${snapshotFormatVersion}`,
    );
  }
  const writtenRows = hasWrittenRows(version as number);
  const hashFormat = parsed(metaKeys.hashFormat);
  if (hashFormat !== (writtenRows ? rowsHashFormat : stateHashFormat))
    throw new SnapshotError('SNAPSHOT_VERSION_UNSUPPORTED', `hash format ${JSON.stringify(hashFormat)}`);
  const appliedIndex = parsed(metaKeys.appliedIndex);
  if (typeof appliedIndex !== 'number' || !Number.isSafeInteger(appliedIndex) || appliedIndex < 0) {
    throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', 'meta "applied_index" is not a whole number');
  }
  const hashKey = writtenRows ? metaKeys.rowsHash : metaKeys.stateHash;
  const hash = parsed(hashKey);
  if (typeof hash !== 'string') throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `meta "${hashKey}" is not a string`);
  if (!writtenRows)
    return { formatVersion: version as number, appliedIndex, stateHash: hash, rowsHash: null, tableHashes: null };
  const tableHashes = parsed(metaKeys.tableHashes);
  if (typeof tableHashes !== 'object' || tableHashes === null || Array.isArray(tableHashes))
    throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', 'meta "table_hashes" is not an object');
  return {
    formatVersion: version as number,
    appliedIndex,
    stateHash: null,
    rowsHash: hash,
    tableHashes: tableHashes as Record<string, unknown>,
  };
}

interface TableRead {
  /** The rows as written, unsorted, if they were to be kept (COMPAT: formats before 8 hash them, in key order). */
  readonly rows: [string, string][];
  /** Whether the rows came in key order, each hashed as read into the `hasher` given. */
  readonly inKeyOrder: boolean;
}

/**
 * Loads the rows into `state`, yielding every `snapshotRowsPerSlice` rows. With a `hasher`, the
 * rows are hashed as they are read for as long as they come in key order (the writer's order,
 * rowid order): re-serialising the loaded state to hash it took as long as the parsing.
 */
function* readTableSteps(
  database: Database.Database,
  table: Table,
  state: State,
  keepRows: boolean,
  hasher: StateHasher | null,
): Generator<void, TableRead> {
  if (!tableExists(database, table.name)) throw new SnapshotError('SNAPSHOT_MISSING_TABLE', `no table ${table.name}`);
  if (hasher !== null) {
    const { rows } = database.prepare(`SELECT count(*) AS rows FROM ${table.name}`).get() as { rows: number };
    hasher.table(table.name, rows);
  }
  const seen = new Set<string>();
  const written: [string, string][] = [];
  let inKeyOrder = hasher !== null;
  let previousKey: string | null = null;
  let rowsInStep = 0;
  for (const row of database.prepare(`SELECT key, row FROM ${table.name}`).iterate() as Iterable<{
    key: unknown;
    row: unknown;
  }>) {
    if (typeof row.key !== 'string' || typeof row.row !== 'string') {
      throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${table.name}: a key or row is not text`);
    }
    if (seen.has(row.key))
      throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${table.name}: key ${JSON.stringify(row.key)} appears twice`);
    seen.add(row.key);
    if (keepRows) written.push([row.key, row.row]);
    if (inKeyOrder) {
      inKeyOrder = previousKey === null || previousKey < row.key;
      previousKey = row.key;
      if (inKeyOrder) hasher!.row(row.key, row.row);
    }
    loadRow(table, state, row.key, row.row);
    rowsInStep += 1;
    if (rowsInStep < snapshotRowsPerSlice) continue;
    rowsInStep = 0;
    yield;
  }
  return { rows: written, inKeyOrder };
}

function loadRow(table: Table, state: State, key: string, row: string): void {
  let json: unknown;
  try {
    json = JSON.parse(row);
  } catch {
    throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', `${table.name}[${JSON.stringify(key)}]: the row is not JSON`);
  }
  try {
    table.load(state, key, json);
  } catch (error) {
    if (error instanceof SchemaError) throw new SnapshotError('SNAPSHOT_MALFORMED_ROW', error.message);
    throw error;
  }
}
