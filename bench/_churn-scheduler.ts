// The churn bench's scheduler: one framework on the public scheduler API (the SDK's
// SchedulerClient), launching short tasks as fast as offers allow until `total` have finished. A
// task counts as finished once its TASK_FINISHED update is acknowledged and the master answered
// the acknowledgement: only then is it a completed task the master may prune (an unacknowledged
// terminal task is kept, as in Mesos), so tasks in flight include those awaiting that answer and
// the framework cannot outrun its own acknowledgements. Simulated agents with `finishAtOnce` report each
// launch TASK_RUNNING and then TASK_FINISHED, so resources come back at once and are offered again.
// Offers that come while the window is full are held, and launched on as tasks end (in batches).
// A task that ends otherwise (dropped, lost, unknown after a leader change) is launched again under
// a new id; a task silent for long is reconciled explicitly, as bench/_launcher.ts does.
import {
  buildTaskInfo,
  type MasterAddress,
  matchOffer,
  SchedulerClient,
  scalarTotal,
} from '../src/frameworks/sdk/index.ts';
import type { Offer, TaskStatus } from '../src/protocol/mesos.ts';
import { isTerminalTaskState } from '../src/protocol/task-states.ts';

export interface ChurnTaskShape {
  readonly cpus: number;
  readonly memMb: number;
}

/** A task launched this long ago and not yet finished is reconciled (its ACCEPT or updates may be lost). */
const reconcileAfterMs = 20_000;
const reconcileIntervalMs = 10_000;
/** The window refills in about this many launches: a finished task's room is not an ACCEPT of its own. */
const launchBatchesPerWindow = 10;

export class ChurnScheduler {
  readonly client: SchedulerClient;
  /** Tasks launched and not yet ended, with performance.now() at their ACCEPT. */
  readonly #inFlight = new Map<string, number>();
  #total = 0;
  #sequence = 0;
  finished = 0;
  accepts = 0;
  /** Tasks that ended other than TASK_FINISHED (then launched again). */
  failures = 0;
  /** Those failures by the state that ended them. */
  readonly failuresByState = new Map<string, number>();
  /** Those failures by state and reason (`TASK_LOST REASON_INVALID_OFFERS`, say). */
  readonly failuresByReason = new Map<string, number>();
  /** The first message heard for each of those reasons. */
  readonly failureMessages = new Map<string, string>();
  /** UPDATEs with a uuid the master sent, and of them the ones heard before (resent): per task while it runs, all after. */
  updatesReceived = 0;
  updatesResent = 0;
  /** The uuids heard of each task in flight (a few each; dropped as it ends, so memory stays bounded). */
  readonly #heardUuids = new Map<string, Set<string>>();
  #listeners: (() => boolean)[] = [];
  /** Usable offers not launched on yet (the window was full), by id, oldest first. */
  readonly #heldOffers = new Map<string, Offer>();
  /** The fewest tasks launched at once on held offers (fewer only for the last ones): one ACCEPT per this many at least. */
  readonly #launchBatch: number;

  constructor(
    masters: readonly MasterAddress[],
    readonly name: string,
    readonly perOffer: number,
    /** At most this many tasks launched and not yet finished (or failed) at once. */
    readonly maxInFlight: number,
    readonly shape: ChurnTaskShape,
    /**
     * Every this-many-th task's first TASK_RUNNING goes unacknowledged (0: none), as an
     * acknowledgement lost in a leader change: what it then costs shows in `updatesResent`.
     */
    readonly loseRunningAcknowledgementEvery = 0,
  ) {
    this.client = new SchedulerClient({
      masters,
      framework: { name, user: 'root', failover_timeout: 86_400 },
      autoAcknowledge: false,
    });
    this.client.on('OFFERS', (event) => {
      for (const offer of event.offers.offers) this.#onOffer(offer);
    });
    this.client.on('UPDATE', (event) => this.#onUpdate(event.update.status));
    this.client.on('RESCIND', (event) => this.#heldOffers.delete(event.rescind.offer_id.value));
    // A new stream's master offers afresh; the offers held from the old one are gone with it.
    this.client.onConnectionChange((change) => {
      if (change.state !== 'subscribed') this.#heldOffers.clear();
    });
    this.#launchBatch = Math.max(1, Math.min(perOffer, Math.ceil(maxInFlight / launchBatchesPerWindow)));
  }

  /** Subscribes and launches until `total` tasks have finished. */
  async run(total: number): Promise<void> {
    this.#total = total;
    const done = this.whenFinished(total);
    await this.client.subscribe();
    const reconciler = setInterval(() => this.#reconcileStale(), reconcileIntervalMs);
    try {
      await done;
    } finally {
      clearInterval(reconciler);
    }
  }

  /** Resolves once at least `count` tasks have finished. */
  whenFinished(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (this.finished < count) return false;
        resolve();
        return true;
      };
      if (!check()) this.#listeners.push(check);
    });
  }

  /** Tasks launched and not yet finished (or failed). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  close(): void {
    this.client.close();
  }

  #onOffer(offer: Offer): void {
    if (matchOffer(offer, this.shape) === null) {
      void this.client.decline([offer.id], { refuse_seconds: 1 }).catch(() => undefined);
      return;
    }
    this.#heldOffers.set(offer.id.value, offer);
    this.#launchOnHeldOffers();
  }

  /**
   * Launches on the offers held once the window has room for a batch (or for every task left):
   * offers that came while it was full are kept, not declined. Declined for a second, they left
   * the framework without offers when tasks ended, and each DECLINE was a call and a Raft entry.
   */
  #launchOnHeldOffers(): void {
    for (const [offerId, offer] of this.#heldOffers) {
      const room = Math.min(this.#total - this.finished, this.maxInFlight) - this.#inFlight.size;
      const left = this.#total - this.finished - this.#inFlight.size;
      if (room <= 0 || (room < this.#launchBatch && room < left)) return;
      this.#heldOffers.delete(offerId);
      this.#launch(offer, room);
    }
  }

  #launch(offer: Offer, room: number): void {
    const match = matchOffer(offer, this.shape)!;
    const fit = Math.min(
      Math.floor(scalarTotal(offer.resources, 'cpus') / this.shape.cpus + 1e-9),
      Math.floor(scalarTotal(offer.resources, 'mem') / this.shape.memMb + 1e-9),
    );
    const tasks = Array.from({ length: Math.min(fit, this.perOffer, room) }, () =>
      buildTaskInfo(offer, match, {
        name: this.name,
        taskId: `${this.name}-${++this.#sequence}`,
        command: { kind: 'shell', line: 'true' },
      }),
    );
    const now = performance.now();
    for (const task of tasks) this.#inFlight.set(task.task_id.value, now);
    this.accepts += 1;
    // No refusal of what is left of the offer: the rest is wanted in the next cycle.
    this.client.launch(offer, tasks, { refuse_seconds: 0 }).catch(() => {
      for (const task of tasks) if (this.#ended(task.task_id.value)) this.failures += 1;
    });
  }

  #onUpdate(status: TaskStatus): void {
    const taskId = status.task_id.value;
    const firstHeard = this.#countUpdate(taskId, status.uuid);
    const lost = firstHeard && status.state === 'TASK_RUNNING' && this.#losesAcknowledgement(taskId);
    const acknowledged =
      status.uuid === undefined || lost
        ? Promise.resolve()
        : this.client.acknowledge(status).catch(() => 'failed' as const);
    if (!this.#inFlight.has(taskId)) return;
    if (status.state === 'TASK_FINISHED') {
      void acknowledged.then((outcome) => {
        // A failed acknowledgement leaves the update unacknowledged: the master sends it again.
        if (outcome === 'failed' || !this.#inFlight.has(taskId)) return;
        // Counted before it leaves the window, so the room it makes is not taken by one task too many.
        this.finished += 1;
        this.#ended(taskId);
        this.#listeners = this.#listeners.filter((check) => !check());
      });
    } else if (isTerminalTaskState(status.state) || status.state === 'TASK_UNKNOWN') {
      this.#ended(taskId);
      this.failures += 1;
      this.failuresByState.set(status.state, (this.failuresByState.get(status.state) ?? 0) + 1);
      const reason = `${status.state} ${status.reason ?? 'no reason'}`;
      this.failuresByReason.set(reason, (this.failuresByReason.get(reason) ?? 0) + 1);
      if (!this.failureMessages.has(reason)) this.failureMessages.set(reason, status.message ?? '');
    }
  }

  /** Whether `taskId` was in flight; it is not any more. */
  #ended(taskId: string): boolean {
    this.#heardUuids.delete(taskId);
    const ended = this.#inFlight.delete(taskId);
    if (ended) this.#launchOnHeldOffers();
    return ended;
  }

  /**
   * Counts an update; true when it is heard for the first time. An update of a task no longer in
   * flight was heard before it ended (or is a late copy): resent.
   */
  #countUpdate(taskId: string, uuid: string | undefined): boolean {
    if (uuid === undefined) return false;
    this.updatesReceived += 1;
    if (!this.#inFlight.has(taskId)) {
      this.updatesResent += 1;
      return false;
    }
    const heard = this.#heardUuids.get(taskId) ?? new Set<string>();
    const first = !heard.has(uuid);
    if (!first) this.updatesResent += 1;
    heard.add(uuid);
    this.#heardUuids.set(taskId, heard);
    return first;
  }

  /** Task ids end in their launch sequence number (`#launch`): every n-th by that number. */
  #losesAcknowledgement(taskId: string): boolean {
    const sequence = Number(/([0-9]+)$/.exec(taskId)?.[1] ?? Number.NaN);
    return this.loseRunningAcknowledgementEvery > 0 && sequence % this.loseRunningAcknowledgementEvery === 0;
  }

  #reconcileStale(): void {
    const staleBefore = performance.now() - reconcileAfterMs;
    const stale = [...this.#inFlight].filter(([, acceptedAtMs]) => acceptedAtMs < staleBefore);
    if (stale.length === 0) return;
    void this.client.reconcile(stale.map(([taskId]) => ({ task_id: { value: taskId } }))).catch(() => undefined);
  }
}
