// GET_ALLOCATION's routing: the allocator's memory is the leader's, so a follower answers 307
// to the leader like other leader-only calls (the leader's answer is in driver.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MasterFacade, RaftView } from '../../src/http/facade.ts';
import { buildHttpServer } from '../../src/http/server.ts';

function followerFacade(): MasterFacade {
  const raft: RaftView = {
    id: 'm2', zone: null, role: 'follower', term: 3, leaderId: 'm1', leaderAddress: '127.0.0.1:5050', commitIndex: 9,
    appliedIndex: 9, snapshotIndex: 0, firstIndex: 1, lastIndex: 9, members: [],
  };
  return {
    id: 'm2', address: '127.0.0.1:5051', startedAtMs: Date.now(), flags: {}, raft: () => raft, electedAtMs: () => null,
    onChange: () => () => {},
    allocation: { report: () => assert.unreachable('a follower must not answer from its own allocator') },
  } as unknown as MasterFacade;
}

test('GET_ALLOCATION on a follower: 307 to the leader', async () => {
  const app = buildHttpServer({ master: followerFacade(), logger: false });
  try {
    const response = await app.inject({ method: 'POST', url: '/api/v1', payload: { type: 'GET_ALLOCATION' } });
    assert.is(response.statusCode, 307);
    assert.is(response.headers.location, '//127.0.0.1:5050/api/v1');
  } finally {
    await app.close();
  }
});

test.run();
