// Hundreds of agents across a SIGKILL of the leader (issue 12): three real master processes and
// 300 simulated agents in a child process (bench/_agent-fleet.ts: each a WebSocket speaking the
// real agent protocol, answering pings, following not_leader). After the kill every agent
// registers again exactly once (more only if leadership moves again, closing sockets 4000): no
// registered socket is closed under it and re-made (a scale run once saw 2,587 registrations for
// 1,000 agents), and the new leader keeps them. The dials it
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
  await fleet.reregistered(registerTimeoutMs);
  const after = await fleet.stats();
  console.log(
    `${agents} agents, leader ${leader.id} killed, ${newLeader.id} leads: ` +
      `${after.registrations - before.registrations} registrations and ${after.dials - before.dials} dials since; ` +
      `at most ${after.mostRegistrationsSinceMark} registrations and ${after.mostDialsSinceMark} dials for one agent; ` +
      `sockets closed: ${JSON.stringify(after.closes)}`,
  );
  // Registered sockets closed since the kill: by it (1006), or by a master that stopped leading
  // (4000: on a loaded machine leadership can move again). Nothing else may drop one.
  const closedSince = (cause: string): number => (after.closes[cause] ?? 0) - (before.closes[cause] ?? 0);
  const movedAgain = closedSince('registered 4000 no longer the leader');
  const unexplained = Object.keys(after.closes)
    .filter((cause) => cause.startsWith('registered ') && !/^registered (1006|4000) /.test(cause))
    .reduce((total, cause) => total + closedSince(cause), 0);
  assert.is(unexplained, 0, `registered sockets closed: ${JSON.stringify(after.closes)}`);
  if (movedAgain === 0) {
    assert.is(after.mostRegistrationsSinceMark, 1, 'no agent registered twice after the kill');
    assert.is(after.registrations - before.registrations, agents);
  } else {
    console.log(`leadership moved again after the kill: ${movedAgain} registered sockets closed 4000`);
    assert.ok(after.mostRegistrationsSinceMark <= 3, `${after.mostRegistrationsSinceMark} registrations for one agent`);
  }
  assert.ok(after.mostDialsSinceMark <= maxDialsPerAgent, `${after.mostDialsSinceMark} dials for one agent`);
  // Several of the new leader's ping rounds later (5 s each) no socket has been dropped and re-made.
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  const settled = await fleet.stats();
  const droppedLater = Object.keys(settled.closes)
    .filter((cause) => cause.startsWith('registered ') && !cause.startsWith('registered 4000 '))
    .reduce((total, cause) => total + (settled.closes[cause] ?? 0) - (after.closes[cause] ?? 0), 0);
  assert.is(droppedLater, 0, `registered sockets closed later: ${JSON.stringify(settled.closes)}`);
});

test.run();
