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
