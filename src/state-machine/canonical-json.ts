// The canonical serialisation behind snapshot rows and the state hash: object keys sorted by
// code unit, no whitespace, `undefined` members left out, numbers as JSON.stringify writes them
// (the shortest round-trip form, identical on every V8). Two equal values give equal strings.
//
// It runs for every row of every snapshot written (a 100,000-task snapshot is over a million
// objects), and sorting each object's keys and quoting them again was most of its time. Objects
// of one kind have the same keys in the same order, so their sorted order and quoted keys are
// worked out once per key list (a "shape") and kept; the output does not depend on the cache.
import { maxCanonicalJsonDepth } from './limits.ts';
import { assert, AssertionError } from '../util/assert.ts';
import { compareStrings } from './ordering.ts';

export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, 0, parts);
  return parts.join('');
}

function write(value: unknown, depth: number, parts: string[]): void {
  assert(depth <= maxCanonicalJsonDepth, 'canonicalJson: value nested too deeply');
  if (value === null) {
    parts.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      parts.push(value ? 'true' : 'false');
      return;
    case 'number':
      assert(Number.isFinite(value), `canonicalJson: non-finite number ${value}`);
      // String() writes a finite number exactly as JSON.stringify does (-0 included: "0").
      parts.push(String(value));
      return;
    case 'string':
      parts.push(JSON.stringify(value));
      return;
    case 'object':
      if (Array.isArray(value)) writeArray(value, depth, parts);
      else writeObject(value as Record<string, unknown>, depth, parts);
      return;
    default:
      throw new AssertionError(`canonicalJson: cannot serialise a ${typeof value}`);
  }
}

function writeArray(items: readonly unknown[], depth: number, parts: string[]): void {
  parts.push('[');
  for (let position = 0; position < items.length; position++) {
    if (position > 0) parts.push(',');
    write(items[position], depth + 1, parts);
  }
  parts.push(']');
}

function writeObject(record: Record<string, unknown>, depth: number, parts: string[]): void {
  const keys = Object.keys(record);
  const shape = shapeOf(keys);
  let separator = '{';
  for (let rank = 0; rank < keys.length; rank++) {
    const key = shape === null ? keys[rank]! : keys[shape.order[rank]!]!;
    const member = record[key];
    if (member === undefined) continue;
    parts.push(separator, shape === null ? `${JSON.stringify(key)}:` : shape.quoted[rank]!);
    separator = ',';
    write(member, depth + 1, parts);
  }
  parts.push(separator === '{' ? '{}' : '}');
}

/** One key list as Object.keys gives it: its positions in sorted order, and each key quoted with its colon. */
interface Shape {
  readonly keys: readonly string[];
  readonly order: readonly number[];
  readonly quoted: readonly string[];
}

/**
 * Shapes by their first key. Bounded, since records keyed by user data (labels, environments)
 * make shapes of their own: past the bounds an object is sorted as it comes (`keys` sorted in
 * place, null returned).
 */
const shapesByFirstKey = new Map<string, Shape[]>();
const maxShapes = 4096;
const maxShapesPerFirstKey = 16;
let shapeCount = 0;

function shapeOf(keys: string[]): Shape | null {
  if (keys.length === 0) return null;
  const candidates = shapesByFirstKey.get(keys[0]!);
  if (candidates !== undefined) for (const shape of candidates) if (sameKeys(shape.keys, keys)) return shape;
  if (shapeCount >= maxShapes || (candidates?.length ?? 0) >= maxShapesPerFirstKey) {
    keys.sort(compareStrings);
    return null;
  }
  const order = keys.map((_, position) => position).sort((left, right) => compareStrings(keys[left]!, keys[right]!));
  const shape: Shape = {
    keys: [...keys],
    order,
    quoted: order.map((position) => `${JSON.stringify(keys[position])}:`),
  };
  shapeCount += 1;
  if (candidates === undefined) shapesByFirstKey.set(keys[0]!, [shape]);
  else candidates.push(shape);
  return shape;
}

function sameKeys(known: readonly string[], keys: readonly string[]): boolean {
  if (known.length !== keys.length) return false;
  for (let position = 0; position < keys.length; position++) if (known[position] !== keys[position]) return false;
  return true;
}
