// One tick of the active instance: for every job, the schedule slots that came due, the
// dependent runs whose parents succeeded, and the runs that waited past maxLaunchDelay — all
// decided from one reading of the clock and written as one compare-and-set of the job's
// record. Launches follow from the written record (the launcher), never from the tick itself.
import type { Logger } from '../../util/logger.ts';
import type { JobStore } from './job-store.ts';
import type { FinishedRunSummary, JobRecord, RunId } from './model.ts';
import { expireLaunchDelays, liveTasks } from './run-transitions.ts';
import { type Decision, decideDependencies, decideSchedules } from './slot-decisions.ts';

export interface TickContext {
  readonly store: JobStore;
  readonly now: () => number;
  readonly instance: string;
  readonly newRunId: (now: number) => RunId;
  readonly explainWaiting: (runId: string) => string;
  readonly kill: (tasks: readonly { taskId: string; agentId: string | null }[]) => void;
  readonly logger: Logger;
}

interface TickResult {
  readonly decision: Decision | null;
  readonly expired: readonly RunId[];
  readonly decidedAt: number;
}

function parentsOf(store: JobStore, record: JobRecord): Map<string, FinishedRunSummary | null> {
  return new Map(record.spec.dependencies.map(({ id }) => [id, store.get(id)?.lastFinished ?? null]));
}

/** The whole decision for one job at `now`, or null when nothing changes. */
export function decideJob(
  context: TickContext,
  record: JobRecord,
  now: number,
): { record: JobRecord; result: TickResult } | null {
  const decisionContext = { now, instance: context.instance, newRunId: () => context.newRunId(now) };
  const scheduled = decideSchedules(record, decisionContext);
  const afterSchedules = scheduled?.record ?? record;
  const dependent = decideDependencies(afterSchedules, parentsOf(context.store, afterSchedules), decisionContext);
  const afterDependencies = dependent?.record ?? afterSchedules;
  const { record: afterExpiry, expired } = expireLaunchDelays(afterDependencies, now, (run) =>
    context.explainWaiting(run.id),
  );
  if (scheduled === null && dependent === null && expired.length === 0) return null;
  const decision: Decision = {
    record: afterExpiry,
    started: [...(scheduled?.started ?? []), ...(dependent?.started ?? [])],
    stopping: scheduled?.stopping ?? [],
  };
  return { record: afterExpiry, result: { decision, expired, decidedAt: now } };
}

export async function tickJob(context: TickContext, jobId: string): Promise<void> {
  const written = await context.store.update(jobId, (record) => decideJob(context, record, context.now()));
  if (written === null || written === undefined) return;
  const { decision, expired, decidedAt } = written.result;
  for (const runId of decision?.started ?? []) {
    const run = written.record.activeRuns.find((candidate) => candidate.id === runId);
    context.logger.info({ jobId, runId, trigger: run?.trigger, decidedAt }, 'run started');
  }
  const skipped = written.record.history.skippedSlots.filter((entry) => entry.recordedAt === decidedAt);
  for (const entry of skipped) context.logger.warn({ jobId, ...entry }, 'schedule slots skipped');
  for (const runId of expired) context.logger.warn({ jobId, runId }, 'run failed: not launched within maxLaunchDelay');
  for (const runId of decision?.stopping ?? []) {
    const run = written.record.activeRuns.find((candidate) => candidate.id === runId);
    if (run !== undefined) context.kill(liveTasks(run).map((task) => ({ taskId: task.id, agentId: task.agentId })));
  }
}
