// Tasks by the time their next status update resend is due (a binary min-heap, ties in key order
// so a round sends in the order the rounds always did), so a retry round pops only what is due
// instead of walking every task with an unacknowledged update (issue 12: work proportional to
// what is due). Entries are never updated in place: a rescheduled task pushes a new entry and
// the old one goes stale; the owner (update-backoff.ts) tells them apart when they pop.
import { compareStrings } from '../../state-machine/ordering.ts';
import type { TaskKey } from '../../state-machine/ids.ts';

export interface RetryEntry {
  readonly dueAtMs: number;
  readonly key: TaskKey;
}

const before = (left: RetryEntry, right: RetryEntry): boolean =>
  left.dueAtMs < right.dueAtMs || (left.dueAtMs === right.dueAtMs && compareStrings(left.key, right.key) < 0);

export class RetryHeap {
  readonly #entries: RetryEntry[] = [];

  get size(): number {
    return this.#entries.length;
  }

  push(entry: RetryEntry): void {
    const entries = this.#entries;
    entries.push(entry);
    let index = entries.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(entries[index]!, entries[parent]!)) return;
      [entries[parent], entries[index]] = [entries[index]!, entries[parent]!];
      index = parent;
    }
  }

  peek(): RetryEntry | undefined {
    return this.#entries[0];
  }

  pop(): RetryEntry | undefined {
    const entries = this.#entries;
    const top = entries[0];
    const last = entries.pop();
    if (top === undefined || last === undefined || entries.length === 0) return top;
    entries[0] = last;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let first = index;
      if (left < entries.length && before(entries[left]!, entries[first]!)) first = left;
      if (right < entries.length && before(entries[right]!, entries[first]!)) first = right;
      if (first === index) return top;
      [entries[first], entries[index]] = [entries[index]!, entries[first]!];
      index = first;
    }
  }
}
