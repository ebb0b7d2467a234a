// The edge: the master's failures (src/master/errors.ts) and the state machine's rejections as
// HTTP answers, in this one file. A client acts on the status: 307 go to Location, 503 retry after
// Retry-After, 504 the outcome is unknown. The body keeps a stable code: the HTTP kind's, or a
// more precise one where clients already read it (membership refusals, rejections).
import type { MasterError, MasterErrorCode } from '../master/errors.ts';
import { type Rejection, rejectionCodes } from '../state-machine/errors.ts';
import { HttpError, type HttpErrorCode } from './errors.ts';
import { retryAfterSeconds } from './limits.ts';

interface Answer {
  readonly kind: HttpErrorCode;
  /** The body's code is the master's own rather than the HTTP kind's. */
  readonly ownCode?: true;
  readonly retryAfter?: true;
}

/** Exhaustive: a new master code does not build until it has an answer here. */
export const masterErrorAnswers: Readonly<Record<MasterErrorCode, Answer>> = {
  NOT_LEADER: { kind: 'NOT_LEADER' },
  NO_LEADER: { kind: 'NO_LEADER', retryAfter: true },
  LEADERSHIP_CHANGED: { kind: 'UNAVAILABLE', retryAfter: true },
  TRANSFER_IN_PROGRESS: { kind: 'UNAVAILABLE', retryAfter: true },
  LEADER_SERVICES_NOT_RUNNING: { kind: 'UNAVAILABLE', retryAfter: true },
  STOPPING: { kind: 'UNAVAILABLE', retryAfter: true },
  OUTCOME_UNKNOWN: { kind: 'TIMEOUT' },
  NOT_APPLIED: { kind: 'UNAVAILABLE', retryAfter: true },
  TIMED_OUT: { kind: 'TIMEOUT' },
  OVERLOADED: { kind: 'TOO_MANY_REQUESTS', retryAfter: true },
  COMMAND_TOO_LARGE: { kind: 'PAYLOAD_TOO_LARGE' },
  // The rejection's own code and status (rejectionToHttp); this entry only documents the default.
  REJECTED: { kind: 'REJECTED' },
  IDEMPOTENCY_KEY_REUSED: { kind: 'IDEMPOTENCY_KEY_REUSED' },
  MEMBERSHIP_CHANGE_PENDING: { kind: 'CONFLICT', ownCode: true },
  NO_COMMIT_IN_TERM: { kind: 'CONFLICT', ownCode: true },
  NOT_CAUGHT_UP: { kind: 'CONFLICT', ownCode: true },
  UNKNOWN_NODE: { kind: 'CONFLICT', ownCode: true },
  INVALID_CHANGE: { kind: 'CONFLICT', ownCode: true },
  UNKNOWN_FRAMEWORK: { kind: 'UNKNOWN_FRAMEWORK' },
  FRAMEWORK_NOT_SUBSCRIBED: { kind: 'FRAMEWORK_NOT_SUBSCRIBED' },
  STREAM_ID_REQUIRED: { kind: 'STREAM_ID_REQUIRED' },
  STREAM_ID_MISMATCH: { kind: 'STREAM_ID_MISMATCH' },
  TOO_MANY_STREAMS: { kind: 'TOO_MANY_REQUESTS', retryAfter: true },
  INTERNAL: { kind: 'INTERNAL' },
};

/** `path`: where a NOT_LEADER request is to be repeated on the leader (Location: //leader/path). */
export function masterErrorToHttp(error: MasterError, path: string): HttpError {
  if (error.rejection !== null) return rejectionToHttp(error.rejection);
  const answer = masterErrorAnswers[error.code];
  const headers: Record<string, string> = answer.retryAfter ? { 'retry-after': retryAfterSeconds } : {};
  if (error.code === 'NOT_LEADER') {
    return new HttpError('NOT_LEADER', `not the leader; the leader is at ${error.leaderAddress}`, {
      location: `//${error.leaderAddress}${path}`,
    });
  }
  return new HttpError(answer.kind, error.message, headers, answer.ownCode ? error.code : undefined);
}

const kindByStatus: Record<number, HttpErrorCode> = {
  400: 'BAD_REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  410: 'GONE',
  412: 'VERSION_MISMATCH',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'REJECTED',
  429: 'TOO_MANY_REQUESTS',
  503: 'UNAVAILABLE',
};

/** The state machine's code table says the status; its code goes in the body unchanged. */
export function rejectionToHttp(rejection: Rejection): HttpError {
  const status = rejectionCodes[rejection.code].status;
  return new HttpError(kindByStatus[status] ?? 'CONFLICT', rejection.message, {}, rejection.code);
}
