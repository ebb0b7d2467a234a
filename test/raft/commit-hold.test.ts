// The leader's commit-only appends held while proposals are queued (src/raft/commit-hold.ts):
// what leaves now, what waits, and what a later append makes unneeded.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entryChecksum } from '../../src/raft/checksum.ts';
import { CommitHold, isCommitOnlyAppend } from '../../src/raft/commit-hold.ts';
import type { Entry, Message } from '../../src/raft/types.ts';
import { nodeId } from '../../src/raft/types.ts';

const m1 = nodeId('m1');
const m2 = nodeId('m2');
const m3 = nodeId('m3');
const data = new Uint8Array([1]);

function entry(index: number): Entry {
  return { index, term: 1, type: 'normal', data, checksum: entryChecksum(1, index, 'normal', data, undefined) };
}

function commitOnly(to: typeof m2, commit: number, answerWanted = false): Message {
  const prevIndex = commit;
  return { type: 'append', from: m1, to, term: 1, prevIndex, prevTerm: 1, entries: [], commit, answerWanted };
}

function withEntries(to: typeof m2, first: number, commit: number): Message {
  const entries = [entry(first)];
  return {
    type: 'append',
    from: m1,
    to,
    term: 1,
    prevIndex: first - 1,
    prevTerm: 1,
    entries,
    commit,
    answerWanted: true,
  };
}

function heartbeat(to: typeof m2, commit = 0): Message {
  return { type: 'heartbeat', from: m1, to, term: 1, commit, context: '', round: 1 };
}

test('only an append without entries that wants no answer is commit-only', () => {
  assert.ok(isCommitOnlyAppend(commitOnly(m2, 5)));
  assert.not.ok(isCommitOnlyAppend(withEntries(m2, 6, 5)));
  assert.not.ok(isCommitOnlyAppend(commitOnly(m2, 5, true)), 'a probe wants its answer');
  assert.not.ok(isCommitOnlyAppend(heartbeat(m2)));
});

test('without queued proposals and nothing held, messages pass unchanged', () => {
  const hold = new CommitHold();
  const messages = [commitOnly(m2, 5), commitOnly(m3, 5)];
  assert.is(hold.route(messages, false), messages);
  assert.is(hold.size, 0);
});

test('with proposals queued, commit-only appends wait; the proposals appends make them unneeded', () => {
  const hold = new CommitHold();
  const sent = hold.route([commitOnly(m2, 5), heartbeat(m3), commitOnly(m3, 5)], true);
  assert.equal(sent, [heartbeat(m3)]);
  assert.is(hold.size, 2);
  // The next turn hands the proposals to the core: an append to each follower, with commit 5.
  const next = [withEntries(m2, 6, 5), withEntries(m3, 6, 5)];
  assert.equal(hold.route(next, false), next);
  assert.is(hold.size, 0);
});

test('a held append to a follower that got no append leaves first, once proposals are no longer queued', () => {
  const hold = new CommitHold();
  hold.route([commitOnly(m2, 5), commitOnly(m3, 5)], true);
  // m3 is paused (its window is full): only m2 gets the new entry.
  assert.equal(hold.route([withEntries(m2, 6, 5)], false), [commitOnly(m3, 5), withEntries(m2, 6, 5)]);
  assert.is(hold.size, 0);
});

test('a later commit replaces the held append to the same follower', () => {
  const hold = new CommitHold();
  hold.route([commitOnly(m2, 5)], true);
  hold.route([commitOnly(m2, 6)], true);
  assert.equal(hold.takeAll(), [commitOnly(m2, 6)]);
  assert.is(hold.size, 0);
});

test('every proposal refused: takeAll hands back what is held, in order', () => {
  const hold = new CommitHold();
  hold.route([commitOnly(m2, 5), commitOnly(m3, 5)], true);
  assert.equal(hold.takeAll(), [commitOnly(m2, 5), commitOnly(m3, 5)]);
  assert.equal(hold.takeAll(), []);
});

test('a heartbeat whose commit covers a held append replaces it; one behind it (a lagging follower) does not', () => {
  const hold = new CommitHold();
  hold.route([commitOnly(m2, 5), commitOnly(m3, 5)], true);
  // The tick's heartbeats: m2 matches through 5, m3 only through 4 (min(match, commit)).
  const beats = [heartbeat(m2, 5), heartbeat(m3, 4)];
  assert.equal(hold.route(beats, true), beats);
  assert.equal(hold.takeAll(), [commitOnly(m3, 5)], 'm3 still needs to hear of 5');
});

test.run();
