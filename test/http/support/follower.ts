// A leader-only operator call on a follower: the follower answers 307 to the leader without
// touching what only the leader holds. The follower is the HTTP layer over a facade that says
// "follower of m1" and fails the test if the leader-only part is read.
import * as assert from 'uvu/assert';
import type { MasterCore, RaftView } from '../../../src/master/interface.ts';
import { buildHttpServer } from '../../../src/http/server.ts';

const leaderAddress = '127.0.0.1:5050';

/** `leaderOnly`: the facade members a follower must not read, each failing the test if called. */
export function followerFacade(leaderOnly: Partial<Record<keyof MasterCore, unknown>>): MasterCore {
  const raft: RaftView = {
    id: 'm2',
    zone: null,
    preferredLeaderZones: [],
    role: 'follower',
    term: 3,
    leaderId: 'm1',
    leaderAddress,
    commitIndex: 9,
    appliedIndex: 9,
    snapshotIndex: 0,
    firstIndex: 1,
    lastIndex: 9,
    members: [],
  };
  return {
    id: 'm2',
    address: '127.0.0.1:5051',
    startedAtMs: Date.now(),
    flags: {},
    raft: () => raft,
    leads: () => false,
    electedAtMs: () => null,
    onChange: () => () => {},
    ...leaderOnly,
  } as unknown as MasterCore;
}

export async function assertRedirectedToLeader(master: MasterCore, type: string): Promise<void> {
  const app = buildHttpServer({ master, logger: false });
  try {
    const response = await app.inject({ method: 'POST', url: '/api/v1', payload: { type } });
    assert.is(response.statusCode, 307);
    assert.is(response.headers.location, `//${leaderAddress}/api/v1`);
  } finally {
    await app.close();
  }
}
