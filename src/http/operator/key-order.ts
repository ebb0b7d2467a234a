// The key order of a map's keys, captured read after read, kept from one read to the next so a
// read sorts only what is new since the last one (issue 12: sorting 100,000 task keys took about
// 150 ms of CPU on every GET_STATE, while between two reads only a few tasks come or go).
//
// A Map iterates in insertion order: a key that stays keeps its place, a new key comes last, and
// a deleted one leaves. So walking the last read's keys and this read's side by side pairs every
// key that stayed (the same place in both, in order); those keep the order the last read sorted
// them in, and only the rest (new keys, and any that moved) are sorted and merged in. Whatever
// the two key lists are, the result is the sorted order: what is not paired is sorted afresh.
import { compareStrings, sortedPositionsInSteps } from '../../state-machine/ordering.ts';

/** Positions compared, copied or merged between two yield points. */
const positionsPerStep = 8192;

interface SortedKeys {
  readonly keys: readonly string[];
  /** Positions in `keys`, in key order. */
  readonly order: Uint32Array;
}

/** The last sorted read per map (a WeakMap: it goes with the map). */
const lastSorted = new WeakMap<object, SortedKeys>();

/**
 * The positions of `keys` (a copy of `map`'s keys, in its iteration order) in key order
 * (compareStrings); a yield every `positionsPerStep` positions of work.
 */
export function* sortedKeyPositions(map: object, keys: readonly string[]): Generator<void, Uint32Array> {
  const last = lastSorted.get(map);
  const order = last === undefined ? yield* sortedPositionsInSteps(keys) : yield* sortedAfter(last, keys);
  lastSorted.set(map, { keys, order });
  return order;
}

function* sortedAfter(last: SortedKeys, keys: readonly string[]): Generator<void, Uint32Array> {
  // Where each of the last read's keys is now, or -1: paired in one pass in iteration order.
  const now = new Int32Array(last.keys.length).fill(-1);
  let position = 0;
  for (let before = 0; before < last.keys.length && position < keys.length; before += 1) {
    if (last.keys[before] === keys[position]) now[before] = position++;
    if (before % positionsPerStep === 0) yield;
  }
  const kept = new Uint32Array(position);
  let count = 0;
  for (let index = 0; index < last.order.length; index += 1) {
    const moved = now[last.order[index]!]!;
    if (moved >= 0) kept[count++] = moved;
    if (index % positionsPerStep === 0) yield;
  }
  if (position === keys.length) return kept;
  // The unpaired keys: a few new ones, or all of them (a map filled anew), sorted in steps.
  const freshOrder = yield* sortedPositionsInSteps(keys.slice(position));
  const added = Uint32Array.from(freshOrder, (index) => index + position);
  return yield* merged(keys, kept, added);
}

/** Two runs of positions, each in key order, merged: binary search for each of `added`, then a block copy. */
function* merged(keys: readonly string[], kept: Uint32Array, added: Uint32Array): Generator<void, Uint32Array> {
  const out = new Uint32Array(kept.length + added.length);
  let from = 0;
  let written = 0;
  let searched = 0;
  for (const position of added) {
    let low = from;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareStrings(keys[kept[middle]!]!, keys[position]!) < 0) low = middle + 1;
      else high = middle;
    }
    out.set(kept.subarray(from, low), written);
    written += low - from;
    from = low;
    out[written++] = position;
    // A search is about log2(kept) comparisons.
    if (++searched % (positionsPerStep / 16) === 0) yield;
  }
  out.set(kept.subarray(from), written);
  return out;
}
