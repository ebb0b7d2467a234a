// The operator API's calls (Mesos v1 `POST /api/v1` with {"type": …}), one handler per call
// type. A handler validates its own part of the body, throws HttpError for bad input, and
// returns the response body (or null for "200 with an empty body", as Mesos answers calls
// without a response message).
import type { HttpError } from '../errors.ts';
import type { MasterFacade } from '../facade.ts';

export interface OperatorCallContext {
  readonly master: MasterFacade;
  /** The whole request body, already known to be an object with a string `type`. */
  readonly call: Readonly<Record<string, unknown>>;
  readonly stale: string | undefined;
}

export interface OperatorCallHandler {
  /** Writes go to the leader (a follower answers 307); reads run anywhere. */
  readonly write: boolean;
  handle(context: OperatorCallContext): Promise<object | null>;
}

export type OperatorCallTable = Record<string, OperatorCallHandler>;

export type { HttpError };
