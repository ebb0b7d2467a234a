// The leader's view of one follower (etcd-raft tracker/progress.go): how far its log matches,
// what to send next, and how much may be in flight. States:
//  probe     — we do not know where the logs match; one append at a time, until it answers;
//  replicate — the logs match at `match`; appends are pipelined up to the flow-control window;
//  snapshot  — the entries it needs are compacted; a snapshot is being streamed in chunks.
import { assert } from '../util/assert.ts';
import type { LogIndex } from './types.ts';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

interface Inflight {
  readonly lastIndex: LogIndex;
  readonly bytes: number;
}

export class Progress {
  state: ProgressState = 'probe';
  match: LogIndex = 0;
  next: LogIndex;
  /** In probe state: an append is out and unanswered; wait for a reply or a heartbeat response. */
  probeSent = false;
  /** Heard from since the last CheckQuorum round (§6.2). */
  recentActive = false;
  /** The latest heartbeat round it answered: the leader's lease runs from that round's send tick. */
  lastAnsweredRound = -1;
  /** In snapshot state: the snapshot being streamed and the next byte to send. */
  snapshotIndex: LogIndex = 0;
  snapshotOffset = 0;
  /** In snapshot state: offset of the last chunk sent, and the tick it was sent at while unanswered (null once answered). */
  snapshotSentOffset = -1;
  snapshotUnansweredSince: number | null = null;
  private inflights: Inflight[] = [];
  private inflightBytes = 0;

  constructor(
    next: LogIndex,
    private readonly maxInflightMessages: number,
    private readonly maxInflightBytes: number,
  ) {
    this.next = next;
  }

  becomeProbe(): void {
    // After a snapshot the follower has everything up to the snapshot: resume right after it.
    const next = this.state === 'snapshot' ? Math.max(this.match + 1, this.snapshotIndex + 1) : this.match + 1;
    this.reset('probe');
    this.next = next;
  }

  becomeReplicate(): void {
    this.reset('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: LogIndex): void {
    this.reset('snapshot');
    this.snapshotIndex = snapshotIndex;
    this.snapshotOffset = 0;
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.snapshotIndex = 0;
    this.snapshotOffset = 0;
    this.snapshotSentOffset = -1;
    this.snapshotUnansweredSince = null;
    this.inflights = [];
    this.inflightBytes = 0;
  }

  /** An append through `index` succeeded. Returns false for a stale (older) acknowledgement. */
  maybeUpdate(index: LogIndex): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * An append at `rejectedIndex` was refused; `hintIndex` is where the follower suggests we
   * look next. Returns false when the refusal is stale (answers an append we have moved past).
   */
  maybeDecrease(rejectedIndex: LogIndex, hintIndex: LogIndex): boolean {
    if (this.state === 'replicate') {
      // Only a refusal of something above match is news; anything else is a reordered reply.
      if (rejectedIndex <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejectedIndex) return false;
    this.next = Math.max(Math.min(rejectedIndex, hintIndex + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  sentEntries(lastIndex: LogIndex, bytes: number): void {
    if (this.state === 'replicate') {
      this.next = lastIndex + 1;
      this.inflights.push({ lastIndex, bytes });
      this.inflightBytes += bytes;
    } else if (this.state === 'probe') {
      this.probeSent = true;
    } else {
      assert(false, `sent entries to a follower in the ${this.state} state`);
    }
  }

  /** Frees the flow-control window of every append acknowledged through `index`. */
  freeThrough(index: LogIndex): void {
    let dropped = 0;
    for (const inflight of this.inflights) {
      if (inflight.lastIndex > index) break;
      this.inflightBytes -= inflight.bytes;
      dropped++;
    }
    if (dropped > 0) this.inflights.splice(0, dropped);
  }

  /** Frees the oldest in-flight append whatever it carried (etcd-raft Inflights.FreeFirstOne). */
  freeFirst(): void {
    const first = this.inflights.shift();
    if (first !== undefined) this.inflightBytes -= first.bytes;
  }

  isFull(): boolean {
    return this.inflights.length >= this.maxInflightMessages || this.inflightBytes >= this.maxInflightBytes;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.isFull();
      case 'snapshot':
        return true;
    }
  }
}
