// Prints what Raft snapshot files hold, table by table (bench/_snapshot-tables.ts): the envelope's
// idempotency table and each table of the state machine's database, with rows, bytes and pages.
// Given two or more files (of one run, say), each later file also says how each figure changed
// from the first one: how to find what grows in a snapshot (issue 12's churn).
//
//   npx tsx scripts/snapshot-tables.ts DATA_DIR/snapshots/snapshot-TERM-INDEX.bin [MORE.bin ...]
import { readFileSync } from 'node:fs';
import { raftSnapshotFigures, type SnapshotFigures, type TableFigures } from '../bench/_snapshot-tables.ts';

const columns = ['rows', 'bytes', 'page bytes'] as const;
const nameWidth = 26;
const cellWidth = 12;

function figuresOf(table: TableFigures): number[] {
  return [table.rows, table.bytes, table.pageBytes];
}

function signed(value: number): string {
  return value > 0 ? `+${value}` : String(value);
}

function print(files: readonly string[], snapshots: readonly SnapshotFigures[]): void {
  const first = new Map(snapshots[0]!.tables.map((table) => [table.name, table]));
  snapshots.forEach((snapshot, position) => {
    const compared = position > 0;
    process.stdout.write(`${files[position]}: ${snapshot.bytes} bytes`);
    if (compared) process.stdout.write(` (${signed(snapshot.bytes - snapshots[0]!.bytes)} from the first file)`);
    const heading = columns.map((column) => column.padStart(cellWidth)).join('');
    process.stdout.write(
      `\n  ${'table'.padEnd(nameWidth)}${heading}${compared ? '  change from the first file' : ''}\n`,
    );
    for (const table of snapshot.tables) {
      const values = figuresOf(table);
      let line = `  ${table.name.padEnd(nameWidth)}${values.map((value) => String(value).padStart(cellWidth)).join('')}`;
      const before = first.get(table.name);
      if (compared && before !== undefined) {
        const previous = figuresOf(before);
        line += `  ${values.map((value, column) => signed(value - previous[column]!)).join(' ')}`;
      }
      process.stdout.write(`${line}\n`);
    }
  });
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: npx tsx scripts/snapshot-tables.ts SNAPSHOT.bin [MORE.bin ...]\n');
  process.exit(2);
}
print(
  files,
  files.map((file) => raftSnapshotFigures(readFileSync(file))),
);
