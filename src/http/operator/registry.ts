// The operator API's calls (Mesos v1 `POST /api/v1` with {"type": …}), one handler per call
// type. A handler validates its own part of the body, throws HttpError for bad input, and
// returns the response body, null for "200 with an empty body" (as Mesos answers calls without
// a response message), or a stream (SUBSCRIBE).
import type { Readable } from 'node:stream';
import type { HttpError } from '../errors.ts';
import type { MasterCore } from '../../master/interface.ts';
import type { RequestAccess } from '../access.ts';

export interface OperatorCallContext {
  readonly master: MasterCore;
  /** The whole request body, already known to be an object with a string `type`. */
  readonly call: Readonly<Record<string, unknown>>;
  readonly stale: string | undefined;
  /**
   * Who calls and what the ACLs let them do. A call that acts on something authorizes with
   * `requireAllowed(access, action, object)` (403 otherwise); a read filters what it answers
   * (visibility.ts). The route has audited a mutating call before the handler runs.
   */
  readonly access: RequestAccess;
}

/**
 * A 200 whose body is written as it comes: each chunk the stream yields is one HTTP chunk. The
 * route sets the content type the request negotiated.
 */
export class StreamingResponse {
  constructor(readonly body: Readable) {}
}

export type OperatorResponse = object | null | StreamingResponse;

export interface OperatorCallHandler {
  /** Writes go to the leader (a follower answers 307); reads run anywhere. */
  readonly write: boolean;
  /**
   * False for a leader-only read (`write` for its redirect only): it changes nothing, so it is
   * not an audited call. Every other write is audited (audit.ts).
   */
  readonly mutates?: false;
  /**
   * Answers from this master's own process (its version, flags, Raft view) rather than the
   * replicated state, so it needs no ReadIndex round and answers even without a leader.
   */
  readonly local?: boolean;
  /**
   * Answers an empty 202 Accepted instead of 200, as Mesos does for the calls that run an
   * offer operation (RESERVE_RESOURCES, UNRESERVE_RESOURCES, CREATE_VOLUMES, DESTROY_VOLUMES).
   */
  readonly accepted?: true;
  /** Answers with a RecordIO event stream (Accept: application/recordio is allowed). */
  readonly streaming?: boolean;
  handle(context: OperatorCallContext): Promise<OperatorResponse>;
}

export type OperatorCallTable = Record<string, OperatorCallHandler>;

export type { HttpError };
