// ExecutorClient: a framework's executor talking to its agent over the Mesos v1 executor HTTP
// API (executor-http-api.md). It SUBSCRIBEs, reads the RecordIO event stream and hands typed
// events to handlers; it remembers every task it was given and every update not acknowledged
// yet, so when the stream breaks (the agent restarted, the connection dropped) it subscribes
// again with back-off (at most MESOS_SUBSCRIPTION_BACKOFF_MAX apart) and lists them, as the
// API asks — for up to MESOS_RECOVERY_TIMEOUT, after which the agent has given up on it too.
// An update made while disconnected is kept and sent with the next SUBSCRIBE.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ExecutorEvent,
  type ExecutorEventType,
  type ExecutorStatus,
  executorApiPath,
  statusJson,
  type TaskInfoJson,
  updateCallJson,
} from '../../protocol/executor.ts';
import { executorApiLimits } from '../../protocol/limits.ts';
import { RecordIoDecoder } from '../../protocol/recordio.ts';
import { isTerminalTaskState, type TaskReason, type TaskState } from '../../protocol/task-states.ts';
import { backoffDelayMs } from '../../util/backoff.ts';
import { type Logger, silentLogger } from '../../util/logger.ts';
import { rejectionError, SchedulerError } from '../sdk/errors.ts';
import type { MasterAddress } from '../sdk/masters.ts';
import { connectionAgent, postForResponse, postJson, readBody } from '../sdk/transport.ts';
import type { ExecutorIdentity } from './environment.ts';

export type ExecutorEventOf<T extends ExecutorEventType> = Extract<ExecutorEvent, { type: T }>;
type Handler<T extends ExecutorEventType> = (event: ExecutorEventOf<T>) => void;

export interface UpdateFields {
  readonly message?: string;
  readonly reason?: TaskReason;
  /** TaskStatus.data: bytes for the scheduler (a string is sent as UTF-8). */
  readonly data?: Uint8Array | string;
  readonly healthy?: boolean;
}

/** The client's connection, for logs and tests. */
export type ExecutorConnectionState = 'idle' | 'subscribing' | 'subscribed' | 'disconnected' | 'closed';

const firstRetryMs = 100;
const maxErrorBodyBytes = 16 * 1024;
const errorBodyTimeoutMs = 5_000;

const toBase64 = (bytes: Uint8Array | string): string =>
  (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes)).toString('base64');

export class ExecutorClient {
  readonly #handlers = new Map<ExecutorEventType, ((event: ExecutorEvent) => void)[]>();
  /** Tasks given to this executor that have no acknowledged terminal update yet. */
  readonly #tasks = new Map<string, TaskInfoJson>();
  /** Updates sent (or to be sent) that the agent has not acknowledged, by uuid. */
  readonly #unacknowledged = new Map<string, ExecutorStatus>();
  #state: ExecutorConnectionState = 'idle';
  #response: IncomingMessage | null = null;
  readonly #httpAgent: http.Agent;
  readonly #logger: Logger;
  #closed: () => void = () => undefined;
  /** Resolves when the client closes: by close(), SHUTDOWN handling, or giving up on the agent. */
  readonly done: Promise<void>;

  constructor(
    readonly identity: ExecutorIdentity,
    options: { readonly logger?: Logger } = {},
  ) {
    this.#logger = options.logger ?? silentLogger;
    // An agent with --tls-* serves HTTPS; its CA comes in LIBPROCESS_SSL_CA_FILE (environment.ts).
    const caFile = identity.tlsCaFile ?? null;
    this.#httpAgent = connectionAgent(caFile === null ? null : { ca: readFileSync(caFile) }, {
      keepAlive: true,
      maxSockets: 4,
    });
    this.done = new Promise((resolve) => {
      this.#closed = resolve;
    });
  }

  get state(): ExecutorConnectionState {
    return this.#state;
  }

  /** The tasks the executor was given and has not ended (acknowledged), by id. */
  get tasks(): ReadonlyMap<string, TaskInfoJson> {
    return this.#tasks;
  }

  on<T extends ExecutorEventType>(type: T, handler: Handler<T>): this {
    const list = this.#handlers.get(type) ?? [];
    list.push(handler as (event: ExecutorEvent) => void);
    this.#handlers.set(type, list);
    return this;
  }

  /** Subscribes, and keeps subscribing again whenever the stream breaks, until close(). */
  start(): void {
    if (this.#state !== 'idle') return;
    void this.#run();
  }

  /** A status update for one of its tasks; resolves once the agent took it (or kept for the next SUBSCRIBE). */
  async update(taskId: string, state: TaskState, fields: UpdateFields = {}): Promise<void> {
    const status: ExecutorStatus = {
      taskId,
      state,
      uuid: randomBytes(16).toString('base64'),
      reason: fields.reason ?? null,
      message: fields.message ?? null,
      healthy: fields.healthy ?? null,
      data: fields.data === undefined ? null : toBase64(fields.data),
      timestampMs: Date.now(),
    };
    this.#unacknowledged.set(status.uuid, status);
    if (this.#state !== 'subscribed') return;
    await this.#call(updateCallJson(this.identity, status), 'UPDATE').catch((error: unknown) => {
      if (error instanceof SchedulerError && error.code === 'CALL_REJECTED') {
        this.#unacknowledged.delete(status.uuid);
        throw error;
      }
      // Lost on the way: it goes again with the next SUBSCRIBE.
    });
  }

  /** A framework message for the scheduler: best effort, as in Mesos. */
  async message(data: Uint8Array | string): Promise<void> {
    await this.#call({ ...this.#identityJson(), type: 'MESSAGE', message: { data: toBase64(data) } }, 'MESSAGE');
  }

  /** Stops subscribing and closes the stream; `done` resolves. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#response?.destroy();
    this.#httpAgent.destroy();
    this.#closed();
  }

  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #identityJson(): Record<string, unknown> {
    return { framework_id: { value: this.identity.frameworkId }, executor_id: { value: this.identity.executorId } };
  }

  async #call(body: object, name: string): Promise<void> {
    const answer = await postJson(this.identity.agentEndpoint as MasterAddress, body, {
      path: executorApiPath,
      agent: this.#httpAgent,
      headers: this.#authorization(),
    });
    if (answer.status !== 202)
      throw rejectionError(answer.status, answer.body, `${name} at ${this.identity.agentEndpoint}`);
  }

  /** The agent's token for this executor, when it gave one (an agent with --credentials requires it). */
  #authorization(): Record<string, string> {
    const token = this.identity.authenticationToken ?? null;
    return token === null ? {} : { authorization: `Bearer ${token}` };
  }

  #subscribeCall(): object {
    return {
      ...this.#identityJson(),
      type: 'SUBSCRIBE',
      subscribe: {
        unacknowledged_tasks: [...this.#tasks.values()],
        unacknowledged_updates: [...this.#unacknowledged.values()].map((status) => ({
          status: statusJson(this.identity.executorId, status),
        })),
      },
    };
  }

  /** Subscription attempts until close(), or until the agent has been away longer than the recovery timeout. */
  async #run(): Promise<void> {
    let failedAttempts = 0;
    let disconnectedAt = Date.now();
    while (this.#state !== 'closed') {
      this.#state = 'subscribing';
      const subscribed = await this.#subscribeOnce().catch((error: unknown) => {
        if (error instanceof SchedulerError && error.code === 'CALL_REJECTED') {
          this.#emit({ type: 'ERROR', error: { message: error.message } });
          this.#logger.error({ problem: error.message }, 'the agent refused the subscription; giving up');
          this.close();
        }
        return false;
      });
      if (this.#isClosed()) return;
      this.#state = 'disconnected';
      if (subscribed) {
        failedAttempts = 0;
        disconnectedAt = Date.now();
      } else failedAttempts += 1;
      if (Date.now() - disconnectedAt > this.identity.recoveryTimeoutMs) {
        this.#logger.error({ recoveryTimeoutMs: this.identity.recoveryTimeoutMs }, 'the agent stayed away: giving up');
        this.close();
        return;
      }
      const policy = { baseMs: firstRetryMs, maxMs: Math.max(firstRetryMs, this.identity.subscriptionBackoffMaxMs) };
      await sleep(backoffDelayMs(Math.min(failedAttempts, 30), policy, Math.random));
    }
  }

  /** One subscription: true when it was subscribed before its stream ended. */
  async #subscribeOnce(): Promise<boolean> {
    const endpoint = this.identity.agentEndpoint as MasterAddress;
    const response = await postForResponse(endpoint, this.#subscribeCall(), {
      path: executorApiPath,
      agent: this.#httpAgent,
      headers: this.#authorization(),
    });
    if (response.statusCode !== 200) {
      const body = await readBody(endpoint, response, maxErrorBodyBytes, errorBodyTimeoutMs).catch(() => '');
      const error = rejectionError(response.statusCode ?? 0, body, `SUBSCRIBE at ${endpoint}`);
      // 5xx and 503s of an agent still starting are retried; a 4xx will not get better.
      if ((response.statusCode ?? 0) >= 500) throw new SchedulerError('NETWORK', error.message);
      throw error;
    }
    this.#response = response;
    return this.#readEvents(response);
  }

  #readEvents(response: IncomingMessage): Promise<boolean> {
    const decoder = new RecordIoDecoder({ maxRecordBytes: executorApiLimits.maxEventBytes });
    let subscribed = false;
    return new Promise((resolve) => {
      response.on('data', (chunk: Buffer) => {
        try {
          for (const record of decoder.decode(chunk)) {
            const event = JSON.parse(Buffer.from(record).toString('utf8')) as ExecutorEvent;
            if (event.type === 'SUBSCRIBED') subscribed = true;
            this.#onEvent(event);
          }
        } catch (error) {
          this.#logger.warn({ err: error }, 'unreadable event stream: subscribing again');
          response.destroy();
        }
      });
      response.on('error', () => undefined);
      response.on('close', () => {
        this.#response = null;
        resolve(subscribed);
      });
    });
  }

  #onEvent(event: ExecutorEvent): void {
    switch (event.type) {
      case 'SUBSCRIBED':
        this.#state = 'subscribed';
        break;
      case 'LAUNCH':
        this.#tasks.set(event.launch.task.task_id.value, event.launch.task);
        break;
      case 'LAUNCH_GROUP':
        for (const task of event.launch_group.task_group.tasks) this.#tasks.set(task.task_id.value, task);
        break;
      case 'ACKNOWLEDGED': {
        const status = this.#unacknowledged.get(event.acknowledged.uuid);
        this.#unacknowledged.delete(event.acknowledged.uuid);
        if (status !== undefined && isTerminalTaskState(status.state)) this.#tasks.delete(status.taskId);
        break;
      }
      default:
        break;
    }
    this.#emit(event);
  }

  #emit(event: ExecutorEvent): void {
    for (const handler of this.#handlers.get(event.type) ?? []) {
      try {
        handler(event);
      } catch (error) {
        this.#logger.error({ err: error, event: event.type }, 'an executor event handler threw');
      }
    }
  }
}
