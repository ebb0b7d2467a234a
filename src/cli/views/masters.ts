// The masters as `flotilla status` and `flotilla raft members` show them: each master's own
// GET_RAFT (a local call: it answers even without a leader), joined with the leader's view
// of the membership (voters, learners, replication progress).
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import { parseMasterAddress } from '../../frameworks/sdk/masters.ts';

/** GET_RAFT's `get_raft` (src/master/interface.ts RaftView). */
export interface RaftView {
  readonly id: string;
  readonly zone: string | null;
  readonly role: 'leader' | 'follower' | 'candidate' | 'learner';
  readonly term: number;
  readonly leaderId: string | null;
  readonly leaderAddress: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly snapshotIndex: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly members: readonly {
    readonly id: string;
    readonly address: string;
    readonly role: 'voter' | 'learner';
    /** As replicated: known for a master that is down too. */
    readonly zone?: string | null;
    readonly match: number | null;
    readonly state: string | null;
  }[];
}

/** One address asked, and what it said (or why it said nothing). */
export interface MasterProbe {
  readonly address: MasterAddress;
  readonly view: RaftView | null;
  readonly error: string | null;
}

export interface MasterRow {
  readonly id: string | null;
  readonly address: string;
  /** Its own answer: leader, follower, candidate, learner; "down" when it did not answer. */
  readonly role: string;
  /** voter or learner in the leader's membership; null when no leader answered. */
  readonly membership: 'voter' | 'learner' | null;
  readonly term: number | null;
  readonly commit_index: number | null;
  readonly applied_index: number | null;
  /** The leader's replication progress for it (the last index known to match the leader's log). */
  readonly match_index: number | null;
  /** Entries it has yet to apply to catch up with the leader's commit index. */
  readonly lag: number | null;
  readonly zone: string | null;
  readonly error: string | null;
}

export interface MasterSurvey {
  readonly leader: RaftView | null;
  readonly rows: readonly MasterRow[];
}

/** Every address worth asking: the ones given, then members the answers name. */
export function addressesToAsk(given: readonly MasterAddress[], views: readonly (RaftView | null)[]): MasterAddress[] {
  const addresses = new Set<MasterAddress>(given);
  for (const view of views) {
    for (const member of view?.members ?? []) {
      try {
        addresses.add(parseMasterAddress(member.address));
      } catch {
        // A member without a usable address (being added) is listed from the leader's view only.
      }
    }
  }
  return [...addresses];
}

/** The leader: the answer that says so, in the highest term (a deposed leader may not know yet). */
export function findLeader(probes: readonly MasterProbe[]): RaftView | null {
  let leader: RaftView | null = null;
  for (const probe of probes) {
    if (probe.view?.role === 'leader' && (leader === null || probe.view.term > leader.term)) leader = probe.view;
  }
  return leader;
}

export function masterRows(probes: readonly MasterProbe[]): MasterSurvey {
  const leader = findLeader(probes);
  // Whose membership to list: the leader's; without one, any master's own (ids and addresses
  // of the members it knows), so a master that is down still shows by name.
  const reference = leader ?? probes.find((probe) => probe.view !== null)?.view ?? null;
  const byAddress = new Map(probes.map((probe) => [probe.address as string, probe]));
  const rows: MasterRow[] = [];
  const seen = new Set<string>();
  for (const member of reference?.members ?? []) {
    seen.add(member.address);
    rows.push(row(byAddress.get(member.address) ?? null, member.address, leader, member));
  }
  for (const probe of probes) {
    if (seen.has(probe.address)) continue;
    // Not a member in the leader's eyes: listed with what it says of itself, if it answered.
    if (probe.view === null && reference !== null) continue;
    rows.push(row(probe, probe.address, leader, null));
  }
  return { leader, rows: rows.sort((a, b) => (a.id ?? a.address).localeCompare(b.id ?? b.address)) };
}

function row(
  probe: MasterProbe | null,
  address: string,
  leader: RaftView | null,
  member: RaftView['members'][number] | null,
): MasterRow {
  const view = probe?.view ?? null;
  const applied = view?.appliedIndex ?? null;
  return {
    id: member?.id ?? view?.id ?? null,
    address,
    role: view?.role ?? 'down',
    membership: member?.role ?? null,
    term: view?.term ?? null,
    commit_index: view?.commitIndex ?? null,
    applied_index: applied,
    match_index: leader === null ? null : member?.id === leader.id ? leader.lastIndex : (member?.match ?? null),
    lag: leader === null || applied === null ? null : Math.max(0, leader.commitIndex - applied),
    // Its own answer, else the zone the cluster replicated for it (a master that is down).
    zone: view?.zone ?? member?.zone ?? null,
    error: probe?.error ?? (view === null ? 'not asked' : null),
  };
}
