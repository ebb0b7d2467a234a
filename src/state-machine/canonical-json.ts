// The canonical serialisation behind snapshot rows and the state hash: object keys sorted by
// code unit, no whitespace, `undefined` members left out, numbers as JSON.stringify writes them
// (the shortest round-trip form, identical on every V8). Two equal values give equal strings.
import { maxCanonicalJsonDepth } from './limits.ts';
import { assert, AssertionError } from '../util/assert.ts';
import { compareStrings } from './ordering.ts';

export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

function write(value: unknown, depth: number): string {
  assert(depth <= maxCanonicalJsonDepth, 'canonicalJson: value nested too deeply');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      assert(Number.isFinite(value), `canonicalJson: non-finite number ${value}`);
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object':
      return Array.isArray(value) ? writeArray(value, depth) : writeObject(value as Record<string, unknown>, depth);
    default:
      throw new AssertionError(`canonicalJson: cannot serialise a ${typeof value}`);
  }
}

function writeArray(items: readonly unknown[], depth: number): string {
  return `[${items.map((item) => write(item, depth + 1)).join(',')}]`;
}

function writeObject(record: Record<string, unknown>, depth: number): string {
  const members: string[] = [];
  for (const key of Object.keys(record).sort(compareStrings)) {
    const member = record[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${write(member, depth + 1)}`);
  }
  return `{${members.join(',')}}`;
}
