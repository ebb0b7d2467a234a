// Where each master's zone lives once every master knows it: one record per master in the
// replicated key-value store, namespace `flotilla-masters`, key the master's id, value
// {"v":1,"zone":"dc1"} (zone null for a master started without --zone). The Raft core knows no
// zones (a membership holds ids and addresses only), so the zones travel above it, as ordinary
// commands the leader proposes (zone-registry.ts), and every replica reads them from its applied
// state: GET_RAFT on any master, the leader's zone preference, a new leader at once.
// The records are the masters' own: an operator's write there is overwritten at the next round.
import type { ReadonlyState } from '../../state-machine/state.ts';
import { compareStrings } from '../../state-machine/ordering.ts';
import { kvKey } from '../../state-machine/state.ts';

export const masterZonesNamespace = 'flotilla-masters';
/** The record's format version, first field of every value (STYLE.md rule 10). */
const recordVersion = 1;

export function encodeZoneRecord(zone: string | null): string {
  return JSON.stringify({ v: recordVersion, zone });
}

/** The zone a record holds; undefined for a value that is not a record this build reads. */
export function decodeZoneRecord(value: string): string | null | undefined {
  try {
    const record = JSON.parse(value) as { v?: unknown; zone?: unknown };
    if (record.v !== recordVersion) return undefined;
    if (record.zone === null || typeof record.zone === 'string') return record.zone;
  } catch {
    // An operator's stray write: treated as no record, and replaced by the next round.
  }
  return undefined;
}

/** The replicated zone of master `id`: a string, null (it has none), or undefined (not known yet). */
export function replicatedZone(state: ReadonlyState, id: string): string | null | undefined {
  const entry = state.kv.get(kvKey(masterZonesNamespace, id));
  return entry === undefined ? undefined : decodeZoneRecord(entry.value);
}

/** Ids with a record in the namespace (to remove those of masters no longer members). */
export function recordedMasters(state: ReadonlyState): string[] {
  const ids: string[] = [];
  for (const entry of state.kv.values()) if (entry.namespace === masterZonesNamespace) ids.push(entry.key);
  return ids.sort();
}

export type ZoneWrite =
  | { readonly type: 'put'; readonly id: string; readonly zone: string | null }
  | { readonly type: 'delete'; readonly id: string };

/**
 * What the leader must write so the records match what it knows: `known` holds the zone each
 * member reported (members that did not answer are absent: their record stays as it is);
 * `members` every voter and learner; `recorded` the ids with a record now.
 */
export function zoneWrites(
  state: ReadonlyState,
  known: ReadonlyMap<string, string | null>,
  members: ReadonlySet<string>,
  recorded: readonly string[],
): ZoneWrite[] {
  const writes: ZoneWrite[] = [];
  // Code-unit order, not localeCompare: a process's first localeCompare loads ICU's collation
  // data, 18 ms at load 20 and 58-279 ms in profiles of a new leader at load 20-38, all of it in
  // its first zone round, which runs as the clients' first writes after a failover arrive.
  for (const [id, zone] of [...known].sort(([left], [right]) => compareStrings(left, right))) {
    if (members.has(id) && replicatedZone(state, id) !== zone) writes.push({ type: 'put', id, zone });
  }
  for (const id of recorded) if (!members.has(id)) writes.push({ type: 'delete', id });
  return writes;
}
