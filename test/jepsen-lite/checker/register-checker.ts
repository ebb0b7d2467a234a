// The register workload's checker: per key (P-compositionality: a history is linearizable iff
// each key's sub-history is), first the plain facts — every value read was written by an
// operation that did not fail, and a value and its version correspond one to one — then the
// linearizability search with the register model.
import type { Operation } from '../history/operations.ts';
import { type Anomaly, combineValidity, summarizeOperation, type Validity } from './anomaly.ts';
import { checkLinearizable, defaultSearchLimits, type SearchLimits, type SearchResult } from './linearizability.ts';
import { registerModel, type RegisterValue } from './register-model.ts';
import { isMismatch, readResult, toRegisterOperations, writtenValue } from './register-history.ts';

export interface KeyVerdict {
  readonly key: string;
  readonly valid: Validity;
  readonly operations: number;
  /** Operations that went into the search (failed ones and unobservable info ones left out). */
  readonly searched: number;
  readonly steps: number;
  readonly reason?: string;
}

export interface RegisterCheck {
  readonly valid: Validity;
  readonly keys: readonly KeyVerdict[];
  readonly anomalies: readonly Anomaly[];
}

export interface RegisterCheckOptions {
  readonly limits?: SearchLimits;
  /** All keys together may take this long; keys left when it runs out are "unknown". */
  readonly totalDeadlineMs?: number;
}

const registerFunctions = new Set(['read', 'write', 'cas']);

export function checkRegister(operations: readonly Operation[], options: RegisterCheckOptions = {}): RegisterCheck {
  const limits = options.limits ?? defaultSearchLimits;
  const deadline = performance.now() + (options.totalDeadlineMs ?? 300_000);
  const byKey = new Map<string, Operation[]>();
  for (const operation of operations) {
    if (!registerFunctions.has(operation.f) || operation.key === undefined) continue;
    const list = byKey.get(operation.key) ?? [];
    list.push(operation);
    byKey.set(operation.key, list);
  }
  const keys: KeyVerdict[] = [];
  const anomalies: Anomaly[] = [];
  for (const [key, keyOperations] of [...byKey.entries()].sort(([left], [right]) => left.localeCompare(right))) {
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) {
      keys.push({
        key,
        valid: 'unknown',
        operations: keyOperations.length,
        searched: 0,
        steps: 0,
        reason: 'the checker ran out of time before this key',
      });
      continue;
    }
    const verdict = checkKey(
      key,
      keyOperations,
      { maxSteps: limits.maxSteps, deadlineMs: Math.min(limits.deadlineMs, remainingMs) },
      anomalies,
    );
    keys.push(verdict);
  }
  return { valid: combineValidity(keys.map((key) => key.valid)), keys, anomalies };
}

function checkKey(
  key: string,
  operations: readonly Operation[],
  limits: SearchLimits,
  anomalies: Anomaly[],
): KeyVerdict {
  const factAnomalies = [...checkValuesWritten(key, operations), ...checkVersions(key, operations)];
  anomalies.push(...factAnomalies);
  const versions = versionTable(operations);
  const searchOperations = toRegisterOperations(operations);
  const result = checkLinearizable(
    registerModel((value) => (value === null ? 0 : versions.get(value))),
    searchOperations,
    limits,
  );
  if (result.verdict === 'not-linearizable') anomalies.push(nonLinearizable(key, operations, result));
  const valid: Validity =
    factAnomalies.length > 0 || result.verdict === 'not-linearizable'
      ? false
      : result.verdict === 'unknown'
        ? 'unknown'
        : true;
  return {
    key,
    valid,
    operations: operations.length,
    searched: searchOperations.length,
    steps: result.steps,
    ...(result.verdict === 'unknown' ? { reason: result.reason } : {}),
  };
}

/** Every value read must come from a write or cas that succeeded or may have. */
function checkValuesWritten(key: string, operations: readonly Operation[]): Anomaly[] {
  const mayHaveWritten = new Set<string>();
  const failedWriters = new Map<string, Operation>();
  for (const operation of operations) {
    if (operation.f === 'read') continue;
    if (operation.type === 'fail') failedWriters.set(writtenValue(operation), operation);
    else mayHaveWritten.add(writtenValue(operation));
  }
  const anomalies: Anomaly[] = [];
  for (const operation of operations) {
    if (operation.f !== 'read' || operation.type !== 'ok') continue;
    const { value } = readResult(operation);
    if (value === null || mayHaveWritten.has(value)) continue;
    const failed = failedWriters.get(value);
    anomalies.push(
      failed === undefined
        ? {
            type: 'read-of-unwritten-value',
            key,
            message: `read ${operation.id} saw ${value}, which no operation wrote`,
            operations: [summarizeOperation(operation)],
          }
        : {
            type: 'failed-write-visible',
            key,
            message: `read ${operation.id} saw ${value}, written by ${failed.f} ${failed.id} that answered a definite failure (${failed.error ?? 'fail'})`,
            operations: [summarizeOperation(failed), summarizeOperation(operation)],
          },
    );
  }
  return anomalies;
}

/** Each observed (value, version) pair: one version per value, one value per version. */
function observedVersions(
  operations: readonly Operation[],
): { value: string; version: number; operation: Operation }[] {
  const observed: { value: string; version: number; operation: Operation }[] = [];
  for (const operation of operations) {
    if (operation.type !== 'ok') continue;
    if (operation.f === 'read') {
      const { value, version } = readResult(operation);
      if (value !== null) observed.push({ value, version, operation });
    } else {
      const version = (operation.output as { version?: unknown } | null)?.version;
      if (typeof version !== 'number')
        throw new Error(`register history: ${operation.f} ${operation.id} answered ok without a version`);
      observed.push({ value: writtenValue(operation), version, operation });
    }
  }
  return observed;
}

function checkVersions(key: string, operations: readonly Operation[]): Anomaly[] {
  const byValue = new Map<string, { version: number; operation: Operation }>();
  const byVersion = new Map<number, { value: string; operation: Operation }>();
  const anomalies: Anomaly[] = [];
  for (const { value, version, operation } of observedVersions(operations)) {
    const seenVersion = byValue.get(value);
    if (seenVersion !== undefined && seenVersion.version !== version) {
      anomalies.push({
        type: 'value-with-two-versions',
        key,
        message: `${value} was seen at version ${seenVersion.version} and at version ${version}: one write applied twice?`,
        operations: [summarizeOperation(seenVersion.operation), summarizeOperation(operation)],
      });
    }
    const seenValue = byVersion.get(version);
    if (seenValue !== undefined && seenValue.value !== value) {
      anomalies.push({
        type: 'version-with-two-values',
        key,
        message: `version ${version} was seen holding ${seenValue.value} and ${value}`,
        operations: [summarizeOperation(seenValue.operation), summarizeOperation(operation)],
      });
    }
    byValue.set(value, { version, operation });
    byVersion.set(version, { value, operation });
  }
  return anomalies;
}

function versionTable(operations: readonly Operation[]): Map<RegisterValue, number> {
  const table = new Map<RegisterValue, number>();
  for (const { value, version } of observedVersions(operations)) if (!table.has(value)) table.set(value, version);
  return table;
}

const maxReportedOperations = 12;

/** The end of the longest partial linearization, the operation that could not be placed, and
 *  the operations that were candidates then: the smallest window that shows the problem. */
function nonLinearizable(
  key: string,
  operations: readonly Operation[],
  result: Extract<SearchResult, { verdict: 'not-linearizable' }>,
): Anomaly {
  const byId = new Map(operations.map((operation) => [operation.id, operation]));
  const summary = (id: number) => summarizeOperation(byId.get(id)!);
  const { stuck } = result;
  const blocking = byId.get(stuck.blocking)!;
  const witness = staleReadWitness(operations, blocking);
  if (witness !== null) {
    const [read, overwriter, writer] = [...witness].reverse() as [Operation, Operation, Operation | undefined];
    const since = writer === undefined ? 'the key was absent' : `${writer.f} ${writer.id} wrote it`;
    return {
      type: 'non-linearizable',
      key,
      message: `stale read: ${read.f} ${read.id} returned ${describe(read)} although ${overwriter.f} ${overwriter.id} replaced that value (it began after ${since} and returned before the read began)`,
      operations: witness.map(summarizeOperation),
      details: { blocking: stuck.blocking, steps: result.steps },
    };
  }
  const lastPlaced = stuck.linearized.slice(-maxReportedOperations);
  return {
    type: 'non-linearizable',
    key,
    message: `no linearization of ${key} explains ${blocking.f} ${blocking.id} (${describe(blocking)}): after ${stuck.linearized.length} operations the register holds ${stuck.state}, and none of the ${stuck.pending.length} pending operations can be placed before it returns`,
    operations: [...lastPlaced.map(summary), summary(stuck.blocking)],
    details: {
      linearizedCount: stuck.linearized.length,
      lastLinearized: lastPlaced,
      stateAfterThem: stuck.state,
      blocking: stuck.blocking,
      pending: stuck.pending.slice(0, maxReportedOperations * 2).map(summary),
      steps: result.steps,
    },
  };
}

/**
 * The smallest proof that a read was stale, when there is one: the write W of the value read
 * and an acknowledged write X of another value with W → X → read in real time (X began after
 * W returned and returned before the read began); for a read of "absent", any acknowledged
 * write that returned before the read began. Values are unique, so the read cannot be right.
 */
function staleReadWitness(operations: readonly Operation[], read: Operation): Operation[] | null {
  if (read.f !== 'read' || read.type !== 'ok') return null;
  const { value } = readResult(read);
  const writes = operations.filter((operation) => operation.f !== 'read' && operation.type === 'ok');
  const writer = value === null ? null : writes.find((operation) => writtenValue(operation) === value);
  if (writer === undefined) return null;
  const afterNs = writer === null ? -Infinity : writer.returnNs;
  const overwriter = writes.find(
    (operation) =>
      operation.invokeNs > afterNs && operation.returnNs < read.invokeNs && writtenValue(operation) !== value,
  );
  if (overwriter === undefined) return null;
  return writer === null ? [overwriter, read] : [writer, overwriter, read];
}

function describe(operation: Operation): string {
  if (operation.f === 'read') return `read ${JSON.stringify(readResult(operation).value)}`;
  if (isMismatch(operation))
    return `cas from ${JSON.stringify((operation.input as { expected: unknown }).expected)} answered 412`;
  return `${operation.f} ${JSON.stringify(operation.input)} → ${operation.type}`;
}
