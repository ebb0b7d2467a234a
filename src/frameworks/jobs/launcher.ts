// The scheduler side of the jobs framework: offers become task launches for runs that wait,
// status updates move runs along, reconciliation settles what a crash or a failover left
// open. Each launch is recorded in the job's record (a CAS) before its ACCEPT is sent, and an
// update is acknowledged only after the record holding its effect is written, so a restart
// loses neither a launch (it is reconciled) nor an outcome (the master re-sends it).
import type { IdValue, Offer, TaskStatus } from '../../protocol/mesos.ts';
import { backoffDelayMs } from '../../util/backoff.ts';
import type { Logger } from '../../util/logger.ts';
import type { SchedulerClient } from '../sdk/client.ts';
import { SchedulerError } from '../sdk/errors.ts';
import type { JobStore } from './job-store.ts';
import { declineRefuseSeconds, restartBackoffBaseMs, restartBackoffMaxMs, unknownLaunchSettleMs } from './limits.ts';
import type { JobRecord, JobRun, RunId } from './model.ts';
import { type PlacementReport, placeTask } from './placement.ts';
import { applyTaskStatus, isLiveTask, needsLaunch, recordLaunch, type TaskOutcome } from './run-transitions.ts';
import { buildJobTask, parseTaskId, taskIdFor } from './task-launch.ts';

export interface LauncherContext {
  readonly store: JobStore;
  readonly client: SchedulerClient;
  readonly now: () => number;
  readonly placement: PlacementReport;
  readonly logger: Logger;
  readonly random: () => number;
}

const progressStates: ReadonlySet<string> = new Set([
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_UNREACHABLE',
]);
const neverRanReasons: ReadonlySet<string> = new Set(['REASON_INVALID_OFFERS', 'REASON_TASK_INVALID_OFFERS']);
const unknownStates: ReadonlySet<string> = new Set(['TASK_LOST', 'TASK_DROPPED', 'TASK_UNKNOWN', 'TASK_GONE']);

interface Waiting {
  readonly jobId: string;
  readonly run: JobRun;
}

export class Launcher {
  /** Task id → when its ACCEPT's outcome became unknown (a network failure of the call), in performance.now() ms. */
  readonly #unknownLaunches = new Map<string, number>();
  /** Task ids whose ACCEPT call has not answered yet. */
  readonly #inFlight = new Set<string>();
  #suppressed = false;
  #offerWork: Promise<void> = Promise.resolve();

  constructor(readonly context: LauncherContext) {}

  /** Runs waiting for a task, oldest first. */
  waiting(): Waiting[] {
    const now = this.context.now();
    const waiting: Waiting[] = [];
    for (const record of this.context.store.records()) {
      for (const run of record.activeRuns) if (needsLaunch(run, now)) waiting.push({ jobId: record.spec.id, run });
    }
    return waiting.sort((left, right) => left.run.createdAt - right.run.createdAt);
  }

  /** REVIVE when runs wait and offers were suppressed. */
  async reviveIfWaiting(): Promise<void> {
    if (!this.#suppressed || this.waiting().length === 0) return;
    this.#suppressed = false;
    await this.context.client.revive().catch((error: Error) => {
      this.#suppressed = true;
      this.context.logger.warn({ error: error.message }, 'REVIVE failed');
    });
  }

  onOffers(offers: readonly Offer[]): Promise<void> {
    this.#offerWork = this.#offerWork
      .then(() => this.#handleOffers(offers))
      .catch((error: Error) => {
        this.context.logger.error({ error: error.message }, 'offer handling failed');
      });
    return this.#offerWork;
  }

  async #handleOffers(offers: readonly Offer[]): Promise<void> {
    const unused: IdValue[] = [];
    for (const offer of offers) {
      const used = await this.#useOffer(offer);
      if (!used) unused.push(offer.id);
    }
    if (unused.length === 0) return;
    const idle = this.waiting().length === 0;
    await this.context.client
      .decline(unused, { refuse_seconds: idle ? 30 : declineRefuseSeconds })
      .catch((error: Error) => this.context.logger.warn({ error: error.message }, 'DECLINE failed'));
    if (idle && !this.#suppressed) {
      this.#suppressed = true;
      await this.context.client.suppress().catch(() => {
        this.#suppressed = false;
      });
    }
  }

  /** Launches the oldest waiting run that fits `offer`; false when none does. */
  async #useOffer(offer: Offer): Promise<boolean> {
    for (const { jobId, run } of this.waiting()) {
      const record = this.context.store.get(jobId);
      if (record === undefined) continue;
      const placement = placeTask(offer, record.spec.run);
      if (!placement.fits) {
        this.context.placement.record(run.id, placement.reasons, this.context.now());
        continue;
      }
      const taskId = taskIdFor(jobId, run.id, run.attempts + 1);
      const written = await this.context.store.update(jobId, (current) => {
        const now = this.context.now();
        const still = current.activeRuns.find((candidate) => candidate.id === run.id);
        if (still === undefined || !needsLaunch(still, now) || still.attempts !== run.attempts) return null;
        return { record: recordLaunch(current, run.id, taskId, offer.agent_id.value, now), result: current.spec };
      });
      if (written === null || written === undefined) continue;
      const task = buildJobTask(offer, placement.match, written.result, run.id as RunId, taskId);
      this.context.placement.forget(run.id);
      this.context.logger.info({ jobId, runId: run.id, taskId, agent: offer.hostname }, 'launching task');
      await this.#accept(offer, task, jobId);
      return true;
    }
    return false;
  }

  async #accept(offer: Offer, task: Parameters<SchedulerClient['launch']>[1][number], jobId: string): Promise<void> {
    const taskId = task.task_id.value;
    this.#inFlight.add(taskId);
    try {
      await this.context.client.launch(offer, [task]);
    } catch (error) {
      const refused = error instanceof SchedulerError && error.code === 'CALL_REJECTED';
      this.context.logger.warn({ jobId, taskId, error: (error as Error).message, refused }, 'ACCEPT failed');
      // A refused call launched nothing; a network failure may have: reconciliation decides later.
      if (refused)
        await this.#applyStatus(jobId, taskId, 'TASK_DROPPED', 'the master refused the launch', 'not-launched');
      else this.#unknownLaunches.set(taskId, performance.now());
    } finally {
      this.#inFlight.delete(taskId);
    }
  }

  /** One status update: recorded (CAS), then acknowledged. */
  async onUpdate(status: TaskStatus): Promise<void> {
    const taskId = status.task_id.value;
    const named = parseTaskId(taskId);
    const record = named === null ? undefined : this.context.store.get(named.jobId);
    const task = record === undefined ? undefined : findTask(record, taskId);
    if (named === null || record === undefined || task === undefined) {
      await this.#orphan(status);
    } else {
      const outcome = this.#classify(status, task.state === 'LAUNCHING');
      if (outcome !== null) {
        await this.#applyStatus(named.jobId, taskId, status.state, status.message ?? null, outcome);
        if (outcome !== 'progress') this.#unknownLaunches.delete(taskId);
      }
      const run = this.context.store.get(named.jobId)?.activeRuns.find((candidate) => candidate.id === named.runId);
      if (run?.stopRequested && progressStates.has(status.state)) this.kill([{ taskId, agentId: task.agentId }]);
    }
    if (status.uuid !== undefined && status.agent_id !== undefined) {
      await this.context.client.acknowledge(status).catch((error: Error) => {
        this.context.logger.warn({ taskId, error: error.message }, 'acknowledgement failed; the master will resend');
      });
    }
  }

  /** A live task of no job we know (its job was deleted mid-run, or a crash left it): kill it. */
  async #orphan(status: TaskStatus): Promise<void> {
    if (!progressStates.has(status.state)) return;
    this.context.logger.warn({ taskId: status.task_id.value }, 'killing a task of no active run');
    this.kill([{ taskId: status.task_id.value, agentId: status.agent_id?.value ?? null }]);
  }

  /** null: say nothing yet (an unknown-task answer while a launch may still land). */
  #classify(status: TaskStatus, launching: boolean): TaskOutcome | null {
    if (progressStates.has(status.state)) return 'progress';
    if (status.state === 'TASK_FINISHED') return 'finished';
    if (launching && unknownStates.has(status.state)) {
      if (neverRanReasons.has(status.reason ?? '')) return 'not-launched';
      if (status.reason === 'REASON_RECONCILIATION') return this.#settled(status.task_id.value) ? 'not-launched' : null;
    }
    return 'failed';
  }

  /** Whether a launch's ACCEPT can no longer land: it answered, or it failed long enough ago. */
  #settled(taskId: string): boolean {
    if (this.#inFlight.has(taskId)) return false;
    const unknownSince = this.#unknownLaunches.get(taskId);
    return unknownSince === undefined || performance.now() - unknownSince >= unknownLaunchSettleMs;
  }

  async #applyStatus(
    jobId: string,
    taskId: string,
    state: TaskStatus['state'],
    message: string | null,
    outcome: TaskOutcome,
  ): Promise<void> {
    const written = await this.context.store.update(jobId, (record) => {
      const run = record.activeRuns.find((candidate) => candidate.tasks.some((task) => task.id === taskId));
      const delay = backoffDelayMs(
        Math.min(run?.failures ?? 0, 20),
        { baseMs: restartBackoffBaseMs, maxMs: restartBackoffMaxMs },
        this.context.random,
      );
      const next = applyTaskStatus(
        record,
        { taskId, state, message, outcome, restartDelayMs: delay },
        this.context.now(),
      );
      return next === null ? null : { record: next, result: null };
    });
    if (written) this.context.logger.info({ jobId, taskId, state, outcome }, 'task update recorded');
  }

  kill(tasks: readonly { taskId: string; agentId: string | null }[]): void {
    for (const { taskId, agentId } of tasks) {
      this.context.client
        .kill(taskId, agentId === null ? undefined : { value: agentId })
        .catch((error: Error) =>
          this.context.logger.warn({ taskId, error: error.message }, 'KILL failed; retried on the next update'),
        );
    }
  }

  /** Explicit reconciliation of every live task of every run, and implicit for orphans. */
  async reconcileAll(): Promise<void> {
    const tasks = this.context.store
      .records()
      .flatMap((record) => record.activeRuns.flatMap((run) => run.tasks.filter(isLiveTask)))
      .map((task) => ({
        task_id: { value: task.id },
        ...(task.agentId === null ? {} : { agent_id: { value: task.agentId } }),
      }));
    if (tasks.length > 0) await this.context.client.reconcile(tasks);
    await this.context.client.reconcile([]);
  }

  /** Launches whose outcome is unknown and settled by now: ask the master about them. */
  async reconcileUnknownLaunches(): Promise<void> {
    const due = [...this.#unknownLaunches.keys()].filter((taskId) => this.#settled(taskId));
    if (due.length === 0) return;
    await this.context.client.reconcile(due.map((taskId) => ({ task_id: { value: taskId } })));
  }
}

function findTask(record: JobRecord, taskId: string) {
  for (const run of [...record.activeRuns, ...record.finishedRuns]) {
    const task = run.tasks.find((candidate) => candidate.id === taskId);
    if (task !== undefined) return task;
  }
  return undefined;
}
