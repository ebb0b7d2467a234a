// Reading untrusted JSON field by field while collecting Marathon-style problems: each is a
// JSON-pointer path ("/upgradeStrategy/minimumHealthCapacity") and its messages. A wrong JSON
// type reads as play-json does ("error.expected.jsnumber"); a wrong value says why in words.

export interface ValidationDetail {
  readonly path: string;
  readonly errors: readonly string[];
}

export type Json = Record<string, unknown>;

export class Problems {
  readonly #byPath = new Map<string, string[]>();
  /** True once a field had the wrong JSON type (Marathon: "Invalid JSON"), not only a bad value. */
  typeError = false;

  add(path: string, message: string): void {
    const list = this.#byPath.get(path) ?? [];
    if (!list.includes(message)) list.push(message);
    this.#byPath.set(path, list);
  }

  wrongType(path: string, expected: 'jsnumber' | 'jsstring' | 'jsboolean' | 'jsarray' | 'jsobject'): void {
    this.typeError = true;
    this.add(path, `error.expected.${expected}`);
  }

  get empty(): boolean {
    return this.#byPath.size === 0;
  }

  details(): ValidationDetail[] {
    return [...this.#byPath].map(([path, errors]) => ({ path, errors }));
  }
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readString(input: Json, name: string, path: string, problems: Problems): string | null | undefined {
  const value = input[name];
  if (value === undefined || value === null) return value as null | undefined;
  if (typeof value !== 'string') {
    problems.wrongType(`${path}/${name}`, 'jsstring');
    return undefined;
  }
  return value;
}

export function readBoolean(input: Json, name: string, path: string, problems: Problems): boolean | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') {
    problems.wrongType(`${path}/${name}`, 'jsboolean');
    return undefined;
  }
  return value;
}

export interface NumberRule {
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
}

export function readNumber(
  input: Json,
  name: string,
  path: string,
  problems: Problems,
  rule: NumberRule = {},
): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  const where = `${path}/${name}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.wrongType(where, 'jsnumber');
    return undefined;
  }
  if (rule.integer === true && !Number.isSafeInteger(value)) {
    problems.add(where, 'must be a whole number');
    return undefined;
  }
  if (rule.min !== undefined && value < rule.min) {
    problems.add(where, `got ${value}, expected ${rule.min} or more`);
    return undefined;
  }
  if (rule.max !== undefined && value > rule.max) {
    problems.add(where, `got ${value}, expected ${rule.max} or less`);
    return undefined;
  }
  return value;
}

export function readArray(
  input: Json,
  name: string,
  path: string,
  problems: Problems,
  max: number,
): unknown[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    problems.wrongType(`${path}/${name}`, 'jsarray');
    return undefined;
  }
  if (value.length > max) {
    problems.add(`${path}/${name}`, `must have at most ${max} elements`);
    return undefined;
  }
  return value;
}

export function readObject(input: Json, name: string, path: string, problems: Problems): Json | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.wrongType(`${path}/${name}`, 'jsobject');
    return undefined;
  }
  return value;
}

export function readStringMap(
  input: Json,
  name: string,
  path: string,
  problems: Problems,
  max: number,
): Record<string, string> | undefined {
  const value = readObject(input, name, path, problems);
  if (value === undefined) return undefined;
  const entries = Object.entries(value);
  if (entries.length > max) {
    problems.add(`${path}/${name}`, `must have at most ${max} entries`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [key, item] of entries) {
    if (typeof item === 'string') out[key] = item;
    else if (isObject(item) && 'secret' in item)
      problems.add(`${path}/${name}/${key}`, 'secrets are not supported by Flotilla');
    else problems.wrongType(`${path}/${name}/${key}`, 'jsstring');
  }
  return out;
}

export function readStringList(
  input: Json,
  name: string,
  path: string,
  problems: Problems,
  max: number,
): string[] | undefined {
  const list = readArray(input, name, path, problems, max);
  if (list === undefined) return undefined;
  const out: string[] = [];
  list.forEach((item, index) => {
    if (typeof item === 'string') out.push(item);
    else problems.wrongType(`${path}/${name}(${index})`, 'jsstring');
  });
  return out;
}
