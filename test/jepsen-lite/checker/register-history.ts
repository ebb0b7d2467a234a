// Turns the register workload's operations on one key into the checker's vocabulary, and
// leaves out what cannot matter: failed writes (they did not happen), reads that did not
// answer (they change nothing), and indeterminate writes nobody could have observed.
//
// Encoding in history.jsonl (workloads/register.ts writes it):
//   read   invoke null                                   ok {value: string|null, version}
//   write  invoke {value}                                ok {version}
//   cas    invoke {expected, expectedVersion, value}     ok {version} | fail VERSION_MISMATCH
import type { Operation } from '../history/operations.ts';
import type { LinearizableOperation } from './linearizability.ts';
import type { RegisterInput, RegisterOutput, RegisterValue } from './register-model.ts';

export type RegisterOperation = LinearizableOperation<RegisterInput, RegisterOutput>;

export interface ReadResult { readonly value: RegisterValue; readonly version: number }

export function readResult(operation: Operation): ReadResult {
  const output = operation.output as { value?: unknown; version?: unknown } | null;
  const value = output?.value ?? null;
  const version = output?.version ?? 0;
  if ((value !== null && typeof value !== 'string') || typeof version !== 'number') {
    throw new Error(`register history: read ${operation.id} has a malformed result ${JSON.stringify(operation.output)}`);
  }
  return { value, version };
}

export function writtenValue(operation: Operation): string {
  const value = (operation.input as { value?: unknown } | null)?.value;
  if (typeof value !== 'string') throw new Error(`register history: ${operation.f} ${operation.id} has no string value`);
  return value;
}

export function expectedValue(operation: Operation): RegisterValue {
  const expected = (operation.input as { expected?: unknown } | null)?.expected;
  if (expected !== null && typeof expected !== 'string') throw new Error(`register history: cas ${operation.id} has no expected value`);
  return expected;
}

export function isMismatch(operation: Operation): boolean {
  return operation.f === 'cas' && operation.type === 'fail' && operation.error === 'VERSION_MISMATCH';
}

/** The operations of one key as the search takes them (see the file comment for what is left out). */
export function toRegisterOperations(operations: readonly Operation[]): RegisterOperation[] {
  const kept = operations.filter((operation) => operation.type === 'ok' || (operation.type === 'info' && operation.f !== 'read') || isMismatch(operation));
  const needed = neededValues(kept);
  const lastMismatchReturnNs = kept.filter(isMismatch).reduce((latest, operation) => Math.max(latest, operation.returnNs), -Infinity);
  return kept
    .filter((operation) => !droppable(operation, needed, lastMismatchReturnNs))
    .map((operation) => toSearchOperation(operation));
}

/** Values some answer depends on: what was read, and what any compare-and-set expected. */
function neededValues(operations: readonly Operation[]): Set<RegisterValue> {
  const needed = new Set<RegisterValue>();
  for (const operation of operations) {
    if (operation.f === 'read' && operation.type === 'ok') needed.add(readResult(operation).value);
    if (operation.f === 'cas') needed.add(expectedValue(operation));
  }
  return needed;
}

/**
 * An indeterminate write of a value nobody read or expected can be taken to have never
 * happened: placing it anywhere could only make answers after it harder to explain — unless a
 * 412 after its call needs the key to have moved away from some value, which it could do.
 */
function droppable(operation: Operation, needed: Set<RegisterValue>, lastMismatchReturnNs: number): boolean {
  if (operation.type !== 'info') return false;
  if (needed.has(writtenValue(operation))) return false;
  return lastMismatchReturnNs <= operation.invokeNs;
}

function toSearchOperation(operation: Operation): RegisterOperation {
  const base = { id: operation.id, callNs: operation.invokeNs, returnNs: operation.returnNs };
  switch (operation.f) {
    case 'read':
      return { ...base, input: { f: 'read' }, output: { read: readResult(operation).value } };
    case 'write':
      return { ...base, input: { f: 'write', value: writtenValue(operation) }, output: operation.type === 'ok' ? 'ok' : undefined };
    case 'cas': {
      const input: RegisterInput = { f: 'cas', expected: expectedValue(operation), value: writtenValue(operation) };
      if (isMismatch(operation)) return { ...base, input, output: 'mismatch' };
      return { ...base, input, output: operation.type === 'ok' ? 'ok' : undefined };
    }
    default:
      throw new Error(`register history: operation ${operation.id} is a ${operation.f}, not read, write or cas`);
  }
}
