// Committed entries the core has handed out and the driver has not applied yet, in log order.
// The driver applies them in time-bounded slices (node.ts applySlice): the core is told they are
// applied (`advance`) as soon as they are queued, as etcd's server hands committed entries to its
// apply loop and advances at once. The state machine's applied index is this queue's to tell.
import { assert } from '../util/assert.ts';
import type { Entry, LogIndex } from './types.ts';

/** Consumed entries are dropped from the front once they are this many and half the array. */
const compactAfterEntries = 1_024;

export class ApplyQueue {
  private entries: Entry[] = [];
  private head = 0;
  /** The index of the last entry queued (or the applied index it started from). */
  private lastQueued: LogIndex;

  constructor(appliedIndex: LogIndex) {
    this.lastQueued = appliedIndex;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** Appends committed entries; they must follow the last one queued without a gap. */
  push(entries: readonly Entry[]): void {
    for (const entry of entries) {
      assert(entry.index === this.lastQueued + 1, `apply queue: entry ${entry.index} after ${this.lastQueued}`);
      this.entries.push(entry);
      this.lastQueued = entry.index;
    }
  }

  shift(): Entry {
    assert(this.head < this.entries.length, 'apply queue: shift from an empty queue');
    const entry = this.entries[this.head]!;
    this.entries[this.head] = undefined as unknown as Entry;
    this.head += 1;
    if (this.head >= compactAfterEntries && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  /** Forgets the queued entries: they followed a snapshot that another replaced before it was restored. */
  dropQueued(): void {
    this.entries = [];
    this.head = 0;
  }

  /** A snapshot installed at `index` replaced the state: entries follow it from now on. */
  restartAt(index: LogIndex): void {
    assert(this.size === 0, `apply queue: ${this.size} entries left at a snapshot install`);
    assert(index >= this.lastQueued, `apply queue: snapshot at ${index} behind queued ${this.lastQueued}`);
    this.entries = [];
    this.head = 0;
    this.lastQueued = index;
  }
}
