// The ordering rules of asynchronous storage writes (etcd-raft AsyncStorageWrites), shared by the
// real driver (node.ts: a worker thread writes) and the simulator (writes complete later, in a
// seeded order). The core, configured with asyncStorageWrites, hands each Ready's writes off at
// advance(); this decides what of each Ready is written, which of its messages may leave at once
// and which wait for a write, and what each completed write made durable.
//
// Writes complete in the order they were posted (one writer, one connection, FIFO). So:
// - A message that depends on the disk (a vote, a follower's acknowledgement, a new term: every
//   message of a Ready that is not sendBeforePersist) waits until every write posted up to and
//   including its Ready's is durable. The acknowledgement of entries some earlier Ready wrote
//   waits for that earlier write too, since it is posted before.
// - A leader's messages (sendBeforePersist) leave at once, in parallel with its own write
//   (dissertation §10.2.1): the core counts the leader itself only once persisted() reports its
//   entries durable. They still wait for a write of term or vote that is not durable yet: an
//   append in term t from a replica whose disk may still say t-1 could, after a crash, meet a
//   second leader of term t with another entry at the same index (Log Matching broken).
// - Messages never overtake one another: one held back holds back those after it.
// - A Ready that moved only the commit index writes nothing (the commit index is volatile in
//   Raft; etcd-raft MustSync): its hard state rides along with the next write, or stop().
import { assert } from '../util/assert.ts';
import type { Entry, HardState, LogIndex, Message, NodeId, Ready, Snapshot, Term } from './types.ts';

export interface PipelineWrite {
  /** 1, 2, 3...: completions must be reported in this order. */
  readonly sequence: number;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
}

export interface AcceptedReady {
  /** What to write for this Ready, or null: nothing of it must be durable. */
  readonly write: PipelineWrite | null;
  /** Messages that may be sent now, in order. */
  readonly sendNow: readonly Message[];
}

export interface WriteCompleted {
  /** Messages released by this write, in order. */
  readonly sendNow: readonly Message[];
  /** The last entry this write (or an earlier one) made durable, for RaftCore.persisted(). */
  readonly durableThrough: { readonly index: LogIndex; readonly term: Term } | null;
}

interface HeldMessages {
  readonly afterSequence: number;
  readonly messages: readonly Message[];
}

export class WritePipeline {
  private lastPostedSequence = 0;
  private lastDurableSequence = 0;
  /** The last posted write that changed term or vote. */
  private lastTermOrVoteSequence = 0;
  private readonly held: HeldMessages[] = [];
  private readonly entryEnds: { readonly sequence: number; readonly index: LogIndex; readonly term: Term }[] = [];
  /** Term and vote as of the last posted write: what the disk will say once it is durable. */
  private writtenTerm: Term;
  private writtenVote: NodeId;
  /** The latest hard state, when only its commit index moved since the last write. */
  private unwrittenHardState: HardState | null = null;

  constructor(loaded: HardState) {
    this.writtenTerm = loaded.term;
    this.writtenVote = loaded.vote;
  }

  accept(ready: Ready): AcceptedReady {
    const write = this.writeFor(ready);
    const heldTail = this.held[this.held.length - 1]?.afterSequence ?? 0;
    const waitFor = ready.sendBeforePersist
      ? Math.max(this.lastTermOrVoteSequence, heldTail)
      : Math.max(this.lastPostedSequence, heldTail);
    if (this.held.length === 0 && waitFor <= this.lastDurableSequence) return { write, sendNow: ready.messages };
    if (ready.messages.length > 0) this.held.push({ afterSequence: waitFor, messages: ready.messages });
    return { write, sendNow: [] };
  }

  /** Write `sequence` is durable. */
  completed(sequence: number): WriteCompleted {
    assert(
      sequence === this.lastDurableSequence + 1 && sequence <= this.lastPostedSequence,
      `write ${sequence} completed out of order (last durable ${this.lastDurableSequence}, last posted ${this.lastPostedSequence})`,
    );
    this.lastDurableSequence = sequence;
    const sendNow: Message[] = [];
    while (this.held.length > 0 && this.held[0]!.afterSequence <= sequence)
      sendNow.push(...this.held.shift()!.messages);
    let durableThrough: WriteCompleted['durableThrough'] = null;
    while (this.entryEnds.length > 0 && this.entryEnds[0]!.sequence <= sequence) {
      const end = this.entryEnds.shift()!;
      durableThrough = { index: end.index, term: end.term };
    }
    return { sendNow, durableThrough };
  }

  /** Writes posted and not yet durable. */
  writesInFlight(): number {
    return this.lastPostedSequence - this.lastDurableSequence;
  }

  /** Messages waiting for a write. */
  heldMessageCount(): number {
    return this.held.reduce((count, held) => count + held.messages.length, 0);
  }

  /** At stop: the hard state whose commit index moved after the last write, if any (written without fsync). */
  takeUnwrittenHardState(): HardState | null {
    const hardState = this.unwrittenHardState;
    this.unwrittenHardState = null;
    return hardState;
  }

  private writeFor(ready: Ready): PipelineWrite | null {
    const hardState = ready.hardState;
    const termOrVoteChanged =
      hardState !== null && (hardState.term !== this.writtenTerm || hardState.vote !== this.writtenVote);
    if (ready.entries.length === 0 && ready.snapshot === null && !termOrVoteChanged) {
      if (hardState !== null) this.unwrittenHardState = hardState;
      return null;
    }
    const sequence = ++this.lastPostedSequence;
    // No hard state in the Ready means it equals the last one the core handed out: that one.
    const written = hardState ?? this.unwrittenHardState;
    this.unwrittenHardState = null;
    if (written !== null) {
      this.writtenTerm = written.term;
      this.writtenVote = written.vote;
    }
    if (termOrVoteChanged) this.lastTermOrVoteSequence = sequence;
    const last = ready.entries[ready.entries.length - 1];
    if (last !== undefined) this.entryEnds.push({ sequence, index: last.index, term: last.term });
    return { sequence, hardState: written, entries: ready.entries, snapshot: ready.snapshot };
  }
}
