// Membership changes one server at a time (§4.1–4.3). A config entry carries the whole
// membership it produces, not only the delta, so any replica (a fresh joiner included) knows
// the configuration from the latest config entry in its log without replaying history.
import type { Membership, MembershipChange, NodeId } from './types.ts';

export const CONFIG_ENTRY_VERSION = 1;

export interface ConfigEntry {
  readonly change: MembershipChange;
  readonly membership: Membership;
}

export type ChangeCheck = { ok: true; membership: Membership } | { ok: false; why: string };

export function isVoter(membership: Membership, node: NodeId): boolean {
  return membership.voters.includes(node);
}

export function isMember(membership: Membership, node: NodeId): boolean {
  return membership.voters.includes(node) || membership.learners.includes(node);
}

export function members(membership: Membership): NodeId[] {
  return [...membership.voters, ...membership.learners];
}

/** Applies a change to a membership, or says why it is not a legal single-server change. */
export function applyMembershipChange(current: Membership, change: MembershipChange): ChangeCheck {
  const addresses = { ...current.addresses };
  switch (change.type) {
    case 'add-learner': {
      if (isMember(current, change.node)) return { ok: false, why: `${change.node} is already a member` };
      if (change.address === '') return { ok: false, why: 'a new member needs an address' };
      addresses[change.node] = change.address;
      return {
        ok: true,
        membership: sorted({ voters: current.voters, learners: [...current.learners, change.node], addresses }),
      };
    }
    case 'promote': {
      if (!current.learners.includes(change.node)) return { ok: false, why: `${change.node} is not a learner` };
      return {
        ok: true,
        membership: sorted({
          voters: [...current.voters, change.node],
          learners: current.learners.filter((node) => node !== change.node),
          addresses,
        }),
      };
    }
    case 'remove': {
      if (!isMember(current, change.node)) return { ok: false, why: `${change.node} is not a member` };
      const voters = current.voters.filter((node) => node !== change.node);
      if (voters.length === 0) return { ok: false, why: 'the last voter cannot be removed' };
      delete addresses[change.node];
      return {
        ok: true,
        membership: sorted({ voters, learners: current.learners.filter((node) => node !== change.node), addresses }),
      };
    }
  }
}

function sorted(membership: Membership): Membership {
  const addresses: Record<string, string> = {};
  for (const key of Object.keys(membership.addresses).sort()) addresses[key] = membership.addresses[key]!;
  return { voters: [...membership.voters].sort(), learners: [...membership.learners].sort(), addresses };
}

export function encodeConfigEntry(entry: ConfigEntry): Uint8Array {
  return Buffer.from(JSON.stringify({ version: CONFIG_ENTRY_VERSION, ...entry }), 'utf8');
}

export function decodeConfigEntry(data: Uint8Array): ConfigEntry {
  const parsed: unknown = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null) throw new Error('config entry: not an object');
  const record = parsed as { version?: unknown; change?: unknown; membership?: unknown };
  if (record.version !== CONFIG_ENTRY_VERSION)
    throw new Error(`config entry: unknown version ${String(record.version)}`);
  return { change: record.change as MembershipChange, membership: record.membership as Membership };
}

export function quorumSize(membership: Membership): number {
  return Math.floor(membership.voters.length / 2) + 1;
}
