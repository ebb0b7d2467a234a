// Tables as kubectl and nomad print them: no borders, columns aligned and two spaces apart,
// a bold header, so the output reads well and still greps and cuts (cli-table3 measures
// cells with escape codes in them correctly).
import Table from 'cli-table3';
import type { Colors } from './colors.ts';

export type Cell = string | number | null;

const borderless = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
} as const;

/** A table with `head` as its header; null cells print as "-". */
export function renderTable(colors: Colors, head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const table = new Table({
    head: head.map((title) => colors.bold(title)),
    chars: borderless,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) {
    if (row.length !== head.length) throw new Error(`table row has ${row.length} cells, header ${head.length}`);
    table.push(row.map((cell) => (cell === null ? '-' : String(cell))));
  }
  // cli-table3 pads the last column too; trailing blanks only get in the way of a diff.
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** Name/value lines for one object ("key      greeting"). */
export function renderFields(colors: Colors, fields: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...fields.map(([name]) => name.length));
  return fields
    .map(([name, value]) => `${colors.bold(name.padEnd(width))}  ${value === null ? '-' : String(value)}`)
    .join('\n');
}
