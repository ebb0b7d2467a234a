// One compact, deterministic line per message, entry and membership, so a scenario's expected
// output reads like the algorithm: `m1->m2 append term=2 prev=5/1 entries=[6/2 7/2] commit=5`.
// A commit-only append that wants no answer ends in `no-answer`.
import { assertNever } from '../../../src/util/assert.ts';
import { decodeConfigEntry } from '../../../src/raft/membership.ts';
import type {
  Entry,
  IdempotencyStamp,
  Membership,
  MembershipChange,
  Message,
  NodeId,
} from '../../../src/raft/types.ts';

/** An empty node id (no vote, no leader) prints as `-`. */
export const showNode = (node: NodeId | string): string => (node === '' ? '-' : node);

export function formatMessage(message: Message): string {
  return `${message.from}->${message.to} ${message.type} term=${message.term}${messageDetails(message)}`;
}

function messageDetails(message: Message): string {
  switch (message.type) {
    case 'pre-vote':
      return ` last=${message.lastIndex}/${message.lastTerm}`;
    case 'vote':
      return ` last=${message.lastIndex}/${message.lastTerm}${message.transfer ? ' transfer' : ''}`;
    case 'pre-vote-response':
    case 'vote-response':
      return message.reject ? ' rejected' : ' granted';
    case 'append':
      return ` prev=${message.prevIndex}/${message.prevTerm} entries=[${message.entries.map((entry) => `${entry.index}/${entry.term}`).join(' ')}] commit=${message.commit}${message.answerWanted ? '' : ' no-answer'}`;
    case 'append-response':
      return message.reject
        ? ` reject index=${message.index} hint=${message.hintIndex}/${message.hintTerm}`
        : ` index=${message.index}`;
    case 'heartbeat':
      return ` commit=${message.commit}${context(message.context)}`;
    case 'heartbeat-response':
      return context(message.context);
    case 'snapshot-chunk':
      return ` snapshot=${message.meta.index}/${message.meta.term} offset=${message.offset} bytes=${message.data.byteLength} total=${message.totalBytes}`;
    case 'snapshot-response':
      return ` snapshot=${message.snapshotIndex} received=${message.receivedBytes}${message.done ? ' done' : ''}`;
    case 'timeout-now':
      return '';
    case 'read-index':
      return context(message.context);
    case 'read-index-response':
      return `${context(message.context)}${message.reject ? ' rejected' : ` index=${message.index}`}`;
    default:
      return assertNever(message);
  }
}

const context = (value: string): string => (value === '' ? '' : ` ctx=${value}`);

/** `key=k at=ms`, and the fingerprint when it is not the entry's text (the scripts' default). */
function formatStamp(stamp: IdempotencyStamp, text: string): string {
  const fingerprint = stamp.fingerprint === text ? '' : ` fingerprint=${stamp.fingerprint}`;
  return `key=${stamp.key} at=${stamp.atMs}${fingerprint}`;
}

export function formatMembership(membership: Membership): string {
  return `voters=[${membership.voters.join(' ')}] learners=[${membership.learners.join(' ')}]`;
}

export function formatChange(change: MembershipChange): string {
  return `${change.type} ${change.node}`;
}

/** `index/term type data`: the text of a normal entry, the change of a config entry. */
export function formatEntry(entry: Entry): string {
  const head = `${entry.index}/${entry.term} ${entry.type}`;
  switch (entry.type) {
    case 'noop':
      return head;
    case 'normal': {
      const text = Buffer.from(entry.data).toString();
      const stamp = entry.idempotency === undefined ? '' : ` ${formatStamp(entry.idempotency, text)}`;
      return `${head} ${text}${stamp}`;
    }
    case 'config': {
      const decoded = decodeConfigEntry(entry.data);
      return `${head} ${formatChange(decoded.change)} -> ${formatMembership(decoded.membership)}`;
    }
    default:
      return assertNever(entry.type);
  }
}
