// The pure parts of zones: which records the leader writes (replicated-zones.ts) and which voter
// a leader outside the preferred zones hands leadership to (zone-preference.ts), with the
// hysteresis conditions one at a time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { zonePreferenceMaxLagEntries, zonePreferenceStableRounds } from '../../src/master/limits.ts';
import {
  decodeZoneRecord,
  encodeZoneRecord,
  masterZonesNamespace,
  recordedMasters,
  zoneWrites,
} from '../../src/master/zones/replicated-zones.ts';
import { type PreferenceInput, preferredTarget } from '../../src/master/zones/zone-preference.ts';
import type { MemberHealth } from '../../src/master/zones/zone-registry.ts';
import { type CoreStatus, nodeId } from '../../src/raft/types.ts';
import { emptyState, kvKey, type State } from '../../src/state-machine/state.ts';

function stateWith(records: Record<string, string>): State {
  const state = emptyState();
  let index = 1;
  for (const [id, value] of Object.entries(records)) {
    state.kv.set(kvKey(masterZonesNamespace, id), {
      namespace: masterZonesNamespace,
      key: id,
      value,
      version: index,
      createIndex: index++,
    });
  }
  return state;
}

test('records: versioned JSON; a stray value reads as no record', () => {
  assert.is(decodeZoneRecord(encodeZoneRecord('dc1')), 'dc1');
  assert.is(decodeZoneRecord(encodeZoneRecord(null)), null);
  assert.is(decodeZoneRecord('dc1'), undefined);
  assert.is(decodeZoneRecord('{"v":2,"zone":"dc1"}'), undefined);
  assert.is(decodeZoneRecord('{"v":1,"zone":7}'), undefined);
});

test('writes: a changed or missing zone is put, a former member deleted, a silent member left alone', () => {
  const state = stateWith({ m1: encodeZoneRecord('dc1'), m2: encodeZoneRecord('old'), m9: encodeZoneRecord('dc9') });
  const members = new Set(['m1', 'm2', 'm3', 'm4']);
  const known = new Map<string, string | null>([
    ['m1', 'dc1'],
    ['m2', 'dc2'],
    ['m3', null],
  ]);
  assert.equal(zoneWrites(state, known, members, recordedMasters(state)), [
    { type: 'put', id: 'm2', zone: 'dc2' },
    { type: 'put', id: 'm3', zone: null },
    { type: 'delete', id: 'm9' },
  ]);
  assert.equal(zoneWrites(state, new Map([['m1', 'dc1']]), new Set(['m1', 'm2', 'm9']), []), []);
});

test('writes: in code-unit order of the ids (no localeCompare, whose first call loads ICU in a new leader)', () => {
  const known = new Map<string, string | null>([
    ['m1', 'dc1'],
    ['M2', 'dc2'],
    ['m10', 'dc3'],
  ]);
  const writes = zoneWrites(emptyState(), known, new Set(['m1', 'M2', 'm10']), []);
  // localeCompare would say m1, m10, M2 (case is a tertiary difference there).
  assert.equal(
    writes.map((write) => write.id),
    ['M2', 'm1', 'm10'],
  );
});

const zones: Record<string, string | null> = { m1: 'dc1', m2: 'dc2', m3: 'dc3', m4: 'dc3', m5: null };

function leaderStatus(overrides: Partial<Record<string, { match: number; state: string }>> = {}): CoreStatus {
  const voters = ['m1', 'm2', 'm3', 'm4', 'm5'].map(nodeId);
  const progress: Record<string, { match: number; next: number; state: string }> = {};
  for (const id of voters) {
    const entry = overrides[id] ?? { match: 100, state: 'replicate' };
    progress[id] = { ...entry, next: entry.match + 1 };
  }
  return {
    id: nodeId('m1'),
    role: 'leader',
    term: 4,
    vote: nodeId('m1'),
    leader: nodeId('m1'),
    commit: 100,
    applied: 100,
    firstIndex: 1,
    lastIndex: 100,
    snapshotIndex: 0,
    membership: { voters, learners: [], addresses: {} },
    transferee: nodeId(''),
    progress,
  };
}

const healthy = (rounds = zonePreferenceStableRounds): Map<string, MemberHealth> =>
  new Map(Object.entries(zones).map(([id, zone]) => [id, { zone, followingRounds: rounds }]));

function input(overrides: Partial<PreferenceInput> = {}): PreferenceInput {
  return {
    status: leaderStatus(),
    preferred: ['dc3', 'dc2'],
    ownZone: 'dc1',
    zoneOf: (id) => zones[id],
    health: healthy(),
    ...overrides,
  };
}

test('preference: the first preferred zone with a healthy voter, the most caught up in it', () => {
  assert.equal(preferredTarget(input()), { id: 'm3', zone: 'dc3' });
  const m4Ahead = leaderStatus({ m3: { match: 95, state: 'replicate' } });
  assert.equal(preferredTarget(input({ status: m4Ahead })), { id: 'm4', zone: 'dc3' });
});

test('preference: a leader in a preferred zone stays; no list, no move; only a leader acts', () => {
  assert.is(preferredTarget(input({ ownZone: 'dc2' })), null, 'dc2 never yields to dc3: no flapping');
  assert.is(preferredTarget(input({ preferred: [] })), null);
  assert.is(preferredTarget(input({ status: { ...leaderStatus(), role: 'follower' } })), null);
});

test('preference: a voter not yet stable, lagging, or not replicating is no target', () => {
  assert.is(preferredTarget(input({ health: healthy(zonePreferenceStableRounds - 1) })), null);
  const farBehind = { match: 100 - zonePreferenceMaxLagEntries - 1, state: 'replicate' };
  assert.equal(preferredTarget(input({ status: leaderStatus({ m3: farBehind, m4: farBehind }) })), {
    id: 'm2',
    zone: 'dc2',
  });
  const probing = { match: 100, state: 'probe' };
  assert.equal(preferredTarget(input({ status: leaderStatus({ m3: probing, m4: probing }) })), {
    id: 'm2',
    zone: 'dc2',
  });
  const nobody = leaderStatus({ m2: probing, m3: probing, m4: probing });
  assert.is(preferredTarget(input({ status: nobody })), null);
});

test('preference: learners and zone-less voters are never targets', () => {
  const status = leaderStatus();
  const withLearner: CoreStatus = {
    ...status,
    membership: {
      ...status.membership,
      voters: status.membership.voters.filter((id) => id !== 'm3' && id !== 'm4'),
      learners: [nodeId('m3')],
    },
  };
  assert.equal(preferredTarget(input({ status: withLearner })), { id: 'm2', zone: 'dc2' });
  assert.is(preferredTarget(input({ status: withLearner, preferred: ['dc3'] })), null);
});

test.run();
