// The state hash: SHA-256 over every table's rows in table order and key order, each row its key
// and canonical JSON. Equal states give equal hashes on every replica and after a snapshot round
// trip; the Raft index of the last apply is not part of it (a rejected command changes nothing,
// and the hash says so). The derived indexes are not part of it either: they follow from the rows.
import { createHash, type Hash } from 'node:crypto';
import type { ReplicatedState } from './state.ts';
import { tables } from './tables.ts';

export const stateHashFormat = 'flotilla-state-sha256-v1';

export interface TableRows {
  readonly name: string;
  readonly rows: readonly (readonly [string, string])[];
}

export function tableRows(state: ReplicatedState): TableRows[] {
  return tables.map((table) => ({ name: table.name, rows: table.rows(state) }));
}

/**
 * The hash fed row by row, so a writer that yields between rows hashes as it goes. Rows are
 * gathered into chunks of about `chunkChars` before they reach the hash: one `update` per row (a
 * 100,000-task snapshot is 100,000 of them) cost as much as the hashing itself. The bytes hashed
 * are the same.
 */
export class StateHasher {
  static readonly chunkChars = 64 * 1024;
  readonly #hash: Hash = createHash('sha256');
  #pending = `${stateHashFormat}\n`;

  table(name: string, rowCount: number): void {
    this.#append(`table ${name} ${rowCount}\n`);
  }

  row(key: string, json: string): void {
    // Lengths first, so no choice of key and value can imitate another row's bytes.
    this.#append(`${key.length}:${key} ${json.length}:${json}\n`);
  }

  digest(): string {
    this.#hash.update(this.#pending);
    this.#pending = '';
    return this.#hash.digest('hex');
  }

  #append(text: string): void {
    this.#pending += text;
    if (this.#pending.length < StateHasher.chunkChars) return;
    this.#hash.update(this.#pending);
    this.#pending = '';
  }
}

/** The hash of rows already serialised (a snapshot's rows as read back). */
export function hashTableRows(rowsByTable: readonly TableRows[]): string {
  const hasher = new StateHasher();
  for (const { name, rows } of rowsByTable) {
    hasher.table(name, rows.length);
    for (const [key, json] of rows) hasher.row(key, json);
  }
  return hasher.digest();
}

export function stateHash(state: ReplicatedState): string {
  return hashTableRows(tableRows(state));
}
