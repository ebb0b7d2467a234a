// Records rendered as Metronome's v1 JSON (api/v1/models: JobSpecFormat, ScheduleSpecFormat with
// `nextRunAt`, JobRunWrites, JobHistoryWrites, JobInfo with its optional embeds). Flotilla's
// extensions are extra fields a Metronome client ignores: `dependencies` on a job, `trigger`
// and `placement` on a run, `skippedSlots` in history.
import { isLiveTask } from '../run-transitions.ts';
import type { JobHistory, JobRecord, JobRun, JobSpec, RunInfo, RunTask, ScheduleSpec } from '../model.ts';
import { taskIdFor } from '../task-launch.ts';
import { formatTime } from '../run-ids.ts';
import { nextSlotAfter } from '../schedule-calculator.ts';

const time = (epochMs: number | null): string | null => (epochMs === null ? null : formatTime(epochMs));

export function jobSpecJson(spec: JobSpec): Record<string, unknown> {
  return {
    id: spec.id,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    labels: spec.labels,
    run: spec.run,
    ...(spec.dependencies.length === 0 ? {} : { dependencies: spec.dependencies }),
  };
}

/** The v0 ScheduledJobSpec: the JobSpec with its schedules. */
export function scheduledJobJson(record: JobRecord, now: number): Record<string, unknown> {
  return { ...jobSpecJson(record.spec), schedules: record.schedules.map((schedule) => scheduleJson(schedule, now)) };
}

export function scheduleJson(schedule: ScheduleSpec, now: number): Record<string, unknown> {
  const next = schedule.enabled ? nextSlotAfter(schedule, now) : null;
  return { ...schedule, nextRunAt: time(next) };
}

function taskJson(task: RunTask): Record<string, unknown> {
  return {
    id: task.id,
    // LAUNCHING: the ACCEPT is sent and no status arrived yet, which Mesos reports as staging.
    status: task.state === 'LAUNCHING' ? 'TASK_STAGING' : task.state,
    startedAt: time(task.startedAt ?? task.launchedAt),
    completedAt: time(task.completedAt),
    ...(task.agentId === null ? {} : { agentId: task.agentId }),
    ...(task.message === null ? {} : { message: task.message }),
  };
}

export function runJson(
  jobId: string,
  run: JobRun,
  placement: { processedOffers: number; unusedOffers: Record<string, number> } | null,
): Record<string, unknown> {
  const waiting = !run.tasks.some(isLiveTask) && (run.status === 'INITIAL' || run.status === 'STARTING');
  return {
    id: run.id,
    jobId,
    status: run.status,
    createdAt: formatTime(run.createdAt),
    completedAt: time(run.completedAt),
    tasks: run.tasks.map(taskJson),
    trigger: run.trigger.kind === 'schedule' ? { ...run.trigger, slotAt: formatTime(run.trigger.slotAt) } : run.trigger,
    attempts: run.attempts,
    ...(run.reason === null ? {} : { reason: run.reason }),
    ...(waiting && placement !== null ? { placement } : {}),
  };
}

export function historySummaryJson(history: JobHistory): Record<string, unknown> {
  return {
    successCount: history.successCount,
    failureCount: history.failureCount,
    lastSuccessAt: time(history.lastSuccessAt),
    lastFailureAt: time(history.lastFailureAt),
  };
}

/** Metronome's JobHistory; each entry is its JobRunInfo (id, createdAt, finishedAt, tasks: the task ids). */
export function historyJson(jobId: string, history: JobHistory): Record<string, unknown> {
  const info = (run: RunInfo) => ({
    id: run.id,
    createdAt: formatTime(run.createdAt),
    finishedAt: formatTime(run.finishedAt),
    tasks: (run.taskAttempts ?? []).map((attempt) => taskIdFor(jobId, run.id, attempt)),
  });
  return {
    ...historySummaryJson(history),
    successfulFinishedRuns: [...history.successfulFinishedRuns].reverse().map(info),
    failedFinishedRuns: [...history.failedFinishedRuns].reverse().map(info),
    skippedSlots: [...history.skippedSlots].reverse().map((entry) => ({
      ...entry,
      firstSlotAt: formatTime(entry.firstSlotAt),
      lastSlotAt: formatTime(entry.lastSlotAt),
      recordedAt: formatTime(entry.recordedAt),
    })),
  };
}

export type Embed = 'activeRuns' | 'schedules' | 'history' | 'historySummary';
export const embeds: readonly Embed[] = ['activeRuns', 'schedules', 'history', 'historySummary'];

/** JobInfo: the spec and the embeds asked for (absent ones are left out, as Play writes None). */
export function jobInfoJson(
  record: JobRecord,
  embed: ReadonlySet<Embed>,
  now: number,
  placement: (runId: string) => { processedOffers: number; unusedOffers: Record<string, number> } | null,
): Record<string, unknown> {
  return {
    ...jobSpecJson(record.spec),
    ...(embed.has('schedules') ? { schedules: record.schedules.map((schedule) => scheduleJson(schedule, now)) } : {}),
    ...(embed.has('activeRuns')
      ? { activeRuns: record.activeRuns.map((run) => runJson(record.spec.id, run, placement(run.id))) }
      : {}),
    ...(embed.has('history') ? { history: historyJson(record.spec.id, record.history) } : {}),
    ...(embed.has('historySummary') ? { historySummary: historySummaryJson(record.history) } : {}),
  };
}
