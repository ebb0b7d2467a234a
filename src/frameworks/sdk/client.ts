// SchedulerClient: a framework's connection to the Flotilla (or Apache Mesos) masters over the
// v1 scheduler HTTP API (scheduler-http-api.md). It subscribes on the leader, follows
// redirects, notices a dead stream (closed, or silent for `heartbeatTimeoutFactor` heartbeat
// intervals), reconnects with jittered back-off to each master in turn and re-subscribes with
// its framework id (failover). After every SUBSCRIBED it reconciles the tasks it knows, so
// updates lost during the gap are re-sent. Calls go to the master that holds the stream,
// with its Mesos-Stream-Id and a fresh Idempotency-Key; a call answered 503/504/307 or lost on
// the way is repeated with the same key (call-retry.ts), so it applies once. Updates carrying a
// uuid are acknowledged after the handlers ran. An ACCEPT still waiting to be sent when a leader
// change moved the stream to another master is not sent: its offers went with the old leader.
import { CallSlots } from './call-slots.ts';
import {
  defaultQueuedEvents,
  maxAcknowledgeSockets,
  maxCallSockets,
  maxKnownTasks,
  maxReconcileTaskBytes,
  maxTasksPerReconcile,
  maxTrackedOffers,
} from './limits.ts';
import { setMaxListeners } from 'node:events';
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type BackoffPolicy, backoffDelayMs } from '../../util/backoff.ts';
import type { IdValue, Offer, TaskStatus } from '../../protocol/mesos.ts';
import { streamIdHeader } from '../../protocol/scheduler.ts';
import { isTerminalTaskState } from '../../protocol/task-states.ts';
import { type Logger, silentLogger } from '../../util/logger.ts';
import {
  type CallRetryPolicy,
  checkCallRetryPolicy,
  defaultCallRetryPolicy,
  idempotencyKeyHeader,
  isRetryable,
  newIdempotencyKey,
} from './call-retry.ts';
import { rejectionError, SchedulerError } from './errors.ts';
import { EventQueue } from './event-queue.ts';
import { readEvents } from './event-stream.ts';
import type { MasterAddress } from './masters.ts';
import { defaultReconnectPolicy, reconnectStep } from './reconnect.ts';
import { isFatalSubscribeStatus, type OpenedStream, openSubscription } from './subscribe.ts';
import {
  connectionAgent,
  credentialHeaders,
  defaultCallTimeoutMs,
  postJson,
  subscribeHeadersTimeoutMs,
} from './transport.ts';
import type { ClientTls } from '../../protocol/tls-client.ts';
import {
  callBodyField,
  type CallBodies,
  type CallType,
  type EventOf,
  type Filters,
  type FrameworkInfoInput,
  type OfferOperation,
  type SchedulerEvent,
  type SchedulerEventType,
  type TaskInfo,
} from './wire.ts';

export interface SchedulerClientOptions {
  readonly masters: readonly MasterAddress[];
  readonly framework: FrameworkInfoInput;
  /** ACKNOWLEDGE every update that carries a uuid once the handlers ran (default true). */
  readonly autoAcknowledge?: boolean;
  /** RECONCILE the known tasks after every SUBSCRIBED (default true). */
  readonly reconcileOnSubscribe?: boolean;
  /** The stream is declared dead after this many heartbeat intervals without an event (default 3). */
  readonly heartbeatTimeoutFactor?: number;
  readonly reconnect?: BackoffPolicy;
  readonly callTimeoutMs?: number;
  /** How often and how patiently a call answered 503/504/307 or lost is repeated (same key). */
  readonly callRetry?: CallRetryPolicy;
  /** How long a call waits for a (re-)subscription before failing NOT_SUBSCRIBED (default: callTimeoutMs). */
  readonly subscribeWaitMs?: number;
  readonly random?: () => number;
  readonly logger?: Logger;
  /** Bound of the `events()` queue. */
  readonly maxQueuedEvents?: number;
  /**
   * The secret of `framework.principal` in the masters' --credentials: SUBSCRIBE and every call
   * then carry `Authorization: Basic principal:secret`. Without it the requests are anonymous,
   * which a master without --credentials (npm start on loopback) accepts.
   */
  readonly secret?: string;
  /**
   * Masters with --tls-*: speak HTTPS trusting this CA (PEM), and present `cert`/`key` if given.
   * Absent: plain HTTP.
   */
  readonly tls?: ClientTls | null;
}

export type ConnectionState = 'connecting' | 'subscribed' | 'closed';
export interface ConnectionChange {
  readonly state: ConnectionState;
  readonly master: MasterAddress | null;
  /** Why the previous stream ended or the client closed, if it did not end cleanly. */
  readonly error: Error | null;
}

type Handler = (event: SchedulerEvent) => void;

interface TurnAcknowledgement {
  readonly status: TaskStatus;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}
/** Mesos' default when SUBSCRIBED does not say (master flag --heartbeat_interval... is 15 s). */
const defaultHeartbeatSeconds = 15;

export class SchedulerClient {
  #frameworkId: string | null;
  #master: MasterAddress | null = null;
  #streamId: string | null = null;
  #state: ConnectionState = 'connecting';
  #stream: OpenedStream | null = null;
  #running: Promise<void> | null = null;
  readonly #stop = new AbortController();
  readonly #handlers = new Map<SchedulerEventType | '*', Set<Handler>>();
  readonly #connectionListeners = new Set<(change: ConnectionChange) => void>();
  readonly #queues = new Set<EventQueue<SchedulerEvent>>();
  readonly #knownTasks = new Map<string, IdValue | undefined>();
  /**
   * The master of the stream each outstanding offer came on, until it is used, declined or
   * rescinded. A new Flotilla leader rescinds every offer of an earlier one before it serves a
   * call (src/master/inherited-offers.ts), and an Apache Mesos master keeps no offer across a
   * failover; so an ACCEPT queued here (behind the busy call sockets, or waiting for the
   * re-subscription) when the stream moved to another master could only be refused. Sent anyway,
   * each cost the new leader a Raft entry and its tasks a TASK_LOST each (REASON_INVALID_OFFERS),
   * and hundreds of them held the call sockets for tens of seconds while the REVIVE and the
   * ACCEPTs of the new offers waited behind them (the launch bench: 1,106 such ACCEPTs, 22,120
   * tasks lost, over three leader changes).
   */
  readonly #offerMasters = new Map<string, MasterAddress>();
  #subscribedWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  #fatal: Error | null = null;
  /** Why the last SUBSCRIBE attempt failed, quoted when a caller gives up waiting. */
  #lastFailure: Error | null = null;
  readonly #callAgent: http.Agent;
  /**
   * ACKNOWLEDGEs on their own sockets: a burst of thousands of updates (a large deployment)
   * queues as many acknowledgements, and an ACCEPT or KILL must not wait behind them until it
   * times out.
   */
  readonly #acknowledgeAgent: http.Agent;
  /** As many as each agent's sockets: a call waits here, unstamped, never in the agent's queue (call-slots.ts). */
  readonly #callSlots = new CallSlots(maxCallSockets);
  readonly #acknowledgeSlots = new CallSlots(maxAcknowledgeSockets);
  /**
   * ACKNOWLEDGEs on their way, by task and uuid. The master sends an update again while its
   * acknowledgement waits for a socket; a second call for it would only lengthen the queue that
   * delays the first. At 2,000 tasks finishing at once, such duplicates were 3 of every 4 calls
   * and the queue grew until no acknowledgement got through (the churn bench's stall).
   */
  readonly #acknowledgements = new Map<string, Promise<void>>();
  /** ACKNOWLEDGEs asked for in this turn, by task in the order asked; sent once it ends (#sendTurnAcknowledgements). */
  #turnAcknowledgements = new Map<string, TurnAcknowledgement[]>();
  #turnAcknowledgementsSend: NodeJS.Immediate | null = null;
  /** Calls made, by type: each once however many attempts it took (what a framework costs the master). */
  readonly #callsMade = new Map<CallType, number>();
  readonly #streamAgent: http.Agent;
  readonly #logger: Logger;
  /** The Authorization header of every request, or none (secretHeaders). */
  readonly #authorization: Readonly<Record<string, string>>;

  constructor(readonly options: SchedulerClientOptions) {
    if (options.masters.length === 0) throw new Error('SchedulerClient: no masters');
    const factor = options.heartbeatTimeoutFactor ?? 3;
    if (!(factor >= 1)) throw new Error(`SchedulerClient: heartbeatTimeoutFactor must be >= 1, got ${factor}`);
    checkCallRetryPolicy(options.callRetry ?? defaultCallRetryPolicy);
    this.#frameworkId = options.framework.id?.value ?? null;
    this.#logger = options.logger ?? silentLogger;
    const tls = options.tls ?? null;
    this.#callAgent = connectionAgent(tls, { keepAlive: true, maxSockets: maxCallSockets });
    this.#acknowledgeAgent = connectionAgent(tls, { keepAlive: true, maxSockets: maxAcknowledgeSockets });
    this.#streamAgent = connectionAgent(tls, { keepAlive: false });
    this.#authorization = credentialHeaders(options.framework.principal, options.secret);
    // Every call waiting out a retry's back-off listens on this one signal: a framework with more
    // than ten calls retrying at once (a burst of ACCEPTs during a failover) is normal, not a leak.
    setMaxListeners(0, this.#stop.signal);
  }

  get frameworkId(): string | null {
    return this.#frameworkId;
  }
  /** The master that holds the stream (the leader, when subscribed). */
  get master(): MasterAddress | null {
    return this.#master;
  }
  get streamId(): string | null {
    return this.#streamId;
  }
  get state(): ConnectionState {
    return this.#state;
  }

  /** Starts subscribing (idempotent) and resolves with the framework id once SUBSCRIBED. */
  async subscribe(): Promise<string> {
    this.#running ??= this.#run();
    await this.#waitForSubscription(this.options.subscribeWaitMs ?? 60_000);
    return this.#frameworkId!;
  }

  /** Calls `handler` for every event of `type` ('*': every event); returns the unsubscribe. */
  on<Type extends SchedulerEventType>(type: Type | '*', handler: (event: EventOf<Type>) => void): () => void {
    const set = this.#handlers.get(type) ?? new Set<Handler>();
    this.#handlers.set(type, set);
    set.add(handler as Handler);
    return () => set.delete(handler as Handler);
  }

  onConnectionChange(listener: (change: ConnectionChange) => void): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  /** Every event from now on, for `for await`; ends when the client closes. */
  events(): AsyncIterableIterator<SchedulerEvent> {
    const queue = new EventQueue<SchedulerEvent>(this.options.maxQueuedEvents ?? defaultQueuedEvents);
    if (this.#state === 'closed') queue.end(this.#fatal ?? undefined);
    else this.#queues.add(queue);
    return queue;
  }

  /**
   * Sends one call on the subscribed stream's master, with one Idempotency-Key for all its
   * attempts; rejects with a SchedulerError (the last attempt's when every attempt failed).
   */
  call<Type extends CallType>(type: Type, body: CallBodies[Type]): Promise<void> {
    return this.#call(type, body, null);
  }

  /**
   * `offeredBy`: for an ACCEPT, the master each of its offers came from (undefined: not known
   * here). While no attempt may have reached a master, an attempt that would go to another
   * master is not made: the call fails OFFERS_RESCINDED. Once one may have (no answer, 504), the
   * call is repeated with its key wherever the stream is, as any other: the first may have applied.
   */
  async #call<Type extends CallType>(
    type: Type,
    body: CallBodies[Type],
    offeredBy: readonly (MasterAddress | undefined)[] | null,
  ): Promise<void> {
    const policy = this.options.callRetry ?? defaultCallRetryPolicy;
    const key = newIdempotencyKey();
    this.#callsMade.set(type, (this.#callsMade.get(type) ?? 0) + 1);
    let mayHaveApplied = false;
    for (let attempt = 1; ; attempt++) {
      const sent = { streamId: null as string | null };
      const sendableTo =
        offeredBy === null || mayHaveApplied
          ? null
          : (master: MasterAddress) =>
              offeredBy.every((offerMaster) => offerMaster === undefined || offerMaster === master);
      try {
        await this.#callOnce(type, body, key, sent, sendableTo);
        return;
      } catch (error) {
        mayHaveApplied ||= mayHaveReachedMaster(error);
        const retryable = isRetryable(error) || this.#sentOnReplacedStream(error, sent.streamId);
        if (!retryable || attempt >= policy.maxAttempts || this.#stop.signal.aborted) throw error;
        const delayMs = backoffDelayMs(attempt - 1, policy.backoff, this.options.random ?? Math.random);
        this.#logger.info({ call: type, attempt, delayMs, error: (error as Error).message }, 'call retried');
        const slept = await sleep(delayMs, true, { signal: this.#stop.signal }).catch(() => false);
        if (!slept) throw this.#closedError();
      }
    }
  }

  /**
   * A call stamped with a stream that has since been replaced (it waited for a socket, or was on
   * its way, while the client re-subscribed) is refused STREAM_ID_MISMATCH and applied nothing:
   * it is sent again, stamped with the new stream. A mismatch on the current stream is final.
   */
  #sentOnReplacedStream(error: unknown, streamId: string | null): boolean {
    if (!(error instanceof SchedulerError) || error.code !== 'CALL_REJECTED' || error.status !== 400) return false;
    if (error.serverCode !== 'STREAM_ID_MISMATCH' && !/stream id/i.test(error.message)) return false;
    return streamId !== null && streamId !== this.#streamId;
  }

  async #callOnce<Type extends CallType>(
    type: Type,
    body: CallBodies[Type],
    key: string,
    sent: { streamId: string | null },
    sendableTo: ((master: MasterAddress) => boolean) | null,
  ): Promise<void> {
    const timeoutMs = this.options.callTimeoutMs ?? defaultCallTimeoutMs;
    const acknowledgement = type === 'ACKNOWLEDGE';
    // Stamped with the master and the stream once it has a slot, so it is sent at once: stamped
    // before waiting for one, a call could go out after a re-subscription with a replaced stream.
    const { master, response } = await (acknowledgement ? this.#acknowledgeSlots : this.#callSlots).run(async () => {
      await this.#waitForSubscription(this.options.subscribeWaitMs ?? timeoutMs);
      const master = this.#master!;
      if (sendableTo !== null && !sendableTo(master)) {
        throw new SchedulerError(
          'OFFERS_RESCINDED',
          `${type} not sent: its offers came from another master than ${master}, which now holds the stream`,
        );
      }
      sent.streamId = this.#streamId;
      const call = {
        framework_id: { value: this.#frameworkId! },
        type,
        ...(body === undefined ? {} : { [callBodyField[type]]: body }),
      };
      const answer = await postJson(master, call, {
        agent: acknowledgement ? this.#acknowledgeAgent : this.#callAgent,
        timeoutMs,
        headers: { ...this.#authorization, [streamIdHeader]: this.#streamId!, [idempotencyKeyHeader]: key },
      });
      return { master, response: answer };
    });
    if (response.status !== 202 && response.status !== 200)
      throw rejectionError(response.status, response.body, `${type} at ${master}`);
  }

  /** Rejects OFFERS_RESCINDED, unsent, when the stream moved to another master before it could be sent. */
  accept(offerIds: readonly IdValue[], operations: readonly OfferOperation[], filters?: Filters): Promise<void> {
    for (const operation of operations) {
      if (operation.type === 'LAUNCH') this.#rememberTasks(operation.launch.task_infos);
      if (operation.type === 'LAUNCH_GROUP') this.#rememberTasks(operation.launch_group.task_group.tasks);
    }
    const offeredBy = this.#takeOfferMasters(offerIds);
    return this.#call(
      'ACCEPT',
      { offer_ids: offerIds, operations, ...(filters === undefined ? {} : { filters }) },
      offeredBy,
    );
  }

  /** The masters the offers came from, forgotten here: an offer is accepted or declined once. */
  #takeOfferMasters(offerIds: readonly IdValue[]): (MasterAddress | undefined)[] {
    return offerIds.map((id) => {
      const master = this.#offerMasters.get(id.value);
      this.#offerMasters.delete(id.value);
      return master;
    });
  }

  /** ACCEPT of one offer with a LAUNCH of `tasks`. */
  launch(offer: Offer, tasks: readonly TaskInfo[], filters?: Filters): Promise<void> {
    return this.accept([offer.id], [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters);
  }

  decline(offerIds: readonly IdValue[], filters?: Filters): Promise<void> {
    this.#takeOfferMasters(offerIds);
    return this.call('DECLINE', { offer_ids: offerIds, ...(filters === undefined ? {} : { filters }) });
  }

  kill(taskId: string, agentId?: IdValue): Promise<void> {
    const agent = agentId ?? this.#knownTasks.get(taskId);
    return this.call('KILL', { task_id: { value: taskId }, ...(agent === undefined ? {} : { agent_id: agent }) });
  }

  /**
   * ACKNOWLEDGE of one update, sent once the current turn ends (with the others asked for in it),
   * at most once while it is on its way. An update of a task whose terminal update is acknowledged
   * in the same turn is not acknowledged on its own: acknowledging a task's terminal update
   * acknowledges every earlier one (Mesos' `Master::acknowledge` removes the task; a Flotilla
   * master of command format 10 records them all), so its promise follows the terminal one's. A
   * master without that rule (a mixed-version cluster) sends the earlier update again later, and
   * it is acknowledged then. Mesos' agents send a task's next update only once the previous one
   * is acknowledged, so against Apache Mesos no two arrive in one turn. Where a task starts and
   * finishes at once (the churn bench), this halves the acknowledgements.
   */
  acknowledge(status: TaskStatus): Promise<void> {
    if (status.uuid === undefined || status.agent_id === undefined) {
      return Promise.reject(
        new SchedulerError(
          'BAD_RESPONSE',
          `the update of ${status.task_id.value} has no uuid or agent_id to acknowledge`,
        ),
      );
    }
    const key = `${status.task_id.value}/${status.uuid}`;
    const onItsWay = this.#acknowledgements.get(key);
    if (onItsWay !== undefined) return onItsWay;
    const acknowledged = new Promise<void>((resolve, reject) => {
      const taskId = status.task_id.value;
      const ofTask = this.#turnAcknowledgements.get(taskId) ?? [];
      ofTask.push({ status, resolve, reject });
      this.#turnAcknowledgements.set(taskId, ofTask);
    }).finally(() => this.#acknowledgements.delete(key));
    this.#acknowledgements.set(key, acknowledged);
    this.#turnAcknowledgementsSend ??= setImmediate(() => this.#sendTurnAcknowledgements());
    return acknowledged;
  }

  /** The acknowledgements asked for in the turn that ended: per task, its terminal update's alone if it has one. */
  #sendTurnAcknowledgements(): void {
    this.#turnAcknowledgementsSend = null;
    const turn = this.#turnAcknowledgements;
    this.#turnAcknowledgements = new Map();
    for (const asked of turn.values()) {
      const terminal = asked.filter((each) => isTerminalTaskState(each.status.state));
      // Two terminal updates of one task (a rare state change after a terminal one): each on its own.
      const sent = terminal.length === 1 ? terminal : asked;
      for (const each of sent) {
        const answered = this.call('ACKNOWLEDGE', {
          agent_id: each.status.agent_id!,
          task_id: each.status.task_id,
          uuid: each.status.uuid!,
        });
        const following = sent === asked ? [each] : asked;
        for (const follower of following) answered.then(follower.resolve, follower.reject);
      }
    }
  }

  /** Calls made so far, by type (retries of one call not counted again). */
  get callsMade(): ReadonlyMap<CallType, number> {
    return this.#callsMade;
  }

  /** ACKNOWLEDGEs sent and not yet answered (each update's once, however often it was received). */
  get acknowledgementsOnTheirWay(): number {
    return this.#acknowledgements.size;
  }

  /** A framework message for one of its executors (bytes, or a string sent as UTF-8): best effort, as in Mesos. */
  message(agentId: IdValue, executorId: string, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    return this.call('MESSAGE', {
      agent_id: agentId,
      executor_id: { value: executorId },
      data: bytes.toString('base64'),
    });
  }

  /** Stops one of its executors (and its tasks) on that agent. */
  shutdown(agentId: IdValue, executorId: string): Promise<void> {
    return this.call('SHUTDOWN', { agent_id: agentId, executor_id: { value: executorId } });
  }

  /**
   * Explicit reconciliation of `tasks`, in calls of at most maxTasksPerReconcile tasks and
   * maxReconcileTaskBytes of their JSON (one after another, so a large list does not take every
   * call socket); implicit (every task of the framework) when empty. Rejects with the first call
   * that fails; the tasks of later calls are then not asked about.
   */
  async reconcile(tasks: readonly { readonly task_id: IdValue; readonly agent_id?: IdValue }[] = []): Promise<void> {
    if (tasks.length === 0) return this.call('RECONCILE', { tasks });
    let start = 0;
    let bytes = 0;
    for (let end = 0; end < tasks.length; end++) {
      const taskBytes = Buffer.byteLength(JSON.stringify(tasks[end])) + 1;
      if (end > start && (end - start === maxTasksPerReconcile || bytes + taskBytes > maxReconcileTaskBytes)) {
        await this.call('RECONCILE', { tasks: tasks.slice(start, end) });
        start = end;
        bytes = 0;
      }
      bytes += taskBytes;
    }
    await this.call('RECONCILE', { tasks: tasks.slice(start) });
  }

  revive(roles?: readonly string[]): Promise<void> {
    return this.call('REVIVE', roles === undefined ? undefined : { roles });
  }

  suppress(roles?: readonly string[]): Promise<void> {
    return this.call('SUPPRESS', roles === undefined ? undefined : { roles });
  }

  /** Ends the framework for good (its tasks are killed), then closes the client. */
  async teardown(): Promise<void> {
    try {
      await this.call('TEARDOWN', undefined);
    } finally {
      this.close();
    }
  }

  /** The tasks this client launched or heard of that are not yet terminal. */
  knownTasks(): ReadonlyMap<string, IdValue | undefined> {
    return this.#knownTasks;
  }

  /** Drops the stream and stops reconnecting; the framework stays registered until its failover timeout. */
  close(error?: Error): void {
    if (this.#state === 'closed') return;
    this.#fatal = error ?? null;
    this.#setState('closed', error ?? null);
    this.#stop.abort();
    this.#stream?.response.destroy();
    this.#callAgent.destroy();
    this.#acknowledgeAgent.destroy();
    this.#streamAgent.destroy();
    for (const queue of this.#queues) queue.end(error);
    this.#queues.clear();
    for (const waiter of this.#subscribedWaiters.splice(0)) waiter.reject(this.#closedError());
  }

  #closedError(): SchedulerError {
    const reason = this.#fatal === null ? '' : `: ${this.#fatal.message}`;
    return new SchedulerError('CLOSED', `the scheduler client is closed${reason}`, null, null, {
      cause: this.#fatal ?? undefined,
    });
  }

  async #waitForSubscription(timeoutMs: number): Promise<void> {
    if (this.#state === 'subscribed') return;
    if (this.#state === 'closed') throw this.#closedError();
    if (this.#running === null) throw new SchedulerError('NOT_SUBSCRIBED', 'call subscribe() before sending calls');
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#subscribedWaiters.push({ resolve, reject });
        timer = setTimeout(() => {
          const last = this.#lastFailure === null ? '' : ` (last attempt: ${this.#lastFailure.message})`;
          reject(new SchedulerError('NOT_SUBSCRIBED', `not subscribed within ${timeoutMs} ms${last}`));
        }, timeoutMs);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  #setState(state: ConnectionState, error: Error | null): void {
    this.#state = state;
    const change: ConnectionChange = { state, master: this.#master, error };
    for (const listener of this.#connectionListeners) listener(change);
  }

  /** The connection loop: subscribe, read until the stream dies, back off, repeat. */
  async #run(): Promise<void> {
    let lost: MasterAddress | null = null;
    let failedAttempts = 0;
    const policy = this.options.reconnect ?? defaultReconnectPolicy;
    while (!this.#stop.signal.aborted) {
      const firstTry = lost === null && failedAttempts === 0;
      const step = reconnectStep(
        this.options.masters,
        lost,
        failedAttempts,
        policy,
        this.options.random ?? Math.random,
      );
      const target = firstTry ? this.options.masters[0]! : step.master;
      if (!firstTry) {
        const slept = await sleep(step.delayMs, true, { signal: this.#stop.signal }).catch(() => false);
        if (!slept) break;
      }
      try {
        this.#stream = await openSubscription(target, this.#subscribeCall(), this.#streamAgent, this.#authorization);
      } catch (error) {
        if (this.#handleSubscribeFailure(target, error as Error)) break;
        failedAttempts += 1;
        continue;
      }
      failedAttempts = 0;
      const ended = await this.#consume(this.#stream);
      lost = this.#stream.master;
      this.#stream = null;
      this.#streamId = null;
      if (this.#state !== 'closed') this.#setState('connecting', ended);
    }
  }

  /** Logs a failed SUBSCRIBE; true when it is fatal (the client is then closed). */
  #handleSubscribeFailure(target: MasterAddress, error: Error): boolean {
    if (this.#stop.signal.aborted) return true;
    const status = error instanceof SchedulerError ? error.status : null;
    if (status !== null && isFatalSubscribeStatus(status)) {
      this.#logger.error({ master: target, error: error.message }, 'SUBSCRIBE refused; giving up');
      this.close(error);
      return true;
    }
    this.#logger.info({ master: target, error: error.message }, 'SUBSCRIBE failed; trying the next master');
    this.#lastFailure = error;
    this.#setState('connecting', error);
    return false;
  }

  #subscribeCall(): object {
    const frameworkId = this.#frameworkId;
    const info =
      frameworkId === null ? this.options.framework : { ...this.options.framework, id: { value: frameworkId } };
    // Re-subscription (failover): the id in both places, as scheduler.proto asks.
    return {
      type: 'SUBSCRIBE',
      ...(frameworkId === null ? {} : { framework_id: { value: frameworkId } }),
      subscribe: { framework_info: info },
    };
  }

  /** Reads one stream until it ends; the error that ended it, or null for a clean close. */
  async #consume(stream: OpenedStream): Promise<Error | null> {
    const factor = this.options.heartbeatTimeoutFactor ?? 3;
    let silenceMs = subscribeHeadersTimeoutMs;
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => stream.response.destroy(new Error(`no event for ${silenceMs} ms`)), silenceMs);
    };
    arm();
    try {
      for await (const event of readEvents(stream.response)) {
        if (event.type === 'SUBSCRIBED') {
          silenceMs = factor * 1000 * (event.subscribed.heartbeat_interval_seconds ?? defaultHeartbeatSeconds);
          this.#onSubscribed(stream, event.subscribed.framework_id.value);
        }
        arm();
        this.#dispatch(event);
      }
      return null;
    } catch (error) {
      if (!this.#stop.signal.aborted)
        this.#logger.warn({ master: stream.master, error: (error as Error).message }, 'event stream lost');
      return error as Error;
    } finally {
      clearTimeout(watchdog);
      stream.response.destroy();
    }
  }

  #onSubscribed(stream: OpenedStream, frameworkId: string): void {
    this.#frameworkId = frameworkId;
    this.#lastFailure = null;
    this.#master = stream.master;
    this.#streamId = stream.streamId;
    // Another master's offers can never be used on this stream: ACCEPTs of them took their masters already.
    for (const [offerId, master] of this.#offerMasters)
      if (master !== stream.master) this.#offerMasters.delete(offerId);
    this.#setState('subscribed', null);
    this.#logger.info({ master: stream.master, frameworkId }, 'subscribed');
    for (const waiter of this.#subscribedWaiters.splice(0)) waiter.resolve();
    if ((this.options.reconcileOnSubscribe ?? true) && this.#knownTasks.size > 0) {
      const tasks = [...this.#knownTasks].map(([taskId, agentId]) => ({
        task_id: { value: taskId },
        ...(agentId ? { agent_id: agentId } : {}),
      }));
      this.reconcile(tasks).catch((error: Error) =>
        this.#logger.warn({ error: error.message }, 'reconciliation after subscribe failed'),
      );
    }
  }

  #dispatch(event: SchedulerEvent): void {
    if (event.type === 'UPDATE') this.#track(event.update.status);
    if (event.type === 'OFFERS') this.#trackOffers(event.offers.offers);
    if (event.type === 'RESCIND') this.#offerMasters.delete(event.rescind.offer_id.value);
    for (const key of [event.type, '*'] as const) {
      for (const handler of this.#handlers.get(key) ?? []) {
        try {
          handler(event);
        } catch (error) {
          // A handler's bug must not kill the stream (and with it every other handler).
          this.#logger.error({ event: event.type, error: (error as Error).message }, 'event handler threw');
        }
      }
    }
    for (const queue of this.#queues) queue.push(event);
    if (event.type === 'UPDATE' && event.update.status.uuid !== undefined && (this.options.autoAcknowledge ?? true)) {
      this.acknowledge(event.update.status).catch((error: Error) => {
        // The master re-sends an unacknowledged update, so a lost ack is repaired by itself.
        this.#logger.warn(
          { taskId: event.update.status.task_id.value, error: error.message },
          'acknowledgement failed',
        );
      });
    }
  }

  #track(status: TaskStatus): void {
    const taskId = status.task_id.value;
    // TASK_UNKNOWN answers a reconciliation of a task the master never heard of: nothing to follow.
    if (isTerminalTaskState(status.state) || status.state === 'TASK_UNKNOWN') this.#knownTasks.delete(taskId);
    else if (this.#knownTasks.has(taskId) || this.#knownTasks.size < maxKnownTasks)
      this.#knownTasks.set(taskId, status.agent_id);
  }

  #trackOffers(offers: readonly Offer[]): void {
    const master = this.#master;
    if (master === null) return;
    for (const offer of offers)
      if (this.#offerMasters.size < maxTrackedOffers) this.#offerMasters.set(offer.id.value, master);
  }

  #rememberTasks(tasks: readonly TaskInfo[]): void {
    for (const task of tasks)
      if (this.#knownTasks.size < maxKnownTasks) this.#knownTasks.set(task.task_id.value, task.agent_id);
  }
}

/** Whether a failed attempt may have reached a master and applied: no answer at all, or 504. */
function mayHaveReachedMaster(error: unknown): boolean {
  if (!(error instanceof SchedulerError)) return true;
  return error.code === 'NETWORK' || (error.code === 'CALL_REJECTED' && error.status === 504);
}
