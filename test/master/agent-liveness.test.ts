// Which agents a leader marks UNREACHABLE: by the pings they left unanswered, as Mesos counts
// max_agent_ping_timeouts, so a leader whose own loop was held marks nobody when it wakes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lateAgents, type LivenessSettings } from '../../src/master/agent-liveness.ts';
import { agentId, type AgentId } from '../../src/state-machine/ids.ts';
import type { Agent } from '../../src/state-machine/state.ts';

const settings: LivenessSettings = { pingIntervalMs: 100, maxMissedPings: 3, reregistrationGraceMs: 5_000 };
const a1 = agentId('a1');
const agents = [{ id: a1, state: 'ACTIVE' } as Agent, { id: agentId('gone'), state: 'UNREACHABLE' } as Agent];

function late(heardMs: number | undefined, pingsSentMs: number[], nowMs: number): AgentId[] {
  const heard = new Map<AgentId, number>(heardMs === undefined ? [] : [[a1, heardMs]]);
  return lateAgents(agents, heard, 0, pingsSentMs, nowMs, settings);
}

test('an agent that left the last three due pings unanswered is late; one that answered the first of them is not', () => {
  const pings = [600, 700, 800, 900, 1_000];
  assert.equal(late(650, pings, 1_000), [a1], 'silent since before the ping at 700');
  assert.equal(late(710, pings, 1_000), [], 'answered the ping at 700');
  // The ping at 1,000 has had no interval to be answered yet: it does not count.
  assert.equal(late(650, [800, 900, 1_000], 1_000), [], 'only two pings are due');
});

test('a leader whose loop was held for 15 s marks no agent late when it wakes', () => {
  // Pings at 100, 200, 300 all answered (last pong read at 310); then nothing ran until 15,300,
  // when the overdue tick sends its ping: the agent was never asked in between.
  assert.equal(late(310, [100, 200, 300, 15_300], 15_300), []);
});

test('after the held loop, an agent that is really gone is late after three more pings', () => {
  assert.equal(late(310, [100, 200, 300, 15_300, 15_400, 15_500].slice(-4), 15_500), [], 'two due pings missed');
  assert.equal(late(310, [15_300, 15_400, 15_500, 15_600], 15_600), [a1], 'three due pings missed');
});

test('an agent this leader never heard from has the re-registration grace from the leadership', () => {
  assert.equal(late(undefined, [4_800, 4_900, 5_000], 5_000), []);
  assert.equal(late(undefined, [4_900, 5_000, 5_100], 5_001), [a1]);
});

test.run();
