// What the active instance decides on each tick, as pure functions of (record, now): which
// schedule slots start runs, which are skipped and why, and which dependent runs start. The
// caller writes the returned record with one compare-and-set before launching anything, so
// "slot S of schedule X starts as run R" is a replicated decision made exactly once: a second
// instance deciding the same slot from the same record version loses the CAS, re-reads, and
// finds the slot handled.
import { recordSkipped } from './job-record.ts';
import { maxActiveRunsPerJob, maxRunsStartedPerDecision } from './limits.ts';
import type { FinishedRunSummary, JobRecord, RunId, ScheduleSpec, SkipReason } from './model.ts';
import { requestStop, startRun } from './run-transitions.ts';
import { planSlots } from './schedule-calculator.ts';

export interface Decision {
  readonly record: JobRecord;
  /** Runs started by this decision. */
  readonly started: readonly RunId[];
  /** Runs asked to stop (REPLACE): the caller kills their live tasks after the write. */
  readonly stopping: readonly RunId[];
}

export interface DecisionContext {
  readonly now: number;
  readonly instance: string;
  readonly newRunId: () => RunId;
}

/** Every enabled schedule's slots in (cursor, now]; null when nothing is due or expired. */
export function decideSchedules(record: JobRecord, context: DecisionContext): Decision | null {
  let decision: Decision = { record, started: [], stopping: [] };
  let changed = false;
  for (const schedule of record.schedules) {
    if (!schedule.enabled) continue;
    const next = decideOneSchedule(decision, schedule, context);
    if (next !== null) {
      decision = next;
      changed = true;
    }
  }
  return changed ? decision : null;
}

function decideOneSchedule(decision: Decision, schedule: ScheduleSpec, context: DecisionContext): Decision | null {
  const cursor = decision.record.cursors[schedule.id]?.handledThrough ?? context.now;
  const plan = planSlots(schedule, cursor, context.now);
  if (plan.handledThrough === cursor) return null;
  let record = decision.record;
  if (plan.expired !== null) {
    record = recordSkipped(record, {
      scheduleId: schedule.id,
      ...plan.expired,
      reason: 'STARTING_DEADLINE_PASSED',
      recordedAt: context.now,
    });
  }
  const started = [...decision.started];
  const stopping = [...decision.stopping];
  let handledThrough = plan.expired?.lastSlotAt ?? cursor;
  for (const slotAt of plan.due) {
    if (started.length >= maxRunsStartedPerDecision) break;
    const skip = skipReason(record, schedule);
    if (skip !== null) {
      record = recordSkipped(record, {
        scheduleId: schedule.id,
        firstSlotAt: slotAt,
        lastSlotAt: slotAt,
        count: 1,
        reason: skip,
        recordedAt: context.now,
      });
    } else {
      if (schedule.concurrencyPolicy === 'REPLACE') {
        for (const run of record.activeRuns) {
          record = requestStop(
            record,
            run.id,
            `replaced by the run of slot ${new Date(slotAt).toISOString()}`,
            context.now,
          );
          stopping.push(run.id);
        }
      }
      const runId = context.newRunId();
      record = startRun(
        record,
        runId,
        { kind: 'schedule', scheduleId: schedule.id, slotAt },
        context.now,
        context.instance,
      );
      started.push(runId);
    }
    handledThrough = slotAt;
  }
  if (plan.due.length === 0) handledThrough = plan.handledThrough;
  record = { ...record, cursors: { ...record.cursors, [schedule.id]: { handledThrough } } };
  return { record, started, stopping };
}

function skipReason(record: JobRecord, schedule: ScheduleSpec): SkipReason | null {
  const active = record.activeRuns.filter((run) => !run.stopRequested);
  if (schedule.concurrencyPolicy === 'FORBID' && active.length > 0) return 'CONCURRENCY_FORBID';
  if (schedule.concurrencyPolicy !== 'REPLACE' && record.activeRuns.length >= maxActiveRunsPerJob)
    return 'TOO_MANY_ACTIVE_RUNS';
  return null;
}

/**
 * Chronos dependencies: the job starts once every parent's latest finished run succeeded and
 * is newer than the one its previous dependency run was started for. A parent whose latest
 * run failed holds the job back until it succeeds again. Null when nothing starts.
 */
export function decideDependencies(
  record: JobRecord,
  parents: ReadonlyMap<string, FinishedRunSummary | null>,
  context: DecisionContext,
): Decision | null {
  const dependencies = record.spec.dependencies;
  if (dependencies.length === 0 || record.activeRuns.length >= maxActiveRunsPerJob) return null;
  const consumed: Record<string, RunId> = {};
  for (const { id } of dependencies) {
    const latest = parents.get(id) ?? null;
    if (latest === null || latest.status !== 'SUCCESS') return null;
    if (record.consumedParentRuns[id] === latest.runId) return null;
    consumed[id] = latest.runId;
  }
  const runId = context.newRunId();
  const started = startRun(record, runId, { kind: 'dependencies', parents: consumed }, context.now, context.instance);
  return {
    record: { ...started, consumedParentRuns: { ...record.consumedParentRuns, ...consumed } },
    started: [runId],
    stopping: [],
  };
}
