// One executor on the agent, as the executor API sees it (slave.hpp's Executor): who it is, its
// sandbox, where its events go, the launches waiting for it to subscribe, and the one deadline
// it is under. Its state moves:
//
//   launching ──(container up)──▶ registering ──SUBSCRIBE──▶ subscribed ◀──SUBSCRIBE── disconnected
//        │                             │ registration timeout      │ stream closed ──────────▲
//        ▼                             ▼                           ▼ SHUTDOWN (framework, idle)
//   terminated ◀─────────── container exit ◀─────────────── terminating
//
// A built-in executor (the command executor of a plain task, the default executor of task groups)
// subscribes in-process at once and has no container of its own: it ends when its tasks have.
import type { WireExecutorInfo, WireFrameworkInfo } from '../../protocol/agent.ts';
import type { ExecutorEvent } from '../../protocol/executor.ts';
import type { TaskReason } from '../../protocol/task-states.ts';
import { assert } from '../../util/assert.ts';
import type { RunningContainer } from '../containerizer/types.ts';
import type { ExecutorStream } from './event-stream.ts';

export type ExecutorSessionKind = 'command' | 'default' | 'custom';

/** What an executor must do before a deadline: subscribe, subscribe again, get a task, or exit. */
export type ExecutorDeadline = 'registration' | 'resubscription' | 'idle' | 'shutdown';

export type ExecutorSessionState =
  | 'launching'
  | 'registering'
  | 'subscribed'
  | 'disconnected'
  | 'terminating'
  | 'terminated';

/** Why the agent ended an executor: what its tasks still live become (slave.cpp `pendingTermination`). */
export interface ExecutorTermination {
  readonly state: 'TASK_FAILED' | 'TASK_LOST' | 'TASK_KILLED';
  readonly reason: TaskReason;
  readonly message: string;
}

const legalMoves: Readonly<Record<ExecutorSessionState, readonly ExecutorSessionState[]>> = {
  // A framework's executor recovered after an agent restart is "disconnected" until it subscribes again.
  launching: ['registering', 'subscribed', 'disconnected', 'terminating', 'terminated'],
  registering: ['subscribed', 'terminating', 'terminated'],
  subscribed: ['subscribed', 'disconnected', 'terminating', 'terminated'],
  disconnected: ['subscribed', 'terminating', 'terminated'],
  terminating: ['terminating', 'terminated'],
  terminated: [],
};

export class ExecutorSession {
  #state: ExecutorSessionState;
  stream: ExecutorStream | null = null;
  /** custom: the executor's process (or container), once launched or recovered. */
  container: RunningContainer | null = null;
  /** LAUNCH and LAUNCH_GROUP events waiting for the executor to subscribe. */
  readonly queued: ExecutorEvent[] = [];
  termination: ExecutorTermination | null = null;
  /**
   * custom: the secret given to its process (MESOS_EXECUTOR_AUTHENTICATION_TOKEN), which its calls
   * must carry as a Bearer token on an agent with --credentials; null for a built-in executor, or
   * for one recovered from a checkpoint written before tokens existed.
   */
  authenticationToken: string | null = null;
  /** SUBSCRIBE calls answered (the first, then each re-subscription). */
  subscriptions = 0;
  #timer: NodeJS.Timeout | null = null;
  #deadline: ExecutorDeadline | null = null;

  constructor(
    readonly frameworkId: string,
    readonly executorId: string,
    readonly kind: ExecutorSessionKind,
    /** null for a command executor (it is the agent's, named after its task). */
    readonly info: WireExecutorInfo | null,
    readonly framework: WireFrameworkInfo | null,
    readonly sandbox: string,
    state: ExecutorSessionState,
  ) {
    assert((kind === 'command') === (info === null), 'only a command executor has no ExecutorInfo');
    this.#state = state;
  }

  get state(): ExecutorSessionState {
    return this.#state;
  }

  get key(): string {
    return `${this.frameworkId}/${this.executorId}`;
  }

  get builtin(): boolean {
    return this.kind !== 'custom';
  }

  /** Whether it takes more tasks (a shutting down or ended executor does not). */
  get accepting(): boolean {
    return this.#state !== 'terminating' && this.#state !== 'terminated';
  }

  moveTo(next: ExecutorSessionState): void {
    assert(legalMoves[this.#state].includes(next), `executor ${this.key}: ${this.#state} → ${next} is not a move`);
    this.#state = next;
  }

  /** Events go out on an open stream of a subscribed (or shutting down) executor; launches wait for one. */
  send(event: ExecutorEvent): void {
    const stream = this.stream;
    if (stream?.open && (this.#state === 'subscribed' || this.#state === 'terminating')) {
      stream.send(event);
      return;
    }
    if (event.type === 'LAUNCH' || event.type === 'LAUNCH_GROUP') this.queued.push(event);
  }

  get deadline(): ExecutorDeadline | null {
    return this.#deadline;
  }

  /** The one deadline it is under; replaces any other. */
  setDeadline(kind: ExecutorDeadline, delayMs: number, onExpiry: () => void): void {
    this.clearDeadline();
    this.#deadline = kind;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#deadline = null;
      onExpiry();
    }, delayMs);
    this.#timer.unref();
  }

  clearDeadline(kind: ExecutorDeadline | null = null): void {
    if (kind !== null && this.#deadline !== kind) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#deadline = null;
  }
}
