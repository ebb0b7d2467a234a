// The timing profiles (src/raft/timing.ts): their values, the invariants every profile keeps, and
// what RaftNode hands its core for each (issue 19: a frozen leader's failover against the
// false-election rate under load).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  coreTiming,
  electionTimerOf,
  lanBeacon,
  type TimingProfile,
  timingProfiles,
  validateTiming,
} from '../../src/raft/timing.ts';

const profiles = Object.entries(timingProfiles) as [string, TimingProfile][];

test('every profile: valid, and the election timeout at least 10 heartbeats', () => {
  for (const [name, profile] of profiles) {
    validateTiming(profile);
    // etcd refuses an election timeout under 5 heartbeat intervals and advises 10: a follower
    // must miss several heartbeats in a row, not one late one, before it campaigns.
    assert.ok(profile.electionTicks >= 10 * profile.heartbeatTicks, `${name}: ${JSON.stringify(profile)}`);
  }
});

test('lan: a follower campaigns after 10 to 19 ticks of 30 ms of its leader’s silence', () => {
  const lan = timingProfiles.lan;
  // Not fixed at 10 or 11 ticks, which would replace a frozen leader within 400 ms: at 256 clients
  // on a loaded machine (load 30) that deposed leaders that had only stalled (README, Raft timing).
  assert.is(electionTimerOf(lan), 'randomized');
  assert.is(lan.electionTicks * lan.tickMs, 300);
  // The heartbeat every tick: a frozen leader was last heard at most a tick before it froze.
  assert.is(lan.heartbeatTicks, 1);
  assert.equal(coreTiming(lan), {
    electionTicks: 10,
    electionJitterTicks: 10,
    heartbeatTicks: 1,
    preVoteAtElectionTicks: false,
    beaconElectionTicks: 0,
    beaconBoundTicks: 0,
  });
});

test('the profile’s timer reaches the core: fixed campaigns at electionTicks of silence', () => {
  const fixed = coreTiming({ ...timingProfiles.lan, electionTimer: 'fixed' });
  assert.is(fixed.preVoteAtElectionTicks, true);
  // After a campaign that went nowhere the retry is still drawn, so two retries come apart.
  assert.is(fixed.electionJitterTicks, timingProfiles.lan.electionTicks);
});

test('wan: randomized between 1 and 2 election timeouts, 2-4 s', () => {
  const wan = timingProfiles.wan;
  assert.is(electionTimerOf(wan), 'randomized');
  assert.equal(coreTiming(wan), {
    electionTicks: 20,
    electionJitterTicks: 20,
    heartbeatTicks: 2,
    preVoteAtElectionTicks: false,
    beaconElectionTicks: 0,
    beaconBoundTicks: 0,
  });
});

test('the beacon reaches the core: 8 ticks once the beacon is stale, a bound of 2 s in ticks', () => {
  const beacon = coreTiming({ ...timingProfiles.lan, beacon: lanBeacon });
  assert.is(beacon.beaconElectionTicks, 8);
  assert.is(beacon.beaconBoundTicks, Math.ceil(2_000 / timingProfiles.lan.tickMs));
  // Below the profile's own timer, or it would replace a frozen leader no sooner.
  assert.ok(beacon.beaconElectionTicks < timingProfiles.lan.electionTicks);
  // Stale before the short timer fires: a frozen leader's last beacon and heartbeat leave together.
  assert.ok(lanBeacon.freshMs <= lanBeacon.electionTicks * timingProfiles.lan.tickMs);
  assert.not.throws(() => validateTiming({ ...timingProfiles.lan, beacon: lanBeacon }));
  assert.throws(
    () => validateTiming({ ...timingProfiles.lan, beacon: { ...lanBeacon, electionTicks: 1 } }),
    /above heartbeatTicks/,
  );
  assert.throws(() => validateTiming({ ...timingProfiles.lan, beacon: { ...lanBeacon, boundMs: 100 } }), /bound/);
});

test('validateTiming: positive whole ticks, a heartbeat below the election timeout', () => {
  // The timer is a name, not a count of ticks: it is not held to the numbers' rule.
  assert.not.throws(() => validateTiming({ tickMs: 30, electionTicks: 11, heartbeatTicks: 1, electionTimer: 'fixed' }));
  assert.throws(() => validateTiming({ tickMs: 30, electionTicks: 0, heartbeatTicks: 1 }), /electionTicks/);
  assert.throws(() => validateTiming({ tickMs: 30, electionTicks: 2, heartbeatTicks: 2 }), /heartbeatTicks/);
});

test.run();
