// Pending ReadIndex requests on a leader (§6.4). A request records the commit index when it
// arrived; once a quorum has answered a heartbeat that carries its context, that index (and the
// index of every request queued before it) is safe to serve: no other leader can have committed
// anything newer that we do not know of.
import type { LogIndex, NodeId } from './types.ts';

export interface PendingRead {
  readonly context: string;
  readonly index: LogIndex;
  /** Who asked: the leader itself, or a follower that forwarded the request. */
  readonly requester: NodeId;
  readonly acknowledgedBy: Set<NodeId>;
}

export class ReadOnlyQueue {
  private readonly queue: PendingRead[] = [];
  private readonly byContext = new Map<string, PendingRead>();

  constructor(private readonly maxPending: number) {}

  get size(): number {
    return this.queue.length;
  }

  isFull(): boolean {
    return this.queue.length >= this.maxPending;
  }

  has(context: string): boolean {
    return this.byContext.has(context);
  }

  add(read: PendingRead): void {
    this.queue.push(read);
    this.byContext.set(read.context, read);
  }

  lastContext(): string {
    return this.queue.length === 0 ? '' : this.queue[this.queue.length - 1]!.context;
  }

  /** Records an acknowledgement; returns how many distinct replicas acknowledged `context`. */
  acknowledge(context: string, from: NodeId): number {
    const read = this.byContext.get(context);
    if (read === undefined) return 0;
    read.acknowledgedBy.add(from);
    return read.acknowledgedBy.size;
  }

  /** Removes and returns every request up to and including `context`, oldest first. */
  releaseThrough(context: string): PendingRead[] {
    const position = this.queue.findIndex((read) => read.context === context);
    if (position < 0) return [];
    const released = this.queue.splice(0, position + 1);
    for (const read of released) this.byContext.delete(read.context);
    return released;
  }

  drain(): PendingRead[] {
    const all = this.queue.splice(0);
    this.byContext.clear();
    return all;
  }
}
