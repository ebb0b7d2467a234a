// Hundreds of agents across a SIGKILL of the leader (issue 12): three real master processes and
// 300 simulated agents in a child process (bench/_agent-fleet.ts: each a WebSocket speaking the
// real agent protocol, answering pings, following not_leader). After the kill every agent
// registers again exactly once: no registered socket is closed under it and re-made (a scale
// run once saw 2,587 registrations for 1,000 agents), and the new leader keeps them. The dials it
// took (dead master, followers before the election, the redirect) are printed, and bounded.
// flotilla-test-timeout-seconds: 400
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentFleet } from '../../bench/_agent-fleet.ts';
import { ProcessCluster } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';

const agents = 300;
const registerTimeoutMs = 240_000;
/** A simulated agent dials the next master 250 ms after a failed one; a minute of failed dials is a storm. */
const maxDialsPerAgent = 240;

let cluster: ProcessCluster;
let fleet: AgentFleet | null = null;
test.before(async () => {
  cluster = await ProcessCluster.start(makeTempDir('agents-failover-'), 3, [], 'master');
});
test.after(async () => {
  await fleet?.stop();
  await cluster?.stop();
});

test('after a SIGKILL of the leader every agent registers again once, and stays', async () => {
  await cluster.waitForLeader();
  const addresses = cluster.replicas.map((replica) => replica.address);
  fleet = await AgentFleet.start(addresses, agents, 1, registerTimeoutMs, { cpus: 4, memMb: 4_096 });
  const before = await fleet.stats();
  assert.is(before.registrations, agents, `${agents} agents registered once each: ${JSON.stringify(before)}`);
  const leader = await cluster.waitForLeader();
  fleet.mark();
  // The mark reaches the fleet process before the kill: a stats round trip follows it.
  await fleet.stats();
  await cluster.kill(leader, 'SIGKILL');
  const newLeader = await cluster.waitForLeader(registerTimeoutMs, [leader.id]);
  await fleet.reregisteredAtMs(registerTimeoutMs);
  const after = await fleet.stats();
  console.log(
    `${agents} agents, leader ${leader.id} killed, ${newLeader.id} leads: ` +
      `${after.registrations - before.registrations} registrations and ${after.dials - before.dials} dials since; ` +
      `at most ${after.mostRegistrationsSinceMark} registrations and ${after.mostDialsSinceMark} dials for one agent; ` +
      `sockets closed: ${JSON.stringify(after.closes)}`,
  );
  assert.is(after.mostRegistrationsSinceMark, 1, 'no agent registered twice after the kill');
  assert.is(after.registrations - before.registrations, agents);
  assert.ok(after.mostDialsSinceMark <= maxDialsPerAgent, `${after.mostDialsSinceMark} dials for one agent`);
  // Several of the new leader's ping rounds later (5 s each) no socket has been dropped and re-made.
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  const settled = await fleet.stats();
  assert.is(settled.registrations, after.registrations, `registrations since: ${JSON.stringify(settled.closes)}`);
});

test.run();
