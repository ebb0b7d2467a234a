// The state hash: SHA-256 over every table's rows in table order and key order, each row its key
// and canonical JSON. Equal states give equal hashes on every replica and after a snapshot round
// trip; the Raft index of the last apply is not part of it (a rejected command changes nothing,
// and the hash says so).
import { createHash } from 'node:crypto';
import type { ReadonlyState } from './state.ts';
import { tables } from './tables.ts';

export const stateHashFormat = 'flotilla-state-sha256-v1';

export interface TableRows {
  readonly name: string;
  readonly rows: readonly (readonly [string, string])[];
}

export function tableRows(state: ReadonlyState): TableRows[] {
  return tables.map((table) => ({ name: table.name, rows: table.rows(state) }));
}

/** The hash of rows already serialised (the snapshot writer hashes what it writes). */
export function hashTableRows(rowsByTable: readonly TableRows[]): string {
  const hash = createHash('sha256');
  hash.update(`${stateHashFormat}\n`);
  for (const { name, rows } of rowsByTable) {
    hash.update(`table ${name} ${rows.length}\n`);
    for (const [key, json] of rows) {
      // Lengths first, so no choice of key and value can imitate another row's bytes.
      hash.update(`${key.length}:${key} ${json.length}:${json}\n`);
    }
  }
  return hash.digest('hex');
}

export function stateHash(state: ReadonlyState): string {
  return hashTableRows(tableRows(state));
}
