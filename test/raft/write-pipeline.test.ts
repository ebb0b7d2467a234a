// The ordering rules of asynchronous storage writes (src/raft/write-pipeline.ts), one Ready at a
// time: what is written, which messages leave at once and which wait for which write.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entryChecksum } from '../../src/raft/checksum.ts';
import type { Entry, HardState, Message, Ready } from '../../src/raft/types.ts';
import { nodeId } from '../../src/raft/types.ts';
import { WritePipeline } from '../../src/raft/write-pipeline.ts';

const m1 = nodeId('m1');
const m2 = nodeId('m2');
const data = new Uint8Array([1]);

function entry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data, checksum: entryChecksum(term, index, 'normal', data, undefined) };
}

function acknowledgement(index: number, term: number): Message {
  return { type: 'append-response', from: m2, to: m1, term, reject: false, index, hintIndex: 0, hintTerm: 0 };
}

function append(index: number, term: number): Message {
  return {
    type: 'append',
    from: m1,
    to: m2,
    term,
    prevIndex: index - 1,
    prevTerm: term,
    entries: [],
    commit: 0,
    answerWanted: true,
  };
}

function ready(fields: Partial<Ready>): Ready {
  return {
    hardState: null,
    entries: [],
    snapshot: null,
    messages: [],
    committedEntries: [],
    readStates: [],
    readFailures: [],
    roleChanged: false,
    snapshotWantedAt: null,
    sendBeforePersist: false,
    ...fields,
  };
}

const start: HardState = { term: 1, vote: m1, commit: 0 };

test("a follower's acknowledgement leaves only once its entries are durable", () => {
  const pipeline = new WritePipeline(start);
  const accepted = pipeline.accept(ready({ entries: [entry(1, 1), entry(2, 1)], messages: [acknowledgement(2, 1)] }));
  assert.equal(accepted.write?.sequence, 1);
  assert.equal(accepted.sendNow, []);
  const done = pipeline.completed(1);
  assert.equal(done.sendNow, [acknowledgement(2, 1)]);
  assert.equal(done.durableThrough, { index: 2, term: 1 });
});

test('an acknowledgement of entries an earlier write carries waits for that write, though its Ready writes nothing', () => {
  const pipeline = new WritePipeline(start);
  pipeline.accept(ready({ entries: [entry(1, 1)], messages: [acknowledgement(1, 1)] }));
  const again = pipeline.accept(ready({ messages: [acknowledgement(1, 1)] }));
  assert.is(again.write, null);
  assert.equal(again.sendNow, []);
  assert.equal(pipeline.completed(1).sendNow, [acknowledgement(1, 1), acknowledgement(1, 1)]);
});

test("a leader's appends leave at once, in parallel with its own write (§10.2.1)", () => {
  const pipeline = new WritePipeline(start);
  const accepted = pipeline.accept(
    ready({ entries: [entry(1, 1)], messages: [append(1, 1)], sendBeforePersist: true }),
  );
  assert.equal(accepted.sendNow, [append(1, 1)]);
  assert.is(pipeline.writesInFlight(), 1);
  assert.equal(pipeline.completed(1), { sendNow: [], durableThrough: { index: 1, term: 1 } });
});

test("a leader's appends wait for a write of its term that is not durable yet", () => {
  const pipeline = new WritePipeline(start);
  const newTerm = pipeline.accept(ready({ hardState: { term: 2, vote: m1, commit: 0 }, entries: [entry(1, 2)] }));
  assert.equal(newTerm.write?.hardState, { term: 2, vote: m1, commit: 0 });
  const leader = pipeline.accept(ready({ entries: [entry(2, 2)], messages: [append(2, 2)], sendBeforePersist: true }));
  assert.equal(leader.sendNow, []);
  assert.equal(pipeline.completed(1).sendNow, [append(2, 2)]);
  // Once the term is durable, the next appends leave at once again, though write 2 is in flight.
  const next = pipeline.accept(ready({ entries: [entry(3, 2)], messages: [append(3, 2)], sendBeforePersist: true }));
  assert.equal(next.sendNow, [append(3, 2)]);
});

test('messages never overtake those held before them', () => {
  const pipeline = new WritePipeline(start);
  pipeline.accept(ready({ entries: [entry(1, 1)], messages: [acknowledgement(1, 1)] }));
  const leader = pipeline.accept(ready({ messages: [append(2, 1)], sendBeforePersist: true }));
  assert.equal(leader.sendNow, []);
  assert.is(pipeline.heldMessageCount(), 2);
  assert.equal(pipeline.completed(1).sendNow, [acknowledgement(1, 1), append(2, 1)]);
});

test('a Ready that moved only the commit index writes nothing; its hard state rides along with the next write', () => {
  const pipeline = new WritePipeline(start);
  const commitOnly = pipeline.accept(ready({ hardState: { term: 1, vote: m1, commit: 5 } }));
  assert.is(commitOnly.write, null);
  const next = pipeline.accept(ready({ entries: [entry(6, 1)] }));
  assert.equal(next.write?.hardState, { term: 1, vote: m1, commit: 5 });
  pipeline.accept(ready({ hardState: { term: 1, vote: m1, commit: 6 } }));
  assert.equal(pipeline.takeUnwrittenHardState(), { term: 1, vote: m1, commit: 6 });
  assert.is(pipeline.takeUnwrittenHardState(), null);
});

test('writes complete only in the order posted', () => {
  const pipeline = new WritePipeline(start);
  pipeline.accept(ready({ entries: [entry(1, 1)] }));
  pipeline.accept(ready({ entries: [entry(2, 1)] }));
  assert.throws(() => pipeline.completed(2), /out of order/);
});

test.run();
