// The master's own interface: what everything built on the master uses (the HTTP layer, the
// agent gateway, the allocation loop, the scheduler sessions, and later the built-in frameworks).
// It speaks in the master's terms: commands, the applied state, change events, the Raft view.
// Its failures are MasterErrors (errors.ts) with stable codes; only src/http turns them into
// statuses. Nothing here knows HTTP, so tests can hand any of those users a master built in-process.
import type { AllocationControl } from '../offers/control.ts';
import type * as Mesos from '../protocol/mesos.ts';
import type { Command } from '../state-machine/commands.ts';
import type { ApplyResult } from '../state-machine/errors.ts';
import type { AgentId, TaskKey } from '../state-machine/ids.ts';
import type { ChangeEvent } from '../state-machine/events.ts';
import type { ReadonlyState } from '../state-machine/state.ts';
import type { LeaderServicesView } from './leadership/view.ts';
import type { InverseOfferStatusView } from './scheduler/inverse-offer-answers.ts';
import type { SchedulerApi } from './scheduler/api.ts';

export type MasterRole = 'leader' | 'follower' | 'candidate' | 'learner';

export interface RaftMemberView {
  readonly id: string;
  readonly address: string;
  readonly role: 'voter' | 'learner';
  /** Its zone as replicated (zones/replicated-zones.ts); null when it has none or it is not known yet. */
  readonly zone: string | null;
  readonly match: number | null;
  readonly state: string | null;
}

export interface RaftView {
  readonly id: string;
  /** This master's own zone (its --zone). */
  readonly zone: string | null;
  /** Its --preferred-leader-zones (zones/zone-preference.ts). */
  readonly preferredLeaderZones: readonly string[];
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

export interface SubmitOptions {
  /** Exactly-once: a retry carrying the same key applies nothing again and answers the first result. */
  readonly idempotency?: { readonly key: string; readonly fingerprint: string };
}

/** The `at` of a command built outside the master: `submit` stamps the leader's clock over it. */
export const stampedOnSubmit = 0;

/** The master as one replica of the cluster state: submit a command, read at an index, subscribe to changes. */
export interface ReplicatedMaster {
  readonly id: string;
  readonly address: string;
  readonly startedAtMs: number;
  /** GET_FLAGS: every option of this master, snake_case names and string values (config.ts). */
  readonly flags: Readonly<Record<string, string>>;
  raft(): RaftView;
  /** Whether this master leads now: `raft().role === 'leader'` without building the view (every write asks). */
  leads(): boolean;
  /** When this master last became leader (ms since epoch), or null while it does not lead. */
  electedAtMs(): number | null;
  /**
   * Proposes a command on the leader, stamping `at` with the leader's clock, and resolves once it
   * is applied here. Throws a MasterError: NO_LEADER or LEADERSHIP_CHANGED (not proposed: retry),
   * OUTCOME_UNKNOWN (it may or may not have been applied), OVERLOADED, COMMAND_TOO_LARGE, …
   * With `options.idempotency`, a key already applied answers its first result and applies nothing;
   * a key already used with another fingerprint throws IDEMPOTENCY_KEY_REUSED.
   */
  submit(command: Command, options?: SubmitOptions): Promise<{ index: number; result: ApplyResult }>;
  /** Resolves once this master has applied everything committed before the call (ReadIndex). */
  linearizableRead(): Promise<void>;
  /** True while this master, just restarted, still restores its snapshot: its state is not yet its own. */
  restoringSnapshot(): boolean;
  state(): ReadonlyState;
  /**
   * Listens to the state machine's changes on this master (leader or not); returns the function
   * that stops listening. A listener must not throw: it runs inside the apply loop.
   */
  onChange(listener: ChangeListener): () => void;
  /** Throws MasterError MEMBERSHIP_CHANGE_PENDING, NOT_CAUGHT_UP, … when Raft refuses the change. */
  changeMembership(request: MembershipRequest): Promise<{ index: number }>;
}

/** The whole master: the replica and what its leader services add. */
export interface MasterCore extends ReplicatedMaster {
  /**
   * Hands leadership to master `to` (null: the most caught-up voter), this master's leader
   * services stopped first; false when that is not possible (not the leader, not a voter).
   */
  transferLeadership(to: string | null): boolean;
  /**
   * The usage the task's agent last reported, by the agent and the task's key in the state; null
   * on a follower or before the first report. Asked for each of up to 100,000 tasks per GET_STATE.
   */
  taskStatistics(agentId: AgentId, key: TaskKey): Mesos.ResourceStatistics | null;
  /**
   * The frameworks' answers to inverse offers per (agent, framework) in maintenance, from the
   * scheduler sessions: the leader's memory only (as in Mesos), so empty on a follower.
   */
  inverseOfferStatuses(): readonly InverseOfferStatusView[];
  /** Prometheus text of every metric of this master (metrics/master-metrics.ts). */
  metricsText(): Promise<string>;
  /** The same metrics as flat Mesos-style JSON ("master/tasks_running": 3): /metrics/snapshot, GET_METRICS. */
  metricsSnapshot(): Promise<Record<string, number>>;
  /** The leader's allocator hints (filters, suppression), its trigger and its report. */
  readonly allocation: AllocationControl;
  /** The Mesos scheduler API's sessions (leader only): SUBSCRIBE and the calls of subscribed frameworks. */
  readonly scheduler: SchedulerApi;
  /**
   * A backup file (backup/backup-file.ts) of this master's applied state, captured at once and
   * written without holding the event loop. Callers wanting the latest committed state read
   * linearizably first.
   */
  backup(): Promise<Uint8Array>;
  /** Which leader-only services run on this master, and in which term (GET_RAFT, /metrics). */
  leaderServices(): LeaderServicesView;
}
