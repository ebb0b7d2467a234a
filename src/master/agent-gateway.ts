// The masters' end of the agent WebSockets (src/protocol/agent.ts). On a follower it answers a
// register with `not_leader` and closes. Its leader part is a leader service (start(term) to
// stop()): it proposes (re-)registrations, forwards committed launches and kills to the agents,
// proposes their status updates and acknowledges each one once it is recorded, pings the agents
// and marks the silent ones UNREACHABLE. When this master stops leading it closes every agent
// socket, so the agents go and find the new one.
import { agentProtocolLimits } from '../protocol/limits.ts';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { refuseUpgrade } from '../util/refuse-upgrade.ts';
import { SecretCheck, secretHeader } from '../util/shared-secret.ts';
import { certificateNames } from '../util/tls.ts';
import type { TLSSocket } from 'node:tls';
import {
  agentRedirectHeader,
  agentWebSocketPath,
  encodeMessage,
  parseAgentMessage,
  type AgentMessage,
  type MasterMessageBody,
  type WireMaster,
  type WireUsage,
} from '../protocol/agent.ts';
import type { ReregisterAgent } from '../state-machine/commands.ts';
import type { ChangeEvent } from '../state-machine/events.ts';
import {
  agentId as toAgentId,
  frameworkId as toFrameworkId,
  taskId as toTaskId,
  taskKey,
  type AgentId,
  type FrameworkId,
  type TaskId,
  type TaskKey,
} from '../state-machine/ids.ts';
import { assert } from '../util/assert.ts';
import { isTerminalTaskState } from '../protocol/task-states.ts';
import type { StatusReport } from '../state-machine/values.ts';
import {
  type ExecutorEventSink,
  type ExecutorTarget,
  GroupLaunches,
  onExecutorExited,
  onExecutorMessage,
} from './agent-executors.ts';
import { lateAgents, type LivenessSettings } from './agent-liveness.ts';
import { registerAgentConnection } from './agent-registration.ts';
import { killMessage, launchMessage, toStatusReport, volumesMessage, WireConversionError } from './agent-wire.ts';
import type { ReplicatedMaster } from './interface.ts';
import type { LeaderService } from './leadership/service.ts';
import { agentRefusalLogIntervalMs } from './limits.ts';
import { TaskStatusBatcher } from './status-batcher.ts';
import type { BatchedAnswer } from './turn-batcher.ts';
import { AgentRegistrationBatcher } from './registration-batcher.ts';

/** A frame that is not valid UTF-8 JSON, or too large, closes the socket with this code. */
const closeCodeNotLeader = 4000;
const closeCodeUnreachable = 4001;
const closeCodeReplaced = 4002;

export interface TaskUsageView {
  readonly agentId: AgentId;
  readonly usage: WireUsage;
  /** When the leader received it, ms since the epoch. */
  readonly receivedAtMs: number;
}

export interface AgentGatewayParts {
  readonly master: Pick<ReplicatedMaster, 'address' | 'raft' | 'state' | 'onChange' | 'submit'>;
  /**
   * Resolves once this master's leader services run (throws if they do not): a register that
   * reaches a leader still establishing its term waits for it rather than being turned away.
   */
  readonly leaderServicesRunning: () => Promise<void>;
  readonly zone: string | null;
  readonly settings: LivenessSettings;
  /** The cluster secret: an agent must present it (x-flotilla-secret) to be let in. */
  readonly secret: string;
  /**
   * Mutual TLS (--tls-require-client-cert): an agent's socket must come with a client
   * certificate of the cluster CA, and it may register only under a hostname that certificate names.
   */
  readonly requireClientCert?: boolean;
  /** Agent sockets held at once, registered or not (--max-agent-connections); one more is refused 503. */
  readonly maxConnections: number;
  /** Where executors' messages and exits go: the scheduler sessions. */
  readonly executorEvents: ExecutorEventSink;
  readonly logger: Logger;
  /**
   * The return of unreachable-lost tasks every replica applies (command formats 11 and 12,
   * lost-task-return-rule.ts); absent or undefined: none (an older replica may be among them).
   */
  readonly lostTaskReturn?: () => ReregisterAgent['restoresLostTasks'];
  /** Told of every well-formed message an agent sends (the master's message counters). */
  readonly onMessage?: (message: AgentMessage) => void;
}

export class AgentConnection {
  agentId: AgentId | null = null;
  closed = false;
  registering = false;
  /** When the WebSocket handshake was answered (a failover's timeline: accepted → register read). */
  readonly acceptedAtMs = Date.now();
  /** Frames sent in this turn of the event loop are held in the socket until its end (`send`). */
  #corked = false;

  constructor(
    readonly socket: WebSocket,
    readonly remote: string,
    /** The names of the agent's client certificate (mutual TLS); null without mutual TLS. */
    readonly certificateNames: readonly string[] | null = null,
    /** The TCP (or TLS) stream under the WebSocket: null where there is none to cork (tests). */
    readonly transport: Duplex | null = null,
  ) {}

  /**
   * One apply of a Raft batch launches hundreds of tasks and each commit acknowledges as many
   * updates: written one by one, each frame was its own writev system call (9% of the leader's
   * time in the launch bench). Corked until the event loop's check phase, a turn's frames leave in
   * one write; each is still its own WebSocket frame, so the protocol is unchanged.
   */
  send(body: MasterMessageBody): void {
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) return;
    if (!this.#corked && this.transport !== null) {
      this.#corked = true;
      this.transport.cork();
      setImmediate(() => {
        this.#corked = false;
        this.transport?.uncork();
      });
    }
    this.socket.send(encodeMessage(body));
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(code, reason);
  }
}

export class AgentGateway implements LeaderService {
  readonly name = 'agent-gateway';
  readonly #server = new WebSocketServer({ noServer: true, maxPayload: agentProtocolLimits.maxFrameBytes });
  readonly #secret: SecretCheck;
  #refusalLoggedAtMs = -Infinity;
  readonly #connections = new Set<AgentConnection>();
  /** Registered agents' current sockets, on the leader only. */
  readonly #byAgent = new Map<AgentId, AgentConnection>();
  readonly #lastHeardMs = new Map<AgentId, number>();
  readonly #markingUnreachable = new Set<AgentId>();
  /**
   * The usage each agent last reported, per task: by agent, so a report replaces that agent's
   * entries at a cost proportional to its own tasks (with one flat map, every report from any of
   * 10,000 agents swept the entries of all 100,000 tasks).
   */
  readonly #usage = new Map<AgentId, Map<TaskKey, TaskUsageView>>();
  /** Told when an agent's socket is bound to it or closes (the allocation loop offers only connected agents). */
  readonly #connectionListeners: Array<(agentId: AgentId, connected: boolean) => void> = [];
  /** Status updates being proposed, by `frameworkId/taskId/uuid`: resolves true once recorded. */
  readonly #statusInFlight = new Map<string, Promise<boolean>>();
  #statusUpdatesDeduplicated = 0;
  /** Re-registrations being proposed, by agent (agent-registration.ts proposeOnce). */
  readonly registrationsInFlight = new Map<AgentId, Promise<AgentId | null>>();
  /** Agent handshakes this master answered 307 NOT_LEADER (a follower: #redirectToLeader). */
  upgradesRedirected = 0;
  /** Registrations on a new socket that waited for the agent's proposal in flight instead of proposing. */
  registrationsJoined = 0;
  /** Frames read from sockets this master had closed, dropped unanswered (#onFrame). */
  framesAfterClose = 0;
  /** Registrations of one event-loop turn go to Raft as one entry (registration-batcher.ts). */
  readonly registrations: AgentRegistrationBatcher;
  #stopListening: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #leading = false;
  #leaderSinceMs = 0;
  /** When the latest pings went out, oldest first: an agent is late by pings it missed, not by wall time. */
  #pingsSentMs: number[] = [];
  /** The liveness check the ping timer scheduled, after the pending input is read. */
  #livenessCheck: NodeJS.Immediate | null = null;
  #nonce = 0;
  readonly #groupLaunches: GroupLaunches;
  /** Status updates of one event-loop turn go to Raft as one entry (status-batcher.ts). */
  readonly #statusUpdates: TaskStatusBatcher;

  constructor(readonly parts: AgentGatewayParts) {
    this.#secret = new SecretCheck(parts.secret);
    this.#statusUpdates = new TaskStatusBatcher(parts.master);
    this.registrations = new AgentRegistrationBatcher(parts.master);
    this.#groupLaunches = new GroupLaunches(
      () => parts.master.state(),
      (agentId, message) => this.#byAgent.get(agentId)?.send(message),
    );
  }

  get executorReports() {
    return { master: this.parts.master, events: this.parts.executorEvents, logger: this.parts.logger };
  }

  /** Scheduler MESSAGE: to the executor's agent, best effort (Mesos drops it too when the agent is away). */
  sendFrameworkMessage(target: ExecutorTarget, data: string): boolean {
    return this.#toExecutorAgent(target, { type: 'framework_message', ...target, data }, 'framework message');
  }

  /** Scheduler SHUTDOWN: the agent shuts the executor down (SHUTDOWN event, grace, then kill). */
  shutdownExecutor(target: ExecutorTarget): boolean {
    return this.#toExecutorAgent(target, { type: 'shutdown_executor', ...target }, 'executor shutdown');
  }

  #toExecutorAgent(target: ExecutorTarget, message: MasterMessageBody, what: string): boolean {
    const connection = this.#leading ? this.#byAgent.get(toAgentId(target.agentId)) : undefined;
    if (connection === undefined) {
      this.parts.logger.warn(
        { agent: target.agentId, framework: target.frameworkId, executor: target.executorId },
        `dropped a ${what}: the agent is not connected`,
      );
      return false;
    }
    connection.send(message);
    return true;
  }

  /** This master leads: registrations are accepted, agents pinged, launches and kills forwarded. */
  async start(_term: number): Promise<void> {
    assert(!this.#leading && this.#timer === null, 'the agent gateway started twice');
    this.#leading = true;
    this.#lastHeardMs.clear();
    this.#usage.clear();
    this.#leaderSinceMs = Date.now();
    this.#pingsSentMs = [];
    this.#stopListening = this.parts.master.onChange((event) => this.#onChange(event));
    this.#timer = setInterval(() => this.#scheduleTick(), this.parts.settings.pingIntervalMs);
    this.parts.logger.info(
      { graceMs: this.parts.settings.reregistrationGraceMs },
      'leading: waiting for agents to re-register',
    );
  }

  /** Agents must talk to the leader only: closing their sockets makes them rediscover it. */
  stop(): void {
    if (!this.#leading) return;
    this.#leading = false;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#livenessCheck !== null) clearImmediate(this.#livenessCheck);
    this.#livenessCheck = null;
    this.#stopListening?.();
    this.#stopListening = null;
    this.#lastHeardMs.clear();
    this.#usage.clear();
    this.#closeAll(closeCodeNotLeader, 'no longer the leader');
  }

  /** The master's HTTP 'upgrade' handler calls this first; false: not an agent socket. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if ((request.url ?? '').split('?')[0] !== agentWebSocketPath) return false;
    if (!this.#secret.matches(request.headers[secretHeader])) {
      this.#reportRefusal(request, 'wrong or missing cluster secret');
      refuseUpgrade(socket, 401);
      return true;
    }
    if (this.#redirectToLeader(request, socket)) return true;
    // After the secret: a caller without it learns nothing, not even that the master is full.
    if (this.#connections.size >= this.parts.maxConnections) {
      this.#reportRefusal(request, `${this.parts.maxConnections} agent sockets are open`);
      refuseUpgrade(socket, 503, {
        code: 'UNAVAILABLE',
        message: `this master holds ${this.parts.maxConnections} agent sockets (--max-agent-connections); retry`,
      });
      return true;
    }
    let names: readonly string[] | null = null;
    if (this.parts.requireClientCert === true) {
      names = trustedCertificateNames(request.socket);
      if (names === null) {
        this.#reportRefusal(request, 'no client certificate of the cluster CA (mutual TLS)');
        refuseUpgrade(socket, 403);
        return true;
      }
    }
    this.#server.handleUpgrade(request, socket, head, (webSocket) => this.#accept(webSocket, request, names, socket));
    return true;
  }

  /**
   * On a follower that knows the leader, an agent that asked for it (agentRedirectHeader) is
   * answered 307 NOT_LEADER with the leader's agent path as Location, before any WebSocket work:
   * after a leader's SIGKILL every agent's first dial may land here. A master whose Raft leads but
   * whose leader services are still starting takes the socket (the register waits for them), as
   * does a follower that knows no leader (`not_leader` with none, as before).
   */
  #redirectToLeader(request: IncomingMessage, socket: Duplex): boolean {
    if (this.#leading || request.headers[agentRedirectHeader] === undefined) return false;
    const view = this.parts.master.raft();
    if (view.role === 'leader' || view.leaderAddress === null) return false;
    const scheme = (request.socket as Partial<TLSSocket>).encrypted === true ? 'wss' : 'ws';
    this.upgradesRedirected += 1;
    refuseUpgrade(
      socket,
      307,
      { code: 'NOT_LEADER', message: `this master is not the leader; the leader is ${view.leaderAddress}` },
      { Location: `${scheme}://${view.leaderAddress}${agentWebSocketPath}` },
    );
    return true;
  }

  /** A misconfigured agent retries in a loop: one warning per interval is enough to act on. */
  #reportRefusal(request: IncomingMessage, reason: string): void {
    const nowMs = Date.now();
    if (nowMs - this.#refusalLoggedAtMs < agentRefusalLogIntervalMs) return;
    this.#refusalLoggedAtMs = nowMs;
    this.parts.logger.warn(
      { remote: `${request.socket.remoteAddress}:${request.socket.remotePort}`, reason },
      `refused an agent: ${reason}`,
    );
  }

  /** The usage an agent last reported for a task (kept in memory on the leader, never replicated). */
  taskUsage(frameworkId: string, taskId: string): TaskUsageView | null {
    const key = `${frameworkId}/${taskId}` as TaskKey;
    const agentId = this.parts.master.state().tasks.get(key)?.agentId;
    return agentId === undefined ? null : this.usageAt(agentId, key);
  }

  /** taskUsage for a caller that holds the task's agent and key (GET_STATE: no key built, no state lookup). */
  usageAt(agentId: AgentId, key: TaskKey): TaskUsageView | null {
    return this.#usage.get(agentId)?.get(key) ?? null;
  }

  /** Status updates acknowledged without a Raft proposal: already recorded, or already being proposed. */
  get statusUpdatesDeduplicated(): number {
    return this.#statusUpdatesDeduplicated;
  }

  connectedAgents(): AgentId[] {
    return [...this.#byAgent.keys()];
  }

  /** Whether the agent has (re-)registered with this leader over a socket that is still open. */
  isConnected(agentId: AgentId): boolean {
    return this.#leading && this.#byAgent.has(agentId);
  }

  /**
   * `listener(agentId, true)` once a registration binds the agent's socket, `(agentId, false)` when
   * that socket closes. Not called for the sockets closed when this master stops leading.
   */
  onConnectionChange(listener: (agentId: AgentId, connected: boolean) => void): void {
    this.#connectionListeners.push(listener);
  }

  #notifyConnection(agentId: AgentId, connected: boolean): void {
    for (const listener of this.#connectionListeners) listener(agentId, connected);
  }

  /** The master is stopping (its leader part stopped first): every socket closes, and the server. */
  async close(): Promise<void> {
    this.stop();
    this.#closeAll(1001, 'master stopping');
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Master addresses (from the Raft membership) and the zone of this one; peers' zones are unknown here. */
  mastersView(): WireMaster[] {
    const view = this.parts.master.raft();
    return view.members.map((member) => ({
      address: member.address,
      zone: member.id === view.id ? this.parts.zone : null,
    }));
  }

  self(): WireMaster {
    return { address: this.parts.master.address, zone: this.parts.zone };
  }

  isLeading(): boolean {
    return this.#leading;
  }

  /** Registration committed: this socket now speaks for `agentId` (an older one is closed). */
  bind(connection: AgentConnection, agentId: AgentId): void {
    // Only the leader binds sockets to agents, and a socket speaks for one agent its whole life.
    assert(this.#leading, `agent ${agentId} bound while this master does not lead`);
    assert(
      connection.agentId === null || connection.agentId === agentId,
      `a socket of agent ${connection.agentId} cannot speak for agent ${agentId}`,
    );
    const previous = this.#byAgent.get(agentId);
    if (previous !== undefined && previous !== connection)
      previous.close(closeCodeReplaced, 'replaced by a newer connection');
    connection.agentId = agentId;
    this.#byAgent.set(agentId, connection);
    this.#lastHeardMs.set(agentId, Date.now());
    this.#notifyConnection(agentId, true);
  }

  #accept(socket: WebSocket, request: IncomingMessage, names: readonly string[] | null, transport: Duplex): void {
    const remote = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    const connection = new AgentConnection(socket, remote, names, transport);
    this.#connections.add(connection);
    socket.on('message', (data, isBinary) => {
      if (isBinary)
        return this.#malformed(connection, 'MALFORMED_MESSAGE', 'binary frames are not part of the agent protocol');
      void this.#onFrame(connection, data.toString()).catch((error: unknown) => {
        this.parts.logger.error({ err: error, remote: connection.remote }, 'agent message handling failed');
      });
    });
    socket.on('error', (error) =>
      this.parts.logger.warn({ remote: connection.remote, error: error.message }, 'agent socket error'),
    );
    socket.on('close', () => {
      connection.closed = true;
      this.#connections.delete(connection);
      if (connection.agentId !== null && this.#byAgent.get(connection.agentId) === connection) {
        this.#byAgent.delete(connection.agentId);
        this.parts.logger.info({ agent: connection.agentId }, 'agent disconnected');
        this.#notifyConnection(connection.agentId, false);
      }
    });
  }

  #malformed(
    connection: AgentConnection,
    code: 'MALFORMED_MESSAGE' | 'UNSUPPORTED_VERSION' | 'NOT_REGISTERED',
    problem: string,
  ): void {
    this.parts.logger.warn(
      { remote: connection.remote, agent: connection.agentId, code, problem },
      'bad message from an agent',
    );
    connection.send({ type: 'error', code, message: problem });
  }

  async #onFrame(connection: AgentConnection, frame: string): Promise<void> {
    const parsed = parseAgentMessage(frame);
    if (!parsed.ok)
      return this.#malformed(
        connection,
        parsed.code === 'UNSUPPORTED_VERSION' ? 'UNSUPPORTED_VERSION' : 'MALFORMED_MESSAGE',
        parsed.problem,
      );
    const message = parsed.message;
    this.parts.onMessage?.(message);
    // A socket this master closed (it stopped leading, or refused the agent) still yields the
    // frames the agent sent before it heard: no answer reaches it, and after a step-down at
    // 10,000 agents each pong was a 'before registration' warning on the loop. Dropped, counted.
    // A replaced socket's status updates still count: the agent is bound and this master leads.
    if (connection.closed && (message.type === 'register' || connection.agentId === null || !this.#leading)) {
      this.framesAfterClose += 1;
      return;
    }
    if (message.type === 'register') return registerAgentConnection(this, connection, message);
    if (message.type === 'error') {
      this.parts.logger.warn(
        { agent: connection.agentId, code: message.code, problem: message.message },
        'an agent reported an error',
      );
      return;
    }
    const agentId = connection.agentId;
    if (agentId === null || !this.#leading)
      return this.#malformed(connection, 'NOT_REGISTERED', `${message.type} before registration`);
    this.#lastHeardMs.set(agentId, Date.now());
    switch (message.type) {
      case 'pong':
        return;
      case 'usage':
        return this.#onUsage(agentId, message);
      case 'status_update':
        return this.#onStatusUpdate(connection, agentId, message);
      case 'executor_exited':
        return onExecutorExited(this.executorReports, agentId, message);
      case 'executor_message':
        return onExecutorMessage(this.executorReports, agentId, message);
    }
  }

  #onUsage(agentId: AgentId, message: Extract<AgentMessage, { type: 'usage' }>): void {
    const reported = new Map<TaskKey, TaskUsageView>();
    const receivedAtMs = Date.now();
    const tasks = this.parts.master.state().tasks;
    for (const entry of message.tasks) {
      const key = taskKey(toFrameworkId(entry.frameworkId), toTaskId(entry.taskId));
      // Only the agent's own live tasks: an agent may not speak for another's task, and entries
      // for tasks the master does not have would grow this map (and each report's sweep) unboundedly.
      const task = tasks.get(key);
      if (task === undefined || task.agentId !== agentId || isTerminalTaskState(task.state)) continue;
      reported.set(key, { agentId, usage: entry.usage, receivedAtMs });
    }
    if (reported.size === 0) this.#usage.delete(agentId);
    else this.#usage.set(agentId, reported);
  }

  async #onStatusUpdate(
    connection: AgentConnection,
    agentId: AgentId,
    message: Extract<AgentMessage, { type: 'status_update' }>,
  ): Promise<void> {
    let status: StatusReport;
    try {
      status = toStatusReport(message.status);
    } catch (error) {
      if (error instanceof WireConversionError) return this.#malformed(connection, 'MALFORMED_MESSAGE', error.message);
      throw error;
    }
    const reference = { frameworkId: toFrameworkId(message.frameworkId), taskId: toTaskId(message.taskId) };
    const ack = (): void =>
      (this.#byAgent.get(agentId) ?? connection).send({
        type: 'status_ack',
        frameworkId: message.frameworkId,
        taskId: message.taskId,
        uuid: message.status.uuid,
      });
    // An agent resends every unacknowledged update when it re-registers, most of them already
    // recorded (their ack was lost with the old socket): acknowledged from the committed state
    // without a Raft proposal, so a failover of 10,000 agents does not turn into as many commands.
    if (statusRecorded(this.parts.master.state(), reference, agentId, status)) {
      this.#statusUpdatesDeduplicated += 1;
      return ack();
    }
    // The same update arriving again while its proposal is in flight (a resend on a new socket)
    // waits for that proposal instead of making another.
    const inFlightKey = `${message.frameworkId}/${message.taskId}/${status.uuid}`;
    const inFlight = this.#statusInFlight.get(inFlightKey);
    if (inFlight !== undefined) {
      this.#statusUpdatesDeduplicated += 1;
      if (await inFlight) ack();
      return;
    }
    let settle: (recorded: boolean) => void = () => {};
    this.#statusInFlight.set(inFlightKey, new Promise((resolve) => (settle = resolve)));
    let outcome: BatchedAnswer;
    try {
      outcome = await this.#statusUpdates.submit({ type: 'update_task_status', ...reference, agentId, status });
      settle(true);
    } catch (error) {
      settle(false);
      // Not committed (leadership moved, overload…): no ack, so the agent resends it.
      this.parts.logger.info(
        { agent: agentId, uuid: status.uuid, problem: (error as Error).message },
        'status update not recorded yet',
      );
      return;
    } finally {
      this.#statusInFlight.delete(inFlightKey);
    }
    const result = outcome.result;
    const target = this.#byAgent.get(agentId) ?? connection;
    ack();
    if (result.ok || result.code === 'DUPLICATE_STATUS_UUID') return;
    // The master will never record it (the task is terminal, unknown, or elsewhere): the update is
    // acknowledged so the agent stops resending, and a task still running there must stop.
    this.parts.logger.warn(
      { agent: agentId, task: message.taskId, code: result.code, problem: result.message },
      'status update rejected',
    );
    if (!isTerminalTaskState(status.state)) {
      target.send({
        type: 'kill',
        frameworkId: message.frameworkId,
        taskId: message.taskId,
        message: `the master rejected its status: ${result.code}`,
        maxGracePeriodMs: null,
      });
    }
  }

  #onChange(event: ChangeEvent): void {
    if (!this.#leading) return;
    if (event.type === 'TASK_ADDED') {
      if (event.task.taskGroup !== null) {
        this.#groupLaunches.add(event.task);
        return;
      }
      const framework = this.parts.master.state().frameworks.get(event.task.frameworkId);
      this.#byAgent.get(event.task.agentId)?.send(launchMessage(event.task, framework));
    } else if (event.type === 'AGENT_VOLUMES_CHANGED') {
      this.#byAgent.get(event.agentId)?.send(volumesMessage(this.parts.master.state().agents.get(event.agentId)));
    } else if (event.type === 'TASK_KILL_REQUESTED') {
      const agent = this.parts.master.state().agents.get(event.task.agentId);
      this.#byAgent.get(event.task.agentId)?.send(killMessage(event.task, agent, 'killed by the framework'));
    } else if (event.type === 'TASK_UPDATED' && isTerminalTaskState(event.task.state)) {
      this.#usage.get(event.task.agentId)?.delete(taskKey(event.task.frameworkId, event.task.id));
      // A terminal state the master decided (framework torn down, by TEARDOWN or its failover
      // timeout) frees the task's resources for new offers at once, so the agent must stop the
      // task too, as Mesos' ShutdownFrameworkMessage makes it; otherwise the process runs on in
      // resources given to someone else. An agent that is away hears it when it re-registers
      // (agent-registration.ts); one that no longer runs the task ignores the kill.
      if (event.status.source === 'SOURCE_MASTER') {
        this.#byAgent.get(event.task.agentId)?.send({
          type: 'kill',
          frameworkId: event.task.frameworkId,
          taskId: event.task.id,
          message: event.status.message ?? 'the master ended the task',
          maxGracePeriodMs: null,
        });
      }
    }
  }

  #closeAll(code: number, reason: string): void {
    for (const connection of this.#connections) connection.close(code, reason);
    this.#byAgent.clear();
  }

  /**
   * After a turn longer than the ping interval, the overdue timer runs before the poll phase has
   * read the pongs that arrived meanwhile: the check runs in the check phase, after them (as the
   * Raft transport's keepalive does, race 4 in src/raft/transport.ts).
   */
  #scheduleTick(): void {
    if (this.#livenessCheck !== null) return;
    this.#livenessCheck = setImmediate(() => {
      this.#livenessCheck = null;
      this.#tick();
    });
  }

  #tick(): void {
    if (!this.#leading) return;
    const nonce = ++this.#nonce;
    const nowMs = Date.now();
    for (const connection of this.#byAgent.values()) connection.send({ type: 'ping', nonce });
    this.#pingsSentMs.push(nowMs);
    if (this.#pingsSentMs.length > this.parts.settings.maxMissedPings + 1) this.#pingsSentMs.shift();
    const late = lateAgents(
      this.parts.master.state().agents.values(),
      this.#lastHeardMs,
      this.#leaderSinceMs,
      this.#pingsSentMs,
      nowMs,
      this.parts.settings,
    );
    for (const agentId of late) void this.#markUnreachable(agentId);
  }

  async #markUnreachable(agentId: AgentId): Promise<void> {
    if (this.#markingUnreachable.has(agentId)) return;
    this.#markingUnreachable.add(agentId);
    try {
      this.#byAgent.get(agentId)?.close(closeCodeUnreachable, 'missed too many pings');
      const { result } = await this.parts.master.submit({
        type: 'update_agent_state',
        at: 0,
        agentId: toAgentId(agentId),
        state: 'UNREACHABLE',
      });
      this.parts.logger.warn(
        { agent: agentId, ok: result.ok, code: result.ok ? null : result.code },
        'agent marked unreachable',
      );
    } catch (error) {
      this.parts.logger.info(
        { agent: agentId, problem: (error as Error).message },
        'could not mark agent unreachable yet',
      );
    } finally {
      this.#markingUnreachable.delete(agentId);
    }
  }

  /** A fresh id for a new agent; the leader makes it and puts it in the command. */
  newAgentId(): AgentId {
    return toAgentId(randomUUID());
  }
}

/**
 * Whether the committed state already holds this status update of the agent's task: the same
 * test apply makes (DUPLICATE_STATUS_UUID), so skipping the proposal changes no outcome.
 */
function statusRecorded(
  state: ReturnType<ReplicatedMaster['state']>,
  reference: { readonly frameworkId: FrameworkId; readonly taskId: TaskId },
  agentId: AgentId,
  status: StatusReport,
): boolean {
  if (status.uuid === null) return false;
  const task = state.tasks.get(taskKey(reference.frameworkId, reference.taskId));
  if (task === undefined || task.agentId !== agentId) return false;
  // A live state for a task that has ended goes the whole way: its rejection makes the agent kill it.
  if (isTerminalTaskState(task.state) && !isTerminalTaskState(status.state)) return false;
  return task.statuses.some((recorded) => recorded.uuid === status.uuid);
}

/** The names of a client certificate that chains to the cluster CA, or null (none, untrusted, or not TLS). */
function trustedCertificateNames(socket: unknown): readonly string[] | null {
  const tlsSocket = socket as Partial<TLSSocket>;
  if (typeof tlsSocket.getPeerCertificate !== 'function' || tlsSocket.authorized !== true) return null;
  const certificate = tlsSocket.getPeerCertificate();
  return Object.keys(certificate).length === 0 ? null : certificateNames(certificate);
}
