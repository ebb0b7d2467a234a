// Formats 9 and 10 read the agents', frameworks', offers' and executors' rows without their
// schemas once the table's hash is checked (snapshot.ts `vouchedTableNames`): the rows are the
// writer's JSON.stringify of entities it held. The restore is the one the schemas made (same
// state hash, same rows), a damaged row is named by its table's hash before it is parsed, and a
// state that breaks an invariant is still refused.
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash, tableRows } from '../../src/state-machine/hash.ts';
import {
  fallbackSnapshotFormat,
  readSnapshot,
  SnapshotError,
  type SnapshotErrorCode,
  snapshotFormatVersion,
  writeSnapshot,
} from '../../src/state-machine/snapshot.ts';
import { RowsHasher } from '../../src/state-machine/snapshot-rows.ts';
import { tables } from '../../src/state-machine/tables.ts';
import { Harness } from './support/fixtures.ts';
import { richScenario } from './support/scenario.ts';

function edited(bytes: Uint8Array, edit: (database: Database.Database) => void): Uint8Array {
  const database = new Database(Buffer.from(bytes));
  try {
    edit(database);
    return database.serialize();
  } finally {
    database.close();
  }
}

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

const source = new Harness(richScenario);
const bytes = writeSnapshot(source.state, source.machine.lastAppliedIndex, undefined, snapshotFormatVersion);

test('the restore equals the one through the schemas (format 8): same state hash, same rows of every table', () => {
  const restored = readSnapshot(bytes);
  const throughSchemas = readSnapshot(
    writeSnapshot(source.state, source.machine.lastAppliedIndex, undefined, fallbackSnapshotFormat),
  );
  assert.ok(restored.state.agents.size > 0 && restored.state.offers.size > 0 && restored.state.executors.size > 0);
  assert.is(stateHash(restored.state), stateHash(source.state));
  assert.is(stateHash(restored.state), stateHash(throughSchemas.state));
  assert.equal(tableRows(restored.state), tableRows(throughSchemas.state));
});

test('a vouched row is not run through its schema: a member no schema knows, digests remade, loads as written', () => {
  const withExtra = edited(bytes, (database) => {
    database.prepare("UPDATE agents SET row = json_set(row, '$.unknownMember', 1) WHERE key = 'a1'").run();
    rehash(database);
  });
  const restored = readSnapshot(withExtra);
  assert.is((restored.state.agents.get('a1' as never) as unknown as { unknownMember: number }).unknownMember, 1);
});

test('a damaged row of a vouched table is named by its table hash before it is parsed', () => {
  const damaged = (table: string, key: string) =>
    edited(bytes, (database) => database.prepare(`UPDATE ${table} SET row = '{' WHERE key = ?`).run(key));
  refusedWith(damaged('agents', 'a1'), 'SNAPSHOT_HASH_MISMATCH', 'table agents');
  const offerKey = [...source.state.offers.keys()][0]!;
  refusedWith(damaged('offers', offerKey), 'SNAPSHOT_HASH_MISMATCH', 'table offers');
});

test('digests remade: a vouched row under another key, or one not an entity, is refused and named', () => {
  const movedAgent = edited(bytes, (database) => {
    database.prepare("UPDATE agents SET key = 'elsewhere' WHERE key = 'a1'").run();
    rehash(database);
  });
  refusedWith(movedAgent, 'SNAPSHOT_MALFORMED_ROW', 'agents["elsewhere"]');
  const executorKey = [...source.state.executors.keys()][0]!;
  const notAnExecutor = edited(bytes, (database) => {
    database.prepare("UPDATE executors SET row = '17' WHERE key = ?").run(executorKey);
    rehash(database);
  });
  refusedWith(notAnExecutor, 'SNAPSHOT_MALFORMED_ROW', 'executors[');
});

test('digests remade: a vouched state that breaks an invariant is still refused', () => {
  const noBooks = edited(bytes, (database) => {
    database.prepare("UPDATE agents SET row = json_set(row, '$.used', json('[]')) WHERE key = 'a1'").run();
    rehash(database);
  });
  refusedWith(noBooks, 'SNAPSHOT_INVARIANT_VIOLATED', 'a1');
});

test.run();
