// Where a request that must run on the leader goes when it reaches a follower (Mesos answers
// 307 with the leader's address; with no leader known, 503 and a Retry-After).
import { HttpError } from './errors.ts';
import type { MasterFacade } from './facade.ts';

export const retryAfterSeconds = '1';

/** Throws the redirect (or 503) unless this master leads. */
export function requireLeader(master: MasterFacade, path: string): void {
  const raft = master.raft();
  if (raft.role === 'leader') return;
  if (raft.leaderAddress === null) {
    throw new HttpError('NO_LEADER', undefined, { 'retry-after': retryAfterSeconds });
  }
  const location = `//${raft.leaderAddress}${path}`;
  throw new HttpError('NOT_LEADER', `not the leader; the leader is at ${raft.leaderAddress}`, { location });
}
