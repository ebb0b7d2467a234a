// Counts and latencies of a history, and how each fault was felt by the clients.
import type { Operation } from '../history/operations.ts';
import type { FaultRecord } from '../nemesis/nemesis.ts';

export interface Counts {
  ops: number;
  ok: number;
  fail: number;
  info: number;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export function countOperations(operations: readonly Operation[]): Counts {
  const counts: Counts = { ops: operations.length, ok: 0, fail: 0, info: 0 };
  for (const operation of operations) counts[operation.type] += 1;
  return counts;
}

export function countByFunction(operations: readonly Operation[]): Record<string, Counts> {
  const byFunction: Record<string, Counts> = {};
  for (const operation of operations) {
    const counts = byFunction[operation.f] ?? { ops: 0, ok: 0, fail: 0, info: 0 };
    byFunction[operation.f] = counts;
    counts.ops += 1;
    counts[operation.type] += 1;
  }
  return byFunction;
}

/** How often each error code ended an operation (fail and info), most frequent first. */
export function countErrors(operations: readonly Operation[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const operation of operations) {
    if (operation.type === 'ok') continue;
    const code = `${operation.type}:${operation.error ?? 'unknown'}`;
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return Object.fromEntries([...counts.entries()].sort((left, right) => right[1] - left[1]));
}

export function latencyMs(operation: Operation): number {
  return (operation.completeNs - operation.invokeNs) / 1e6;
}

/** Latency of the operations that completed ok, in ms (nearest-rank percentiles). */
export function summarizeLatency(operations: readonly Operation[]): LatencySummary {
  const latencies = operations
    .filter((operation) => operation.type === 'ok')
    .map(latencyMs)
    .sort((left, right) => left - right);
  const percentile = (fraction: number) =>
    latencies.length === 0 ? 0 : latencies[Math.min(latencies.length - 1, Math.ceil(fraction * latencies.length) - 1)]!;
  return {
    p50: round(percentile(0.5)),
    p99: round(percentile(0.99)),
    max: round(latencies.at(-1) ?? 0),
    count: latencies.length,
  };
}

const writeFunctions = new Set(['write', 'cas', 'add', 'launch']);

export interface FaultImpact {
  /** From the fault's start to the completion of the first write invoked after it that
   *  succeeded: how long writes were unavailable (a failover, for a killed leader). */
  readonly firstOkWriteAfterStartMs: number | null;
  /** From the heal to the completion of the first write invoked after it that succeeded. */
  readonly recoveryMs: number | null;
  /** Writes that succeeded while the fault was active. */
  readonly okWritesDuring: number;
  readonly failedOrUnknownDuring: number;
}

export function faultImpact(fault: FaultRecord, operations: readonly Operation[]): FaultImpact {
  const startNs = fault.startMs * 1e6;
  const healNs = fault.healMs * 1e6;
  let recoveryNs: number | null = null;
  let availableNs: number | null = null;
  let okWritesDuring = 0;
  let failedOrUnknownDuring = 0;
  for (const operation of operations) {
    if (!writeFunctions.has(operation.f)) continue;
    const during = operation.completeNs >= startNs && operation.invokeNs <= healNs;
    if (during && operation.type === 'ok') okWritesDuring += 1;
    if (during && operation.type !== 'ok') failedOrUnknownDuring += 1;
    if (operation.type === 'ok' && operation.invokeNs >= startNs) {
      const afterNs = operation.completeNs - startNs;
      if (availableNs === null || afterNs < availableNs) availableNs = afterNs;
    }
    if (operation.type === 'ok' && operation.invokeNs >= healNs) {
      const afterNs = operation.completeNs - healNs;
      if (recoveryNs === null || afterNs < recoveryNs) recoveryNs = afterNs;
    }
  }
  return {
    firstOkWriteAfterStartMs: availableNs === null ? null : round(availableNs / 1e6),
    recoveryMs: recoveryNs === null ? null : round(recoveryNs / 1e6),
    okWritesDuring,
    failedOrUnknownDuring,
  };
}

export function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** The largest value, 0 for none (no spread: histories have more items than a call has arguments). */
export function maximum(values: readonly number[]): number {
  let largest = 0;
  for (const value of values) if (value > largest) largest = value;
  return largest;
}
