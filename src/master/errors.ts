// Every failure the master's interface (interface.ts) can throw, with a stable code (fastify
// lib/errors.js style). Codes are never renamed or reused. The master knows no HTTP: src/http
// (master-errors.ts) gives each code its status and headers, and docs/errors.md lists them
// (test/http/errors.test.ts checks both ways).
import { RaftRequestError } from '../raft/node.ts';
import type { CoreStatus } from '../raft/types.ts';
import type { Rejection } from '../state-machine/errors.ts';

export const masterErrors = {
  // Leadership: where a request must go, and whether it may be retried.
  NOT_LEADER: { message: 'this master is not the leader' },
  NO_LEADER: { message: 'no leader is known; retry shortly' },
  LEADERSHIP_CHANGED: { message: 'leadership changed while the request ran; retry' },
  TRANSFER_IN_PROGRESS: { message: 'leadership is being handed to another master; retry shortly' },
  LEADER_SERVICES_NOT_RUNNING: { message: 'this master leads but its leader services are not running yet; retry' },
  STOPPING: { message: 'the master is stopping' },
  // Writes.
  OUTCOME_UNKNOWN: { message: 'the write may or may not have been applied' },
  NOT_APPLIED: { message: 'the write was lost in a leader change and not applied; retry' },
  TIMED_OUT: { message: 'the request timed out' },
  OVERLOADED: { message: 'too many uncommitted writes; retry shortly' },
  COMMAND_TOO_LARGE: { message: 'the command is larger than a Raft entry may be' },
  REJECTED: { message: 'the command was rejected by the state machine' },
  IDEMPOTENCY_KEY_REUSED: { message: 'this idempotency key was used for a different request; nothing was applied' },
  // Membership changes (the Raft core's refusals, §4.1 and the single-server change fix).
  MEMBERSHIP_CHANGE_PENDING: { message: 'another membership change is not committed yet' },
  NO_COMMIT_IN_TERM: { message: 'the leader has not committed an entry of its term yet' },
  NOT_CAUGHT_UP: { message: 'the learner has not caught up with the log' },
  UNKNOWN_NODE: { message: 'no such master in the membership' },
  INVALID_CHANGE: { message: 'the membership change is not valid' },
  // Scheduler sessions (http.cpp's `scheduler` handler's checks).
  UNKNOWN_FRAMEWORK: { message: 'Framework cannot be found' },
  FRAMEWORK_NOT_SUBSCRIBED: { message: 'Framework is not subscribed' },
  STREAM_ID_REQUIRED: { message: "All non-subscribe calls should include the 'Mesos-Stream-Id' header" },
  STREAM_ID_MISMATCH: { message: 'the Mesos-Stream-Id is not the stream the framework is subscribed on' },
  TOO_MANY_STREAMS: { message: 'too many scheduler streams are open' },
  INTERNAL: { message: 'internal error' },
} as const satisfies Record<string, { message: string }>;

export type MasterErrorCode = keyof typeof masterErrors;

export interface MasterErrorDetails {
  /** NOT_LEADER: where the leader is (host:port). */
  readonly leaderAddress?: string;
  /** REJECTED: the state machine's answer, with its own stable code. */
  readonly rejection?: Rejection;
}

export class MasterError extends Error {
  readonly leaderAddress: string | null;
  readonly rejection: Rejection | null;

  constructor(
    readonly code: MasterErrorCode,
    message?: string,
    details: MasterErrorDetails = {},
  ) {
    super(message ?? masterErrors[code].message);
    this.name = 'MasterError';
    this.leaderAddress = details.leaderAddress ?? null;
    this.rejection = details.rejection ?? null;
    if (code === 'NOT_LEADER' && this.leaderAddress === null) throw new Error('NOT_LEADER needs the leader address');
    if (code === 'REJECTED' && this.rejection === null) throw new Error('REJECTED needs the rejection');
  }
}

/** NOT_LEADER (with the leader's address) or NO_LEADER, unless `raft` says this master leads. */
export function notLeaderError(raft: {
  readonly role: string;
  readonly leaderAddress: string | null;
}): MasterError | null {
  if (raft.role === 'leader') return null;
  if (raft.leaderAddress === null) return new MasterError('NO_LEADER');
  return new MasterError('NOT_LEADER', undefined, { leaderAddress: raft.leaderAddress });
}

/** A state machine rejection as a failure, for the callers that treat one as such. */
export const rejected = (rejection: Rejection): MasterError =>
  new MasterError('REJECTED', rejection.message, { rejection });

const membershipCodes = {
  'membership-change-pending': 'MEMBERSHIP_CHANGE_PENDING',
  'no-commit-in-term': 'NO_COMMIT_IN_TERM',
  'not-caught-up': 'NOT_CAUGHT_UP',
  'unknown-node': 'UNKNOWN_NODE',
  'invalid-change': 'INVALID_CHANGE',
} as const satisfies Record<string, MasterErrorCode>;

/** A Raft driver failure in the master's terms (`status`: the replica's status when it failed). */
export function fromRaftError(error: unknown, status: CoreStatus): MasterError {
  if (error instanceof MasterError) return error;
  if (!(error instanceof RaftRequestError)) return new MasterError('INTERNAL', (error as Error).message);
  const leaderKnown = status.leader !== '' && status.membership.addresses[status.leader] !== undefined;
  // Whatever the code, a write that may have been appended must never read as "retry": a client
  // that retries it elsewhere applies it twice. Found by jepsen-lite (register × all, 5 nodes,
  // seed 7001): a leader removed by REMOVE_MASTER failed its in-flight writes as
  // leadership-lost → UNAVAILABLE; the next leader committed them, and the retries applied again.
  if (error.indeterminate && error.code !== 'timeout' && error.code !== 'stopped') {
    return new MasterError(
      'OUTCOME_UNKNOWN',
      `the write was in flight when this master lost leadership (${error.code}): it may or may not have been applied`,
    );
  }
  switch (error.code) {
    case 'not-leader':
    case 'leadership-lost':
    case 'no-leader':
      // The caller checked leadership before proposing; losing it in between is a race the
      // client resolves by retrying (it will be redirected then).
      return new MasterError(
        leaderKnown ? 'LEADERSHIP_CHANGED' : 'NO_LEADER',
        `leadership changed (${error.code}); retry`,
      );
    case 'timeout':
      return error.indeterminate
        ? new MasterError('OUTCOME_UNKNOWN', 'the write timed out: it may or may not have been applied')
        : new MasterError('TIMED_OUT');
    case 'overloaded':
      return new MasterError('OVERLOADED');
    case 'too-large':
      return new MasterError('COMMAND_TOO_LARGE');
    case 'transfer-in-progress':
    case 'stopped':
      // A write that was already proposed when the master stopped may still commit: say so.
      if (error.indeterminate)
        return new MasterError(
          'OUTCOME_UNKNOWN',
          'the master stopped with this write in flight: it may or may not have been applied',
        );
      return new MasterError(
        error.code === 'stopped' ? 'STOPPING' : 'TRANSFER_IN_PROGRESS',
        `leadership is moving (${error.code}); retry shortly`,
      );
    case 'membership-change-pending':
    case 'no-commit-in-term':
    case 'not-caught-up':
    case 'unknown-node':
    case 'invalid-change':
      return new MasterError(membershipCodes[error.code], `membership change refused: ${error.code}`);
    case 'overwritten':
      return new MasterError('NOT_APPLIED');
  }
}
