// Reading untrusted JSON into specs, collecting every problem with its JSON path, so a 422 can
// name each field as Metronome does: {"message":"Object is not valid","details":[{"path":
// "/run/cpus","errors":["…"]}]} (api/v1/models JsErrorWrites; paths as Play's JsPath prints them).
import { maxListItems, maxMapEntries, maxStringLength } from './limits.ts';

export interface ProblemDetail {
  readonly path: string;
  readonly errors: readonly string[];
}

export class Problems {
  readonly #byPath = new Map<string, string[]>();

  add(path: string, message: string): void {
    const list = this.#byPath.get(path) ?? [];
    if (!list.includes(message)) list.push(message);
    this.#byPath.set(path, list);
  }

  get empty(): boolean {
    return this.#byPath.size === 0;
  }

  details(): ProblemDetail[] {
    return [...this.#byPath].map(([path, errors]) => ({ path, errors }));
  }
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fields not in `known` are errors (Metronome's schemas say additionalProperties: false). */
export function rejectUnknownFields(object: Json, known: readonly string[], path: string, problems: Problems): void {
  for (const field of Object.keys(object)) {
    if (!known.includes(field)) problems.add(`${path}/${field}`, 'unknown field');
  }
}

export function readString(
  object: Json,
  field: string,
  path: string,
  problems: Problems,
  options: { required?: boolean; minLength?: number } = {},
): string | undefined {
  const value = object[field];
  const at = `${path}/${field}`;
  if (value === undefined || value === null) {
    if (options.required) problems.add(at, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.add(at, 'must be a string');
    return undefined;
  }
  if (value.length > maxStringLength) problems.add(at, `must be at most ${maxStringLength} characters`);
  if (value.length < (options.minLength ?? 0)) problems.add(at, `must be at least ${options.minLength} characters`);
  return value;
}

export function readNumber(
  object: Json,
  field: string,
  path: string,
  problems: Problems,
  options: { required?: boolean; minimum?: number; maximum?: number; integer?: boolean } = {},
): number | undefined {
  const value = object[field];
  const at = `${path}/${field}`;
  if (value === undefined || value === null) {
    if (options.required) problems.add(at, 'is required');
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.add(at, 'must be a number');
    return undefined;
  }
  if (options.integer && !Number.isInteger(value)) problems.add(at, 'must be a whole number');
  if (options.minimum !== undefined && value < options.minimum) problems.add(at, `must be at least ${options.minimum}`);
  if (options.maximum !== undefined && value > options.maximum) problems.add(at, `must be at most ${options.maximum}`);
  return value;
}

export function readBoolean(object: Json, field: string, path: string, problems: Problems): boolean | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') {
    problems.add(`${path}/${field}`, 'must be true or false');
    return undefined;
  }
  return value;
}

export function readEnum<Value extends string>(
  object: Json,
  field: string,
  allowed: readonly Value[],
  path: string,
  problems: Problems,
): Value | undefined {
  const value = readString(object, field, path, problems);
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    problems.add(`${path}/${field}`, `'${value}' is not one of ${allowed.join(', ')}`);
    return undefined;
  }
  return value as Value;
}

/** An array field (absent: empty), each item read by `readItem` at path/field/index. */
export function readList<Item>(
  object: Json,
  field: string,
  path: string,
  problems: Problems,
  readItem: (value: unknown, itemPath: string) => Item | undefined,
): Item[] {
  const value = object[field];
  const at = `${path}/${field}`;
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(at, 'must be an array');
    return [];
  }
  if (value.length > maxListItems) {
    problems.add(at, `must have at most ${maxListItems} items`);
    return [];
  }
  const items: Item[] = [];
  value.forEach((item, index) => {
    const read = readItem(item, `${at}/${index}`);
    if (read !== undefined) items.push(read);
  });
  return items;
}

/** An object of strings (labels): absent means empty. */
export function readStringMap(object: Json, field: string, path: string, problems: Problems): Record<string, string> {
  const value = object[field];
  const at = `${path}/${field}`;
  if (value === undefined || value === null) return {};
  if (!isObject(value)) {
    problems.add(at, 'must be an object of strings');
    return {};
  }
  const entries = Object.entries(value);
  if (entries.length > maxMapEntries) problems.add(at, `must have at most ${maxMapEntries} entries`);
  const map: Record<string, string> = {};
  for (const [key, entry] of entries.slice(0, maxMapEntries)) {
    if (typeof entry !== 'string') problems.add(`${at}/${key}`, 'must be a string');
    else if (entry.length > maxStringLength)
      problems.add(`${at}/${key}`, `must be at most ${maxStringLength} characters`);
    else map[key] = entry;
  }
  return map;
}

/** An object field, or undefined when absent; a non-object is a problem. */
export function readObject(object: Json, field: string, path: string, problems: Problems): Json | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.add(`${path}/${field}`, 'must be an object');
    return undefined;
  }
  return value;
}
