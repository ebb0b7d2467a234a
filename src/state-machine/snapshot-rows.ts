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
import { canonicalJson } from './canonical-json.ts';
import { compareStrings } from './ordering.ts';
import { assert } from '../util/assert.ts';
import type { MetaRows } from './snapshot-database.ts';
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
/**
 * Format 10: members written as the position of their JSON text in the interned strings. A task's
 * resources, command and labels were most of its format-9 row, and most tasks of a framework
 * launch the same ones; the reader parses each distinct text once and every task naming it shares
 * the object (entities are never changed in place: state.ts), so a restore allocates and the
 * collector walks one copy instead of 100,000. A status's message joins the interned strings.
 */
const internedJsonTaskMembers: ReadonlySet<string> = new Set([
  'resources',
  'command',
  'container',
  'healthCheck',
  'labels',
  'executor',
]);
const internedStatusMembersSince10: ReadonlySet<string> = new Set([...internedStatusMembers, 'message']);
const nothingInterned: ReadonlySet<string> = new Set();

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

/** A snapshot's interned strings as read, and (format 10) the values parsed from them, each parsed once. */
export class InternedStrings {
  readonly #parsed: unknown[] = [];

  constructor(readonly strings: readonly string[]) {}

  string(position: number): string {
    const text = this.strings[position];
    if (text === undefined) throw new PositionalRowError(`interned string ${position} of ${this.strings.length}`);
    return text;
  }

  /** The value whose JSON text is at `position`: the same object for every row that names it. */
  parsed(position: number): unknown {
    const known = this.#parsed[position];
    if (known !== undefined) return known;
    const text = this.string(position);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new PositionalRowError(`interned string ${position} is not JSON`);
    }
    if (typeof value !== 'object' || value === null)
      throw new PositionalRowError(`interned string ${position} is not a JSON object or list`);
    this.#parsed[position] = value;
    return value;
  }
}

/** Thrown when a positional row does not decode; the reader names the row. */
export class PositionalRowError extends Error {
  override name = 'PositionalRowError';
}

interface PositionalCodec {
  encode(value: object, interner: StringInterner): unknown[];
  decode(row: unknown, interned: InternedStrings): Record<string, unknown>;
}

/** How a member is written: as it is, as a position of its string, or as a position of its JSON text. */
const asItIs = 0;
const internedString = 1;
const internedJson = 2;

/**
 * Makes the object of a row that has every member (the common case) in one literal, its members in
 * the list's order (the row's values from position 1): an object built a member at a time outgrew
 * its in-object slots and reallocated its property store several times, 100,000 tasks over.
 */
type WholeRowBuilder = (row: readonly unknown[]) => Record<string, unknown>;

function positionalCodec(
  members: readonly string[],
  interned: ReadonlySet<string>,
  internedJsonMembers: ReadonlySet<string>,
  wholeRow: WholeRowBuilder,
): PositionalCodec {
  const known: ReadonlySet<string> = new Set(members);
  const ways = members.map((member) =>
    interned.has(member) ? internedString : internedJsonMembers.has(member) ? internedJson : asItIs,
  );
  // Bit operations on the mask: 31 bits at most (with the extras' bit).
  const extraBit = 1 << members.length;
  const everyMember = extraBit - 1;
  const built = Object.keys(wholeRow(members.map(() => null)));
  assert(built.join() === members.join(), `a whole row builds ${built.join()}, not ${members.join()}`);
  return {
    encode(value, interner) {
      const record = value as Record<string, unknown>;
      const row: unknown[] = [0];
      let mask = 0;
      for (let position = 0; position < members.length; position++) {
        const memberValue = record[members[position]!];
        if (memberValue === undefined) continue;
        mask |= 1 << position;
        row.push(writtenMember(ways[position]!, memberValue, interner));
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
    decode(row, interned) {
      if (!Array.isArray(row) || typeof row[0] !== 'number' || !Number.isInteger(row[0]) || row[0] < 0)
        throw new PositionalRowError('not an array led by its member mask');
      const mask = row[0];
      if (mask >= extraBit * 2) throw new PositionalRowError(`member mask ${mask} names members this reader lacks`);
      if (mask === everyMember && row.length === members.length + 1) {
        // The parsed row is this reader's own: its positions are replaced by what they name.
        for (let position = 0; position < members.length; position++) {
          const written = row[position + 1];
          const way = ways[position]!;
          if (way === asItIs || typeof written !== 'number') continue;
          row[position + 1] = way === internedString ? interned.string(written) : interned.parsed(written);
        }
        return wholeRow(row);
      }
      const value: Record<string, unknown> = {};
      let next = 1;
      for (let position = 0; position < members.length; position++) {
        if ((mask & (1 << position)) === 0) continue;
        const member = members[position]!;
        const written = row[next++];
        if (written === undefined) throw new PositionalRowError(`${member}: the row ends early`);
        const way = ways[position]!;
        value[member] =
          way === asItIs || typeof written !== 'number'
            ? written
            : way === internedString
              ? interned.string(written)
              : interned.parsed(written);
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

/**
 * The JSON text of each member object a format-10 write interned, kept for the next writes:
 * entities and their parts are never changed in place (state.ts), so an object's text never
 * changes, and a task written once is written again by every later snapshot. Making the text was
 * the write's largest cost on the event loop (JSON.stringify and hashing the new string for the
 * interner's map, ~0.5 s of ~0.9 s at 100,000 tasks). The text kept is the interner's own instance,
 * one per distinct text (its hash computed once); what the map costs is its entries, and an
 * entry goes with its object.
 */
const jsonTextOf = new WeakMap<object, string>();

/** Member texts made with JSON.stringify since the process started (tests count them). */
export const memberTexts = { made: 0 };

function writtenMember(way: number, value: unknown, interner: StringInterner): unknown {
  if (way === internedString) return typeof value === 'string' ? interner.position(value) : value;
  if (way === asItIs || typeof value !== 'object' || value === null) {
    // A number where a position may stand would be read back as one.
    assert(way === asItIs || typeof value !== 'number', 'a member interned as JSON holds a number');
    return value;
  }
  const known = jsonTextOf.get(value);
  if (known !== undefined) return interner.position(known);
  memberTexts.made += 1;
  const position = interner.position(JSON.stringify(value));
  jsonTextOf.set(value, interner.strings[position]!);
  return position;
}

/** One format's task and status codecs. */
interface TaskCodecs {
  readonly task: PositionalCodec;
  readonly status: PositionalCodec;
}

/** `taskMembers` in their order; positionalCodec checks that the two agree. */
const wholeTask: WholeRowBuilder = (row) => ({
  id: row[1],
  name: row[2],
  frameworkId: row[3],
  agentId: row[4],
  role: row[5],
  user: row[6],
  state: row[7],
  resources: row[8],
  command: row[9],
  container: row[10],
  healthCheck: row[11],
  killGracePeriodMs: row[12],
  labels: row[13],
  executor: row[14],
  data: row[15],
  statuses: row[16],
  killRequestedAt: row[17],
  createdAt: row[18],
  taskGroup: row[19],
  createIndex: row[20],
  modifyIndex: row[21],
});
/** `statusMembers` in their order. */
const wholeStatus: WholeRowBuilder = (row) => ({
  state: row[1],
  reason: row[2],
  message: row[3],
  source: row[4],
  uuid: row[5],
  timestampMs: row[6],
  healthy: row[7],
  data: row[8],
  acknowledged: row[9],
  receivedAt: row[10],
  index: row[11],
});

const format9Codecs: TaskCodecs = {
  task: positionalCodec(taskMembers, internedTaskMembers, nothingInterned, wholeTask),
  status: positionalCodec(statusMembers, internedStatusMembers, nothingInterned, wholeStatus),
};
const format10Codecs: TaskCodecs = {
  task: positionalCodec(taskMembers, internedTaskMembers, internedJsonTaskMembers, wholeTask),
  status: positionalCodec(statusMembers, internedStatusMembersSince10, nothingInterned, wholeStatus),
};

/** The formats whose tasks are positional rows: 9, and 10 with their JSON members interned. */
function codecsOf(format: number): TaskCodecs {
  assert(format === 9 || format === 10, `snapshot format ${format} has no positional task rows`);
  return format === 9 ? format9Codecs : format10Codecs;
}

/** A task's row in `format` (9 or 10). */
export function taskRowJson(task: Task, interner: StringInterner, format: number): string {
  const codecs = codecsOf(format);
  const row = codecs.task.encode(task, interner);
  const statusesPosition = row.indexOf(task.statuses, 1);
  if (statusesPosition > 0)
    row[statusesPosition] = task.statuses.map((status) => codecs.status.encode(status, interner));
  return JSON.stringify(row);
}

/**
 * A task from its row in `format` (9 or 10), as written: no schema runs over it, since the
 * snapshot's rows hash vouches for the text being what a writer made of a valid state (snapshot.ts
 * checks that hash before the state is used, and the invariants after). A row that does not decode throws.
 */
export function taskFromRow(parsed: unknown, interned: InternedStrings, format: number): Task {
  const codecs = codecsOf(format);
  const task = codecs.task.decode(parsed, interned);
  const statuses = task.statuses;
  if (!Array.isArray(statuses) || statuses.length === 0) throw new PositionalRowError('statuses: not a list');
  task.statuses = statuses.map((status) => codecs.status.decode(status, interned));
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
  /** Rows hashed on this thread (tests check that a background write hashes none on the event loop). */
  static rowsHashedInThisThread = 0;
  readonly tableDigests = new Map<string, string>();
  #table: { name: string; hash: Hash; pending: string } | null = null;

  beginTable(name: string): void {
    this.#table = { name, hash: createHash('sha256'), pending: `${rowsHashFormat} ${name}\n` };
  }

  row(key: string, text: string): void {
    RowsHasher.rowsHashedInThisThread += 1;
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

/** The meta table's keys for the rows hash and the tables' digests (formats 9 and 10). */
export const rowsHashMetaKeys = { rowsHash: 'rows_hash', tableHashes: 'table_hashes' } as const;

/** The meta rows a writer of formats 9 and 10 puts after format, hash format and applied index. */
export function rowsHashMeta(hasher: RowsHasher): MetaRows {
  return [
    [rowsHashMetaKeys.rowsHash, canonicalJson(hasher.digest())],
    [rowsHashMetaKeys.tableHashes, canonicalJson(Object.fromEntries(hasher.tableDigests))],
  ];
}
