// The KV record of one job: creation, its JSON codec (versioned, STYLE.md rule 10), and the
// small pure helpers the transitions share. A record read back is checked before use: the
// KV store is shared, and a record this code cannot read must stop the job loudly, not be
// half-understood.
import { maxFinishedRunsKept, maxHistoryRunsPerList } from './limits.ts';
import { parseTaskId } from './task-launch.ts';
import {
  emptyHistory,
  type JobRecord,
  type JobRun,
  type JobSpec,
  type RunId,
  type RunInfo,
  type ScheduleSpec,
  type SkippedSlots,
} from './model.ts';

export const recordFormatVersion = 1;

export class RecordFormatError extends Error {
  override name = 'RecordFormatError';
}

export function newJobRecord(spec: JobSpec, schedules: readonly ScheduleSpec[], now: number): JobRecord {
  return {
    formatVersion: recordFormatVersion,
    spec,
    schedules,
    cursors: Object.fromEntries(schedules.map((schedule) => [schedule.id, { handledThrough: now }])),
    activeRuns: [],
    finishedRuns: [],
    history: emptyHistory(),
    lastFinished: null,
    consumedParentRuns: {},
  };
}

export function encodeRecord(record: JobRecord): string {
  return JSON.stringify(record);
}

export function decodeRecord(key: string, text: string): JobRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RecordFormatError(`${key}: not JSON (${(error as Error).message})`);
  }
  const record = parsed as Partial<JobRecord> | null;
  if (typeof record !== 'object' || record === null) throw new RecordFormatError(`${key}: not an object`);
  if (record.formatVersion !== recordFormatVersion)
    throw new RecordFormatError(`${key}: format version ${String(record.formatVersion)}, this build reads 1`);
  const arrays = [record.schedules, record.activeRuns, record.finishedRuns];
  if (typeof record.spec?.id !== 'string' || !arrays.every(Array.isArray) || typeof record.history !== 'object')
    throw new RecordFormatError(`${key}: not a job record`);
  return record as JobRecord;
}

export function findRun(record: JobRecord, runId: string): JobRun | undefined {
  return record.activeRuns.find((run) => run.id === runId) ?? record.finishedRuns.find((run) => run.id === runId);
}

export function replaceRun(record: JobRecord, run: JobRun): JobRecord {
  const index = record.activeRuns.findIndex((candidate) => candidate.id === run.id);
  if (index < 0) throw new Error(`replaceRun: run ${run.id} is not active in job ${record.spec.id}`);
  const activeRuns = [...record.activeRuns];
  activeRuns[index] = run;
  return { ...record, activeRuns };
}

/** The newest `max` of `items` (items are appended in time order). */
export function keepNewest<Item>(items: readonly Item[], max: number): Item[] {
  return items.length <= max ? [...items] : items.slice(items.length - max);
}

/** Moves a run that reached SUCCESS or FAILED from the active runs into history. */
export function retireRun(record: JobRecord, run: JobRun): JobRecord {
  if (run.status !== 'SUCCESS' && run.status !== 'FAILED') throw new Error(`retireRun: run ${run.id} is ${run.status}`);
  if (run.completedAt === null) throw new Error(`retireRun: run ${run.id} has no completedAt`);
  const taskAttempts = run.tasks.flatMap((task) => {
    const parsed = parseTaskId(task.id);
    return parsed === null ? [] : [parsed.attempt];
  });
  const info: RunInfo = { id: run.id, createdAt: run.createdAt, finishedAt: run.completedAt, taskAttempts };
  const history = record.history;
  const succeeded = run.status === 'SUCCESS';
  return {
    ...record,
    activeRuns: record.activeRuns.filter((candidate) => candidate.id !== run.id),
    finishedRuns: keepNewest([...record.finishedRuns, run], maxFinishedRunsKept),
    history: {
      ...history,
      successCount: history.successCount + (succeeded ? 1 : 0),
      failureCount: history.failureCount + (succeeded ? 0 : 1),
      lastSuccessAt: succeeded ? run.completedAt : history.lastSuccessAt,
      lastFailureAt: succeeded ? history.lastFailureAt : run.completedAt,
      successfulFinishedRuns: succeeded
        ? keepNewest([...history.successfulFinishedRuns, info], maxHistoryRunsPerList)
        : history.successfulFinishedRuns,
      failedFinishedRuns: succeeded
        ? history.failedFinishedRuns
        : keepNewest([...history.failedFinishedRuns, info], maxHistoryRunsPerList),
    },
    lastFinished: { runId: run.id as RunId, status: run.status, finishedAt: run.completedAt },
  };
}

export function recordSkipped(record: JobRecord, skipped: SkippedSlots): JobRecord {
  const history = record.history;
  return {
    ...record,
    history: { ...history, skippedSlots: keepNewest([...history.skippedSlots, skipped], maxHistoryRunsPerList) },
  };
}
