// The master as one replica of the cluster state (interface.ts ReplicatedMaster): Raft status
// in API terms, command submission with the leader's clock stamped in, linearizable reads,
// membership. Raft's failures become MasterErrors that say what a client can do: go to the
// leader, retry, or not know whether a write was applied.
import type { RaftNode } from '../raft/node.ts';
import { type CoreStatus, type MembershipChange, nodeId } from '../raft/types.ts';
import { encodeCommand } from '../state-machine/codec.ts';
import type { Command } from '../state-machine/commands.ts';
import type { ApplyResult } from '../state-machine/errors.ts';
import type { ReadonlyState } from '../state-machine/state.ts';
import { fromRaftError } from './errors.ts';
import type {
  ChangeListener,
  MasterRole,
  MembershipRequest,
  RaftMemberView,
  RaftView,
  ReplicatedMaster,
  SubmitOptions,
} from './interface.ts';
import { idempotencyStamp, submitAnswer } from './idempotency.ts';
import { replicatedZone } from './zones/replicated-zones.ts';

export interface ReplicaParts {
  readonly id: string;
  readonly address: string;
  readonly zone: string | null;
  readonly preferredLeaderZones: readonly string[];
  readonly flags: Readonly<Record<string, string>>;
  readonly raft: RaftNode;
  readonly state: () => ReadonlyState;
  /** The ClusterStateMachine's change hook (`subscribe`). */
  readonly onChange: (listener: ChangeListener) => () => void;
  /** Told how each proposal ended ("applied", or the MasterError code) and how long it took (metrics). */
  readonly onProposed?: (outcome: string, durationMs: number) => void;
}

export function createReplicatedMaster(parts: ReplicaParts): ReplicatedMaster {
  const startedAtMs = Date.now();
  let electedAtMs: number | null = parts.raft.status().role === 'leader' ? startedAtMs : null;
  parts.raft.onLeaderChange((status) => {
    if (status.role !== 'leader') electedAtMs = null;
    else electedAtMs ??= Date.now();
  });
  return {
    id: parts.id,
    address: parts.address,
    startedAtMs,
    flags: parts.flags,
    raft: () =>
      raftView(parts.raft.status(), {
        zone: parts.zone,
        preferredLeaderZones: parts.preferredLeaderZones,
        zoneOf: (id) => (id === parts.id ? parts.zone : (replicatedZone(parts.state(), id) ?? null)),
      }),
    leads: () => parts.raft.isLeader(),
    electedAtMs: () => electedAtMs,
    state: parts.state,
    onChange: parts.onChange,
    async submit(command: Command, options?: SubmitOptions): Promise<{ index: number; result: ApplyResult }> {
      const nowMs = Date.now();
      const startedMs = performance.now();
      let proposed: Awaited<ReturnType<RaftNode['propose']>>;
      try {
        proposed = await parts.raft.propose(encodeCommand(stampTime(command, nowMs)), idempotencyStamp(options, nowMs));
      } catch (error) {
        const failure = fromRaftError(error, parts.raft.status());
        parts.onProposed?.(failure.code, performance.now() - startedMs);
        throw failure;
      }
      parts.onProposed?.('applied', performance.now() - startedMs);
      return submitAnswer(proposed);
    },
    async linearizableRead(): Promise<void> {
      try {
        await parts.raft.linearizableBarrier();
      } catch (error) {
        throw fromRaftError(error, parts.raft.status());
      }
    },
    restoringSnapshot(): boolean {
      return parts.raft.restoringAtStart();
    },
    async changeMembership(request: MembershipRequest): Promise<{ index: number }> {
      try {
        return await parts.raft.proposeMembership(toMembershipChange(request));
      } catch (error) {
        throw fromRaftError(error, parts.raft.status());
      }
    },
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

export interface ZoneView {
  readonly zone: string | null;
  readonly preferredLeaderZones: readonly string[];
  readonly zoneOf: (id: string) => string | null;
}

export function raftView(status: CoreStatus, zones: ZoneView): RaftView {
  const membership = status.membership;
  const leaderId = status.leader === '' ? null : status.leader;
  let members: RaftMemberView[] | null = null;
  return {
    id: status.id,
    zone: zones.zone,
    preferredLeaderZones: zones.preferredLeaderZones,
    role: masterRole(status),
    term: status.term,
    leaderId,
    leaderAddress: leaderId === null ? null : (membership.addresses[leaderId] ?? null),
    commitIndex: status.commit,
    appliedIndex: status.applied,
    snapshotIndex: status.snapshotIndex,
    firstIndex: status.firstIndex,
    lastIndex: status.lastIndex,
    // Built when read, once: most readers of the view want only its role or leader (a follower's
    // redirect; the leader's own check asks leads()), and decoding each member's zone record from the state was 1.5% of the leader's busy time
    // at 256 clients (issue 19). An enumerable getter, so JSON and spreads still carry it.
    get members(): RaftMemberView[] {
      members ??= memberViews(status, zones);
      return members;
    },
  };
}

function memberViews(status: CoreStatus, zones: ZoneView): RaftMemberView[] {
  const membership = status.membership;
  return [
    ...membership.voters.map((id) => ({ id, role: 'voter' as const })),
    ...membership.learners.map((id) => ({ id, role: 'learner' as const })),
  ].map(({ id, role }) => ({
    id,
    role,
    address: membership.addresses[id] ?? '',
    zone: zones.zoneOf(id),
    match: status.progress[id]?.match ?? null,
    state: status.progress[id]?.state ?? null,
  }));
}

function masterRole(status: CoreStatus): MasterRole {
  if (status.role === 'leader') return 'leader';
  if (status.membership.learners.includes(status.id)) return 'learner';
  return status.role === 'follower' ? 'follower' : 'candidate';
}
