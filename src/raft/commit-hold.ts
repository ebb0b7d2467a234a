// The leader's commit-only appends, held until an append or heartbeat carries their commit index
// (issue 19). After a commit the core tells each replicating follower the new commit index in an
// append without entries (core.ts sendAppend, answerWanted false). The next append to that
// follower carries the same commit index or a later one, and so does the next heartbeat (every
// tick on LAN timing) once the follower's match reaches it: sent at once, the commit-only append
// would be a frame, a follower wake-up and a follower Ready for nothing. At 1 client it was 2
// of the leader's 5.5 socket writes per write. So it waits here: dropped once an append (or a
// heartbeat whose commit covers it) to the same follower leaves, else sent at the next tick
// (node.ts tick), so a follower learns a commit at most a tick late.
//
// Safe in Raft terms: a follower's commit index only tells it what it may apply; no rule depends
// on when it learns it, and heartbeats carry it too. A commit-only append wants no answer, so
// holding or dropping one changes nothing the leader waits for. The commit index a follower
// records on disk rides in its appends' entry rows (storage.ts), which carry the same index.
import type { LogIndex, Message, NodeId } from './types.ts';

export function isCommitOnlyAppend(message: Message): boolean {
  return message.type === 'append' && message.entries.length === 0 && !message.answerWanted;
}

export class CommitHold {
  private held: Message[] = [];

  get size(): number {
    return this.held.length;
  }

  /**
   * The messages to send now, in order. Held appends to a follower that gets another append now,
   * or a heartbeat whose commit covers them, are dropped (those carry a commit index at least as
   * high). With `hold`, commit-only appends stay here (the latest per follower); otherwise the
   * held ones leave first, so no follower sees its commit index go back in the order sent.
   */
  route(messages: readonly Message[], hold: boolean): readonly Message[] {
    if (this.held.length === 0 && !(hold && messages.some(isCommitOnlyAppend))) return messages;
    const appendedTo = new Set<NodeId>();
    const heartbeatCommit = new Map<NodeId, LogIndex>();
    for (const message of messages) {
      if (message.type === 'append' && !isCommitOnlyAppend(message)) appendedTo.add(message.to);
      if (message.type === 'heartbeat') heartbeatCommit.set(message.to, message.commit);
    }
    this.held = this.held.filter(
      (message) =>
        !appendedTo.has(message.to) &&
        !(message.type === 'append' && (heartbeatCommit.get(message.to) ?? -1) >= message.commit),
    );
    if (!hold) return [...this.takeAll(), ...messages];
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
