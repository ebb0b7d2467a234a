// A job run's life as pure functions of (record, input, now) → record: created (INITIAL),
// a task launched (STARTING), running (ACTIVE), finished (SUCCESS / FAILED), restarted with
// back-off under ON_FAILURE until restart.activeDeadlineSeconds, aborted after maxLaunchDelay
// without a running task, stopped by an operator. The caller writes the result with one CAS
// and only then acts on it (launches, kills), so every act follows a replicated decision.
import type { TaskState } from '../../protocol/mesos.ts';
import { findRun, replaceRun, retireRun, keepNewest } from './job-record.ts';
import { maxActiveRunsPerJob, maxTasksPerRun } from './limits.ts';
import type { JobRecord, JobRun, RunId, RunTask, RunTrigger } from './model.ts';

/** Task states in which a task may still run (or be about to). */
const liveTaskStates: ReadonlySet<string> = new Set([
  'LAUNCHING',
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_UNREACHABLE',
]);

export function isLiveTask(task: RunTask): boolean {
  return liveTaskStates.has(task.state);
}

export function liveTasks(run: JobRun): RunTask[] {
  return run.tasks.filter(isLiveTask);
}

export class RunLimitError extends Error {
  override name = 'RunLimitError';
}

/** A new run in INITIAL, decided at `now` by `instance`; throws RunLimitError past maxActiveRunsPerJob. */
export function startRun(
  record: JobRecord,
  runId: RunId,
  trigger: RunTrigger,
  now: number,
  instance: string,
): JobRecord {
  if (record.activeRuns.length >= maxActiveRunsPerJob)
    throw new RunLimitError(`job ${record.spec.id} already has ${maxActiveRunsPerJob} active runs`);
  if (findRun(record, runId) !== undefined) throw new Error(`startRun: run id ${runId} is already used`);
  const run: JobRun = {
    id: runId,
    status: 'INITIAL',
    createdAt: now,
    completedAt: null,
    trigger,
    decidedBy: instance,
    tasks: [],
    attempts: 0,
    failures: 0,
    nextAttemptAt: null,
    stopRequested: false,
    reason: null,
  };
  return { ...record, activeRuns: [...record.activeRuns, run] };
}

/** Whether `run` waits for a task launch at `now`. */
export function needsLaunch(run: JobRun, now: number): boolean {
  if (run.stopRequested || (run.status !== 'INITIAL' && run.status !== 'STARTING')) return false;
  if (liveTasks(run).length > 0) return false;
  return run.nextAttemptAt === null || run.nextAttemptAt <= now;
}

/** The launch of `taskId` for `runId`, recorded before the ACCEPT is sent. */
export function recordLaunch(
  record: JobRecord,
  runId: string,
  taskId: string,
  agentId: string,
  now: number,
): JobRecord {
  const run = record.activeRuns.find((candidate) => candidate.id === runId);
  if (run === undefined || !needsLaunch(run, now)) throw new Error(`recordLaunch: run ${runId} does not need a launch`);
  const task: RunTask = {
    id: taskId,
    agentId,
    state: 'LAUNCHING',
    launchedAt: now,
    startedAt: null,
    completedAt: null,
    message: null,
  };
  return replaceRun(record, {
    ...run,
    status: 'STARTING',
    tasks: keepNewest([...run.tasks, task], maxTasksPerRun),
    attempts: run.attempts + 1,
    nextAttemptAt: null,
  });
}

/** How the launcher read a status update of one of our tasks. */
export type TaskOutcome =
  | 'progress'
  | 'finished'
  | 'failed'
  /** The task never ran (refused offer, or unknown to the master after its launch settled). */
  | 'not-launched';

export interface StatusInput {
  readonly taskId: string;
  readonly state: TaskState;
  readonly message: string | null;
  readonly outcome: TaskOutcome;
  /** The ON_FAILURE back-off before the next attempt, drawn by the caller. */
  readonly restartDelayMs: number;
}

export function findRunOfTask(record: JobRecord, taskId: string): JobRun | undefined {
  return record.activeRuns.find((run) => run.tasks.some((task) => task.id === taskId));
}

/** Applies one status update; null when it changes nothing (a duplicate, or a task we no longer track). */
export function applyTaskStatus(record: JobRecord, input: StatusInput, now: number): JobRecord | null {
  const run = findRunOfTask(record, input.taskId);
  const task = run?.tasks.find((candidate) => candidate.id === input.taskId);
  if (run === undefined || task === undefined || !isLiveTask(task)) return null;
  if (task.state === input.state && input.outcome === 'progress') return null;
  const running = input.state === 'TASK_RUNNING';
  const terminal = input.outcome !== 'progress';
  const updatedTask: RunTask = {
    ...task,
    state: input.outcome === 'not-launched' ? 'TASK_DROPPED' : input.state,
    startedAt: task.startedAt ?? (running ? now : null),
    completedAt: terminal ? now : null,
    message: input.message ?? task.message,
  };
  const tasks = run.tasks.map((candidate) => (candidate.id === task.id ? updatedTask : candidate));
  const updated: JobRun = { ...run, tasks };
  switch (input.outcome) {
    case 'progress':
      return replaceRun(record, {
        ...updated,
        status: running || input.state === 'TASK_KILLING' ? 'ACTIVE' : 'STARTING',
      });
    case 'finished':
      return retireRun(record, { ...updated, status: 'SUCCESS', completedAt: now });
    case 'not-launched':
      return replaceRun(record, { ...updated, status: 'STARTING' });
    case 'failed':
      return afterFailure(record, updated, input, now);
  }
}

/** A failed attempt: restart under ON_FAILURE within the deadline, else the run fails. */
function afterFailure(record: JobRecord, run: JobRun, input: StatusInput, now: number): JobRecord {
  const failures = run.failures + 1;
  if (run.stopRequested) return finishFailed(record, { ...run, failures }, 'stopped', now);
  const restart = record.spec.run.restart;
  const deadline = restart.activeDeadlineSeconds;
  const withinDeadline = deadline === undefined || now - run.createdAt < deadline * 1000;
  if (restart.policy === 'ON_FAILURE' && withinDeadline) {
    return replaceRun(record, { ...run, failures, status: 'STARTING', nextAttemptAt: now + input.restartDelayMs });
  }
  const why = restart.policy === 'NEVER' ? 'restart policy NEVER' : `activeDeadlineSeconds ${deadline} passed`;
  return finishFailed(record, { ...run, failures }, `task ${input.taskId} ${input.state} (${why})`, now);
}

export function finishFailed(record: JobRecord, run: JobRun, reason: string, now: number): JobRecord {
  return retireRun(record, { ...run, status: 'FAILED', completedAt: now, reason });
}

/**
 * An operator's stop (POST …/actions/stop) or REPLACE: a run without a live task fails at
 * once; one with live tasks is marked, and fails when they are gone (the caller kills them).
 */
export function requestStop(record: JobRecord, runId: string, reason: string, now: number): JobRecord {
  const run = record.activeRuns.find((candidate) => candidate.id === runId);
  if (run === undefined) throw new Error(`requestStop: run ${runId} is not active`);
  if (liveTasks(run).length === 0) return finishFailed(record, run, reason, now);
  return replaceRun(record, { ...run, stopRequested: true, reason });
}

/** Runs that waited longer than run.maxLaunchDelay for a launch fail, naming `why` (placement). */
export function expireLaunchDelays(
  record: JobRecord,
  now: number,
  why: (run: JobRun) => string,
): { record: JobRecord; expired: RunId[] } {
  const limitMs = record.spec.run.maxLaunchDelay * 1000;
  let next = record;
  const expired: RunId[] = [];
  for (const run of record.activeRuns) {
    if (run.status !== 'INITIAL' && run.status !== 'STARTING') continue;
    if (liveTasks(run).length > 0 || run.stopRequested) continue;
    const lastCompletion = Math.max(0, ...run.tasks.map((task) => task.completedAt ?? 0));
    const waitingSince = Math.max(run.createdAt, lastCompletion, run.nextAttemptAt ?? 0);
    if (now - waitingSince <= limitMs) continue;
    next = finishFailed(
      next,
      run,
      `not launched within maxLaunchDelay ${record.spec.run.maxLaunchDelay} s: ${why(run)}`,
      now,
    );
    expired.push(run.id);
  }
  return { record: next, expired };
}
