// Snapshots: the blob is a SQLite file that restores to the same state (same hash, same applied
// index), and every kind of damage is refused with its own SnapshotError code.
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalJson } from '../../src/state-machine/canonical-json.ts';
import { hashTableRows, stateHash, tableRows } from '../../src/state-machine/hash.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { compareStrings } from '../../src/state-machine/ordering.ts';
import {
  readSnapshot,
  SnapshotError,
  fallbackSnapshotFormat,
  snapshotFormatVersion,
  type SnapshotErrorCode,
  snapshotRowsPerSlice,
} from '../../src/state-machine/snapshot.ts';
import { type ReplicatedState, unboundedHistory } from '../../src/state-machine/state.ts';
import { SnapshotDatabase } from '../../src/state-machine/snapshot-database.ts';
import { SnapshotWorker } from '../../src/state-machine/snapshot-worker.ts';
import { tables } from '../../src/state-machine/tables.ts';
import { Harness } from './support/fixtures.ts';
import { richScenario } from './support/scenario.ts';
import { taskMachine } from './support/task-machine.ts';
import { turnCounter } from '../support/turn-counter.ts';

function richMachine(): Harness {
  return new Harness(richScenario);
}

/** Opens a snapshot, lets `edit` change it, and returns the new bytes. */
function edited(bytes: Uint8Array, edit: (database: Database.Database) => void): Uint8Array {
  const database = new Database(Buffer.from(bytes));
  try {
    edit(database);
    return database.serialize();
  } finally {
    database.close();
  }
}

/** Recomputes the state hash in meta from the rows as they now are (to get past the hash check). */
function rehash(database: Database.Database): void {
  const present = (name: string): boolean =>
    database.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  const rowsByTable = tables
    .filter((table) => present(table.name))
    .map((table) => ({
      name: table.name,
      rows: (database.prepare(`SELECT key, row FROM ${table.name}`).all() as { key: string; row: string }[])
        .sort((left, right) => compareStrings(left.key, right.key))
        .map((row) => [row.key, row.row] as const),
    }));
  database.prepare("UPDATE meta SET value = ? WHERE key = 'state_hash'").run(canonicalJson(hashTableRows(rowsByTable)));
}

function refused(bytes: Uint8Array, code: SnapshotErrorCode): void {
  assert.throws(
    () => readSnapshot(bytes),
    (error: unknown) => error instanceof SnapshotError && error.code === code,
  );
}

test('a snapshot restores to the same state: same hash, same rows, same applied index', () => {
  const source = richMachine();
  const restored = new ClusterStateMachine({ checkInvariants: true });
  restored.restore(source.machine.snapshot());
  assert.is(stateHash(restored.state), stateHash(source.state));
  assert.equal(tableRows(restored.state), tableRows(source.state));
  assert.is(restored.lastAppliedIndex, source.machine.lastAppliedIndex);
  assert.ok(
    source.state.tasks.size > 0 &&
      source.state.offers.size > 0 &&
      source.state.kv.size > 0 &&
      source.state.machines.size > 0,
  );
});

test('the blob is a SQLite database with one table per entity and a meta table', () => {
  const bytes = richMachine().machine.snapshot();
  assert.is(Buffer.from(bytes.subarray(0, 16)).toString('latin1'), 'SQLite format 3\u0000');
  const database = new Database(Buffer.from(bytes));
  const names = (
    database.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
  ).map((row) => row.name);
  const version = database.prepare("SELECT value FROM meta WHERE key = 'format_version'").get() as { value: string };
  database.close();
  assert.equal(names, ['meta', ...tables.map((table) => table.name)].sort());
  assert.is(version.value, String(fallbackSnapshotFormat));
});

test('two replicas at the same index write identical snapshots', () => {
  assert.equal(richMachine().machine.snapshot(), richMachine().machine.snapshot());
});

test('a snapshot begun now and written in slices is the state at its start, whatever is applied meanwhile', async () => {
  // A budget of 0: the writer gives the loop back at every step (by default only once a slice's time is spent).
  const source = new Harness(richScenario, 0);
  // Enough rows for several slices.
  for (let key = 0; key < 3 * snapshotRowsPerSlice; key++) {
    source.run({ type: 'kv_put', namespace: 'bulk', key: `k${key}`, value: `v${key}`, expectedVersion: null });
  }
  const hashAtStart = stateHash(source.state);
  const indexAtStart = source.machine.lastAppliedIndex;
  const straight = source.machine.snapshot();
  const finish = source.machine.beginSnapshot();
  // The loop turns while the writer runs: a callback that queues itself again on every turn counts them.
  let slices = 0;
  let counting = true;
  const count = () => {
    slices++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  const written = finish();
  source.run({ type: 'kv_put', namespace: 'bulk', key: 'after', value: 'late', expectedVersion: null });
  source.run({ type: 'kv_delete', namespace: 'bulk', key: 'k0', expectedVersion: null });
  const bytes = await written;
  counting = false;
  assert.ok(slices > 0, 'the writer gave the event loop back');
  const restored = new ClusterStateMachine({ checkInvariants: true });
  restored.restore(bytes);
  assert.is(stateHash(restored.state), hashAtStart);
  assert.is(restored.lastAppliedIndex, indexAtStart);
  assert.ok(restored.state.kv.size >= 3 * snapshotRowsPerSlice);
  assert.equal(bytes, straight, 'the same bytes as the straight writer');
});

test('the sliced writer builds and serialises the database in the worker thread, not on the event loop', async () => {
  const source = new Harness(richScenario, undefined, 0);
  const straight = source.machine.snapshot();
  const openedBefore = SnapshotDatabase.openedInThisThread;
  const finishedBefore = SnapshotWorker.shared().finishedJobs;
  const prefix = Uint8Array.from([7, 0, 0, 0, 2, 0xab, 0xcd]);
  const bytes = await source.machine.beginSnapshot()(prefix);
  assert.is(SnapshotDatabase.openedInThisThread, openedBefore, 'no SQLite database opened on this thread');
  assert.is(SnapshotWorker.shared().finishedJobs, finishedBefore + 1, 'the worker serialised it');
  assert.equal(bytes.subarray(0, prefix.byteLength), prefix, 'the prefix first');
  assert.equal(bytes.subarray(prefix.byteLength), straight, 'then the same bytes as the straight writer');
  assert.is(bytes.byteOffset, 0);
  assert.is(bytes.buffer.byteLength, bytes.byteLength, 'its own buffer, transferred whole');
});

test('below snapshotWorkerMinimumRows the sliced writer builds the database on this thread, the same bytes', async () => {
  const source = new Harness(richScenario, undefined, 1_000_000);
  const openedBefore = SnapshotDatabase.openedInThisThread;
  const finishedBefore = SnapshotWorker.shared().finishedJobs;
  const bytes = await source.machine.beginSnapshot()();
  assert.is(SnapshotDatabase.openedInThisThread, openedBefore + 1);
  assert.is(SnapshotWorker.shared().finishedJobs, finishedBefore);
  assert.equal(bytes, source.machine.snapshot());
});

test('refused: a worker-made snapshot with a row changed after writing (hash mismatch)', async () => {
  const written = await new Harness(richScenario, undefined, 0).machine.beginSnapshot()();
  const bytes = edited(written, (database) => {
    database.prepare("UPDATE agents SET row = json_set(row, '$.hostname', 'elsewhere') WHERE key = 'a1'").run();
  });
  refused(bytes, 'SNAPSHOT_HASH_MISMATCH');
  refused(written.subarray(0, written.byteLength >> 1), 'SNAPSHOT_NOT_SQLITE');
});

test('several snapshots written at once in the one worker each get their own bytes', async () => {
  const first = new Harness(richScenario, undefined, 0);
  const second = new Harness(richScenario, undefined, 0);
  second.run({ type: 'kv_put', namespace: 'n', key: 'k', value: 'v', expectedVersion: null });
  const [firstBytes, secondBytes] = await Promise.all([
    first.machine.beginSnapshot()(),
    second.machine.beginSnapshot()(),
  ]);
  assert.equal(firstBytes, first.machine.snapshot());
  assert.equal(secondBytes, second.machine.snapshot());
});

test('task users and container fields round-trip; a task runs as its command user, else its framework user', () => {
  const source = richMachine();
  const restored = new ClusterStateMachine({ checkInvariants: true });
  restored.restore(source.machine.snapshot());
  const web = restored.state.tasks.get('f1/t1' as never);
  assert.is(web?.user, 'nobody', 'F1 subscribed with user nobody; its task names none');
  assert.equal(web?.container?.portMappings, [{ hostPort: 31000, containerPort: 80, protocol: 'tcp' }]);
  assert.equal(web?.container?.parameters, [{ key: 'label', value: 'team=web' }]);
  assert.is(web?.container?.hostname, 'web-1');
  assert.is(web?.container?.privileged, true);
  assert.is(web?.container?.volumes.length, 2);
  assert.is(restored.state.tasks.get('f2/t1' as never)?.user, 'daemon', 'the command user wins');
  assert.is(restored.state.tasks.get('f2/t2' as never)?.user, null, 'F2 gave no user');
  assert.is(restored.state.frameworks.get('f1' as never)?.info.user, 'nobody');
});

/** The source's rows with an empty operations table: what a format before 6 keeps of it. */
const withoutOperations = (state: ReplicatedState) =>
  tableRows(state).map((table) => (table.name === 'operations' ? { ...table, rows: [] } : table));

const rowsOf = (database: Database.Database, table: string) =>
  database.prepare(`SELECT key, row FROM ${table}`).all() as { key: string; row: string }[];
const updateRow = (database: Database.Database, table: string, key: string, value: unknown) =>
  database.prepare(`UPDATE ${table} SET row = ? WHERE key = ?`).run(canonicalJson(value), key);

/** Rewrites a snapshot as format 5 wrote it: no operations table (nothing recorded operations). */
function asFormat5(bytes: Uint8Array): Uint8Array {
  return edited(bytes, (database) => {
    database.exec('DROP TABLE operations');
    database.prepare("UPDATE meta SET value = '5' WHERE key = 'format_version'").run();
    rehash(database);
  });
}

/** Rewrites a snapshot as format 3 wrote it: no history_limits table (the state had no limits). */
function asFormat3(bytes: Uint8Array): Uint8Array {
  return edited(asFormat5(bytes), (database) => {
    database.exec('DROP TABLE history_limits');
    database.prepare("UPDATE meta SET value = '3' WHERE key = 'format_version'").run();
    rehash(database);
  });
}

/**
 * Rewrites a snapshot as format 2 wrote it: no executors table, no task executor, data or group,
 * no status data (a format 2 state has no executors: its tasks run on the command executor).
 */
function asFormat2(bytes: Uint8Array): Uint8Array {
  return edited(asFormat3(bytes), (database) => {
    database.exec('DROP TABLE executors');
    for (const { key, row } of rowsOf(database, 'tasks')) {
      const task = JSON.parse(row) as Record<string, unknown> & { statuses: Record<string, unknown>[] };
      if (task.executor !== null) {
        database.prepare('DELETE FROM tasks WHERE key = ?').run(key);
        continue;
      }
      for (const added of ['executor', 'data', 'taskGroup']) delete task[added];
      for (const status of task.statuses) delete status.data;
      updateRow(database, 'tasks', key, task);
    }
    // a1 then holds only t1: 1 cpu, 256 mem and port 31000.
    database.prepare("UPDATE agents SET row = json_set(row, '$.used', json(?)) WHERE key = 'a1'").run(
      JSON.stringify([
        { name: 'cpus', role: '*', type: 'SCALAR', scalar: 1 },
        { name: 'mem', role: '*', type: 'SCALAR', scalar: 256 },
        { name: 'ports', role: '*', type: 'RANGES', ranges: [{ begin: 31000, end: 31000 }] },
      ]),
    );
    database.prepare("UPDATE meta SET value = '2' WHERE key = 'format_version'").run();
    rehash(database);
  });
}

/** Rewrites a snapshot as format 1 wrote it: without the members formats 2 to 4 added, hashed as format 1 hashed. */
function asFormat1(bytes: Uint8Array): Uint8Array {
  return edited(asFormat2(bytes), (database) => {
    const rows = (table: string) => rowsOf(database, table);
    const update = (table: string, key: string, value: unknown) => updateRow(database, table, key, value);
    for (const { key, row } of rows('tasks')) {
      const task = JSON.parse(row) as Record<string, unknown> & { container: Record<string, unknown> | null };
      delete task.user;
      if (task.container !== null) {
        for (const added of ['portMappings', 'volumes', 'privileged', 'parameters', 'hostname'])
          delete task.container[added];
      }
      update('tasks', key, task);
    }
    for (const { key, row } of rows('frameworks')) {
      const framework = JSON.parse(row) as { info: Record<string, unknown> };
      delete framework.info.user;
      update('frameworks', key, framework);
    }
    database.prepare("UPDATE meta SET value = '1' WHERE key = 'format_version'").run();
    rehash(database);
  });
}

test('COMPAT: a format 5 snapshot reads with no operations recorded', () => {
  const source = richMachine();
  const restored = new ClusterStateMachine({ checkInvariants: true });
  restored.restore(asFormat5(source.machine.snapshot()));
  assert.is(restored.state.operations.size, 0);
  assert.equal(tableRows(restored.state), withoutOperations(source.state));
});

test('COMPAT: a format 3 snapshot reads with unbounded history limits, its hash checked on its rows', () => {
  const source = richMachine();
  const restored = new ClusterStateMachine({ checkInvariants: true });
  restored.restore(asFormat3(source.machine.snapshot()));
  assert.equal(restored.state.historyLimits, unboundedHistory);
  assert.equal(tableRows(restored.state), withoutOperations(source.state));
  const tampered = edited(asFormat3(source.machine.snapshot()), (database) => {
    database.prepare("UPDATE agents SET row = json_set(row, '$.hostname', 'elsewhere') WHERE key = 'a1'").run();
  });
  refused(tampered, 'SNAPSHOT_HASH_MISMATCH');
});

test('COMPAT: a format 1 snapshot reads, its tasks running as their command user, the new fields defaulted', () => {
  const restored = new ClusterStateMachine({ checkInvariants: true });
  restored.restore(asFormat1(richMachine().machine.snapshot()));
  const web = restored.state.tasks.get('f1/t1' as never);
  assert.is(web?.user, null, 'format 1 knew no framework user');
  assert.equal(web?.container?.portMappings, []);
  assert.is(web?.container?.privileged, false);
  assert.is(restored.state.tasks.get('f2/t1' as never)?.user, 'daemon');
  assert.is(restored.state.frameworks.get('f1' as never)?.info.user, null);
  // Its hash is checked on the rows as format 1 wrote them: a changed row is still caught.
  const tampered = edited(asFormat1(richMachine().machine.snapshot()), (database) => {
    const task = database.prepare("SELECT key, row FROM tasks WHERE key = 'f2/t1'").get() as {
      key: string;
      row: string;
    };
    const changed = task.row.replace('"user":"daemon"', '"user":"root"');
    assert.is.not(changed, task.row);
    database.prepare('UPDATE tasks SET row = ? WHERE key = ?').run(changed, task.key);
  });
  refused(tampered, 'SNAPSHOT_HASH_MISMATCH');
});

test('COMPAT: a format 2 snapshot reads: no executors, tasks on the command executor, no data', () => {
  const restored = new ClusterStateMachine({ checkInvariants: true });
  restored.restore(asFormat2(richMachine().machine.snapshot()));
  assert.is(restored.state.executors.size, 0);
  const web = restored.state.tasks.get('f1/t1' as never);
  assert.is(web?.executor, null);
  assert.is(web?.data, null);
  assert.is(web?.taskGroup, null);
  assert.ok(web?.statuses.every((status) => status.data === null));
  assert.is(web?.user, 'nobody', 'format 2 knew the framework user');
});

test('executors, task data, task groups and status data round-trip', () => {
  const source = richMachine();
  const restored = new ClusterStateMachine({ checkInvariants: true });
  restored.restore(source.machine.snapshot());
  assert.equal([...restored.state.executors.keys()].sort(), ['a1/f1/e1', 'a1/f1/pod']);
  const onExecutor = restored.state.tasks.get('f1/t3' as never);
  assert.is(onExecutor?.executor?.id, 'e1');
  assert.is(onExecutor?.executor?.shutdownGracePeriodMs, 2000);
  assert.is(Buffer.from(onExecutor?.data ?? '', 'base64').toString(), 'payload');
  assert.is(Buffer.from(onExecutor?.statuses.at(-1)?.data ?? '', 'base64').toString(), '50%');
  const grouped = restored.state.tasks.get('f1/pod-a' as never);
  assert.is(grouped?.taskGroup, 'pod-a');
  assert.is(grouped?.executor?.type, 'DEFAULT');
  assert.is(stateHash(restored.state), stateHash(source.state));
});

test('an empty state round-trips', () => {
  const empty = new ClusterStateMachine();
  const restored = new ClusterStateMachine();
  restored.restore(empty.snapshot());
  assert.is(stateHash(restored.state), stateHash(empty.state));
  assert.is(restored.lastAppliedIndex, 0);
});

test('refused: bytes that are not SQLite', () => {
  refused(
    new Uint8Array(Buffer.from('definitely not a database, but long enough to look at '.repeat(20))),
    'SNAPSHOT_NOT_SQLITE',
  );
});

test('refused: a SQLite file that is not a state snapshot, or lacks a table', () => {
  const blank = new Database(':memory:');
  blank.exec('CREATE TABLE other (x)');
  refused(blank.serialize(), 'SNAPSHOT_MISSING_TABLE');
  blank.close();
  refused(
    edited(richMachine().machine.snapshot(), (database) => database.exec('DROP TABLE tasks')),
    'SNAPSHOT_MISSING_TABLE',
  );
});

test('refused: another format version', () => {
  const bytes = edited(richMachine().machine.snapshot(), (database) => {
    database.prepare("UPDATE meta SET value = ? WHERE key = 'format_version'").run(String(snapshotFormatVersion + 1));
  });
  refused(bytes, 'SNAPSHOT_VERSION_UNSUPPORTED');
});

test('refused: rows that are not JSON, not an entity, or under the wrong key', () => {
  const snapshot = richMachine().machine.snapshot();
  refused(
    edited(snapshot, (database) => database.prepare("UPDATE agents SET row = '{oops' WHERE key = 'a1'").run()),
    'SNAPSHOT_MALFORMED_ROW',
  );
  refused(
    edited(snapshot, (database) =>
      database.prepare("UPDATE agents SET row = json_set(row, '$.state', 'SLEEPY') WHERE key = 'a1'").run(),
    ),
    'SNAPSHOT_MALFORMED_ROW',
  );
  refused(
    edited(snapshot, (database) => database.prepare("UPDATE agents SET key = 'a3' WHERE key = 'a1'").run()),
    'SNAPSHOT_MALFORMED_ROW',
  );
  refused(
    edited(snapshot, (database) => database.prepare("DELETE FROM meta WHERE key = 'applied_index'").run()),
    'SNAPSHOT_MALFORMED_ROW',
  );
});

test('refused: a well-formed row that differs from what was written (hash mismatch)', () => {
  const bytes = edited(richMachine().machine.snapshot(), (database) => {
    database.prepare("UPDATE agents SET row = json_set(row, '$.hostname', 'elsewhere') WHERE key = 'a1'").run();
  });
  refused(bytes, 'SNAPSHOT_HASH_MISMATCH');
});

test('refused: a consistent-looking snapshot whose state breaks an invariant', () => {
  const bytes = edited(richMachine().machine.snapshot(), (database) => {
    database.prepare("UPDATE agents SET row = json_set(row, '$.used', json('[]')) WHERE key = 'a1'").run();
    rehash(database);
  });
  refused(bytes, 'SNAPSHOT_INVARIANT_VIOLATED');
});

test('refused: one port held by two live tasks of an agent (the tasks without ports between them skipped)', () => {
  // f1/t1 holds port 31000 of a1; f1/t3 (cpus and mem only, like f1/pod-a) is made to hold it too.
  const bytes = edited(richMachine().machine.snapshot(), (database) => {
    const withPort = [
      { name: 'cpus', role: '*', scalar: 0.2, type: 'SCALAR' },
      { name: 'mem', role: '*', scalar: 32, type: 'SCALAR' },
      { name: 'ports', ranges: [{ begin: 31000, end: 31000 }], role: '*', type: 'RANGES' },
    ];
    database
      .prepare("UPDATE tasks SET row = json_set(row, '$.resources', json(?)) WHERE key = 'f1/t3'")
      .run(JSON.stringify(withPort));
    rehash(database);
  });
  assert.throws(
    () => readSnapshot(bytes),
    (error: unknown) =>
      error instanceof SnapshotError &&
      error.code === 'SNAPSHOT_INVARIANT_VIOLATED' &&
      error.message.includes('a range value is held by two tasks or offers'),
  );
});

test('a refused restore leaves the machine as it was', () => {
  const harness = richMachine();
  const before = stateHash(harness.state);
  assert.throws(
    () => harness.machine.restore(new Uint8Array(100)),
    (error: unknown) => error instanceof SnapshotError,
  );
  assert.is(stateHash(harness.state), before);
});

/** A machine with the rich scenario and `rows` more KV entries: a snapshot of several read slices. */
function bulkMachine(rows: number): Harness {
  const source = new Harness(richScenario, 0);
  for (let key = 0; key < rows; key++) {
    source.run({ type: 'kv_put', namespace: 'bulk', key: `k${key}`, value: `v${key}`, expectedVersion: null });
  }
  return source;
}

test('a restore in slices yields between them, keeps the old state until the swap, and ends at the same hash', async () => {
  const source = bulkMachine(8 * snapshotRowsPerSlice);
  const bytes = source.machine.snapshot();
  const straight = new ClusterStateMachine({ checkInvariants: true });
  straight.restore(bytes);
  // A budget of 0: the reader gives the loop back at every step.
  const target = new Harness([], 0);
  const hashBefore = stateHash(target.state);
  const counter = turnCounter();
  const install = await target.machine.prepareRestore(bytes, () => false);
  counter.stop();
  assert.ok(counter.turns() >= 8, `the reader gave the event loop back (${counter.turns()} turns)`);
  assert.ok(install !== null);
  assert.is(stateHash(target.state), hashBefore, 'nothing changed before the swap');
  assert.is(target.events.length, 0);
  install();
  assert.is(stateHash(target.state), stateHash(straight.state));
  assert.is(stateHash(target.state), stateHash(source.state));
  assert.is(target.machine.lastAppliedIndex, source.machine.lastAppliedIndex);
  assert.equal(
    target.events.map((event) => event.type),
    ['STATE_RESTORED'],
  );
});

test('a restore in slices called off between slices resolves with nothing and changes nothing', async () => {
  const bytes = bulkMachine(8 * snapshotRowsPerSlice).machine.snapshot();
  const target = new Harness([], 0);
  const hashBefore = stateHash(target.state);
  let steps = 0;
  const install = await target.machine.prepareRestore(bytes, () => ++steps > 2);
  assert.is(install, null);
  assert.is(steps, 3, 'asked once per slice, and not after it was called off');
  assert.is(stateHash(target.state), hashBefore);
});

test('a bad snapshot restored in slices rejects with its SnapshotError and changes nothing', async () => {
  const written = bulkMachine(4 * snapshotRowsPerSlice).machine.snapshot();
  const tampered = edited(written, (database) => {
    database
      .prepare("UPDATE kv SET row = json_set(row, '$.value', 'changed') WHERE key = (SELECT max(key) FROM kv)")
      .run();
  });
  const target = new Harness([], 0);
  const hashBefore = stateHash(target.state);
  try {
    await target.machine.prepareRestore(tampered, () => false);
    assert.unreachable('a tampered snapshot restored');
  } catch (error) {
    assert.ok(error instanceof SnapshotError && error.code === 'SNAPSHOT_HASH_MISMATCH', String(error));
  }
  assert.is(stateHash(target.state), hashBefore);
});

test('a snapshot costs at most 860 bytes per more task of the fixtures (the SQLite file, counted in bytes)', () => {
  // Two sizes, so the fixed part (empty pages of every table, meta) cancels out: 1,000 tasks more.
  const smaller = taskMachine(50, 20).snapshot().byteLength;
  const larger = taskMachine(100, 20).snapshot().byteLength;
  const bytesPerTask = (larger - smaller) / 1000;
  // 4 KiB pages and an index on every key made it 868 bytes (212 pages for 1,000 tasks); 16 KiB
  // pages without the index, 852.
  assert.ok(bytesPerTask <= 860, `${bytesPerTask} bytes per task`);
  assert.ok(bytesPerTask > 500, `${bytesPerTask} bytes per task: is a row missing?`);
});

test('a large state round-trips through the worker: same hash, same rows', async () => {
  const source = taskMachine(40, 25);
  const restored = new ClusterStateMachine({ checkInvariants: true });
  const install = await restored.prepareRestore(await source.beginSnapshot()(), () => false);
  install!();
  assert.is(restored.state.tasks.size, 1000);
  assert.is(stateHash(restored.state), stateHash(source.state));
  assert.equal(tableRows(restored.state), tableRows(source.state));
});

test('refused: a row whose text differs from what was written, even one that reads as the same entity', () => {
  // The reader hashes the rows as it reads them: any byte changed in a row is caught, not only a
  // change the entity's schema would see.
  const bytes = edited(richMachine().machine.snapshot(), (database) => {
    database.prepare("UPDATE agents SET row = ' ' || row WHERE key = 'a1'").run();
  });
  refused(bytes, 'SNAPSHOT_HASH_MISMATCH');
});

test('refused: a key that appears twice in a table', () => {
  const bytes = edited(richMachine().machine.snapshot(), (database) => {
    database.exec("INSERT INTO agents (key, row) SELECT key, row FROM agents WHERE key = 'a1'");
    rehash(database);
  });
  refused(bytes, 'SNAPSHOT_MALFORMED_ROW');
});

test('rows out of key order (not as this writer puts them) still read, to the same hash', () => {
  const source = bulkMachine(3 * snapshotRowsPerSlice);
  const shuffled = edited(source.machine.snapshot(), (database) => {
    const rows = rowsOf(database, 'kv').reverse();
    database.exec('DELETE FROM kv');
    const insert = database.prepare('INSERT INTO kv (key, row) VALUES (?, ?)');
    for (const { key, row } of rows) insert.run(key, row);
  });
  const restored = new ClusterStateMachine({ checkInvariants: true });
  restored.restore(shuffled);
  assert.is(stateHash(restored.state), stateHash(source.state));
});

test('COMPAT: a snapshot of the previous layout (4 KiB pages, each table keyed by a primary key) reads', () => {
  const source = richMachine();
  const current = new Database(Buffer.from(source.machine.snapshot()));
  const previous = new Database(':memory:');
  try {
    previous.exec('CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)');
    for (const { key, value } of current.prepare('SELECT key, value FROM meta').all() as {
      key: string;
      value: string;
    }[])
      previous.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, value);
    for (const table of tables) {
      previous.exec(`CREATE TABLE ${table.name} (key TEXT PRIMARY KEY NOT NULL, row TEXT NOT NULL)`);
      const insert = previous.prepare(`INSERT INTO ${table.name} (key, row) VALUES (?, ?)`);
      for (const { key, row } of rowsOf(current, table.name)) insert.run(key, row);
    }
    assert.is(Number(previous.pragma('page_size', { simple: true })), 4096);
    const restored = new ClusterStateMachine({ checkInvariants: true });
    restored.restore(previous.serialize());
    assert.is(stateHash(restored.state), stateHash(source.state));
    assert.equal(tableRows(restored.state), tableRows(source.state));
  } finally {
    current.close();
    previous.close();
  }
});

test.run();
