// The one ordering used wherever a result is replicated, hashed or snapshotted. Map insertion
// order is not enough: a replica restored from a snapshot inserted its entries in sorted order,
// one that applied the log inserted them in command order.

/** Code-unit order: the same on every replica, unlike localeCompare (which depends on ICU data). */
export function compareStrings(left: string, right: string): number {
  if (left < right) return -1;
  return left > right ? 1 : 0;
}

export function sortedKeys<K extends string>(map: ReadonlyMap<K, unknown>): K[] {
  return [...map.keys()].sort(compareStrings);
}

export function sortedValues<K extends string, V>(map: ReadonlyMap<K, V>): V[] {
  return [...map.entries()].sort((left, right) => compareStrings(left[0], right[0])).map((entry) => entry[1]);
}

/** Positions sorted natively per run before the runs are merged; about 2 ms of work each. */
const sortRunLength = 2048;

/**
 * The positions of `keys` in key order (compareStrings), computed in steps so a caller can give
 * the event loop back between them: a straight sort of 100,000 keys holds the loop for 150 ms.
 * Runs of `sortRunLength` are sorted natively, then merged pairwise (bottom-up merge sort),
 * yielding after each run and after every `sortRunLength` positions merged.
 */
export function* sortedPositionsInSteps(keys: readonly string[]): Generator<void, Uint32Array> {
  const count = keys.length;
  let source = new Uint32Array(count);
  for (let position = 0; position < count; position += 1) source[position] = position;
  const compare = (left: number, right: number): number => compareStrings(keys[left]!, keys[right]!);
  for (let start = 0; start < count; start += sortRunLength) {
    source.subarray(start, Math.min(count, start + sortRunLength)).sort(compare);
    if (count > sortRunLength) yield;
  }
  let target = new Uint32Array(count);
  let merged = 0;
  for (let width = sortRunLength; width < count; width *= 2) {
    for (let left = 0; left < count; left += 2 * width) {
      const middle = Math.min(left + width, count);
      const right = Math.min(left + 2 * width, count);
      let fromLeft = left;
      let fromRight = middle;
      for (let out = left; out < right; out += 1) {
        const takeRight =
          fromLeft >= middle || (fromRight < right && compare(source[fromRight]!, source[fromLeft]!) < 0);
        target[out] = takeRight ? source[fromRight++]! : source[fromLeft++]!;
        if (++merged % sortRunLength === 0) yield;
      }
    }
    [source, target] = [target, source];
  }
  return source;
}
