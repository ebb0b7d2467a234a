// Writes sent more than once. The KV client retries a write after an indeterminate answer with
// the same Idempotency-Key (client/kv-client.ts), inside one operation: one invoke, one
// completion, whatever the number of attempts. The checkers need nothing else for it — the key
// makes the operation take effect at most once, at one moment between its invoke and its
// completion, which is what they assume of every operation; `fail` is only recorded when no
// attempt can ever apply. What a key that was not honoured looks like, each caught already:
//   register  the value written twice is seen at two versions (value-with-two-versions), or a
//             read finds it back after it was overwritten (non-linearizable);
//   set       a retried compare-and-set finds its version moved by its own first attempt and
//             answers 412, and the next round finds the element present (failed-attempt-applied).
// The figures below only say how often it happened, for the report.
import type { Operation } from '../history/operations.ts';

export interface RetriedWrites {
  /** Operations with at least one indeterminate attempt, by how they ended. */
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
  /** Indeterminate attempts in all. */
  readonly unknownAttempts: number;
}

export function unknownAttemptsOf(operation: Operation): number {
  const count = (operation.output as { unknownAttempts?: unknown } | null)?.unknownAttempts;
  return typeof count === 'number' && Number.isInteger(count) && count > 0 ? count : 0;
}

export function retriedWrites(operations: readonly Operation[]): RetriedWrites {
  const counts = { ok: 0, fail: 0, info: 0, unknownAttempts: 0 };
  for (const operation of operations) {
    const attempts = unknownAttemptsOf(operation);
    if (attempts === 0) continue;
    counts[operation.type] += 1;
    counts.unknownAttempts += attempts;
  }
  return counts;
}
