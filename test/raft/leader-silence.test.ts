// A follower's silences of its leader (src/raft/leader-silence.ts), the false-election bench's
// measure: wall time and the ticks its election timer counted, reported only when at least one
// tick passed, and not across a time this replica led or campaigned.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LeaderSilence, nearElection } from '../../src/raft/leader-silence.ts';
import type { Message } from '../../src/raft/types.ts';
import { nodeId } from '../../src/raft/types.ts';

const m1 = nodeId('m1');
const m2 = nodeId('m2');
const heartbeat: Message = { type: 'heartbeat', from: m1, to: m2, term: 1, commit: 0, context: '', round: 0 };
const preVote: Message = { type: 'pre-vote', from: m1, to: m2, term: 2, lastIndex: 0, lastTerm: 0 };

test('a silence is reported with its ticks once the leader speaks again', () => {
  const silence = new LeaderSilence();
  assert.is(silence.heard([heartbeat], 100), null, 'the first message starts the count');
  for (let tick = 0; tick < 7; tick++) silence.tick();
  assert.equal(silence.heard([heartbeat], 340), { durationMs: 240, ticks: 7 });
});

test('messages within one tick end no silence; a vote request is not the leader', () => {
  const silence = new LeaderSilence();
  silence.heard([heartbeat], 0);
  assert.is(silence.heard([heartbeat], 5), null);
  silence.tick();
  assert.is(silence.heard([preVote], 40), null);
  silence.tick();
  assert.equal(silence.heard([preVote, heartbeat], 60), { durationMs: 55, ticks: 2 });
});

test('no silence spans a time this replica led or campaigned', () => {
  const silence = new LeaderSilence();
  silence.heard([heartbeat], 0);
  silence.tick();
  silence.forget();
  silence.tick();
  assert.is(silence.heard([heartbeat], 500), null);
});

test('a silence of half the election timeout or more is near an election (logged for bench/peers/leader-stalls.ts)', () => {
  assert.is(
    nearElection({ durationMs: 400, ticks: 4 }, 10),
    false,
    'long in wall time, few ticks: the follower stalled',
  );
  assert.is(nearElection({ durationMs: 150, ticks: 5 }, 10), true);
  assert.is(nearElection({ durationMs: 150, ticks: 5 }, 11), false);
});

test.run();
