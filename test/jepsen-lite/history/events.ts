// The history of a run, as Jepsen keeps it: every operation is an `invoke` event followed by
// exactly one completion of the same process — `ok` (it happened, with this result), `fail`
// (it certainly did not happen) or `info` (nobody knows: a timeout, a reset connection, a 504).
// A process that saw `info` never invokes again: its operation may still be in flight, and a
// well-formed history has at most one open operation per process. The client that ran it goes
// on as a new process (Jepsen does the same).

export type EventType = 'invoke' | 'ok' | 'fail' | 'info';
export type CompletionType = Exclude<EventType, 'invoke'>;

/** What an operation does; `final-read` is the set workload's read of everything at the end. */
export type OperationName = 'read' | 'write' | 'cas' | 'add' | 'final-read' | 'launch';

export interface HistoryEvent {
  /** Position in the history, from 0, in the order the events happened. */
  readonly index: number;
  readonly type: EventType;
  /** The logical process; a client becomes a new process after an `info`. */
  readonly process: number;
  /** The client (worker) that ran it, for the timeline's lanes. */
  readonly client: number;
  readonly f: OperationName;
  /** The register key or set bucket the operation touches; absent for whole-set reads. */
  readonly key?: string;
  /** Invoke: the argument. Completion: the result (null when there is none). */
  readonly value: unknown;
  /** Monotonic nanoseconds since the run's clock started (process.hrtime.bigint). */
  readonly timeNs: number;
  /** The master that gave the answer, when one did. */
  readonly node?: string;
  /** Why a `fail` or `info`: a stable code (VERSION_MISMATCH, TIMEOUT, ECONNRESET, …). */
  readonly error?: string;
}

export const completionTypes: readonly CompletionType[] = ['ok', 'fail', 'info'];

export function isCompletion(type: EventType): type is CompletionType {
  return type !== 'invoke';
}
