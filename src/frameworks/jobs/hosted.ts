// The jobs framework hosted by the leading master: one of its leader services (the shape of
// src/master/leadership/service.ts, which frameworks may not import), and the JobsApi the
// Metronome routes on every master's port answer from (src/http/routes/metronome.ts).
//
// Each term gets a fresh JobsService: start(term) builds it and lets it load and subscribe in
// the background — it subscribes through this master's own scheduler API, which answers only
// once every leader service runs, so start() must not wait for that — and the API answers 503
// JOBS_NOT_READY until its records are loaded. stop() stops it synchronously and for good
// (JobsService.stop: no tick, launch or KV write of that instance reaches the masters after it).
// There is no lease: every decision is a compare-and-set of the job's record, and the masters
// accept scheduler calls on the newest stream only (README, "Jobs").
import type { Logger } from '../../util/logger.ts';
import type { JobsApi, JobsServiceOptions } from './jobs-service.ts';
import { JobsService } from './jobs-service.ts';
import { JobsError } from './errors.ts';
import type { RecordStamp } from './job-store.ts';
import type { JobRecord, JobRun, JobSpec, ScheduleSpec } from './model.ts';

export class HostedJobs implements JobsApi {
  readonly name = 'jobs-framework';
  #service: JobsService | null = null;

  constructor(readonly options: JobsServiceOptions & { readonly logger: Logger }) {}

  async start(term: number): Promise<void> {
    const service = new JobsService({ ...this.options, logger: this.options.logger.child({ term }) });
    this.#service = service;
    void service.start().catch((error: Error) => {
      if (this.#service === service) this.options.logger.error({ term, error: error.message }, 'jobs framework failed');
    });
  }

  stop(): void {
    this.#service?.stop();
    this.#service = null;
  }

  get ready(): boolean {
    return this.#service?.ready ?? false;
  }

  #current(): JobsService {
    const service = this.#service;
    if (service === null || !service.ready) throw new JobsError('JOBS_NOT_READY');
    return service;
  }

  now(): number {
    return this.options.clock.now();
  }

  records(): readonly JobRecord[] {
    return this.#current().records();
  }

  record(id: string): JobRecord | undefined {
    return this.#current().record(id);
  }

  placement(runId: string) {
    return this.#current().placement(runId);
  }

  // The writes pass a keyed request's stamp on (Idempotency-Key; jobs-service.ts JobsApi).
  createJob(body: unknown, stamp?: RecordStamp): Promise<JobRecord> {
    return this.#current().createJob(body, stamp);
  }

  updateJob(id: string, body: unknown, stamp?: RecordStamp): Promise<JobRecord> {
    return this.#current().updateJob(id, body, stamp);
  }

  replaceScheduledJob(id: string, body: unknown, stamp?: RecordStamp): Promise<JobRecord> {
    return this.#current().replaceScheduledJob(id, body, stamp);
  }

  deleteJob(id: string, stopCurrentJobRuns: boolean): Promise<JobSpec> {
    return this.#current().deleteJob(id, stopCurrentJobRuns);
  }

  startRun(id: string, stamp?: RecordStamp): Promise<JobRun> {
    return this.#current().startRun(id, stamp);
  }

  stopRun(id: string, runId: string, stamp?: RecordStamp): Promise<JobRun> {
    return this.#current().stopRun(id, runId, stamp);
  }

  putSchedule(
    id: string,
    body: unknown,
    change: 'create' | 'replace',
    scheduleId?: string,
    stamp?: RecordStamp,
  ): Promise<ScheduleSpec> {
    return this.#current().putSchedule(id, body, change, scheduleId, stamp);
  }

  deleteSchedule(id: string, scheduleId: string, stamp?: RecordStamp): Promise<void> {
    return this.#current().deleteSchedule(id, scheduleId, stamp);
  }
}
