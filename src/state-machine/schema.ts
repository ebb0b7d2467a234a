// A small parser-combinator kit for the two edges where untrusted bytes become state: command
// decoding (a buggy or older leader may have written anything into the log) and snapshot
// restore (a file may be damaged). A schema either returns a fresh value of exactly its type,
// built only from the fields it knows, or throws a SchemaError naming the path of the problem.
// The mapped types below make the compiler check each schema against the hand-written type.
import { maxTimestampMs } from './limits.ts';

export class SchemaError extends Error {
  override name = 'SchemaError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

export type Schema<T> = (input: unknown, path: string) => T;

export function string(options: {
  readonly minLength?: number;
  readonly maxLength: number;
  readonly pattern?: RegExp;
}): Schema<string> {
  const minLength = options.minLength ?? 0;
  return (input, path) => {
    if (typeof input !== 'string') throw new SchemaError(path, 'must be a string');
    if (input.length < minLength || input.length > options.maxLength) {
      throw new SchemaError(path, `must be ${minLength} to ${options.maxLength} characters long`);
    }
    if (options.pattern !== undefined && !options.pattern.test(input))
      throw new SchemaError(path, `must match ${options.pattern.source}`);
    return input;
  };
}

export function integer(options: { readonly min: number; readonly max: number }): Schema<number> {
  return (input, path) => {
    if (typeof input !== 'number' || !Number.isSafeInteger(input))
      throw new SchemaError(path, 'must be a whole number');
    if (input < options.min || input > options.max)
      throw new SchemaError(path, `must be from ${options.min} to ${options.max}`);
    return input;
  };
}

export function number(options: {
  readonly min: number;
  readonly max: number;
  readonly exclusiveMin?: boolean;
}): Schema<number> {
  return (input, path) => {
    if (typeof input !== 'number' || !Number.isFinite(input)) throw new SchemaError(path, 'must be a finite number');
    const tooSmall = options.exclusiveMin === true ? input <= options.min : input < options.min;
    if (tooSmall || input > options.max) throw new SchemaError(path, `must be from ${options.min} to ${options.max}`);
    return input;
  };
}

export const timestampMs: Schema<number> = integer({ min: 0, max: maxTimestampMs });

export const boolean: Schema<boolean> = (input, path) => {
  if (typeof input !== 'boolean') throw new SchemaError(path, 'must be true or false');
  return input;
};

export function literal<const L extends string>(value: L): Schema<L> {
  return (input, path) => {
    if (input !== value) throw new SchemaError(path, `must be "${value}"`);
    return value;
  };
}

export function oneOf<const T extends readonly string[]>(values: T): Schema<T[number]> {
  const allowed = new Set<string>(values);
  return (input, path) => {
    if (typeof input !== 'string' || !allowed.has(input))
      throw new SchemaError(path, `must be one of ${values.join(', ')}`);
    return input as T[number];
  };
}

export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  return (input, path) => (input === null ? null : schema(input, path));
}

export function array<T>(
  item: Schema<T>,
  options: { readonly maxLength: number; readonly minLength?: number },
): Schema<readonly T[]> {
  const minLength = options.minLength ?? 0;
  return (input, path) => {
    if (!Array.isArray(input)) throw new SchemaError(path, 'must be an array');
    if (input.length < minLength || input.length > options.maxLength) {
      throw new SchemaError(path, `must have ${minLength} to ${options.maxLength} items`);
    }
    return input.map((element: unknown, position) => item(element, `${path}[${position}]`));
  };
}

function isPlainObject(input: unknown): input is Record<string, unknown> {
  return typeof input === 'object' && input !== null && !Array.isArray(input);
}

/** Own members only, so "constructor" or "__proto__" never reads Object.prototype. */
function member(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** String keys to values; keys are checked by `key`, the result has sorted-independent content. */
export function record<T>(
  key: Schema<string>,
  value: Schema<T>,
  options: { readonly maxEntries: number },
): Schema<Readonly<Record<string, T>>> {
  return (input, path) => {
    if (!isPlainObject(input)) throw new SchemaError(path, 'must be an object');
    const keys = Object.keys(input);
    if (keys.length > options.maxEntries)
      throw new SchemaError(path, `must have at most ${options.maxEntries} entries`);
    return Object.fromEntries(
      keys.map((name) => [key(name, `${path} key "${name}"`), value(input[name], `${path}.${name}`)]),
    );
  };
}

/** Every member of T must be given a schema; members the input has beyond them are dropped. */
export function object<T>(shape: { readonly [K in keyof T]-?: Schema<T[K]> }): Schema<T> {
  const keys = Object.keys(shape) as (keyof T & string)[];
  return (input, path) => {
    if (!isPlainObject(input)) throw new SchemaError(path, 'must be an object');
    const out: Partial<T> = {};
    for (const key of keys) {
      const parsed = shape[key](member(input, key), `${path}.${key}`);
      if (parsed !== undefined) out[key] = parsed;
    }
    return out as T;
  };
}

/** A discriminated union on `type`; the mapped type makes the variant list exhaustive. */
export function taggedUnion<T extends { readonly type: string }>(
  variants: { readonly [K in T['type']]: Schema<Extract<T, { readonly type: K }>> },
): Schema<T> {
  const names = Object.keys(variants) as T['type'][];
  return (input, path) => {
    if (!isPlainObject(input)) throw new SchemaError(path, 'must be an object');
    const type = member(input, 'type');
    if (typeof type !== 'string' || !Object.hasOwn(variants, type)) {
      throw new SchemaError(`${path}.type`, `must be one of ${names.join(', ')}`);
    }
    return variants[type as T['type']](input, path);
  };
}

/**
 * COMPAT: a member added in command and snapshot format 2. Input of format 1 lacks it and reads as
 * `fallback`; every writer of format 2 writes it, so only old input ever takes the fallback.
 */
export function addedInFormat2<T>(schema: Schema<T>, fallback: T): Schema<T> {
  return (input, path) => (input === undefined ? fallback : schema(input, path));
}

/**
 * COMPAT: a member added in command and snapshot format 3 (executors, task data, task groups).
 * Input of formats 1 and 2 lacks it and reads as `fallback`.
 */
export function addedInFormat3<T>(schema: Schema<T>, fallback: T): Schema<T> {
  return (input, path) => (input === undefined ? fallback : schema(input, path));
}

/**
 * COMPAT: a member added in command format 4 (a re-registering agent's tasks carry their state).
 * Commands of formats 1–3 lack it and read as `fallback`. (Snapshot format 4 is another change.)
 */
export function addedInCommandFormat4<T>(schema: Schema<T>, fallback: T): Schema<T> {
  return (input, path) => (input === undefined ? fallback : schema(input, path));
}

/**
 * COMPAT: a member added in snapshot format 5 (agent deactivation and drains). Input of formats 1
 * to 4 lacks it and reads as `fallback`.
 */
export function addedInFormat5<T>(schema: Schema<T>, fallback: T): Schema<T> {
  return (input, path) => (input === undefined ? fallback : schema(input, path));
}

/**
 * COMPAT: a member added in command format 5 (re-registration keeps reservations). Commands of
 * formats 1–4 lack it and read as `fallback`.
 */
export function addedInCommandFormat5<T>(schema: Schema<T>, fallback: T): Schema<T> {
  return (input, path) => (input === undefined ? fallback : schema(input, path));
}

/**
 * COMPAT: acknowledge_task_status's `completesTerminalTask`, added in command format 10. Present
 * only when true, so an entry without it has format 9's shape (and is written as format 9:
 * codec.ts `formatOf`); absent input reads as undefined, the rule of formats 1–9.
 */
export const addedWithTerminalAcknowledgement: Schema<true | undefined> = (input, path) => {
  if (input === undefined) return undefined;
  if (input !== true) throw new SchemaError(path, 'must be true or absent');
  return true;
};

/**
 * COMPAT: reregister_agent's `restoresLostTasks`, added in command format 11 (true) and given the
 * value 'checked' in format 12. Present only when set, so an entry without it has the older
 * formats' shape (codec.ts `formatOf`); absent input reads as undefined, the rule of formats 1–10.
 */
export const addedWithLostTaskReturn: Schema<true | 'checked' | undefined> = (input, path) => {
  if (input === undefined || input === true || input === 'checked') return input;
  throw new SchemaError(path, "must be true, 'checked' or absent");
};

/**
 * COMPAT: a member added in command format 6 and snapshot format 7 (executors in containers).
 * Older input lacks it and reads as `fallback`.
 */
export function addedWithExecutorContainers<T>(schema: Schema<T>, fallback: T): Schema<T> {
  return (input, path) => (input === undefined ? fallback : schema(input, path));
}

/**
 * COMPAT: a member added in command format 7 and snapshot format 8 (CommandInfo.uris, fetched by
 * the agent). It is absent, not empty, when there is nothing to fetch, so older rows keep their
 * shape and hash; absent input reads as undefined.
 */
export function addedWithFetcher<T>(schema: Schema<T>): Schema<T | undefined> {
  return (input, path) => (input === undefined ? undefined : schema(input, path));
}

/** Parses with `schema`, then checks or converts; `convert` throws SchemaError or returns. */
export function refine<T, U>(schema: Schema<T>, convert: (value: T, path: string) => U): Schema<U> {
  return (input, path) => convert(schema(input, path), path);
}
