// Every bound of the jobs framework in one place (STYLE.md rule 7). A job is one key-value
// record (definition, schedule cursors, active runs, bounded history), and a KV value is at
// most 64 KiB (src/state-machine/limits.ts maxKvValueBytes), so the bounds below are chosen
// to keep the largest record under that with room to spare: a spec of at most
// maxJobSpecBytes, maxActiveRunsPerJob runs of maxTasksPerRun tasks, and history lists of
// maxHistoryRunsPerList entries.

/**
 * Jobs the framework keeps. Each is one KV record (found by listing, no catalog), held in the
 * active instance's memory and evaluated on every tick: 10,000 jobs of a few KiB are tens of MiB
 * in every master's replicated store, and a tick over them stays within a few tens of ms (README
 * "Jobs", Limits). The masters' store holds 100,000 keys in all.
 */
export const maxJobs = 10_000;
/** Metronome does not bound an id; ours travels in task ids (<= 200 characters) and KV keys. */
export const maxJobIdLength = 100;
/** The JSON of one JobSpec (run, labels, env, description). */
export const maxJobSpecBytes = 16 * 1024;
/** Metronome: "Only one schedule supported at the moment" (JobScheduleController). */
export const maxSchedulesPerJob = 1;
/** Runs of one job that are not finished yet; a trigger beyond this is refused (and a slot skipped). */
export const maxActiveRunsPerJob = 8;
/** Tasks (attempts) kept in one run record; older ones are dropped, the attempt count is kept. */
export const maxTasksPerRun = 8;
/** Finished runs kept whole (with their tasks) so GET …/runs/{runId} still answers. */
export const maxFinishedRunsKept = 8;
/** successfulFinishedRuns / failedFinishedRuns / skipped slots: each list keeps the newest. */
export const maxHistoryRunsPerList = 20;
/** Slots enumerated in one decision; a longer outage is worked off over several ticks. */
export const maxSlotsPerDecision = 10_000;
/** Slots started in one decision (catch-up after an outage, all within the starting deadline). */
export const maxRunsStartedPerDecision = 4;
/** Dependencies of one job (Chronos parents). */
export const maxDependenciesPerJob = 16;
/** A CAS that keeps losing is retried this often, re-reading the record each time, then fails. */
export const maxCasAttempts = 8;
/** Entries in env, labels; items in args, artifacts, volumes, constraints. */
export const maxMapEntries = 100;
export const maxListItems = 100;
/** Any one string of a spec (a cmd, an env value, a label). */
export const maxStringLength = 4096;
/** A job run's id: yyyyMMddHHmmss plus 5 random characters, as Metronome's JobRunId. */
export const runIdRandomLength = 5;
/** Metronome: ScheduleSpec startingDeadlineSeconds must be at least one minute. */
export const minStartingDeadlineSeconds = 60;
/** Metronome: DefaultStartingDeadline = 15.minutes. */
export const defaultStartingDeadlineSeconds = 900;
/** Metronome: JobRunSpec.DefaultMaxLaunchDelay = 1.hour. */
export const defaultMaxLaunchDelaySeconds = 3600;
/** Nothing sane waits longer than a year; keeps the arithmetic in safe integers. */
export const maxSecondsValue = 366 * 24 * 3600;
/** Back-off between ON_FAILURE restarts: first after 1–2 s, never more than a minute apart. */
export const restartBackoffBaseMs = 2_000;
export const restartBackoffMaxMs = 60_000;
/**
 * A launch whose ACCEPT outcome is unknown (the call failed on the network) is settled by
 * reconciliation only after this long, so an ACCEPT still in flight cannot land after a
 * "task unknown" answer (twice the SDK's call timeout).
 */
export const unknownLaunchSettleMs = 20_000;
/** How often the active instance evaluates schedules, dependencies and deadlines. */
export const defaultTickMs = 1_000;
/** Jobs evaluated between two yields to the event loop within one tick. */
export const jobsPerTickSlice = 200;
/** Refuse an offer that fits no waiting run for this long; the framework suppresses when idle. */
export const declineRefuseSeconds = 5;

export const maxScheduleIdLength = 64;

export const maxBodyBytes = 1024 * 1024;
