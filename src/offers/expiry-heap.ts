// Offer filters by expiry time (a binary min-heap), so a cycle finds the filters that lapsed since
// the last one, and the driver its next wake-up, without scanning every filter of every framework
// (issue 12: work proportional to what changed). Entries are never updated in place: a longer
// filter pushes a new entry and the old one goes stale; the owner (hints.ts) tells a stale entry
// from a live one when it pops, and compacts the heap when stale entries outnumber live ones.
import { assert } from '../util/assert.ts';

export interface ExpiryEntry {
  readonly expiresAtMs: number;
  readonly frameworkId: string;
  readonly agentId: string;
}

export class ExpiryHeap {
  readonly #entries: ExpiryEntry[] = [];

  get size(): number {
    return this.#entries.length;
  }

  push(entry: ExpiryEntry): void {
    assert(Number.isFinite(entry.expiresAtMs), 'a filter expires at a finite time');
    this.#entries.push(entry);
    this.#siftUp(this.#entries.length - 1);
  }

  peek(): ExpiryEntry | undefined {
    return this.#entries[0];
  }

  pop(): ExpiryEntry | undefined {
    const entries = this.#entries;
    const top = entries[0];
    const last = entries.pop();
    if (top === undefined || last === undefined || entries.length === 0) return top;
    entries[0] = last;
    this.#siftDown(0);
    return top;
  }

  /** Keeps only the entries `keep` accepts (compaction of stale entries). */
  retain(keep: (entry: ExpiryEntry) => boolean): void {
    const kept = this.#entries.filter(keep);
    this.#entries.length = 0;
    for (const entry of kept) this.push(entry);
  }

  clear(): void {
    this.#entries.length = 0;
  }

  #siftUp(start: number): void {
    const entries = this.#entries;
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (entries[parent]!.expiresAtMs <= entries[index]!.expiresAtMs) return;
      [entries[parent], entries[index]] = [entries[index]!, entries[parent]!];
      index = parent;
    }
  }

  #siftDown(start: number): void {
    const entries = this.#entries;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < entries.length && entries[left]!.expiresAtMs < entries[smallest]!.expiresAtMs) smallest = left;
      if (right < entries.length && entries[right]!.expiresAtMs < entries[smallest]!.expiresAtMs) smallest = right;
      if (smallest === index) return;
      [entries[smallest], entries[index]] = [entries[index]!, entries[smallest]!];
      index = smallest;
    }
  }
}
