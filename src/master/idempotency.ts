// The master's half of exactly-once writes: it stamps a keyed submission with the leader's clock
// (the idempotency table's only notion of time: apply reads no clock) and turns what the table
// decided into the answer: a duplicate answers the first attempt's result and index, as if it
// had just been applied, so the HTTP answer computed from it is the first one again; a key used
// before for another request is an error. See src/raft/idempotency.ts for the table itself.
import { HttpError } from '../http/errors.ts';
import type { SubmitOptions } from '../http/facade.ts';
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
  throw new HttpError(
    'IDEMPOTENCY_KEY_REUSED',
    `this Idempotency-Key was used for a different request (applied at index ${outcome.firstIndex}); nothing was applied`,
  );
}
