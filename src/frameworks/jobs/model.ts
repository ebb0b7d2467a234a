// The jobs framework's data, in Metronome's vocabulary (dcos/metronome model/*.scala and
// api/v1/models): a JobSpec with its run specification, schedules, job runs with their tasks,
// and the history of finished runs. Times inside records are epoch milliseconds from the
// clock of the instance that decided (see README "Jobs (Metronome API)": clocks); the API
// renders them as Metronome does.
import type { TaskState } from '../../protocol/mesos.ts';
import type { RememberedRequest } from '../hosting/remembered-requests.ts';

export type JobId = string & { readonly __brand: 'JobId' };
export type RunId = string & { readonly __brand: 'RunId' };

export type RestartPolicy = 'NEVER' | 'ON_FAILURE';
/** Metronome has ALLOW and FORBID; REPLACE is a Flotilla extension (as in Kubernetes CronJobs). */
export type ConcurrencyPolicy = 'ALLOW' | 'FORBID' | 'REPLACE';
export const concurrencyPolicies: readonly ConcurrencyPolicy[] = ['ALLOW', 'FORBID', 'REPLACE'];
export const restartPolicies: readonly RestartPolicy[] = ['NEVER', 'ON_FAILURE'];

export interface Artifact {
  readonly uri: string;
  readonly extract: boolean;
  readonly executable: boolean;
  readonly cache: boolean;
}

export interface Volume {
  readonly containerPath: string;
  readonly hostPath?: string;
  readonly mode?: 'RO' | 'RW';
}

export type ConstraintOperator = 'IS' | 'EQ' | 'LIKE' | 'UNLIKE';
export const constraintOperators: readonly ConstraintOperator[] = ['IS', 'EQ', 'LIKE', 'UNLIKE'];

export interface Constraint {
  readonly attribute: string;
  readonly operator: ConstraintOperator;
  readonly value?: string;
}

export interface DockerSpec {
  readonly image: string;
  readonly forcePullImage: boolean;
  readonly privileged: boolean;
  readonly parameters: readonly { readonly key: string; readonly value: string }[];
}

/** JobRunSpec with Metronome's defaults filled in (cpus 1, mem 128, disk 0, maxLaunchDelay 3600). */
export interface RunSpec {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly gpus: number;
  readonly cmd?: string;
  readonly args?: readonly string[];
  readonly user?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly placement: { readonly constraints: readonly Constraint[] };
  readonly artifacts: readonly Artifact[];
  readonly maxLaunchDelay: number;
  readonly docker?: DockerSpec;
  readonly volumes: readonly Volume[];
  readonly restart: { readonly policy: RestartPolicy; readonly activeDeadlineSeconds?: number };
  readonly taskKillGracePeriodSeconds?: number;
}

export interface JobSpec {
  readonly id: JobId;
  readonly description?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly run: RunSpec;
  /** Extension (Chronos parents): the job runs after each parent's latest run has succeeded. */
  readonly dependencies: readonly { readonly id: JobId }[];
}

export interface ScheduleSpec {
  readonly id: string;
  readonly cron: string;
  readonly timezone: string;
  readonly startingDeadlineSeconds: number;
  readonly concurrencyPolicy: ConcurrencyPolicy;
  readonly enabled: boolean;
}

/** Metronome's JobRunStatus, with INITIAL (decided, no task launched yet) as in 0.6+. */
export type RunStatus = 'INITIAL' | 'STARTING' | 'ACTIVE' | 'SUCCESS' | 'FAILED';

/** What started a run: the replicated reason, so a failover never starts it twice. */
export type RunTrigger =
  | { readonly kind: 'manual' }
  | { readonly kind: 'schedule'; readonly scheduleId: string; readonly slotAt: number }
  | { readonly kind: 'dependencies'; readonly parents: Readonly<Record<string, RunId>> };

/** LAUNCHING: recorded before the ACCEPT, before any status of the task is known. */
export type RunTaskState = TaskState | 'LAUNCHING';

export interface RunTask {
  readonly id: string;
  readonly agentId: string | null;
  readonly state: RunTaskState;
  readonly launchedAt: number;
  readonly startedAt: number | null;
  readonly completedAt: number | null;
  readonly message: string | null;
}

export interface JobRun {
  readonly id: RunId;
  readonly status: RunStatus;
  readonly createdAt: number;
  readonly completedAt: number | null;
  readonly trigger: RunTrigger;
  /** The instance that decided the run, and its clock reading then (epoch ms). */
  readonly decidedBy: string;
  readonly tasks: readonly RunTask[];
  /** Task launches made, including those no longer kept in `tasks`. */
  readonly attempts: number;
  /** Failed attempts (a launch refused before it ran is not one). */
  readonly failures: number;
  /** No relaunch before this time (ON_FAILURE back-off). */
  readonly nextAttemptAt: number | null;
  readonly stopRequested: boolean;
  /** Why the run failed, or null. */
  readonly reason: string | null;
}

export interface RunInfo {
  readonly id: RunId;
  readonly createdAt: number;
  readonly finishedAt: number;
  /**
   * The attempt numbers of the run's tasks (at most maxTasksPerRun, in launch order): Metronome
   * >= 0.6 lists the task ids in each history entry (JobRunInfo.tasks), and a task id is
   * `<job>_<run>.<attempt>` (task-launch.ts), so the numbers are all that must be kept. Absent
   * in records written before they were kept (rendered as no tasks).
   */
  readonly taskAttempts?: readonly number[];
}

export type SkipReason = 'STARTING_DEADLINE_PASSED' | 'CONCURRENCY_FORBID' | 'TOO_MANY_ACTIVE_RUNS';

/** Extension: slots that were handled without a run, and why (never silently skipped). */
export interface SkippedSlots {
  readonly scheduleId: string;
  readonly firstSlotAt: number;
  readonly lastSlotAt: number;
  readonly count: number;
  readonly reason: SkipReason;
  readonly recordedAt: number;
}

export interface JobHistory {
  readonly successCount: number;
  readonly failureCount: number;
  readonly lastSuccessAt: number | null;
  readonly lastFailureAt: number | null;
  readonly successfulFinishedRuns: readonly RunInfo[];
  readonly failedFinishedRuns: readonly RunInfo[];
  readonly skippedSlots: readonly SkippedSlots[];
}

export interface FinishedRunSummary {
  readonly runId: RunId;
  readonly status: 'SUCCESS' | 'FAILED';
  readonly finishedAt: number;
}

/** The record one job is in the KV store: every decision about the job is one CAS of it. */
export interface JobRecord {
  readonly formatVersion: 1;
  readonly spec: JobSpec;
  readonly schedules: readonly ScheduleSpec[];
  /** Per schedule: every slot at or before `handledThrough` (epoch ms) has been decided. */
  readonly cursors: Readonly<Record<string, { readonly handledThrough: number }>>;
  readonly activeRuns: readonly JobRun[];
  readonly finishedRuns: readonly JobRun[];
  readonly history: JobHistory;
  /** The latest finished run, which dependent jobs read. */
  readonly lastFinished: FinishedRunSummary | null;
  /** Per parent: the parent run a run of this job was already started for. */
  readonly consumedParentRuns: Readonly<Record<string, RunId>>;
  /** The answers of the last keyed API writes to this job (Idempotency-Key; absent in older records). */
  readonly requests?: readonly RememberedRequest[];
}

export const terminalRunStatuses: ReadonlySet<RunStatus> = new Set<RunStatus>(['SUCCESS', 'FAILED']);

export function emptyHistory(): JobHistory {
  return {
    successCount: 0,
    failureCount: 0,
    lastSuccessAt: null,
    lastFailureAt: null,
    successfulFinishedRuns: [],
    failedFinishedRuns: [],
    skippedSlots: [],
  };
}
