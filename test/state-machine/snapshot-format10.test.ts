// Snapshot format 10 (snapshot-rows.ts): as format 9, with a task's resources, command, container,
// health check, labels and executor written as the position of their JSON text in the interned
// strings, parsed once on restore and shared by every task naming them. It restores to the same
// state and hash as formats 8 and 9, is written only once every member reads it, and a row or an
// interned text that does not decode is refused and named.
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash, tableRows } from '../../src/state-machine/hash.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import {
  captureState,
  fallbackSnapshotFormat,
  readSnapshot,
  SnapshotError,
  type SnapshotErrorCode,
  snapshotFormatFor,
  snapshotFormatVersion,
  writeSnapshot,
  writeSnapshotInSlices,
  writtenRowsFormat,
} from '../../src/state-machine/snapshot.ts';
import {
  InternedStrings,
  memberTexts,
  RowsHasher,
  StringInterner,
  taskFromRow,
  taskRowJson,
} from '../../src/state-machine/snapshot-rows.ts';
import type { Task } from '../../src/state-machine/state.ts';
import { SnapshotWorker } from '../../src/state-machine/snapshot-worker.ts';
import { tables } from '../../src/state-machine/tables.ts';
import { Harness } from './support/fixtures.ts';
import { richScenario } from './support/scenario.ts';
import { taskMachine } from './support/task-machine.ts';

const format10 = snapshotFormatVersion;

function rich(): Harness {
  return new Harness(richScenario);
}

function edited(bytes: Uint8Array, edit: (database: Database.Database) => void): Uint8Array {
  const database = new Database(Buffer.from(bytes));
  try {
    edit(database);
    return database.serialize();
  } finally {
    database.close();
  }
}

function selected<Row>(bytes: Uint8Array, sql: string): Row[] {
  const database = new Database(Buffer.from(bytes));
  try {
    return database.prepare(sql).all() as Row[];
  } finally {
    database.close();
  }
}

const internedStrings = (bytes: Uint8Array): string[] =>
  JSON.parse(selected<{ row: string }>(bytes, "SELECT row FROM interned WHERE key = 'strings'")[0]!.row);

/** Recomputes every table's digest and the rows hash from the rows as they now are. */
function rehash(database: Database.Database): void {
  const hasher = new RowsHasher();
  for (const name of [...tables.map((table) => table.name), 'interned']) {
    const rows = database.prepare(`SELECT key, row FROM ${name}`).all() as { key: string; row: string }[];
    hasher.beginTable(name);
    for (const { key, row } of rows) hasher.row(key, row);
    hasher.endTable(rows.length);
  }
  const update = database.prepare('UPDATE meta SET value = ? WHERE key = ?');
  update.run(JSON.stringify(hasher.digest()), 'rows_hash');
  update.run(JSON.stringify(Object.fromEntries(hasher.tableDigests)), 'table_hashes');
}

function refusedWith(bytes: Uint8Array, code: SnapshotErrorCode, naming: string): void {
  try {
    readSnapshot(bytes);
  } catch (error) {
    assert.ok(error instanceof SnapshotError, String(error));
    assert.is(error.code, code, error.message);
    assert.ok(error.message.includes(naming), `"${error.message}" names ${naming}`);
    return;
  }
  assert.unreachable('a damaged snapshot was read');
}

test('format 10 restores to the same state as formats 8 and 9: same hash, same rows, same applied index', () => {
  const source = rich();
  const index = source.machine.lastAppliedIndex;
  const bytes = writeSnapshot(source.state, index, undefined, format10);
  assert.is(selected<{ value: string }>(bytes, "SELECT value FROM meta WHERE key = 'format_version'")[0]!.value, '10');
  const restored = readSnapshot(bytes);
  assert.is(stateHash(restored.state), stateHash(source.state));
  assert.equal(tableRows(restored.state), tableRows(source.state));
  assert.is(restored.appliedIndex, index);
  for (const format of [writtenRowsFormat, fallbackSnapshotFormat]) {
    const older = readSnapshot(writeSnapshot(source.state, index, undefined, format));
    assert.is(stateHash(older.state), stateHash(restored.state), `format ${format}`);
  }
  assert.ok([...source.state.tasks.values()].some((task) => task.container !== null && task.labels !== null));
});

test('format 10 task rows hold positions, not resources or commands; tasks that launched the same share one copy', () => {
  const source = taskMachine(20, 5);
  const bytes = writeSnapshot(source.state, source.lastAppliedIndex, undefined, format10);
  const strings = internedStrings(bytes);
  const task = source.state.tasks.values().next().value!;
  assert.ok(strings.includes(JSON.stringify(task.resources)));
  assert.ok(strings.includes(JSON.stringify(task.command)));
  for (const { row } of selected<{ row: string }>(bytes, 'SELECT row FROM tasks'))
    assert.not.ok(row.includes('"cpus"') || row.includes('"value"') || row.includes('"name"'), row);
  const restored = [...readSnapshot(bytes).state.tasks.values()];
  assert.is(restored.length, 100);
  assert.is(new Set(restored.map((each) => each.resources)).size, 1, 'one resources list for all');
  assert.is(new Set(restored.map((each) => each.command)).size, 1, 'one command for all');
  const format9Tasks = [
    ...readSnapshot(writeSnapshot(source.state, 1, undefined, writtenRowsFormat)).state.tasks.values(),
  ];
  assert.is(new Set(format9Tasks.map((each) => each.resources)).size, 100, 'format 9: a copy per task');
});

test('format 10 only once every other member reads it: 9 for members that read 9, 8 for older or unknown', () => {
  assert.is(snapshotFormatFor(null), fallbackSnapshotFormat);
  assert.is(snapshotFormatFor(8), fallbackSnapshotFormat);
  assert.is(snapshotFormatFor(9), writtenRowsFormat);
  assert.is(snapshotFormatFor(10), format10);
  assert.is(snapshotFormatFor(11), format10, 'a newer member reads this build’s newest');
  assert.is(snapshotFormatFor(Number.POSITIVE_INFINITY), format10, 'no other member');
});

test("format 10 built in the worker, in slices, is the straight writer's bytes and round-trips a large state", async () => {
  const source = taskMachine(40, 25);
  const index = source.lastAppliedIndex;
  const finishedBefore = SnapshotWorker.shared().finishedJobs;
  const sliced = await writeSnapshotInSlices(captureState(source.state), index, async () => {}, undefined, 0, format10);
  assert.is(SnapshotWorker.shared().finishedJobs, finishedBefore + 1);
  assert.equal(sliced, writeSnapshot(source.state, index, undefined, format10));
  const restored = new ClusterStateMachine({ checkInvariants: true });
  const install = await restored.prepareRestore(sliced, () => false);
  install!();
  assert.is(restored.state.tasks.size, 1000);
  assert.is(stateHash(restored.state), stateHash(source.state));
  assert.equal(tableRows(restored.state), tableRows(source.state));
});

test('format 10 built in the worker hashes its rows there: no row hashed on the event loop, same meta', async () => {
  const source = taskMachine(40, 25);
  const index = source.lastAppliedIndex;
  const hashedBefore = RowsHasher.rowsHashedInThisThread;
  const sliced = await writeSnapshotInSlices(captureState(source.state), index, async () => {}, undefined, 0, format10);
  assert.is(RowsHasher.rowsHashedInThisThread, hashedBefore, 'no row hashed on this thread');
  const meta = (bytes: Uint8Array) => selected<{ key: string; value: string }>(bytes, 'SELECT key, value FROM meta');
  const straight = writeSnapshot(source.state, index, undefined, format10);
  assert.ok(RowsHasher.rowsHashedInThisThread > hashedBefore + 1000, 'the straight writer hashes here');
  assert.equal(meta(sliced), meta(straight));
  assert.equal(
    meta(sliced).map(({ key }) => key),
    ['format_version', 'hash_format', 'applied_index', 'rows_hash', 'table_hashes'],
  );
});

test('refused and named: a format-10 row naming an interned text past the table, or one that is not JSON', () => {
  const bytes = writeSnapshot(rich().state, 1, undefined, format10);
  const [{ row }] = selected<{ row: string }>(bytes, "SELECT row FROM tasks WHERE key = 'f1/t1'") as [{ row: string }];
  const parsed = JSON.parse(row) as unknown[];
  const strings = internedStrings(bytes);
  const resourcesPosition = parsed.findIndex(
    (member, at) => at > 0 && typeof member === 'number' && strings[member]?.startsWith('[{"name"'),
  );
  assert.ok(resourcesPosition > 0, row);
  const pastTheTable = [...parsed];
  pastTheTable[resourcesPosition] = 9999;
  const withRow = (text: string) =>
    edited(bytes, (database) => {
      database.prepare("UPDATE tasks SET row = ? WHERE key = 'f1/t1'").run(text);
      rehash(database);
    });
  refusedWith(withRow(JSON.stringify(pastTheTable)), 'SNAPSHOT_MALFORMED_ROW', 'tasks["f1/t1"]');
  const notJson = edited(bytes, (database) => {
    const damaged = [...strings];
    damaged[parsed[resourcesPosition] as number] = '[{"name":';
    database.prepare("UPDATE interned SET row = ? WHERE key = 'strings'").run(JSON.stringify(damaged));
    rehash(database);
  });
  refusedWith(notJson, 'SNAPSHOT_MALFORMED_ROW', 'tasks["');
  const notAList = edited(bytes, (database) => {
    const damaged = [...strings];
    damaged[parsed[resourcesPosition] as number] = '17';
    database.prepare("UPDATE interned SET row = ? WHERE key = 'strings'").run(JSON.stringify(damaged));
    rehash(database);
  });
  refusedWith(notAList, 'SNAPSHOT_MALFORMED_ROW', 'not a JSON object or list');
});

test('a task row with every member and one without some decode to the task, members in the same order', () => {
  const task = taskMachine(1, 1).state.tasks.values().next().value!;
  const roundTrip = (value: Task): Task => {
    const interner = new StringInterner();
    const text = taskRowJson(value, interner, format10);
    return taskFromRow(JSON.parse(text), new InternedStrings(interner.strings), format10);
  };
  const whole = roundTrip(task);
  assert.equal(whole, task);
  const { taskGroup: _dropped, ...withoutGroup } = task;
  const partial = roundTrip(withoutGroup as Task);
  assert.equal(partial, withoutGroup);
  // Both paths put the members in the codec's order (the state hash sorts keys; views may not).
  assert.equal(
    Object.keys(partial),
    Object.keys(whole).filter((member) => member !== 'taskGroup'),
  );
});

test('refused and named: a format-10 task key that appears twice', () => {
  const bytes = writeSnapshot(rich().state, 1, undefined, format10);
  const twice = edited(bytes, (database) => {
    database.exec("INSERT INTO tasks (key, row) SELECT key, row FROM tasks WHERE key = 'f1/t1'");
    rehash(database);
  });
  refusedWith(twice, 'SNAPSHOT_MALFORMED_ROW', 'tasks: key "f1/t1" appears twice');
});

test('refused and named: a format-10 interned text changed after writing, even to a valid one', () => {
  const bytes = writeSnapshot(rich().state, 1, undefined, format10);
  const changed = edited(bytes, (database) => {
    const strings = internedStrings(bytes).map((text) => text.replace('"scalar":256', '"scalar":255'));
    database.prepare("UPDATE interned SET row = ? WHERE key = 'strings'").run(JSON.stringify(strings));
  });
  assert.not.equal(changed, bytes);
  refusedWith(changed, 'SNAPSHOT_HASH_MISMATCH', 'table interned');
});

test('format 10 costs at most 300 bytes per more task of the fixtures (262 when written; format 9: 442)', () => {
  const bytesPerTask = (format: number): number => {
    const smaller = taskMachine(50, 20);
    const larger = taskMachine(100, 20);
    const size = (machine: ClusterStateMachine) =>
      writeSnapshot(machine.state, machine.lastAppliedIndex, undefined, format).byteLength;
    return (size(larger) - size(smaller)) / 1000;
  };
  const format10Bytes = bytesPerTask(format10);
  assert.ok(format10Bytes <= 300, `${format10Bytes} bytes per task`);
  assert.ok(format10Bytes > 150, `${format10Bytes} bytes per task: is a row missing?`);
  assert.ok(bytesPerTask(writtenRowsFormat) > 400, 'format 9 is still written as it was');
});

test("a later format-10 write reuses each unchanged member's JSON text: the same bytes, no text made again", () => {
  const source = taskMachine(20, 5);
  const index = source.lastAppliedIndex;
  const before = memberTexts.made;
  const first = writeSnapshot(source.state, index, undefined, format10);
  const madeByFirst = memberTexts.made - before;
  // Each of the 100 tasks launched with its own resources and command objects (apply made them).
  assert.ok(madeByFirst >= 200, `${madeByFirst} texts made by the first write`);
  const second = writeSnapshot(source.state, index, undefined, format10);
  assert.is(memberTexts.made - before, madeByFirst, 'the second write made no text');
  assert.equal(Buffer.from(second), Buffer.from(first));
  // A restored state's tasks share their parsed members: one text each, made once.
  const restored = readSnapshot(first).state;
  const beforeRestoredWrite = memberTexts.made;
  const again = writeSnapshot(restored, index, undefined, format10);
  const sharedObjects = new Set(
    [...restored.tasks.values()].flatMap((task) =>
      [task.resources, task.command, task.container, task.healthCheck, task.labels, task.executor].filter(
        (member) => typeof member === 'object' && member !== null,
      ),
    ),
  );
  assert.ok(sharedObjects.size <= 4, `${sharedObjects.size} objects shared by 100 tasks`);
  assert.is(memberTexts.made - beforeRestoredWrite, sharedObjects.size, 'one text per shared object');
  assert.is(stateHash(readSnapshot(again).state), stateHash(source.state));
});

test.run();
