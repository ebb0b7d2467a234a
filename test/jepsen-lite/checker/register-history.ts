// Turns the register workload's operations on one key into the checker's vocabulary, and
// leaves out what cannot matter: failed writes (they did not happen), reads that did not
// answer (they change nothing), and indeterminate writes of a value nobody read or expected.
//
// Leaving those out is sound. In the real order of a correct execution, between such a write
// W and the next write there is no read (it would have read W's value) and no cas that
// succeeded or may have (it would have expected W's value); an indeterminate cas there did
// not apply and may be placed at the end. Only a 412 there could have needed W (its key had
// moved away from the expected value because of W), so every 412 that returned after the
// first such W was invoked is dropped too: it stops being evidence, never becomes false
// evidence. Without this, a key with twenty indeterminate writes and many 412s sends the
// search through the subsets of those writes and it runs out of budget.
//
// Encoding in history.jsonl (workloads/register.ts writes it):
//   read   invoke null                                   ok {value: string|null, version}
//   write  invoke {value}                                ok {version}
//   cas    invoke {expected, expectedVersion, value}     ok {version} | fail VERSION_MISMATCH
import type { Operation } from '../history/operations.ts';
import type { LinearizableOperation } from './linearizability.ts';
import type { RegisterInput, RegisterOutput, RegisterValue } from './register-model.ts';

export type RegisterOperation = LinearizableOperation<RegisterInput, RegisterOutput>;

export interface ReadResult {
  readonly value: RegisterValue;
  readonly version: number;
}

export function readResult(operation: Operation): ReadResult {
  const output = operation.output as { value?: unknown; version?: unknown } | null;
  const value = output?.value ?? null;
  const version = output?.version ?? 0;
  if ((value !== null && typeof value !== 'string') || typeof version !== 'number') {
    throw new Error(
      `register history: read ${operation.id} has a malformed result ${JSON.stringify(operation.output)}`,
    );
  }
  return { value, version };
}

export function writtenValue(operation: Operation): string {
  const value = (operation.input as { value?: unknown } | null)?.value;
  if (typeof value !== 'string')
    throw new Error(`register history: ${operation.f} ${operation.id} has no string value`);
  return value;
}

export function expectedValue(operation: Operation): RegisterValue {
  const expected = (operation.input as { expected?: unknown } | null)?.expected;
  if (expected !== null && typeof expected !== 'string')
    throw new Error(`register history: cas ${operation.id} has no expected value`);
  return expected;
}

export function isMismatch(operation: Operation): boolean {
  return operation.f === 'cas' && operation.type === 'fail' && operation.error === 'VERSION_MISMATCH';
}

/** The operations of one key as the search takes them (see the file comment for what is left out). */
export function toRegisterOperations(operations: readonly Operation[]): RegisterOperation[] {
  const kept = operations.filter(
    (operation) =>
      operation.type === 'ok' || (operation.type === 'info' && operation.f !== 'read') || isMismatch(operation),
  );
  const needed = neededValues(kept);
  const unobserved = kept.filter((operation) => operation.type === 'info' && !needed.has(writtenValue(operation)));
  const firstUnobservedNs = unobserved.reduce(
    (earliest, operation) => Math.min(earliest, operation.invokeNs),
    Infinity,
  );
  return kept
    .filter((operation) => !unobserved.includes(operation))
    .filter((operation) => !(isMismatch(operation) && operation.returnNs > firstUnobservedNs))
    .map((operation) => toSearchOperation(operation));
}

/** Values some answer depends on: what was read, and what a cas that may have applied expected. */
function neededValues(operations: readonly Operation[]): Set<RegisterValue> {
  const needed = new Set<RegisterValue>();
  for (const operation of operations) {
    if (operation.f === 'read' && operation.type === 'ok') needed.add(readResult(operation).value);
    if (operation.f === 'cas' && !isMismatch(operation)) needed.add(expectedValue(operation));
  }
  return needed;
}

function toSearchOperation(operation: Operation): RegisterOperation {
  const base = { id: operation.id, callNs: operation.invokeNs, returnNs: operation.returnNs };
  switch (operation.f) {
    case 'read':
      return { ...base, input: { f: 'read' }, output: { read: readResult(operation).value } };
    case 'write':
      return {
        ...base,
        input: { f: 'write', value: writtenValue(operation) },
        output: operation.type === 'ok' ? 'ok' : undefined,
      };
    case 'cas': {
      const input: RegisterInput = { f: 'cas', expected: expectedValue(operation), value: writtenValue(operation) };
      if (isMismatch(operation)) return { ...base, input, output: 'mismatch' };
      return { ...base, input, output: operation.type === 'ok' ? 'ok' : undefined };
    }
    default:
      throw new Error(`register history: operation ${operation.id} is a ${operation.f}, not read, write or cas`);
  }
}
