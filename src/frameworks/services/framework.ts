// The services framework as one object with start() and stop(): it competes for the lease in
// the KV store, and while it holds it, it subscribes to the masters (with the framework id it
// keeps in the KV store), loads its state, and runs the engine. A standby serves the API by
// proxying to the holder (api/routes.ts). It is given the masters' addresses, so the same
// object runs as its own process (daemon.ts) or inside the leading master (hosted.ts), where it
// is started in each term the master leads and halted, synchronously, when that term ends.
import type { ClientTls } from '../../protocol/tls-client.ts';
import { randomUUID } from 'node:crypto';
import type { Offer, TaskStatus } from '../../protocol/mesos.ts';
import { assert } from '../../util/assert.ts';
import { KvClient } from '../kv/client.ts';
import { SchedulerClient } from '../sdk/client.ts';
import type { MasterAddress } from '../sdk/masters.ts';
import { credentialHeaders, type FrameworkCredentials } from '../sdk/transport.ts';
import type { Logger } from '../../util/logger.ts';
import { marathonErrors } from './api-error.ts';
import { Engine } from './engine.ts';
import { EventBus } from './events.ts';
import { Launcher } from './launcher.ts';
import { type HostedBy, LeaseKeeper } from './lease.ts';
import { declineWhileWaitingSeconds, frameworkFailoverTimeoutSeconds } from './limits.ts';
import { Operations } from './operations.ts';
import { keys, Persistence } from './persistence.ts';
import { ServicesState } from './state.ts';
import { KvStore } from './store.ts';

export interface ServicesConfig {
  readonly masters: readonly MasterAddress[];
  /** host:port where this instance serves the Marathon API (standbys proxy to the holder's). */
  readonly advertisedAddress: string;
  /** The KV namespace of the framework's state. */
  readonly namespace: string;
  readonly frameworkName: string;
  readonly role: string;
  readonly user: string;
  readonly leaseTtlMs: number;
  readonly maxRunningDeployments: number;
  /** Marathon's --task_launch_timeout: an instance not running after this long is killed. */
  readonly taskLaunchTimeoutMs: number;
  readonly logger: Logger;
  /** Hosted by the leading master: the API is answered only here (no proxying to a lease holder). */
  readonly hosted?: boolean;
  /** For masters with --credentials: the framework's principal and secret (KV and scheduler calls). */
  readonly credentials?: FrameworkCredentials;
  /** Masters with --tls-*: HTTPS trusting this CA (scheduler and KV calls); absent: plain HTTP. */
  readonly tls?: ClientTls | null;
}

export type ServicesStatus = 'standby' | 'starting' | 'leading' | 'stopped';

const restartDelayMs = 1_000;

/** What one start() owns, dropped by stop(): the KV client (closed by `abort`) and the lease. */
interface Run {
  readonly abort: AbortController;
  readonly kv: KvClient;
  readonly lease: LeaseKeeper;
}

export class ServicesFramework {
  readonly state = new ServicesState();
  readonly events = new EventBus();
  #run: Run | null = null;
  #status: ServicesStatus = 'stopped';
  #term = 0;
  #store: KvStore | null = null;
  #client: SchedulerClient | null = null;
  #engine: Engine | null = null;
  #operations: Operations | null = null;
  #launcher: Launcher | null = null;
  #frameworkId: string | null = null;
  readonly owner = randomUUID();

  constructor(readonly config: ServicesConfig) {}

  /** Competes for the lease (hosted: as the master `hostedBy` in its term) and leads once it holds it. */
  start(hostedBy?: HostedBy): void {
    assert(this.#run === null, 'the services framework starts once per stop');
    const abort = new AbortController();
    const kv = new KvClient({
      masters: this.config.masters,
      namespace: this.config.namespace,
      signal: abort.signal,
      tls: this.config.tls ?? null,
      credentials: credentialHeaders(this.config.credentials?.principal, this.config.credentials?.secret),
    });
    const lease = new LeaseKeeper({
      client: kv,
      key: keys.lease,
      owner: this.owner,
      address: this.config.advertisedAddress,
      ttlMs: this.config.leaseTtlMs,
      ...(hostedBy === undefined ? {} : { hostedBy }),
      logger: this.config.logger.child({ part: 'lease' }),
      onAcquired: () => void this.#lead(),
      onLost: (reason) => this.#stepDown(reason),
    });
    this.#run = { abort, kv, lease };
    this.#status = 'standby';
    lease.start();
  }

  /**
   * Stops acting at once (hosted: leadership of the master ended): the engine, the scheduler
   * stream, the store and the lease stop; every KV call in flight is cut off; the event streams
   * end (their clients reconnect to the next leader). Nothing this instance does afterwards can
   * reach the masters.
   */
  halt(reason: string): void {
    this.#stepDown(reason);
    const run = this.#run;
    this.#run = null;
    this.#status = 'stopped';
    if (run === null) return;
    run.lease.halt();
    run.abort.abort();
    this.events.closeAll();
  }

  /** Standalone: stops acting, then releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stepDown('stopping');
    this.#status = 'stopped';
    const run = this.#run;
    this.#run = null;
    if (run === null) return;
    await run.lease.stop();
    run.abort.abort();
    this.events.closeAll();
  }

  get status(): ServicesStatus {
    return this.#status;
  }

  /** True while this instance leads and may answer from its state. */
  get leading(): boolean {
    return this.#status === 'leading' && (this.#run?.lease.isValid() ?? false);
  }

  /** The API address of the leading instance, as the lease says (null: none known). */
  leaderAddress(): string | null {
    return this.#run?.lease.holder()?.address ?? null;
  }

  get frameworkId(): string | null {
    return this.#frameworkId;
  }

  get engine(): Engine {
    if (!this.leading || this.#engine === null) throw marathonErrors.notLeading();
    return this.#engine;
  }

  get operations(): Operations {
    if (!this.leading || this.#operations === null) throw marathonErrors.notLeading();
    return this.#operations;
  }

  async #lead(): Promise<void> {
    const term = ++this.#term;
    const logger = this.config.logger.child({ term });
    this.#status = 'starting';
    try {
      await this.#startTerm(term, logger);
      if (term !== this.#term) return;
      this.#status = 'leading';
      logger.info({ apps: this.state.apps.size, instances: this.state.instances.size }, 'leading: state loaded');
    } catch (error) {
      if (term !== this.#term) return;
      logger.error({ error: (error as Error).message }, 'could not start leading; retrying');
      this.#restartTerm('start failed');
    }
  }

  async #startTerm(term: number, logger: Logger): Promise<void> {
    const run = this.#run;
    if (run === null) return;
    const store = new KvStore({
      client: run.kv,
      canWrite: () => run.lease.isValid() && term === this.#term,
      onConflict: (key) => this.#restartTerm(`another writer changed ${key}`),
      logger,
    });
    this.#store = store;
    const persistence = new Persistence(store, this.state);
    const storedId = await persistence.readFrameworkId();
    if (term !== this.#term) return;
    const buffered: TaskStatus[] = [];
    const client = this.#newClient(storedId, logger);
    this.#client = client;
    client.on('UPDATE', (event) => {
      if (term !== this.#term) return;
      if (this.#engine === null) buffered.push(event.update.status);
      else this.#engine.onUpdate(event.update.status);
    });
    client.on('OFFERS', (event) => this.#onOffers(term, client, event.offers.offers));
    const frameworkId = await client.subscribe();
    if (term !== this.#term) return;
    this.#frameworkId = frameworkId;
    if (frameworkId !== storedId) await persistence.saveFramework(frameworkId);
    // Loaded after SUBSCRIBE: from here the master refuses the previous holder's calls, so
    // every launch it made is already recorded (intent-first) and visible to this read.
    await persistence.load();
    if (term !== this.#term) return;
    const engine = new Engine({
      masters: this.config.masters,
      state: this.state,
      persistence,
      client,
      events: this.events,
      logger,
      role: this.config.role,
      maxRunningDeployments: this.config.maxRunningDeployments,
      taskLaunchTimeoutMs: this.config.taskLaunchTimeoutMs,
      now: Date.now,
    });
    this.#launcher = new Launcher(engine, { client, logger, role: this.config.role });
    this.#operations = new Operations(engine, this.config.maxRunningDeployments);
    this.#engine = engine;
    for (const status of buffered.splice(0)) engine.onUpdate(status);
    engine.start();
  }

  #newClient(frameworkId: string | null, logger: Logger): SchedulerClient {
    return new SchedulerClient({
      masters: this.config.masters,
      framework: {
        user: this.config.user,
        name: this.config.frameworkName,
        roles: [this.config.role],
        failover_timeout: frameworkFailoverTimeoutSeconds,
        checkpoint: true,
        capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }, { type: 'TASK_KILLING_STATE' }],
        ...(frameworkId === null ? {} : { id: { value: frameworkId } }),
        ...(this.config.credentials === undefined ? {} : { principal: this.config.credentials.principal }),
      },
      ...(this.config.credentials === undefined ? {} : { secret: this.config.credentials.secret }),
      tls: this.config.tls ?? null,
      reconnect: { baseMs: 250, maxMs: 2_000 },
      logger: logger.child({ part: 'scheduler' }),
    });
  }

  #onOffers(term: number, client: SchedulerClient, offers: readonly Offer[]): void {
    if (term !== this.#term || this.#launcher === null || !(this.#run?.lease.isValid() ?? false)) {
      void client
        .decline(
          offers.map((offer) => offer.id),
          { refuse_seconds: declineWhileWaitingSeconds },
        )
        .catch(() => undefined);
      return;
    }
    this.#launcher.handleOffers(offers);
  }

  /** Stops acting at once: the engine, the scheduler stream and the store; the state is dropped. */
  #stepDown(reason: string): void {
    this.#term += 1;
    if (this.#status === 'standby' || this.#status === 'stopped') return;
    this.config.logger.warn({ reason }, 'stepping down');
    this.#engine?.stop();
    this.#client?.close();
    this.#store?.close(reason);
    this.#engine = null;
    this.#operations = null;
    this.#launcher = null;
    this.#client = null;
    this.#store = null;
    this.state.clear();
    this.#status = 'standby';
  }

  /** A conflict or a failed start: drop everything and, still holding the lease, start over. */
  #restartTerm(reason: string): void {
    this.#stepDown(reason);
    const term = this.#term;
    setTimeout(() => {
      if (term === this.#term && (this.#run?.lease.isValid() ?? false) && this.#status === 'standby') void this.#lead();
    }, restartDelayMs).unref();
  }
}
