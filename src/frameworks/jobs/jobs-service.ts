// The jobs framework as one object with start() and stop(), so it runs as its own process
// (daemon.ts) or inside the leading master (hosted.ts, one instance per term): given the masters'
// addresses, it loads its records from the KV store, subscribes as a Mesos framework with the
// framework id it keeps in the KV store, ticks, launches, and serves the API's operations.
// stop() is synchronous and final: the tick timer is cleared, the scheduler client closed, and
// the KV client's signal aborted, so no decision, launch or write of this instance reaches the
// masters afterwards (a tick or request in flight fails on its next KV or scheduler call).
import type { ClientTls } from '../../protocol/tls-client.ts';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../util/logger.ts';
import { KvClient } from '../kv/client.ts';
import { SchedulerClient } from '../sdk/client.ts';
import type { MasterAddress } from '../sdk/masters.ts';
import { credentialHeaders, type FrameworkCredentials } from '../sdk/transport.ts';
import type { Clock } from './clock.ts';
import { JobsError } from './errors.ts';
import * as operations from './job-operations.ts';
import { frameworkKey, JobStore, type RecordStamp } from './job-store.ts';
import { defaultTickMs, jobsPerTickSlice, unknownLaunchSettleMs } from './limits.ts';
import { Launcher } from './launcher.ts';
import type { JobRecord, JobRun, JobSpec, ScheduleSpec } from './model.ts';
import { PlacementReport } from './placement.ts';
import { newRunId } from './run-ids.ts';
import { tickJob } from './ticker.ts';

export interface JobsServiceOptions {
  readonly masters: readonly MasterAddress[];
  /** The KV namespace of the records (default "flotilla-jobs"). */
  readonly namespace?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly tickMs?: number;
  /** The role the framework subscribes with (default "*"). */
  readonly role?: string;
  readonly user?: string;
  readonly instanceId?: string;
  /** For masters with --credentials: the framework's principal and secret (KV and scheduler calls). */
  readonly credentials?: FrameworkCredentials;
  /** Masters with --tls-*: HTTPS trusting this CA (scheduler and KV calls); absent: plain HTTP. */
  readonly tls?: ClientTls | null;
}

/** Mesos kills a framework's tasks once it has been away this long: a week, so restarts lose nothing. */
const failoverTimeoutSeconds = 7 * 24 * 3600;
const startRetryPolicyMs = 1_000;
export const defaultJobsNamespace = 'flotilla-jobs';

/** What the Metronome routes need (api/metronome-routes.ts); JobsService is the implementation. */
export interface JobsApi {
  readonly ready: boolean;
  now(): number;
  records(): readonly JobRecord[];
  record(id: string): JobRecord | undefined;
  placement(runId: string): { processedOffers: number; unusedOffers: Record<string, number> } | null;
  // Writes take the stamp of a keyed request (Idempotency-Key), remembered in the same write.
  createJob(body: unknown, stamp?: RecordStamp): Promise<JobRecord>;
  updateJob(id: string, body: unknown, stamp?: RecordStamp): Promise<JobRecord>;
  /** PUT /v0/scheduled-jobs/{id}: the spec and its schedules replaced together. */
  replaceScheduledJob(id: string, body: unknown, stamp?: RecordStamp): Promise<JobRecord>;
  deleteJob(id: string, stopCurrentJobRuns: boolean): Promise<JobSpec>;
  startRun(id: string, stamp?: RecordStamp): Promise<JobRun>;
  stopRun(id: string, runId: string, stamp?: RecordStamp): Promise<JobRun>;
  putSchedule(
    id: string,
    body: unknown,
    change: 'create' | 'replace',
    scheduleId?: string,
    stamp?: RecordStamp,
  ): Promise<ScheduleSpec>;
  deleteSchedule(id: string, scheduleId: string, stamp?: RecordStamp): Promise<void>;
}

export class JobsService implements JobsApi {
  readonly instance: string;
  readonly store: JobStore;
  readonly #placement = new PlacementReport();
  readonly #stop = new AbortController();
  #client: SchedulerClient | null = null;
  #launcher: Launcher | null = null;
  #timer: NodeJS.Timeout | null = null;
  #ticking = false;
  #ready = false;
  #lastUnknownCheck = 0;

  constructor(readonly options: JobsServiceOptions) {
    this.instance = options.instanceId ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const kv = new KvClient({
      masters: options.masters,
      namespace: options.namespace ?? defaultJobsNamespace,
      signal: this.#stop.signal,
      tls: options.tls ?? null,
      credentials: credentialHeaders(options.credentials?.principal, options.credentials?.secret),
    });
    this.store = new JobStore(kv, options.logger);
  }

  get ready(): boolean {
    return this.#ready;
  }

  now(): number {
    return this.options.clock.now();
  }

  /** Loads the state and subscribes; resolves once the records are loaded (the subscription follows). */
  async start(): Promise<void> {
    const frameworkId = await this.#untilStopped('load the job records', async () => {
      await this.store.load();
      return this.#frameworkId();
    });
    if (frameworkId === null) return;
    const client = this.#newClient(frameworkId);
    this.#client = client;
    this.#launcher = new Launcher({
      store: this.store,
      client,
      now: () => this.now(),
      placement: this.#placement,
      logger: this.options.logger,
      random: Math.random,
    });
    this.#wire(client, this.#launcher);
    this.#ready = true;
    this.options.logger.info(
      { instance: this.instance, frameworkId, jobs: this.store.ids().length },
      'jobs framework started',
    );
    client.subscribe().catch((error: Error) => this.options.logger.error({ error: error.message }, 'subscribe failed'));
    this.#timer = setInterval(() => void this.#tick(), this.options.tickMs ?? defaultTickMs);
  }

  stop(): void {
    this.#stop.abort();
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#ready = false;
    this.#client?.close();
  }

  async #untilStopped<Value>(what: string, work: () => Promise<Value>): Promise<Value | null> {
    while (!this.#stop.signal.aborted) {
      try {
        return await work();
      } catch (error) {
        this.options.logger.warn({ error: (error as Error).message }, `cannot ${what} yet; retrying`);
        await sleep(startRetryPolicyMs, undefined, { signal: this.#stop.signal }).catch(() => undefined);
      }
    }
    return null;
  }

  /** The framework id kept in the KV store, created once (CAS "only if absent"). */
  async #frameworkId(): Promise<string> {
    for (;;) {
      const entry = await this.store.kv.get(frameworkKey);
      if (entry !== null) return (JSON.parse(entry.value) as { frameworkId: string }).frameworkId;
      const frameworkId = `flotilla-jobs-${randomUUID()}`;
      const written = await this.store.kv.put(frameworkKey, JSON.stringify({ formatVersion: 1, frameworkId }), 0);
      if (written.ok) return frameworkId;
    }
  }

  #newClient(frameworkId: string): SchedulerClient {
    return new SchedulerClient({
      masters: this.options.masters,
      framework: {
        id: { value: frameworkId },
        user: this.options.user ?? os.userInfo().username,
        name: 'flotilla-jobs',
        roles: [this.options.role ?? '*'],
        failover_timeout: failoverTimeoutSeconds,
        checkpoint: true,
        capabilities: [{ type: 'MULTI_ROLE' }],
        ...(this.options.credentials === undefined ? {} : { principal: this.options.credentials.principal }),
      },
      ...(this.options.credentials === undefined ? {} : { secret: this.options.credentials.secret }),
      tls: this.options.tls ?? null,
      // Acknowledged after the record holding the update's effect is written (launcher.ts).
      autoAcknowledge: false,
      reconcileOnSubscribe: false,
      logger: this.options.logger,
    });
  }

  #wire(client: SchedulerClient, launcher: Launcher): void {
    client.on('OFFERS', (event) => void launcher.onOffers(event.offers.offers));
    client.on('UPDATE', (event) => void launcher.onUpdate(event.update.status));
    client.onConnectionChange((change) => {
      if (change.state !== 'subscribed') return;
      launcher
        .reconcileAll()
        .catch((error: Error) => this.options.logger.warn({ error: error.message }, 'reconcile failed'));
      void launcher.reviveIfWaiting();
    });
  }

  async #tick(): Promise<void> {
    if (this.#ticking || !this.#ready) return;
    this.#ticking = true;
    try {
      const context = this.#tickContext();
      const ids = this.store.ids();
      for (let position = 0; position < ids.length; position++) {
        if (this.#stop.signal.aborted) return;
        // A tick over thousands of jobs must not hold the event loop (hosted, it is the master's).
        if (position > 0 && position % jobsPerTickSlice === 0) await yieldToEventLoop();
        const id = ids[position]!;
        await tickJob(context, id).catch((error: Error) => {
          if (!this.#stop.signal.aborted)
            this.options.logger.warn({ jobId: id, error: error.message }, 'tick failed for job; retried next tick');
        });
      }
      if (this.#stop.signal.aborted) return;
      await this.#launcher?.reviveIfWaiting();
      if (performance.now() - this.#lastUnknownCheck >= unknownLaunchSettleMs / 2) {
        this.#lastUnknownCheck = performance.now();
        await this.#launcher?.reconcileUnknownLaunches().catch(() => undefined);
      }
    } finally {
      this.#ticking = false;
    }
  }

  #tickContext() {
    return {
      store: this.store,
      now: () => this.now(),
      instance: this.instance,
      newRunId: (now: number) => newRunId(now),
      explainWaiting: (runId: string) => this.#placement.explain(runId),
      kill: (tasks: readonly { taskId: string; agentId: string | null }[]) => this.#launcher?.kill(tasks),
      logger: this.options.logger,
    };
  }

  #operations(stamp?: RecordStamp): operations.OperationContext {
    if (!this.#ready) throw new JobsError('JOBS_NOT_READY');
    return {
      ...(stamp === undefined ? {} : { stamp }),
      store: this.store,
      now: () => this.now(),
      instance: this.instance,
      newRunId: (now) => newRunId(now),
      kill: (tasks) => this.#launcher?.kill(tasks),
    };
  }

  records(): readonly JobRecord[] {
    if (!this.#ready) throw new JobsError('JOBS_NOT_READY');
    return this.store.records();
  }

  record(id: string): JobRecord | undefined {
    if (!this.#ready) throw new JobsError('JOBS_NOT_READY');
    return this.store.get(id);
  }

  placement(runId: string) {
    return this.#placement.summary(runId);
  }

  createJob(body: unknown, stamp?: RecordStamp): Promise<JobRecord> {
    return operations.createJob(this.#operations(stamp), body);
  }

  updateJob(id: string, body: unknown, stamp?: RecordStamp): Promise<JobRecord> {
    return operations.updateJob(this.#operations(stamp), id, body);
  }

  replaceScheduledJob(id: string, body: unknown, stamp?: RecordStamp): Promise<JobRecord> {
    return operations.replaceScheduledJob(this.#operations(stamp), id, body);
  }

  deleteJob(id: string, stopCurrentJobRuns: boolean): Promise<JobSpec> {
    return operations.deleteJob(this.#operations(), id, stopCurrentJobRuns);
  }

  async startRun(id: string, stamp?: RecordStamp): Promise<JobRun> {
    const run = await operations.startManualRun(this.#operations(stamp), id);
    this.options.logger.info({ jobId: id, runId: run.id, trigger: run.trigger }, 'run started');
    void this.#launcher?.reviveIfWaiting();
    return run;
  }

  stopRun(id: string, runId: string, stamp?: RecordStamp): Promise<JobRun> {
    return operations.stopRun(this.#operations(stamp), id, runId);
  }

  putSchedule(
    id: string,
    body: unknown,
    change: 'create' | 'replace',
    scheduleId?: string,
    stamp?: RecordStamp,
  ): Promise<ScheduleSpec> {
    return operations.putSchedule(this.#operations(stamp), id, body, change, scheduleId);
  }

  deleteSchedule(id: string, scheduleId: string, stamp?: RecordStamp): Promise<void> {
    return operations.deleteSchedule(this.#operations(stamp), id, scheduleId);
  }
}
