// What a checker reports when something is wrong: a type a person can search for, the key it
// concerns, a sentence, and the operations involved (as they are in history.jsonl).
import type { Operation } from '../history/operations.ts';

export interface OperationSummary {
  readonly id: number;
  readonly process: number;
  readonly client: number;
  readonly f: string;
  readonly key?: string;
  readonly type: string;
  readonly input: unknown;
  readonly output: unknown;
  readonly invokeMs: number;
  /** Null for info operations: they never returned. */
  readonly completeMs: number | null;
  readonly node?: string;
  readonly error?: string;
}

export interface Anomaly {
  readonly type: string;
  readonly key?: string;
  readonly message: string;
  readonly operations?: readonly OperationSummary[];
  readonly details?: Readonly<Record<string, unknown>>;
}

export function summarizeOperation(operation: Operation): OperationSummary {
  return {
    id: operation.id,
    process: operation.process,
    client: operation.client,
    f: operation.f,
    ...(operation.key === undefined ? {} : { key: operation.key }),
    type: operation.type,
    input: operation.input,
    output: operation.output,
    invokeMs: round(operation.invokeNs / 1e6),
    completeMs: operation.type === 'info' ? null : round(operation.completeNs / 1e6),
    ...(operation.node === undefined ? {} : { node: operation.node }),
    ...(operation.error === undefined ? {} : { error: operation.error }),
  };
}

function round(milliseconds: number): number {
  return Math.round(milliseconds * 1000) / 1000;
}

export type Validity = true | false | 'unknown';

/** false beats unknown beats true. */
export function combineValidity(validities: readonly Validity[]): Validity {
  if (validities.includes(false)) return false;
  if (validities.includes('unknown')) return 'unknown';
  return true;
}
