// A benchmark's scheduler: one framework on the public scheduler API (the SDK's SchedulerClient),
// launching `total` long tasks as fast as offers allow, at most `perOffer` on one offer, and
// counting each task's TASK_RUNNING update (sent by the master once that status is committed).
// A task that ends before running (dropped, lost) is launched again under a new id.
import {
  type MasterAddress,
  matchOffer,
  SchedulerClient,
  SchedulerError,
  buildTaskInfo,
  scalarTotal,
} from '../src/frameworks/sdk/index.ts';
import type { Offer, TaskStatus } from '../src/protocol/mesos.ts';
import { isTerminalTaskState } from '../src/protocol/task-states.ts';

export interface TaskShape {
  readonly cpus: number;
  readonly memMb: number;
}

export interface LaunchResult {
  readonly running: number;
  /** ACCEPT calls made, and tasks that ended before running (then launched again). */
  readonly accepts: number;
  readonly failures: number;
  /** Tasks that ended after they ran (killed or lost, in a leader change say): launched again. */
  readonly endedAfterRunning: number;
  /** performance.now() of the first ACCEPT and of the last TASK_RUNNING. */
  readonly firstAcceptAtMs: number;
  readonly lastRunningAtMs: number;
  /** Per task, ACCEPT sent → TASK_RUNNING received. */
  readonly latenciesMs: readonly number[];
  /** UPDATEs received, resent ones too: beyond one per update the master sent it again. */
  readonly updates: number;
  /** Per acknowledged update, its arrival → the master's answer to its ACKNOWLEDGE (the SDK's queue included). */
  readonly acknowledgementLatenciesMs: readonly number[];
  readonly acknowledgementsFailed: number;
}

/** Offers not needed any more are refused this long; then the framework suppresses. */
const refuseWhenDoneSeconds = 3600;
/**
 * A task launched this long ago and still not running is reconciled explicitly: its ACCEPT or
 * its updates may have been lost in a leader change (the master answers TASK_UNKNOWN for a task
 * it never recorded, and the current state of one it has).
 */
const reconcileAfterMs = 20_000;
const reconcileIntervalMs = 10_000;

export class BenchScheduler {
  readonly client: SchedulerClient;
  readonly #acceptedAtMs = new Map<string, number>();
  /** Tasks that reported TASK_RUNNING and have not ended: `#running` counts these, not every RUNNING ever seen. */
  readonly #runningIds = new Set<string>();
  #endedAfterRunning = 0;
  readonly #latenciesMs: number[] = [];
  #target = 0;
  #perOffer = 1;
  #shape: TaskShape = { cpus: 0.1, memMb: 32 };
  #sequence = 0;
  #running = 0;
  #accepts = 0;
  #failures = 0;
  #firstAcceptAtMs = Number.NaN;
  #lastRunningAtMs = Number.NaN;
  #suppressed = false;
  #done: (() => void) | null = null;
  /**
   * Failures by cause: an update's state, reason and source (`TASK_LOST REASON_INVALID_OFFERS
   * SOURCE_MASTER`), or `ACCEPT <SDK error code>` for an ACCEPT that failed as a whole.
   */
  readonly failuresByCause = new Map<string, number>();
  #offers = 0;
  #declined = 0;
  #updates = 0;
  #subscriptions = 0;
  readonly #acknowledgementLatenciesMs: number[] = [];
  #acknowledgementsFailed = 0;

  constructor(
    masters: readonly MasterAddress[],
    readonly name: string,
  ) {
    // Failover for a day: the framework must outlive a leader's SIGKILL in the scale bench.
    this.client = new SchedulerClient({
      masters,
      framework: { name, user: 'root', failover_timeout: 86_400 },
      // Acknowledged here, as the SDK would, to time each acknowledgement (#acknowledge).
      autoAcknowledge: false,
    });
    this.client.on('OFFERS', (event) => {
      for (const offer of event.offers.offers) this.#onOffer(offer);
    });
    this.client.on('UPDATE', (event) => {
      this.#onUpdate(event.update.status);
      this.#acknowledge(event.update.status);
    });
    this.client.on('SUBSCRIBED', () => {
      this.#subscriptions += 1;
      // A subscription starts unsuppressed (SUBSCRIBE names no suppressed roles; a new leader keeps
      // none): flagged suppressed still, the framework declined every agent's offer one by one
      // after a leader change instead of suppressing once.
      this.#suppressed = false;
    });
  }

  /** Subscribes and launches until `total` tasks run. */
  async launch(total: number, perOffer: number, shape: TaskShape): Promise<LaunchResult> {
    this.#target = total;
    this.#perOffer = perOffer;
    this.#shape = shape;
    const done = new Promise<void>((resolve) => {
      this.#done = resolve;
    });
    await this.client.subscribe();
    const reconciler = setInterval(() => this.#tick(), reconcileIntervalMs);
    try {
      await done;
    } finally {
      clearInterval(reconciler);
    }
    return {
      running: this.#running,
      accepts: this.#accepts,
      failures: this.#failures,
      endedAfterRunning: this.#endedAfterRunning,
      firstAcceptAtMs: this.#firstAcceptAtMs,
      lastRunningAtMs: this.#lastRunningAtMs,
      latenciesMs: this.#latenciesMs,
      updates: this.#updates,
      acknowledgementLatenciesMs: this.#acknowledgementLatenciesMs,
      acknowledgementsFailed: this.#acknowledgementsFailed,
    };
  }

  /**
   * Where the launch stands, for a live progress line: tasks running, launched and not yet
   * running, ACCEPTs made, offers received and declined, failures, SUBSCRIBEDs (more than one: a
   * leader change), UPDATEs received (resent ones too), ACKNOWLEDGEs made and not yet answered.
   */
  get status(): {
    readonly running: number;
    readonly launching: number;
    readonly accepts: number;
    readonly offers: number;
    readonly declined: number;
    readonly failures: number;
    readonly subscriptions: number;
    readonly updates: number;
    readonly acknowledgementsMade: number;
    readonly acknowledgementsOnTheirWay: number;
  } {
    return {
      running: this.#running,
      launching: this.#acceptedAtMs.size,
      accepts: this.#accepts,
      offers: this.#offers,
      declined: this.#declined,
      failures: this.#failures,
      subscriptions: this.#subscriptions,
      updates: this.#updates,
      acknowledgementsMade: this.client.callsMade.get('ACKNOWLEDGE') ?? 0,
      acknowledgementsOnTheirWay: this.client.acknowledgementsOnTheirWay,
    };
  }

  close(): void {
    this.client.close();
  }

  #onOffer(offer: Offer): void {
    this.#offers += 1;
    const wanted = this.#target - this.#running - this.#acceptedAtMs.size;
    const match = wanted > 0 ? matchOffer(offer, this.#shape) : null;
    if (match === null) {
      this.#declined += 1;
      void this.client.decline([offer.id], { refuse_seconds: refuseWhenDoneSeconds }).catch(() => undefined);
      if (wanted <= 0 && !this.#suppressed) {
        this.#suppressed = true;
        void this.client.suppress().catch(() => undefined);
      }
      return;
    }
    const fit = Math.min(
      Math.floor(scalarTotal(offer.resources, 'cpus') / this.#shape.cpus + 1e-9),
      Math.floor(scalarTotal(offer.resources, 'mem') / this.#shape.memMb + 1e-9),
    );
    const count = Math.min(fit, this.#perOffer, wanted);
    const tasks = Array.from({ length: count }, () =>
      buildTaskInfo(offer, match, {
        name: this.name,
        taskId: `${this.name}-${++this.#sequence}`,
        command: { kind: 'shell', line: 'sleep 86400' },
      }),
    );
    const now = performance.now();
    if (Number.isNaN(this.#firstAcceptAtMs)) this.#firstAcceptAtMs = now;
    for (const task of tasks) this.#acceptedAtMs.set(task.task_id.value, now);
    this.#accepts += 1;
    this.client.launch(offer, tasks).catch((error: unknown) => {
      // Answered with an error after every retry: these tasks never start; launch others.
      const cause = `ACCEPT ${error instanceof SchedulerError ? error.code : 'failed'}`;
      for (const task of tasks) if (this.#acceptedAtMs.delete(task.task_id.value)) this.#countFailure(cause);
      this.#revive();
    });
  }

  #onUpdate(status: TaskStatus): void {
    this.#updates += 1;
    const taskId = status.task_id.value;
    const ended = isTerminalTaskState(status.state) || status.state === 'TASK_UNKNOWN';
    if (ended && this.#runningIds.delete(taskId)) {
      this.#running -= 1;
      this.#endedAfterRunning += 1;
      this.#revive();
      return;
    }
    const acceptedAtMs = this.#acceptedAtMs.get(taskId);
    if (acceptedAtMs === undefined) return;
    if (status.state === 'TASK_RUNNING') {
      this.#acceptedAtMs.delete(taskId);
      this.#runningIds.add(taskId);
      this.#running += 1;
      this.#lastRunningAtMs = performance.now();
      this.#latenciesMs.push(this.#lastRunningAtMs - acceptedAtMs);
      if (this.#running >= this.#target) this.#done?.();
    } else if (ended) {
      this.#acceptedAtMs.delete(taskId);
      this.#countFailure(`${status.state} ${status.reason ?? '-'} ${status.source ?? '-'}`);
      this.#revive();
    }
  }

  /** What the SDK's autoAcknowledge does, timed (a failed one is sent again by the master and acknowledged then). */
  #acknowledge(status: TaskStatus): void {
    if (status.uuid === undefined) return;
    const receivedAtMs = performance.now();
    this.client.acknowledge(status).then(
      () => this.#acknowledgementLatenciesMs.push(performance.now() - receivedAtMs),
      () => {
        this.#acknowledgementsFailed += 1;
      },
    );
  }

  #countFailure(cause: string): void {
    this.#failures += 1;
    this.failuresByCause.set(cause, (this.failuresByCause.get(cause) ?? 0) + 1);
  }

  /** A REVIVE or SUPPRESS lost in an election would leave the framework without offers for good. */
  #tick(): void {
    const wanted = this.#target - this.#running - this.#acceptedAtMs.size;
    if (wanted > 0) {
      this.#suppressed = false;
      void this.client.revive().catch(() => undefined);
    }
    this.#reconcileStale();
  }

  #reconcileStale(): void {
    const staleBefore = performance.now() - reconcileAfterMs;
    const stale = [...this.#acceptedAtMs].filter(([, acceptedAtMs]) => acceptedAtMs < staleBefore);
    if (stale.length === 0) return;
    void this.client.reconcile(stale.map(([taskId]) => ({ task_id: { value: taskId } }))).catch(() => undefined);
  }

  #revive(): void {
    if (!this.#suppressed) return;
    this.#suppressed = false;
    void this.client.revive().catch(() => undefined);
  }
}
