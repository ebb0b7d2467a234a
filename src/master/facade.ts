// The master as the HTTP layer sees it: Raft status in API terms, command submission with the
// leader's clock stamped in, linearizable reads, membership. Raft's failures become HttpErrors
// with the status a client can act on (307 to the leader, 503 retry, 504 unknown outcome).
import type {
  ChangeListener,
  MasterFacade,
  MasterRole,
  MembershipRequest,
  RaftMemberView,
  RaftView,
  SubmitOptions,
} from '../http/facade.ts';
import { HttpError } from '../http/errors.ts';
import { retryAfterSeconds } from '../http/leader.ts';
import type { AllocationControl } from '../offers/control.ts';
import type { RaftNode } from '../raft/node.ts';
import { RaftRequestError } from '../raft/node.ts';
import { type CoreStatus, type MembershipChange, nodeId } from '../raft/types.ts';
import { encodeCommand } from '../state-machine/codec.ts';
import type { Command } from '../state-machine/commands.ts';
import type { ApplyResult } from '../state-machine/errors.ts';
import type { ReadonlyState } from '../state-machine/state.ts';
import { idempotencyStamp, submitAnswer } from './idempotency.ts';

export interface FacadeParts {
  readonly id: string;
  readonly address: string;
  readonly zone: string | null;
  readonly flags: Readonly<Record<string, string>>;
  readonly raft: RaftNode;
  readonly state: () => ReadonlyState;
  /** The ClusterStateMachine's change hook (`subscribe`). */
  readonly onChange: (listener: ChangeListener) => () => void;
  readonly metricsText: () => Promise<string>;
  readonly electedAtMs: () => number | null;
  readonly allocation: AllocationControl;
  readonly taskStatistics: MasterFacade['taskStatistics'];
  readonly inverseOfferStatuses: MasterFacade['inverseOfferStatuses'];
}

export function createMasterFacade(parts: FacadeParts): MasterFacade {
  const startedAtMs = Date.now();
  return {
    id: parts.id,
    address: parts.address,
    startedAtMs,
    flags: parts.flags,
    raft: () => raftView(parts.raft.status(), parts.zone),
    electedAtMs: parts.electedAtMs,
    state: parts.state,
    onChange: parts.onChange,
    metricsText: parts.metricsText,
    taskStatistics: parts.taskStatistics,
    inverseOfferStatuses: parts.inverseOfferStatuses,
    allocation: parts.allocation,
    async submit(command: Command, options?: SubmitOptions): Promise<{ index: number; result: ApplyResult }> {
      const nowMs = Date.now();
      let proposed: Awaited<ReturnType<RaftNode['propose']>>;
      try {
        proposed = await parts.raft.propose(encodeCommand(stampTime(command, nowMs)), idempotencyStamp(options, nowMs));
      } catch (error) {
        throw raftErrorToHttp(error, parts.raft.status());
      }
      return submitAnswer(proposed);
    },
    async linearizableRead(): Promise<void> {
      try {
        await parts.raft.linearizableBarrier();
      } catch (error) {
        throw raftErrorToHttp(error, parts.raft.status());
      }
    },
    async changeMembership(request: MembershipRequest): Promise<{ index: number }> {
      try {
        return await parts.raft.proposeMembership(toMembershipChange(request));
      } catch (error) {
        throw raftErrorToHttp(error, parts.raft.status());
      }
    },
    transferLeadership: (to) => parts.raft.transferLeadership(to === null ? undefined : nodeId(to)),
  };
}

/** Time comes from the leader, inside the command: apply never reads a clock (DESIGN.md). */
function stampTime(command: Command, nowMs: number): Command {
  return 'at' in command ? { ...command, at: nowMs } : command;
}

function toMembershipChange(request: MembershipRequest): MembershipChange {
  switch (request.type) {
    case 'add':
      return { type: 'add-learner', node: nodeId(request.id), address: request.address };
    case 'promote':
      return { type: 'promote', node: nodeId(request.id) };
    case 'remove':
      return { type: 'remove', node: nodeId(request.id) };
  }
}

export function raftView(status: CoreStatus, zone: string | null): RaftView {
  const membership = status.membership;
  const members: RaftMemberView[] = [
    ...membership.voters.map((id) => ({ id, role: 'voter' as const })),
    ...membership.learners.map((id) => ({ id, role: 'learner' as const })),
  ].map(({ id, role }) => ({
    id,
    role,
    address: membership.addresses[id] ?? '',
    match: status.progress[id]?.match ?? null,
    state: status.progress[id]?.state ?? null,
  }));
  const leaderId = status.leader === '' ? null : status.leader;
  return {
    id: status.id,
    zone,
    role: masterRole(status),
    term: status.term,
    leaderId,
    leaderAddress: leaderId === null ? null : (membership.addresses[leaderId] ?? null),
    commitIndex: status.commit,
    appliedIndex: status.applied,
    snapshotIndex: status.snapshotIndex,
    firstIndex: status.firstIndex,
    lastIndex: status.lastIndex,
    members,
  };
}

function masterRole(status: CoreStatus): MasterRole {
  if (status.role === 'leader') return 'leader';
  if (status.membership.learners.includes(status.id)) return 'learner';
  return status.role === 'follower' ? 'follower' : 'candidate';
}

export function raftErrorToHttp(error: unknown, status: CoreStatus): HttpError {
  if (error instanceof HttpError) return error;
  if (!(error instanceof RaftRequestError)) return new HttpError('INTERNAL', (error as Error).message);
  const leaderAddress = status.leader === '' ? null : (status.membership.addresses[status.leader] ?? null);
  // Whatever the code, a write that may have been appended must never read as "retry": a client
  // that retries it elsewhere applies it twice. Found by jepsen-lite (register × all, 5 nodes,
  // seed 7001): a leader removed by REMOVE_MASTER failed its in-flight writes as
  // leadership-lost → UNAVAILABLE; the next leader committed them, and the retries applied again.
  if (error.indeterminate && error.code !== 'timeout' && error.code !== 'stopped') {
    return new HttpError(
      'TIMEOUT',
      `the write was in flight when this master lost leadership (${error.code}): it may or may not have been applied`,
    );
  }
  switch (error.code) {
    case 'not-leader':
    case 'leadership-lost':
    case 'no-leader':
      // The route checked leadership before proposing; losing it in between is a race the
      // client resolves by retrying (it will be redirected then).
      return new HttpError(
        leaderAddress === null ? 'NO_LEADER' : 'UNAVAILABLE',
        `leadership changed (${error.code}); retry`,
        { 'retry-after': retryAfterSeconds },
      );
    case 'timeout':
      return new HttpError(
        'TIMEOUT',
        error.indeterminate ? 'the write timed out: it may or may not have been applied' : 'the request timed out',
      );
    case 'overloaded':
      return new HttpError('TOO_MANY_REQUESTS', 'too many uncommitted writes; retry shortly', {
        'retry-after': retryAfterSeconds,
      });
    case 'too-large':
      return new HttpError('PAYLOAD_TOO_LARGE', 'the command is larger than a Raft entry may be');
    case 'transfer-in-progress':
    case 'stopped':
      // A write that was already proposed when the master stopped may still commit: say so.
      if (error.indeterminate)
        return new HttpError(
          'TIMEOUT',
          'the master stopped with this write in flight: it may or may not have been applied',
        );
      return new HttpError('UNAVAILABLE', `leadership is moving (${error.code}); retry shortly`, {
        'retry-after': retryAfterSeconds,
      });
    case 'membership-change-pending':
    case 'no-commit-in-term':
    case 'not-caught-up':
    case 'unknown-node':
    case 'invalid-change':
      return new HttpError(
        'CONFLICT',
        `membership change refused: ${error.code}`,
        {},
        error.code.toUpperCase().replaceAll('-', '_'),
      );
    case 'overwritten':
      return new HttpError('UNAVAILABLE', 'the write was lost in a leader change and not applied; retry', {
        'retry-after': retryAfterSeconds,
      });
  }
}
