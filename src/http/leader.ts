// Where a request that must run on the leader goes when it reaches a follower (Mesos answers
// 307 with the leader's address; with no leader known, 503 and a Retry-After).
import { notLeaderError } from '../master/errors.ts';
import type { MasterCore } from '../master/interface.ts';
import { masterErrorToHttp } from './master-errors.ts';

/** Throws the redirect to `//leader${path}` (or 503) unless this master leads. */
export function requireLeader(master: MasterCore, path: string): void {
  // The leader answers from its role alone: building the Raft view for every write was 2.3% of the
  // leader's samples at 256 clients (issue 19). Only a follower needs the view, for the leader's address.
  if (master.leads()) return;
  const problem = notLeaderError(master.raft());
  if (problem !== null) throw masterErrorToHttp(problem, path);
}
