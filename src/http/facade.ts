// What the HTTP layer needs from a master, as an interface: src/http knows no Raft driver and
// no process wiring, and tests can hand it a master built in-process.
import type { AllocationControl } from '../offers/control.ts';
import type * as Mesos from '../protocol/mesos.ts';
import type { Command } from '../state-machine/commands.ts';
import type { ApplyResult } from '../state-machine/errors.ts';
import type { ChangeEvent } from '../state-machine/events.ts';
import type { ReadonlyState } from '../state-machine/state.ts';
import type { InverseOfferStatusView } from './scheduler/inverse-offer-answers.ts';

export type MasterRole = 'leader' | 'follower' | 'candidate' | 'learner';

export interface RaftMemberView {
  readonly id: string;
  readonly address: string;
  readonly role: 'voter' | 'learner';
  readonly match: number | null;
  readonly state: string | null;
}

export interface RaftView {
  readonly id: string;
  readonly zone: string | null;
  readonly role: MasterRole;
  readonly term: number;
  readonly leaderId: string | null;
  readonly leaderAddress: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly snapshotIndex: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly members: readonly RaftMemberView[];
}

export type MembershipRequest =
  | { readonly type: 'add'; readonly id: string; readonly address: string }
  | { readonly type: 'promote'; readonly id: string }
  | { readonly type: 'remove'; readonly id: string };

export interface SubmitOptions {
  /** Exactly-once: a retry carrying the same key applies nothing again and answers the first result. */
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
}

/** Called once per change, in apply order, right after the command that made it was applied. */
export type ChangeListener = (event: ChangeEvent, index: number) => void;

export interface MasterFacade {
  readonly id: string;
  readonly address: string;
  readonly startedAtMs: number;
  readonly flags: Readonly<Record<string, string>>;
  raft(): RaftView;
  /** When this master last became leader (ms since epoch), or null while it does not lead. */
  electedAtMs(): number | null;
  /**
   * Proposes a command on the leader (stamping `at`); throws HttpError NO_LEADER / redirect on a
   * follower. With `options.idempotency`, a key already applied answers its first result and
   * applies nothing; a key already used with another fingerprint throws IDEMPOTENCY_KEY_REUSED.
   */
  submit(command: Command, options?: SubmitOptions): Promise<{ index: number; result: ApplyResult }>;
  /** Resolves once this master has applied everything committed before the call (ReadIndex). */
  linearizableRead(): Promise<void>;
  state(): ReadonlyState;
  /**
   * Listens to the state machine's changes on this master (leader or not); returns the function
   * that stops listening. A listener must not throw: it runs inside the apply loop.
   */
  onChange(listener: ChangeListener): () => void;
  changeMembership(request: MembershipRequest): Promise<{ index: number }>;
  transferLeadership(to: string | null): boolean;
  /** The usage the task's agent last reported; null on a follower or before the first report. */
  taskStatistics(frameworkId: string, taskId: string): Mesos.ResourceStatistics | null;
  /**
   * The frameworks' answers to inverse offers per (agent, framework) in maintenance, from the
   * scheduler streams: the leader's memory only (as in Mesos), so empty on a follower.
   */
  inverseOfferStatuses(): readonly InverseOfferStatusView[];
  /** Seconds of event-loop delay and other gauges for /metrics. */
  metricsText(): Promise<string>;
  /** The leader's allocator hints (filters, suppression), its trigger and its report. */
  readonly allocation: AllocationControl;
}
