// report.json: what a person (or CI) needs to judge a run without opening the history.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Anomaly, Validity } from '../checker/anomaly.ts';
import type { Operation } from '../history/operations.ts';
import type { FaultRecord } from '../nemesis/nemesis.ts';
import {
  countByFunction,
  countErrors,
  countOperations,
  faultImpact,
  type FaultImpact,
  round,
  summarizeLatency,
} from './stats.ts';

export interface RunDescription {
  readonly workload: string;
  readonly nemesis: string;
  readonly network: string;
  readonly networkDetail: string;
  readonly nodes: number;
  readonly clients: number;
  readonly seed: number;
  readonly timeSeconds: number;
  readonly quietSeconds: number;
  readonly ratePerSecond: number;
  readonly startedAt: string;
  readonly outputDir: string;
}

export interface Report extends RunDescription {
  readonly valid: Validity;
  readonly ops: number;
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
  readonly byFunction: Record<string, unknown>;
  readonly errors: Record<string, number>;
  readonly latency: { p50: number; p99: number; max: number; byFunction: Record<string, unknown> };
  readonly faults: readonly (FaultRecord & FaultImpact)[];
  readonly anomalies: readonly Anomaly[];
  readonly checker: Readonly<Record<string, unknown>>;
  readonly durationSeconds: number;
  readonly notes: readonly string[];
}

export function buildReport(
  description: RunDescription,
  operations: readonly Operation[],
  faults: readonly FaultRecord[],
  check: { valid: Validity; anomalies: readonly Anomaly[]; summary: Readonly<Record<string, unknown>> },
  durationSeconds: number,
  notes: readonly string[],
): Report {
  const counts = countOperations(operations);
  const overall = summarizeLatency(operations);
  const byFunctionLatency: Record<string, unknown> = {};
  for (const f of new Set(operations.map((operation) => operation.f))) {
    byFunctionLatency[f] = summarizeLatency(operations.filter((operation) => operation.f === f));
  }
  return {
    valid: check.valid,
    ...description,
    ...counts,
    byFunction: countByFunction(operations),
    errors: countErrors(operations),
    latency: { p50: overall.p50, p99: overall.p99, max: overall.max, byFunction: byFunctionLatency },
    faults: faults.map((fault) => ({
      ...fault,
      startMs: round(fault.startMs),
      healMs: round(fault.healMs),
      endMs: round(fault.endMs),
      ...faultImpact(fault, operations),
    })),
    anomalies: check.anomalies,
    checker: check.summary,
    durationSeconds: round(durationSeconds),
    notes,
  };
}

export function writeReport(outputDir: string, report: Report): string {
  const file = path.join(outputDir, 'report.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
