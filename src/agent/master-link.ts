// Finding the leading master and staying connected to it. The agent dials the masters one at a
// time in a shuffled order — masters known to be in the agent's zone first, then those whose zone
// is unknown, then the others (a master tells its own zone, and what it knows of the others, in
// `not_leader` and `registered`) — with jittered exponential back-off between failed rounds. A
// follower answers `not_leader` with the leader's address, which is dialled next. Once
// registered, the agent expects the leader's pings; a leader silent for (maxMissedPings + 1)
// ping intervals, or a closed socket, sends it back to discovery.
import { agentProtocolLimits } from '../protocol/limits.ts';
import { WebSocket } from 'ws';
import type { Logger } from '../util/logger.ts';
import {
  agentRedirectHeader,
  agentWebSocketPath,
  encodeMessage,
  parseMasterMessage,
  type AgentMessageBody,
  type MasterMessage,
  type WireMaster,
} from '../protocol/agent.ts';
import { backoffDelayMs } from '../util/backoff.ts';
import { secretHeader } from '../util/shared-secret.ts';

export const linkLimits = {
  backoffBaseMs: 200,
  /** Discovery never waits longer than this between rounds. */
  backoffMaxMs: 3_000,
  handshakeTimeoutMs: 5_000,
  /** A master that accepted the socket must answer `register` within this long. */
  registrationTimeoutMs: 15_000,
  /** not_leader answers followed in a row before backing off (leaders change; stale answers loop). */
  maxRedirects: 3,
  /**
   * After the leader's socket closed, the first dial waits a random [0, this) ms: every agent of
   * the cluster loses the leader at the same moment, and 10,000 dials in one burst would fill the
   * new leader's accept queue (issue 12, scale bench). Short: the cluster is without its agents meanwhile.
   */
  reconnectJitterMaxMs: 200,
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

type SessionEnd =
  | { readonly kind: 'redirect'; readonly leader: string | null }
  | { readonly kind: 'closed'; readonly registered: boolean };

const discoveryBackoff = { baseMs: linkLimits.backoffBaseMs, maxMs: linkLimits.backoffMaxMs };

/** Shuffled, then ordered by zone preference: same zone, unknown, other zones. */
export function orderMasters(
  masters: readonly string[],
  zones: ReadonlyMap<string, string | null>,
  zone: string | null,
  random: () => number = Math.random,
): string[] {
  const shuffled = [...masters];
  for (let index = shuffled.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [shuffled[index], shuffled[other]] = [shuffled[other]!, shuffled[index]!];
  }
  const rank = (address: string): number => {
    const known = zones.get(address);
    if (zone === null || known === undefined || known === null) return 1;
    return known === zone ? 0 : 2;
  };
  return shuffled.sort((left, right) => rank(left) - rank(right));
}

/**
 * The round after losing the leader at `lost`: the other masters first (that master is most
 * likely dead or no longer leading; a follower names the new leader), `lost` last.
 */
export function afterLeaderLoss(ordered: readonly string[], lost: string): string[] {
  return [...ordered.filter((address) => address !== lost), ...ordered.filter((address) => address === lost)];
}

export class MasterLink {
  readonly #masters: string[];
  readonly #zones = new Map<string, string | null>();
  #socket: WebSocket | null = null;
  #registered = false;
  /** The last certificate failure logged (master and message), so a retry loop logs it once. */
  #lastTlsFailure = '';
  #stopped = false;
  #leader: string | null = null;
  #wakeUp: (() => void) | null = null;

  constructor(readonly options: MasterLinkOptions) {
    this.#masters = [...new Set(options.masters)];
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
    let failedRounds = 0;
    let queue: string[] = [];
    let redirects = 0;
    let next: string | null = null;
    while (!this.#stopped) {
      if (next === null && queue.length === 0) queue = orderMasters(this.#masters, this.#zones, this.options.zone);
      const target: string = next ?? queue.shift()!;
      next = null;
      const end = await this.#session(target);
      if (this.#stopped) return;
      if (
        end.kind === 'redirect' &&
        end.leader !== null &&
        end.leader !== target &&
        redirects < linkLimits.maxRedirects
      ) {
        redirects += 1;
        next = end.leader;
        continue;
      }
      redirects = 0;
      if (end.kind === 'closed' && end.registered) {
        failedRounds = 0;
        queue = afterLeaderLoss(orderMasters(this.#masters, this.#zones, this.options.zone), target);
        await this.#sleep(Math.floor(Math.random() * linkLimits.reconnectJitterMaxMs));
        continue;
      }
      // Try the rest of this round at once; back off only when a whole round found no leader.
      if (queue.length > 0) continue;
      await this.#sleep(backoffDelayMs(failedRounds, discoveryBackoff, Math.random));
      failedRounds += 1;
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

  #learnMasters(masters: readonly WireMaster[]): void {
    for (const master of masters) {
      if (master.address === '') continue;
      if (!this.#masters.includes(master.address) && this.#masters.length < agentProtocolLimits.maxMasters)
        this.#masters.push(master.address);
      if (master.zone !== null || !this.#zones.has(master.address)) this.#zones.set(master.address, master.zone);
    }
  }

  #session(target: string): Promise<SessionEnd> {
    return new Promise((resolve) => {
      const tls = this.options.tls ?? null;
      const socket = new WebSocket(`${tls === null ? 'ws' : 'wss'}://${target}${agentWebSocketPath}`, {
        handshakeTimeout: linkLimits.handshakeTimeoutMs,
        maxPayload: agentProtocolLimits.maxFrameBytes,
        // A follower answers this with a 307 naming the leader instead of a socket carrying not_leader.
        headers: { [secretHeader]: this.options.secret, [agentRedirectHeader]: '1' },
        ...(tls === null ? {} : tls.clientOptions()),
      });
      socket.on('unexpected-response', (_request, response) => {
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
      let silenceTimer: NodeJS.Timeout = setTimeout(() => socket.terminate(), linkLimits.registrationTimeoutMs);
      let silenceMs = linkLimits.registrationTimeoutMs;
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
      socket.on('open', () => socket.send(encodeMessage(this.options.registration())));
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
          this.#learnMasters(message.masters);
          end = { kind: 'redirect', leader: message.leader };
          this.options.logger.info({ master: target, leader: message.leader }, 'not the leader');
          socket.close();
        } else if (message.type === 'registered') {
          this.#learnMasters([message.master, ...message.masters]);
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
