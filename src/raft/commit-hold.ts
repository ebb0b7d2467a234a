// The leader's commit-only appends, held while proposals are queued (issue 19). After a commit
// the core tells each replicating follower the new commit index in an append without entries
// (core.ts sendAppend, answerWanted false). When proposals are queued at that moment, the driver
// hands them to the core this turn or the next (node.ts process), and their appends carry the
// same commit index or a later one: the commit-only append would be a frame, a follower wake-up
// and a follower Ready for nothing. So it waits here, and is dropped once an append to the same
// follower leaves, or sent after all if none does (every proposal refused, leadership lost).
//
// Safe in Raft terms: a follower's commit index only tells it what it may apply; no rule depends
// on when it learns it, and heartbeats carry it too. A commit-only append wants no answer, so
// holding or dropping one changes nothing the leader waits for.
import type { Message, NodeId } from './types.ts';

export function isCommitOnlyAppend(message: Message): boolean {
  return message.type === 'append' && message.entries.length === 0 && !message.answerWanted;
}

export class CommitHold {
  private held: Message[] = [];

  get size(): number {
    return this.held.length;
  }

  /**
   * The messages to send now, in order. Held appends to a follower that gets another append now
   * are dropped (that one carries a commit index at least as high). With proposals queued,
   * commit-only appends stay here (the latest per follower); otherwise the held ones leave first,
   * so no follower sees its commit index go back in the order sent.
   */
  route(messages: readonly Message[], proposalsQueued: boolean): readonly Message[] {
    if (this.held.length === 0 && !(proposalsQueued && messages.some(isCommitOnlyAppend))) return messages;
    const appendedTo = new Set<NodeId>();
    for (const message of messages)
      if (message.type === 'append' && !isCommitOnlyAppend(message)) appendedTo.add(message.to);
    this.held = this.held.filter((message) => !appendedTo.has(message.to));
    if (!proposalsQueued) return [...this.takeAll(), ...messages];
    const now: Message[] = [];
    for (const message of messages) {
      if (!isCommitOnlyAppend(message) || appendedTo.has(message.to)) {
        now.push(message);
        continue;
      }
      this.held = this.held.filter((held) => held.to !== message.to);
      this.held.push(message);
    }
    return now;
  }

  /** Everything still held, to send now (no proposal's append went to those followers). */
  takeAll(): Message[] {
    const held = this.held;
    this.held = [];
    return held;
  }
}
