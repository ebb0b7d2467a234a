// GET_ALLOCATION's routing: the allocator's memory is the leader's, so a follower answers 307
// to the leader like other leader-only calls (the leader's answer is in driver.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertRedirectedToLeader, followerFacade } from '../http/support/follower.ts';

test('GET_ALLOCATION on a follower: 307 to the leader', async () => {
  const follower = followerFacade({
    allocation: { report: () => assert.unreachable('a follower must not answer from its own allocator') },
  });
  await assertRedirectedToLeader(follower, 'GET_ALLOCATION');
});

test.run();
