// The master's half of exactly-once writes: it stamps a keyed submission with the leader's clock
// (the idempotency table's only notion of time: apply reads no clock) and turns what the table
// decided into the answer: a duplicate answers the first attempt's result and index, as if it
// had just been applied, so the HTTP answer computed from it is the first one again; a key used
// before for another request is an error. See src/raft/idempotency.ts for the table itself.
import { MasterError } from './errors.ts';
import type { ReplicatedMaster, SubmitOptions } from './interface.ts';
import type { Proposed } from '../raft/node.ts';
import type { IdempotencyStamp } from '../raft/types.ts';
import type { ApplyResult } from '../state-machine/errors.ts';

export function idempotencyStamp(options: SubmitOptions | undefined, nowMs: number): IdempotencyStamp | undefined {
  const idempotency = options?.idempotency;
  if (idempotency === undefined) return undefined;
  return { key: idempotency.key, fingerprint: idempotency.fingerprint, atMs: nowMs };
}

export function submitAnswer(proposed: Proposed): { index: number; result: ApplyResult } {
  const outcome = proposed.idempotency;
  if (outcome === null || outcome.type === 'applied') {
    return { index: proposed.index, result: proposed.result as ApplyResult };
  }
  if (outcome.type === 'duplicate') return { index: outcome.firstIndex, result: proposed.result as ApplyResult };
  throw new MasterError(
    'IDEMPOTENCY_KEY_REUSED',
    `this Idempotency-Key was used for a different request (applied at index ${outcome.firstIndex}); nothing was applied`,
  );
}

/**
 * One client request's keys: the options for the n-th command (1-based) it submits. A retry
 * submits in the same order, so each of its commands is applied at most once (src/http/idempotency.ts).
 */
export type RequestIdempotency = (ordinal: number) => SubmitOptions;

/** `master` as one request sees it: its submits carry that request's keys, numbered in order. */
export function withRequestKeys(
  master: Pick<ReplicatedMaster, 'state' | 'submit'>,
  idempotency: RequestIdempotency | null,
): Pick<ReplicatedMaster, 'state' | 'submit'> {
  if (idempotency === null) return master;
  let submitted = 0;
  return {
    state: () => master.state(),
    submit: (command) => {
      submitted += 1;
      return master.submit(command, idempotency(submitted));
    },
  };
}
