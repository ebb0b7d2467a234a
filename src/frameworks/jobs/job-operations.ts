// The writes behind the Metronome API, each one compare-and-set of one job record (or the
// creation or deletion of one), validated first so bad input changes nothing. Killing the
// tasks of a stopped run happens after its record is written (the caller's `kill`).
import { JobsError, invalid, unknownJob, unknownRun, unknownSchedule } from './errors.ts';
import { findRun, newJobRecord } from './job-record.ts';
import { parseJobSpec } from './job-spec.ts';
import { JobConflictError, JobLimitError, type JobStore, type RecordStamp } from './job-store.ts';
import { maxSchedulesPerJob } from './limits.ts';
import type { JobRecord, JobRun, JobSpec, RunId, ScheduleSpec } from './model.ts';
import { liveTasks, requestStop, RunLimitError, startRun } from './run-transitions.ts';
import { parseScheduleSpec } from './schedule-spec.ts';
import { Problems } from './validation.ts';

export interface OperationContext {
  readonly store: JobStore;
  readonly now: () => number;
  readonly instance: string;
  readonly newRunId: (now: number) => RunId;
  /** Kills live tasks (best effort; a task that survives is killed when its next update arrives). */
  readonly kill: (taskIds: readonly { taskId: string; agentId: string | null }[]) => void;
  /** A keyed API write's mark on the record it writes (Idempotency-Key), or none. */
  readonly stamp?: RecordStamp;
}

function parsedOrThrow<Value>(parsed: Value | Problems): Value {
  if (parsed instanceof Problems) throw invalid(parsed.details());
  return parsed;
}

/** Dependencies name existing jobs and make no cycle (Chronos' DAG). */
function checkDependencies(store: JobStore, spec: JobSpec): void {
  const problems = new Problems();
  spec.dependencies.forEach((dependency, index) => {
    if (store.get(dependency.id) === undefined)
      problems.add(`/dependencies/${index}/id`, `Job '${dependency.id}' does not exist`);
  });
  const parentsOf = (id: string): readonly string[] =>
    id === spec.id
      ? spec.dependencies.map((dependency) => dependency.id)
      : (store.get(id)?.spec.dependencies.map((d) => d.id) ?? []);
  const seen = new Set<string>();
  const stack = [...parentsOf(spec.id)];
  while (stack.length > 0 && problems.empty) {
    const id = stack.pop()!;
    if (id === spec.id) problems.add('/dependencies', `the dependencies make a cycle through '${spec.id}'`);
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...parentsOf(id));
  }
  if (!problems.empty) throw invalid(problems.details());
}

function parseSchedules(raw: readonly unknown[] | undefined): ScheduleSpec[] {
  if (raw === undefined) return [];
  const problems = new Problems();
  if (raw.length > maxSchedulesPerJob) problems.add('/schedules', `at most ${maxSchedulesPerJob} schedule per job`);
  const schedules: ScheduleSpec[] = [];
  raw.forEach((item, index) => {
    const parsed = parseScheduleSpec(item, `/schedules/${index}`);
    if (parsed instanceof Problems)
      for (const detail of parsed.details()) for (const error of detail.errors) problems.add(detail.path, error);
    else schedules.push(parsed);
  });
  if (!problems.empty) throw invalid(problems.details());
  return schedules;
}

export async function createJob(context: OperationContext, body: unknown): Promise<JobRecord> {
  const parsed = parsedOrThrow(parseJobSpec(body));
  const schedules = parseSchedules(parsed.schedules);
  checkDependencies(context.store, parsed.spec);
  let record = newJobRecord(parsed.spec, schedules, context.now());
  try {
    record = await context.store.create(record, context.stamp);
  } catch (error) {
    if (error instanceof JobConflictError) throw new JobsError('JOB_ALREADY_EXISTS');
    if (error instanceof JobLimitError)
      throw new JobsError('JOB_LIMIT', `${JobsError.messageOf('JOB_LIMIT')}: ${error.message}`);
    throw error;
  }
  return record;
}

/** PUT /v1/jobs/{id}: the spec is replaced; schedules, runs and history stay (JobSpecController.updateJob). */
export async function updateJob(context: OperationContext, id: string, body: unknown): Promise<JobRecord> {
  if (context.store.get(id) === undefined) throw unknownJob(id);
  const parsed = parsedOrThrow(parseJobSpec(body, id));
  checkDependencies(context.store, parsed.spec);
  const written = await context.store.update(
    id,
    (record) => {
      const kept = new Set(parsed.spec.dependencies.map((dependency) => dependency.id as string));
      const consumed = Object.fromEntries(
        Object.entries(record.consumedParentRuns).filter(([parent]) => kept.has(parent)),
      );
      return { record: { ...record, spec: parsed.spec, consumedParentRuns: consumed }, result: null };
    },
    context.stamp,
  );
  if (written === undefined || written === null) throw unknownJob(id);
  return written.record;
}

function sameSchedule(left: ScheduleSpec, right: ScheduleSpec): boolean {
  return (
    left.id === right.id &&
    left.cron === right.cron &&
    left.timezone === right.timezone &&
    left.startingDeadlineSeconds === right.startingDeadlineSeconds &&
    left.concurrencyPolicy === right.concurrencyPolicy &&
    left.enabled === right.enabled
  );
}

/**
 * PUT /v0/scheduled-jobs/{id} (Metronome's v0 ScheduledJobSpecController): the spec and all its
 * schedules are replaced (none given: none kept); runs and history stay. A schedule kept unchanged
 * keeps its cursor, so no slot it handled runs again; a new or changed one starts at now.
 */
export async function replaceScheduledJob(context: OperationContext, id: string, body: unknown): Promise<JobRecord> {
  if (context.store.get(id) === undefined) throw unknownJob(id);
  const parsed = parsedOrThrow(parseJobSpec(body, id));
  const schedules = parseSchedules(parsed.schedules ?? []);
  checkDependencies(context.store, parsed.spec);
  const written = await context.store.update(
    id,
    (record) => {
      const now = context.now();
      const unchanged = (schedule: ScheduleSpec): boolean =>
        record.schedules.some((old) => sameSchedule(old, schedule));
      const cursors = Object.fromEntries(
        schedules.map((schedule) => [
          schedule.id,
          unchanged(schedule) && record.cursors[schedule.id] !== undefined
            ? record.cursors[schedule.id]!
            : { handledThrough: now },
        ]),
      );
      const kept = new Set(parsed.spec.dependencies.map((dependency) => dependency.id as string));
      const consumed = Object.fromEntries(
        Object.entries(record.consumedParentRuns).filter(([parent]) => kept.has(parent)),
      );
      return {
        record: { ...record, spec: parsed.spec, schedules, cursors, consumedParentRuns: consumed },
        result: null,
      };
    },
    context.stamp,
  );
  if (written === undefined || written === null) throw unknownJob(id);
  return written.record;
}

export async function deleteJob(context: OperationContext, id: string, stopCurrentJobRuns: boolean): Promise<JobSpec> {
  const record = context.store.get(id);
  if (record === undefined) throw unknownJob(id);
  const dependents = context.store.records().filter((other) => other.spec.dependencies.some((d) => d.id === id));
  if (dependents.length > 0)
    throw new JobsError(
      'JOB_HAS_DEPENDENTS',
      `Jobs ${dependents.map((other) => other.spec.id).join(', ')} depend on this job`,
    );
  let live: { taskId: string; agentId: string | null }[] = [];
  const removed = await context.store.remove(id, (current) => {
    if (current.activeRuns.length > 0 && !stopCurrentJobRuns) throw new JobsError('JOB_HAS_ACTIVE_RUNS');
    live = current.activeRuns.flatMap((run) =>
      liveTasks(run).map((task) => ({ taskId: task.id, agentId: task.agentId })),
    );
  });
  if (!removed) throw unknownJob(id);
  context.kill(live);
  return record.spec;
}

/** POST /v1/jobs/{id}/runs: one replicated decision, then the launcher places it. */
export async function startManualRun(context: OperationContext, id: string): Promise<JobRun> {
  const written = await context.store.update(
    id,
    (record) => {
      const now = context.now();
      const runId = context.newRunId(now);
      try {
        return { record: startRun(record, runId, { kind: 'manual' }, now, context.instance), result: runId };
      } catch (error) {
        if (error instanceof RunLimitError) throw new JobsError('JOB_RUN_LIMIT', error.message);
        throw error;
      }
    },
    context.stamp,
  );
  if (written === undefined || written === null) throw unknownJob(id);
  return findRun(written.record, written.result)!;
}

export async function stopRun(context: OperationContext, id: string, runId: string): Promise<JobRun> {
  const record = context.store.get(id);
  if (record === undefined) throw unknownJob(id);
  const found = findRun(record, runId);
  if (found === undefined) throw unknownRun(id, runId);
  const written = await context.store.update(
    id,
    (current) => {
      const run = current.activeRuns.find((candidate) => candidate.id === runId);
      if (run === undefined) return null;
      return { record: requestStop(current, runId, 'stopped by an operator', context.now()), result: liveTasks(run) };
    },
    context.stamp,
  );
  if (written === undefined) throw unknownJob(id);
  if (written === null) return findRun(context.store.get(id) ?? record, runId) ?? found;
  context.kill(written.result.map((task) => ({ taskId: task.id, agentId: task.agentId })));
  return findRun(written.record, runId)!;
}

type ScheduleChange = 'create' | 'replace';

/** POST (create) or PUT (replace) of a schedule; the cursor starts at now, so no past slot runs. */
export async function putSchedule(
  context: OperationContext,
  id: string,
  body: unknown,
  change: ScheduleChange,
  scheduleId?: string,
): Promise<ScheduleSpec> {
  if (context.store.get(id) === undefined) throw unknownJob(id);
  const schedule = parsedOrThrow(parseScheduleSpec(body, '', scheduleId));
  const written = await context.store.update(
    id,
    (record) => {
      const exists = record.schedules.some((candidate) => candidate.id === schedule.id);
      if (change === 'create' && exists)
        throw new JobsError('JOB_SCHEDULE_CONFLICT', 'Can only create a non existing schedule');
      if (change === 'create' && record.schedules.length >= maxSchedulesPerJob)
        throw new JobsError('JOB_SCHEDULE_CONFLICT');
      if (change === 'replace' && !exists) throw unknownSchedule(schedule.id);
      const schedules = [...record.schedules.filter((candidate) => candidate.id !== schedule.id), schedule];
      const cursors = { ...record.cursors, [schedule.id]: { handledThrough: context.now() } };
      return { record: { ...record, schedules, cursors }, result: schedule };
    },
    context.stamp,
  );
  if (written === undefined || written === null) throw unknownJob(id);
  return written.result;
}

export async function deleteSchedule(context: OperationContext, id: string, scheduleId: string): Promise<void> {
  if (context.store.get(id) === undefined) throw unknownJob(id);
  const written = await context.store.update(
    id,
    (record) => {
      if (!record.schedules.some((candidate) => candidate.id === scheduleId)) throw unknownSchedule(scheduleId);
      const schedules = record.schedules.filter((candidate) => candidate.id !== scheduleId);
      const { [scheduleId]: _removed, ...cursors } = record.cursors;
      return { record: { ...record, schedules, cursors }, result: null };
    },
    context.stamp,
  );
  if (written === undefined) throw unknownJob(id);
}
