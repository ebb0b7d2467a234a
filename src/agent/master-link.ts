// Finding the leading master and staying connected to it: which master to dial next, and when,
// is master-discovery.ts's (a master tells its own zone, and what it knows of the others, in
// `not_leader` and `registered`; a follower names the leader in a 307 or `not_leader`). Once
// registered, the agent expects the leader's pings; a leader silent for (maxMissedPings + 1)
// ping intervals, or a closed socket, sends it back to discovery.
import { agentProtocolLimits } from '../protocol/limits.ts';
import { MasterDiscovery, type SessionEnd } from './master-discovery.ts';
import { WebSocket } from 'ws';
import type { Logger } from '../util/logger.ts';
import {
  agentRedirectHeader,
  agentWebSocketPath,
  encodeMessage,
  parseMasterMessage,
  type AgentMessageBody,
  type MasterMessage,
} from '../protocol/agent.ts';
import { secretHeader } from '../util/shared-secret.ts';

export const linkLimits = {
  /** A master that accepted the socket must answer `register` within this long. */
  registrationTimeoutMs: 15_000,
} as const;

export type Registered = Extract<MasterMessage, { type: 'registered' }>;

export interface MasterLinkOptions {
  readonly masters: readonly string[];
  readonly zone: string | null;
  /** The cluster secret, presented at every handshake (x-flotilla-secret). */
  readonly secret: string;
  /**
   * The agent's TLS identity (--tls-*): masters are dialed over wss://, trusting the cluster CA
   * and presenting the agent's certificate (mutual TLS). Read at each dial, so a reload applies.
   */
  readonly tls?: { clientOptions(): { ca: Buffer; cert: Buffer; key: Buffer } } | null;
  readonly logger: Logger;
  /** The register message to send on each new socket (the id and tasks may change over time). */
  readonly registration: () => Extract<AgentMessageBody, { type: 'register' }>;
  readonly onRegistered: (message: Registered) => void;
  readonly onMessage: (message: MasterMessage) => void;
  readonly onDisconnected: () => void;
  /** A fatal refusal (AGENT_GONE): the agent must stop. */
  readonly onFatal: (code: string, message: string) => void;
}

export class MasterLink {
  readonly #discovery: MasterDiscovery;
  #socket: WebSocket | null = null;
  #registered = false;
  /** The last certificate failure logged (master and message), so a retry loop logs it once. */
  #lastTlsFailure = '';
  #stopped = false;
  #leader: string | null = null;
  #wakeUp: (() => void) | null = null;

  constructor(readonly options: MasterLinkOptions) {
    this.#discovery = new MasterDiscovery(options.masters, options.zone);
  }

  start(): void {
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#socket?.terminate();
    this.#wakeUp?.();
  }

  isRegistered(): boolean {
    return this.#registered;
  }

  leader(): string | null {
    return this.#registered ? this.#leader : null;
  }

  /** Sends to the leader; false when not registered (the caller keeps the message for later). */
  send(body: AgentMessageBody): boolean {
    const socket = this.#socket;
    if (!this.#registered || socket === null || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(encodeMessage(body));
    return true;
  }

  async #run(): Promise<void> {
    let dial = this.#discovery.first();
    while (!this.#stopped) {
      const end = await this.#session(dial.target);
      if (this.#stopped) return;
      dial = this.#discovery.next(dial.target, end);
      if (dial.delayMs > 0) await this.#sleep(dial.delayMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #session(target: string): Promise<SessionEnd> {
    return new Promise((resolve) => {
      const tls = this.options.tls ?? null;
      const socket = new WebSocket(`${tls === null ? 'ws' : 'wss'}://${target}${agentWebSocketPath}`, {
        maxPayload: agentProtocolLimits.maxFrameBytes,
        // A follower answers this with a 307 naming the leader instead of a socket carrying not_leader.
        headers: { [secretHeader]: this.options.secret, [agentRedirectHeader]: '1' },
        ...(tls === null ? {} : tls.clientOptions()),
      });
      // Until the socket opens (or a 307 comes), the handshake's own limit (master-discovery.ts);
      // from then on the master's silence is timed.
      const handshakeTimer = setTimeout(() => {
        end = { kind: 'closed', registered: false, handshakeTimedOut: true };
        socket.terminate();
      }, this.#discovery.handshakeTimeoutMs());
      socket.on('unexpected-response', (_request, response) => {
        clearTimeout(handshakeTimer);
        const leader = response.statusCode === 307 ? leaderOfRedirect(response.headers.location) : null;
        if (leader !== null) {
          end = { kind: 'redirect', leader };
          this.options.logger.info({ master: target, leader }, 'not the leader');
          socket.terminate();
          return;
        }
        // 401: this agent's secret is not the masters'. Keep trying (an operator may fix either
        // side), but say it plainly rather than as a silent connection failure.
        const level = response.statusCode === 401 ? 'error' : 'warn';
        this.options.logger[level](
          { master: target, status: response.statusCode },
          response.statusCode === 401
            ? 'the master refused this agent: wrong cluster secret (--cluster-secret-file)'
            : 'the master refused the connection',
        );
        socket.terminate();
      });
      this.#socket = socket;
      let end: SessionEnd = { kind: 'closed', registered: false };
      let silenceTimer: NodeJS.Timeout | undefined;
      let silenceMs: number = linkLimits.registrationTimeoutMs;
      const heard = (): void => {
        clearTimeout(silenceTimer);
        silenceTimer = setTimeout(() => {
          this.options.logger.warn(
            { master: target, silenceMs },
            'the master went silent: looking for the leader again',
          );
          socket.terminate();
        }, silenceMs);
      };
      socket.on('open', () => {
        clearTimeout(handshakeTimer);
        heard();
        socket.send(encodeMessage(this.options.registration()));
      });
      socket.on('message', (data) => {
        const parsed = parseMasterMessage(data.toString());
        if (!parsed.ok) {
          this.options.logger.warn(
            { master: target, code: parsed.code, problem: parsed.problem },
            'bad message from a master',
          );
          socket.send(encodeMessage({ type: 'error', code: parsed.code, message: parsed.problem }));
          return;
        }
        const message = parsed.message;
        heard();
        if (message.type === 'not_leader') {
          this.#discovery.learn(message.masters);
          end = { kind: 'redirect', leader: message.leader };
          this.options.logger.info({ master: target, leader: message.leader }, 'not the leader');
          socket.close();
        } else if (message.type === 'registered') {
          this.#discovery.learn([message.master, ...message.masters]);
          this.#discovery.registered();
          silenceMs = message.pingIntervalMs * (message.maxMissedPings + 1);
          heard();
          this.#registered = true;
          this.#leader = target;
          end = { kind: 'closed', registered: true };
          this.options.onRegistered(message);
        } else if (message.type === 'ping') {
          socket.send(encodeMessage({ type: 'pong', nonce: message.nonce }));
        } else if (message.type === 'error' && message.code === 'AGENT_GONE') {
          this.options.onFatal(message.code, message.message);
        } else {
          this.options.onMessage(message);
        }
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        // A certificate problem does not heal by retrying: say it once per distinct cause.
        if (isTlsFailure(error) && this.#lastTlsFailure !== `${target} ${error.message}`) {
          this.#lastTlsFailure = `${target} ${error.message}`;
          this.options.logger.error(
            { master: target, error: error.message, code: error.code ?? null },
            'TLS handshake with the master failed (check --tls-ca and the certificates); retrying',
          );
          return;
        }
        this.options.logger.debug({ master: target, error: error.message }, 'master socket error');
      });
      socket.on('close', () => {
        clearTimeout(handshakeTimer);
        clearTimeout(silenceTimer);
        const wasRegistered = this.#registered;
        this.#registered = false;
        this.#socket = null;
        if (wasRegistered) {
          this.options.logger.warn({ master: target }, 'disconnected from the leader');
          this.options.onDisconnected();
        }
        resolve(end);
      });
    });
  }
}

/** The leader's host:port from a follower's 307 Location (ws[s]://leader/agent-path); null if it is not one. */
export function leaderOfRedirect(location: string | undefined): string | null {
  if (location === undefined) return null;
  try {
    const url = new URL(location);
    if ((url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.pathname !== agentWebSocketPath) return null;
    return url.host === '' ? null : url.host;
  } catch {
    return null;
  }
}

/** Certificate and handshake failures (Node's ERR_TLS_* and OpenSSL's verification codes). */
function isTlsFailure(error: NodeJS.ErrnoException): boolean {
  const code = error.code ?? '';
  return code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code);
}
