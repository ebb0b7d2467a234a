// The analysis of bench/peers/write-timeline.ts over strace lines written by hand: one write of a
// leader (pid 100) and two followers (200, 300), then a second batch whose fsync a follower's
// acknowledgement of the first batch lands in.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  mainThreadOf,
  parseStrace,
  raftMessageCode,
  summarizeWritePath,
  unescapeStraceString,
} from '../../bench/peers/write-timeline-analysis.ts';

const append = (fd: number) =>
  `writev(${fd}, [{iov_base="\\202~\\1\\302", iov_len=4}, {iov_base="FLRT\\2\\0\\1\\0\\0\\0\\5\\2\\0m2\\2\\0m1"..., iov_len=450}], 2) = 454`;
const ackWrite = (fd: number) =>
  `writev(${fd}, [{iov_base="\\202\\264\\0\\0\\0\\0", iov_len=6}, {iov_base="FLRT\\2\\0\\1\\0\\0\\0\\6\\2\\0m1\\2\\0m2"..., iov_len=52}], 2) = 58`;
const appendRead = (fd: number) =>
  `read(${fd}, "\\202~\\1\\302FLRT\\2\\0\\1\\0\\0\\0\\5\\2\\0m2\\2\\0m1"..., 65536) = 454`;
const ackRead = (fd: number) => `read(${fd}, "\\202\\264\\0\\0\\0\\0FLRT\\2\\0\\1\\0\\0\\0\\6\\2\\0m1"..., 65536) = 58`;
const put = (fd: number) => `read(${fd}, "PUT /api/v1/kv/bench/k0000000 HT"..., 65536) = 410`;
const answer = (fd: number) =>
  `writev(${fd}, [{iov_base="HTTP/1.1 200 OK\\r\\ncontent-type: a"..., iov_len=203}], 1) = 203`;

const leaderText = [
  `100  10:00:00.000000 ${put(20)} <0.000010>`,
  `100  10:00:00.000100 ${append(30)} <0.000030>`,
  `100  10:00:00.000200 ${append(31)} <0.000030>`,
  '100  10:00:00.000300 fsync(24 <unfinished ...>',
  '101  10:00:00.000400 sendmsg(5, {msg_name={sa_family=AF_INET}}, 0) = 10 <0.000010>',
  '100  10:00:00.001300 <... fsync resumed>) = 0 <0.001000>',
  '100  10:00:00.001400 epoll_pwait(13, [{events=EPOLLIN, data={u32=30, u64=30}}], 1024, 0, NULL, 8) = 1 <0.000500>',
  `100  10:00:00.001950 ${ackRead(30)} <0.000010>`,
  `100  10:00:00.002000 ${answer(20)} <0.000020>`,
  // The second batch: its appends, then its fsync, which follower 300's late ack of batch 1 lands in.
  `100  10:00:00.002100 ${put(21)} <0.000010>`,
  `100  10:00:00.002200 ${append(30)} <0.000030>`,
  `100  10:00:00.002300 ${append(31)} <0.000030>`,
  '100  10:00:00.002400 fsync(24) = 0 <0.002000>',
  `100  10:00:00.004500 ${answer(21)} <0.000020>`,
  // A storage writer thread's fsync holds no acknowledgement: the event loop reads on.
  '102  10:00:00.004600 fsync(25) = 0 <0.001000>',
].join('\n');

// Follower 200 acknowledges batch 1 inside the leader's first fsync (the leader's own batch).
const followerAText = [
  `200  10:00:00.000150 ${appendRead(7)} <0.000010>`,
  '200  10:00:00.000500 fsync(9) = 0 <0.000300>',
  `200  10:00:00.000900 ${ackWrite(7)} <0.000010>`,
  `200  10:00:00.005000 ${ackWrite(7)} <0.000010>`,
].join('\n');

// Follower 300 acknowledges batch 1 only at 2.5 ms, inside the second batch's fsync, before it
// reads the second append. Follower 200 had acknowledged since 300 read batch 1's append, so
// this is a second acknowledgement: no answer waited for it.
const followerBText = [
  `300  10:00:00.000250 ${appendRead(8)} <0.000010>`,
  '300  10:00:00.002000 fsync(9) = 0 <0.000300>',
  `300  10:00:00.002500 ${ackWrite(8)} <0.000010>`,
  `300  10:00:00.003000 ${appendRead(8)} <0.000010>`,
].join('\n');

test('parseStrace merges an unfinished call with its resumption and reads durations', () => {
  const calls = parseStrace(leaderText);
  const fsyncs = calls.filter((call) => call.call === 'fsync');
  assert.is(fsyncs.length, 3);
  assert.is(fsyncs[0]!.thread, 100);
  assert.ok(Math.abs(fsyncs[0]!.atMs - 36_000_000.3) < 1e-6);
  assert.ok(Math.abs(fsyncs[0]!.durationMs - 1) < 1e-9);
  assert.is(mainThreadOf(calls), 100);
});

test('unescapeStraceString and raftMessageCode read the first message type of a frame', () => {
  assert.equal(unescapeStraceString('A\\n\\"\\\\\\202\\0'), [65, 10, 34, 92, 0o202, 0]);
  assert.is(raftMessageCode(append(30)), 5);
  assert.is(raftMessageCode(ackWrite(7)), 6);
  assert.is(raftMessageCode(ackRead(30)), 6);
  assert.is(raftMessageCode(answer(20)), null);
});

test('summarizeWritePath counts per write and tells own-batch, later-batch and second acknowledgements apart', () => {
  const leader = parseStrace(leaderText);
  const followerA = parseStrace(followerAText);
  const followerB = parseStrace(followerBText);
  const summary = summarizeWritePath(leader, 100, [followerA, followerB]);
  assert.is(summary.writes, 2);
  assert.is(summary.leaderFsyncsPerWrite, 1.5);
  assert.equal(summary.followerFsyncsPerWrite, [0.5, 0.5]);
  assert.is(summary.leaderTurnsPerWrite, 0.5);
  assert.is(summary.leaderFramesPerWrite, 2);
  assert.is(summary.leaderAppendFramesPerWrite, 2);
  assert.is(summary.followerAcksPerWrite, 1.5);
  assert.is(summary.acksBehindOwnBatch.count, 1);
  assert.ok(Math.abs(summary.acksBehindOwnBatch.meanWaitMs - 0.4) < 1e-6);
  assert.is(summary.acksBehindLaterBatch.count, 0);
  // Without follower 200's acknowledgement, 300's is the one batch 1's commit waited for.
  const alone = summarizeWritePath(leader, 100, [followerB]);
  assert.is(alone.acksBehindLaterBatch.count, 1);
  assert.ok(Math.abs(alone.acksBehindLaterBatch.meanWaitMs - 1.9) < 1e-6);
  assert.is(alone.acksBehindLaterBatch.share, 1);
  assert.is(alone.acksBehindOwnBatch.count, 0);
  // Follower 200's ack at 5 ms falls in the writer thread's fsync, which holds nothing.
  const onlyA = summarizeWritePath(leader, 100, [followerA]);
  assert.is(onlyA.acksBehindOwnBatch.count, 1);
  assert.is(onlyA.acksBehindLaterBatch.count, 0);
});

test('a request splits into the leader fsync, epoll and the rest', () => {
  const [first, second] = summarizeWritePath(parseStrace(leaderText), 100, []).requests;
  assert.is(first!.method, 'PUT');
  assert.ok(Math.abs(first!.totalMs - 2) < 1e-6);
  assert.ok(Math.abs(first!.fsyncMs - 1) < 1e-6);
  assert.ok(Math.abs(first!.pollMs - 0.5) < 1e-6);
  assert.ok(Math.abs(first!.otherMs - 0.5) < 1e-6);
  assert.ok(Math.abs(second!.fsyncMs - 2) < 1e-6);
});

test.run();
