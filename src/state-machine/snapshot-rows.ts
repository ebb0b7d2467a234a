// Snapshot format 9's rows (snapshot.ts): what a row's text is and how it is hashed. Format 8
// wrote every entity as canonical JSON (keys sorted and quoted again for every object) and hashed
// that; at 100,000 tasks most of a write was that, and most of a restore was parsing those keys and
// running the schemas over them. Here:
//   - a task is a JSON array of its members in a fixed order (no key names), its framework, agent,
//     role, user and state written as positions in one list of strings for the whole snapshot (the
//     `interned` table), and its statuses arrays in the same way; other entities are their own
//     JSON.stringify (small tables: no gain in more);
//   - the hash is over the rows' text as written, table by table (so the writer uses the native
//     JSON.stringify and the reader hashes the text it reads, not objects written again), and
//     names the table whose rows do not match.
// The state hash (hash.ts) is unchanged: a format-9 snapshot restores to the same state and hash.
import { createHash, type Hash } from 'node:crypto';
import { compareStrings } from './ordering.ts';
import type { Task, TaskStatus } from './state.ts';

export const rowsHashFormat = 'flotilla-snapshot-rows-sha256-v1';

/** The table of interned strings: one row under this key, a JSON array of strings. */
export const internedTableName = 'interned';
export const internedRowKey = 'strings';

/**
 * Members written by position, in this order. A member not listed (one added without a format
 * bump) is kept, in an object after the positions, so no writer loses data; a member listed but
 * absent (undefined) is left out, its bit in the leading mask clear.
 */
const taskMembers = [
  'id',
  'name',
  'frameworkId',
  'agentId',
  'role',
  'user',
  'state',
  'resources',
  'command',
  'container',
  'healthCheck',
  'killGracePeriodMs',
  'labels',
  'executor',
  'data',
  'statuses',
  'killRequestedAt',
  'createdAt',
  'taskGroup',
  'createIndex',
  'modifyIndex',
] as const satisfies readonly (keyof Task)[];
const statusMembers = [
  'state',
  'reason',
  'message',
  'source',
  'uuid',
  'timestampMs',
  'healthy',
  'data',
  'acknowledged',
  'receivedAt',
  'index',
] as const satisfies readonly (keyof TaskStatus)[];

/** Members written as positions in the interned strings (few distinct values, repeated in every task). */
const internedTaskMembers: ReadonlySet<string> = new Set(['frameworkId', 'agentId', 'role', 'user', 'state']);
const internedStatusMembers: ReadonlySet<string> = new Set(['state', 'reason', 'source']);

/** The strings of one snapshot's positional rows, each given a position the first time it is met. */
export class StringInterner {
  readonly strings: string[] = [];
  readonly #positions = new Map<string, number>();

  position(text: string): number {
    let position = this.#positions.get(text);
    if (position === undefined) {
      position = this.strings.length;
      this.strings.push(text);
      this.#positions.set(text, position);
    }
    return position;
  }
}

/** Thrown when a positional row does not decode; the reader names the row. */
export class PositionalRowError extends Error {
  override name = 'PositionalRowError';
}

interface PositionalCodec {
  encode(value: object, interner: StringInterner): unknown[];
  decode(row: unknown, strings: readonly string[]): Record<string, unknown>;
}

function positionalCodec(members: readonly string[], interned: ReadonlySet<string>): PositionalCodec {
  const known: ReadonlySet<string> = new Set(members);
  const internedAt = members.map((member) => interned.has(member));
  // Bit operations on the mask: 31 bits at most (with the extras' bit).
  const extraBit = 1 << members.length;
  return {
    encode(value, interner) {
      const record = value as Record<string, unknown>;
      const row: unknown[] = [0];
      let mask = 0;
      for (let position = 0; position < members.length; position++) {
        const memberValue = record[members[position]!];
        if (memberValue === undefined) continue;
        mask |= 1 << position;
        row.push(
          internedAt[position] && typeof memberValue === 'string' ? interner.position(memberValue) : memberValue,
        );
      }
      // Members beyond the list are rare (none today): look for them only when the counts differ.
      const keys = Object.keys(record);
      if (keys.length !== row.length - 1) {
        let extra: Record<string, unknown> | null = null;
        for (const member of keys) {
          if (known.has(member) || record[member] === undefined) continue;
          extra ??= {};
          extra[member] = record[member];
        }
        if (extra !== null) {
          mask |= extraBit;
          row.push(extra);
        }
      }
      row[0] = mask;
      return row;
    },
    decode(row, strings) {
      if (!Array.isArray(row) || typeof row[0] !== 'number' || !Number.isInteger(row[0]) || row[0] < 0)
        throw new PositionalRowError('not an array led by its member mask');
      const mask = row[0];
      if (mask >= extraBit * 2) throw new PositionalRowError(`member mask ${mask} names members this reader lacks`);
      const value: Record<string, unknown> = {};
      let next = 1;
      for (let position = 0; position < members.length; position++) {
        if ((mask & (1 << position)) === 0) continue;
        const member = members[position]!;
        const written = row[next++];
        if (written === undefined) throw new PositionalRowError(`${member}: the row ends early`);
        value[member] =
          internedAt[position] && typeof written === 'number' ? internedString(strings, written) : written;
      }
      if ((mask & extraBit) !== 0) {
        const extra = row[next++];
        if (typeof extra !== 'object' || extra === null || Array.isArray(extra))
          throw new PositionalRowError('the members after the positions are not an object');
        Object.assign(value, extra);
      }
      if (next !== row.length) throw new PositionalRowError(`${row.length - next} values more than its mask says`);
      return value;
    },
  };
}

function internedString(strings: readonly string[], position: number): string {
  const text = strings[position];
  if (text === undefined) throw new PositionalRowError(`interned string ${position} of ${strings.length}`);
  return text;
}

const taskCodec = positionalCodec(taskMembers, internedTaskMembers);
const statusCodec = positionalCodec(statusMembers, internedStatusMembers);

/** A task's format-9 row. */
export function taskRowJson(task: Task, interner: StringInterner): string {
  const row = taskCodec.encode(task, interner);
  const statusesPosition = row.indexOf(task.statuses, 1);
  if (statusesPosition > 0) row[statusesPosition] = task.statuses.map((status) => statusCodec.encode(status, interner));
  return JSON.stringify(row);
}

/**
 * A task from its format-9 row, as written: no schema runs over it, since the snapshot's rows hash
 * vouches for the text being what a writer made of a valid state (snapshot.ts checks that hash
 * before the state is used, and the invariants after). A row that does not decode throws.
 */
export function taskFromRow(parsed: unknown, strings: readonly string[]): Task {
  const task = taskCodec.decode(parsed, strings);
  const statuses = task.statuses;
  if (!Array.isArray(statuses) || statuses.length === 0) throw new PositionalRowError('statuses: not a list');
  task.statuses = statuses.map((status) => statusCodec.decode(status, strings));
  if (typeof task.id !== 'string' || typeof task.frameworkId !== 'string' || typeof task.agentId !== 'string')
    throw new PositionalRowError('no id, framework or agent');
  return task as unknown as Task;
}

/**
 * The rows hash: SHA-256 per table over each row's key and text as written (lengths first, so no
 * choice of key and text can imitate another row), and one over the tables' digests.
 */
export class RowsHasher {
  static readonly chunkChars = 64 * 1024;
  readonly tableDigests = new Map<string, string>();
  #table: { name: string; hash: Hash; pending: string } | null = null;

  beginTable(name: string): void {
    this.#table = { name, hash: createHash('sha256'), pending: `${rowsHashFormat} ${name}\n` };
  }

  row(key: string, text: string): void {
    const table = this.#table!;
    table.pending += `${key.length}:${key} ${text.length}:${text}\n`;
    if (table.pending.length < RowsHasher.chunkChars) return;
    table.hash.update(table.pending);
    table.pending = '';
  }

  endTable(rows: number): void {
    const table = this.#table!;
    table.hash.update(`${table.pending}rows ${rows}\n`);
    this.tableDigests.set(table.name, table.hash.digest('hex'));
    this.#table = null;
  }

  /** The digest over every table's, by table name (the reader reads the interned strings first). */
  digest(): string {
    const hash = createHash('sha256').update(`${rowsHashFormat}\n`);
    for (const name of [...this.tableDigests.keys()].sort(compareStrings))
      hash.update(`${name} ${this.tableDigests.get(name)}\n`);
    return hash.digest('hex');
  }
}
