// Simulated agents for benchmarks: each is one WebSocket speaking the real agent protocol
// (src/protocol/agent.ts) to the masters — register (following not_leader to the leader),
// answer pings, report TASK_RUNNING for every launch and TASK_KILLED for every kill — without
// running anything. With `finishAtOnce`, every launch is reported TASK_RUNNING and then
// TASK_FINISHED at once, and the task is forgotten (the churn bench's short tasks). Many fit in one process, so a benchmark can offer a large cluster.
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import type { TaskState } from '../src/protocol/task-states.ts';
import {
  agentRedirectHeader,
  agentWebSocketPath,
  encodeMessage,
  type MasterMessage,
  parseMasterMessage,
  type WireResource,
} from '../src/protocol/agent.ts';
import { leaderOfRedirect, linkLimits } from '../src/agent/master-link.ts';
import { type Dial, MasterDiscovery, type SessionEnd } from '../src/agent/master-discovery.ts';
import { developmentSecret, secretHeader } from '../src/util/shared-secret.ts';

interface ReportedTask {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly state: TaskState;
}

export interface SimulatedAgentOptions {
  readonly hostname: string;
  readonly resources: readonly WireResource[];
  readonly attributes?: Readonly<Record<string, string>>;
  /** Report each launched task TASK_FINISHED right after TASK_RUNNING. Default: it runs until killed. */
  readonly finishAtOnce?: boolean;
  /** Discovery's random source (tests pin it). Default: Math.random. */
  readonly random?: () => number;
}
/** As the real agent does: a status update not acknowledged is sent again, after this long or on registration. */
const statusResendIntervalMs = 10_000;

export class SimulatedAgent {
  agentId: string | null = null;
  /** frameworkId/taskId of the tasks it "runs". */
  readonly tasks = new Map<string, { frameworkId: string; taskId: string }>();
  launches = 0;
  /** Tasks reported TASK_FINISHED (with `finishAtOnce`). */
  finished = 0;
  /** Kill messages received (the master ends a task it holds lost, or one it replaced). */
  kills = 0;
  /** Kill messages by the master's stated cause, agent ids left out (why a leader change cost tasks). */
  readonly killCauses = new Map<string, number>();
  /** Every `registered` answer, the first and each re-registration (after a leader change, say). */
  registrations = 0;
  /**
   * Every socket that closed, by cause: whether it had registered, and the close code and reason
   * as the master gave them (1006: no close frame, the connection dropped). A fleet sums them, so
   * a benchmark can say why agents reconnected.
   */
  readonly closes = new Map<string, number>();
  /** Sockets opened (dials), the redirects of not_leader included. */
  dials = 0;
  /** Dials given up at discovery's handshake limit (the master took the connection, never answered). */
  handshakeTimeouts = 0;
  /** Dials answered without a registration: a follower's 307 or not_leader, or another HTTP refusal (503). */
  redirects = 0;
  /** Called on every `registered` answer: a fleet counts re-registrations with it. */
  onRegistered: (() => void) | null = null;
  #socket: WebSocket | null = null;
  /** The master `#socket` was dialled to, and whether it answered `registered` on it. */
  #socketTarget: string | null = null;
  #registeredOnSocket = false;
  #closed = false;
  /** Status updates sent but not acknowledged, by uuid, in the order sent, with their task and state. */
  readonly #unacknowledged = new Map<string, { readonly encoded: string; readonly task: ReportedTask }>();
  #resendTimer: NodeJS.Timeout | null = null;
  /**
   * Which master to dial next and when: the real agent's own (src/agent/master-discovery.ts), so
   * a fleet finds a new leader after a failover exactly as real agents do.
   */
  readonly #discovery: MasterDiscovery;
  /** Dials waiting for their back-off, so `close` can cancel them. */
  #dialTimer: NodeJS.Timeout | null = null;
  /** Since `markTimeline`: when this agent first dialled, whichever master (null: not yet). */
  firstDialSinceMarkAtMs: number | null = null;
  /** The last registration's timeline (wall clock): its socket dialled, opened (register sent), answered. */
  lastRegistration: { readonly dialAtMs: number; readonly openAtMs: number; readonly atMs: number } | null = null;
  #timelineMarked = false;

  constructor(
    readonly masters: readonly string[],
    readonly options: SimulatedAgentOptions,
  ) {
    this.#discovery = new MasterDiscovery(masters, null, options.random);
  }

  /** Resolves once registered. */
  start(): Promise<void> {
    return new Promise((resolve) => this.#dial(this.#discovery.first(), resolve));
  }

  /** Starts a failover timeline afresh: the next dial is the first since the mark. */
  markTimeline(): void {
    this.#timelineMarked = true;
    this.firstDialSinceMarkAtMs = null;
  }

  /**
   * Where this agent stands with the masters, in words (a fleet sums them for the agents that did
   * not register again after a failover, so a run that never finishes says what they wait for).
   */
  connectionState(): string {
    if (this.#dialTimer !== null) return 'waiting to dial';
    const socket = this.#socket;
    if (socket === null) return 'no socket';
    if (socket.readyState === WebSocket.CONNECTING) return `handshaking with ${this.#socketTarget}`;
    if (socket.readyState !== WebSocket.OPEN) return `closing a socket to ${this.#socketTarget}`;
    return this.#registeredOnSocket
      ? `registered with ${this.#socketTarget}`
      : `open, not registered, with ${this.#socketTarget}`;
  }

  close(): void {
    this.#closed = true;
    if (this.#resendTimer !== null) clearInterval(this.#resendTimer);
    if (this.#dialTimer !== null) clearTimeout(this.#dialTimer);
    this.#socket?.close();
  }

  #dial(dial: Dial, registered: () => void): void {
    if (dial.delayMs === 0) {
      this.#connect(dial.target, registered);
      return;
    }
    this.#dialTimer = setTimeout(() => {
      this.#dialTimer = null;
      this.#connect(dial.target, registered);
    }, dial.delayMs);
  }

  #connect(address: string, registered: () => void): void {
    if (this.#closed) return;
    const socket = new WebSocket(`ws://${address}${agentWebSocketPath}`, {
      // As the real agent (master-link.ts): a follower answers 307 with the leader, no WebSocket;
      // a dial the master does not answer in time (master-discovery.ts handshakeTimeoutMs) is given up.
      headers: { [secretHeader]: developmentSecret, [agentRedirectHeader]: '1' },
    });
    this.#socket = socket;
    this.#socketTarget = address;
    this.#registeredOnSocket = false;
    this.dials += 1;
    const dialAtMs = Date.now();
    let openAtMs = dialAtMs;
    if (this.#timelineMarked && this.firstDialSinceMarkAtMs === null) this.firstDialSinceMarkAtMs = dialAtMs;
    const registrationsAtDial = this.registrations;
    let end: SessionEnd = { kind: 'closed', registered: false };
    // As the real agent: a master that took the socket answers `register` in time, and a leader
    // pings; silence past either closes the socket and discovery goes on.
    let silenceMs: number = linkLimits.registrationTimeoutMs;
    let silenceTimer: NodeJS.Timeout | undefined;
    const handshakeTimer = setTimeout(() => {
      this.handshakeTimeouts += 1;
      end = { kind: 'closed', registered: false, handshakeTimedOut: true };
      socket.terminate();
    }, this.#discovery.handshakeTimeoutMs());
    socket.on('open', () => {
      clearTimeout(handshakeTimer);
      silenceTimer = setTimeout(() => socket.terminate(), silenceMs);
      openAtMs = Date.now();
      socket.send(
        encodeMessage({
          type: 'register',
          agentId: this.agentId,
          info: {
            hostname: this.options.hostname,
            address: { ip: '127.0.0.1', port: 1 },
            zone: null,
            resources: this.options.resources,
            attributes: this.options.attributes ?? {},
          },
          tasks: this.#reportedTasks(),
          // Simulated agents run plain tasks only: no framework or task-group executors.
          executors: [],
        }),
      );
    });
    socket.on('message', (data) => {
      const parsed = parseMasterMessage(data.toString());
      if (!parsed.ok) return;
      const message = parsed.message;
      clearTimeout(silenceTimer);
      if (message.type === 'registered') {
        if (this.#socket === socket) this.#registeredOnSocket = true;
        this.lastRegistration = { dialAtMs, openAtMs, atMs: Date.now() };
        this.#discovery.learn([message.master, ...message.masters]);
        this.#discovery.registered();
        end = { kind: 'closed', registered: true };
        silenceMs = message.pingIntervalMs * (message.maxMissedPings + 1);
      } else if (message.type === 'not_leader') {
        this.#discovery.learn(message.masters);
        end = { kind: 'redirect', leader: message.leader };
      }
      silenceTimer = setTimeout(() => socket.terminate(), silenceMs);
      this.#onMessage(socket, message, registered);
    });
    socket.on('unexpected-response', (_request, response) => {
      clearTimeout(handshakeTimer);
      end = {
        kind: 'redirect',
        leader: response.statusCode === 307 ? leaderOfRedirect(response.headers.location) : null,
      };
      socket.terminate();
    });
    socket.on('close', (code, reason) => {
      clearTimeout(handshakeTimer);
      clearTimeout(silenceTimer);
      // A follower's answer naming the leader is not a lost connection.
      if (end.kind === 'redirect') this.redirects += 1;
      else {
        const stage = this.registrations > registrationsAtDial ? 'registered' : 'unregistered';
        const cause = `${stage} ${code} ${reason.toString('utf8') || '(no reason)'}`;
        this.closes.set(cause, (this.closes.get(cause) ?? 0) + 1);
      }
      if (this.#closed || this.#socket !== socket) return;
      this.#socket = null;
      this.#dial(this.#discovery.next(address, end), registered);
    });
    socket.on('error', () => socket.terminate());
  }

  #onMessage(socket: WebSocket, message: MasterMessage, registered: () => void): void {
    switch (message.type) {
      case 'not_leader':
        // Discovery dials the leader it names (or goes on) once this socket has closed.
        socket.close();
        return;
      case 'registered':
        this.agentId = message.agentId;
        this.registrations += 1;
        this.onRegistered?.();
        this.#resend(socket);
        registered();
        return;
      case 'status_ack':
        this.#unacknowledged.delete(message.uuid);
        if (this.#unacknowledged.size === 0 && this.#resendTimer !== null) {
          clearInterval(this.#resendTimer);
          this.#resendTimer = null;
        }
        return;
      case 'ping':
        socket.send(encodeMessage({ type: 'pong', nonce: message.nonce }));
        return;
      case 'launch':
        this.launches += 1;
        this.tasks.set(`${message.frameworkId}/${message.task.id}`, {
          frameworkId: message.frameworkId,
          taskId: message.task.id,
        });
        this.#report(socket, message.frameworkId, message.task.id, 'TASK_RUNNING');
        if (this.options.finishAtOnce === true) {
          this.tasks.delete(`${message.frameworkId}/${message.task.id}`);
          this.finished += 1;
          this.#report(socket, message.frameworkId, message.task.id, 'TASK_FINISHED');
        }
        return;
      case 'kill': {
        this.kills += 1;
        const cause = message.message.replace(/agent \S+/g, 'agent <id>');
        this.killCauses.set(cause, (this.killCauses.get(cause) ?? 0) + 1);
        this.tasks.delete(`${message.frameworkId}/${message.taskId}`);
        this.#report(socket, message.frameworkId, message.taskId, 'TASK_KILLED');
        return;
      }
      default:
        return;
    }
  }

  #report(socket: WebSocket, frameworkId: string, taskId: string, state: TaskState): void {
    const uuid = randomBytes(16).toString('base64');
    const encoded = encodeMessage({
      type: 'status_update',
      frameworkId,
      taskId,
      status: {
        state,
        reason: null,
        message: null,
        source: 'SOURCE_EXECUTOR',
        uuid,
        timestampMs: Date.now(),
        healthy: null,
        data: null,
      },
    });
    // Kept until acknowledged: a master that lost leadership before committing it never will.
    this.#unacknowledged.set(uuid, { encoded, task: { frameworkId, taskId, state } });
    this.#resendTimer ??= setInterval(() => {
      if (this.#socket !== null && this.#socket.readyState === WebSocket.OPEN) this.#resend(this.#socket);
    }, statusResendIntervalMs);
    socket.send(encoded);
  }

  #resend(socket: WebSocket): void {
    for (const { encoded } of this.#unacknowledged.values()) socket.send(encoded);
  }

  /**
   * What a (re-)registration reports, as the real agent does (checkpoint.ts `reportableTasks`):
   * the tasks it runs, and the ended ones with an update not yet acknowledged, in their latest
   * state. A task finished here whose TASK_FINISHED the master had not recorded when its leader
   * changed was left out, and the master took it for lost (TASK_LOST to the framework, which
   * launched it again, and the agent's TASK_FINISHED refused TASK_TERMINAL): with a leader change
   * every few seconds most of the churn bench's tasks in flight ended that way.
   */
  #reportedTasks(): ReportedTask[] {
    // Simulated agents report each task they run as running at once.
    const reported = new Map<string, ReportedTask>();
    for (const [key, task] of this.tasks) reported.set(key, { ...task, state: 'TASK_RUNNING' });
    for (const { task } of this.#unacknowledged.values()) {
      const key = `${task.frameworkId}/${task.taskId}`;
      // Updates are kept in the order sent: the last one of a task is its latest state.
      if (!this.tasks.has(key)) reported.set(key, task);
    }
    return [...reported.values()];
  }
}

export function simulatedResources(cpus: number, memMb: number, ports: readonly [number, number]): WireResource[] {
  return [
    { name: 'cpus', role: '*', type: 'SCALAR', scalar: cpus },
    { name: 'mem', role: '*', type: 'SCALAR', scalar: memMb },
    { name: 'disk', role: '*', type: 'SCALAR', scalar: 100_000 },
    { name: 'ports', role: '*', type: 'RANGES', ranges: [{ begin: ports[0], end: ports[1] }] },
  ];
}
