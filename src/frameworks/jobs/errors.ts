// What the jobs API can refuse, with stable codes (STYLE.md rule 6). The Metronome API answers
// in Metronome's shapes ({"message", …}; 422 {"message","details":[{"path","errors"}]}), and
// adds the code as `code`, which Metronome clients ignore. docs/errors.md lists every code;
// test/http/errors.test.ts checks both ways.
import type { ProblemDetail } from './validation.ts';

export const jobsErrors = {
  JOB_NOT_FOUND: { status: 404, message: 'Job not found' },
  JOB_RUN_NOT_FOUND: { status: 404, message: 'Job Run not found' },
  JOB_SCHEDULE_NOT_FOUND: { status: 404, message: 'Schedule not found' },
  JOB_ALREADY_EXISTS: { status: 409, message: 'Job with this id already exists' },
  JOB_HAS_ACTIVE_RUNS: { status: 409, message: 'There are active job runs. Override with stopCurrentJobRuns=true' },
  JOB_HAS_DEPENDENTS: { status: 409, message: 'Other jobs depend on this job' },
  JOB_SCHEDULE_CONFLICT: { status: 409, message: 'Only one schedule supported at the moment' },
  JOB_RUN_LIMIT: { status: 409, message: 'The job has too many active runs' },
  JOB_LIMIT: { status: 409, message: 'The framework holds the maximum number of jobs' },
  JOB_SPEC_INVALID: { status: 422, message: 'Object is not valid' },
  JOB_BAD_REQUEST: { status: 400, message: 'The request is malformed' },
  JOBS_UNAVAILABLE: { status: 503, message: 'The masters cannot be reached; retry shortly' },
  JOBS_NOT_READY: { status: 503, message: 'The jobs framework is starting; retry shortly' },
  JOBS_NOT_HOSTED: {
    status: 404,
    message:
      'The jobs framework is not hosted by this master (--jobs=off). Run it as its own process: ' +
      'flotilla jobs --masters <masters> --listen <host:port>',
  },
  JOB_INVALID_IDEMPOTENCY_KEY: {
    status: 400,
    message: 'An Idempotency-Key is 1–255 printable ASCII characters, optionally in double quotes',
  },
  JOB_IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    message: 'This Idempotency-Key was used for a different request; nothing was changed',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type JobsErrorCode = keyof typeof jobsErrors;

export class JobsError extends Error {
  override name = 'JobsError';
  constructor(
    readonly code: JobsErrorCode,
    message?: string,
    /** Extra fields of the Metronome body: {"id"} of an unknown job, {"jobSpec","id"} of a run. */
    readonly fields: Readonly<Record<string, unknown>> = {},
    readonly details: readonly ProblemDetail[] = [],
  ) {
    super(message ?? jobsErrors[code].message);
  }

  static messageOf(code: JobsErrorCode): string {
    return jobsErrors[code].message;
  }

  get status(): number {
    return jobsErrors[this.code].status;
  }

  /** The Metronome body, with our code added. */
  body(): Record<string, unknown> {
    return {
      message: this.message,
      ...this.fields,
      ...(this.details.length === 0 ? {} : { details: this.details }),
      code: this.code,
    };
  }
}

export const unknownJob = (id: string): JobsError => new JobsError('JOB_NOT_FOUND', undefined, { id });
export const unknownRun = (jobId: string, runId: string): JobsError =>
  new JobsError('JOB_RUN_NOT_FOUND', undefined, { jobSpec: jobId, id: runId });
export const unknownSchedule = (id: string): JobsError => new JobsError('JOB_SCHEDULE_NOT_FOUND', undefined, { id });
export const invalid = (details: readonly ProblemDetail[]): JobsError =>
  new JobsError('JOB_SPEC_INVALID', undefined, {}, details);
