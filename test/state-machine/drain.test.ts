// Deactivation and drains in the state machine (Mesos maintenance.md, "Automatic Node
// Draining"): separate from reachability and maintenance; drain_agent asks every live task to
// be killed; mark_agent_drained ends it (and marks gone with mark_gone); reactivate_agent clears
// it; format 3's update_agent_state ACTIVE/DRAINING and format 4's agent state DRAINING read as
// deactivation. Every refusal is in rejections.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cappedGracePeriodMs } from '../../src/agent/executors/registry.ts';
import { drainedAgents } from '../../src/master/agent-drains.ts';
import { decodeCommand } from '../../src/state-machine/codec.ts';
import { agentSchema } from '../../src/state-machine/entity-schema.ts';
import { taskKey } from '../../src/state-machine/ids.ts';
import {
  A1,
  baseTime,
  cpus,
  createOffers,
  F1,
  Harness,
  O2,
  offerDefinition,
  registerAgent,
  resources,
  runningTaskSetup,
  T1,
  updateStatus,
} from './support/fixtures.ts';

const drain = (maxGracePeriodMs: number | null, markGone: boolean) =>
  ({ type: 'drain_agent', at: baseTime + 1, agentId: A1, maxGracePeriodMs, markGone }) as const;

test('drain_agent deactivates, removes offers, records the drain and asks each live task to die', () => {
  const harness = new Harness([...runningTaskSetup(), createOffers(offerDefinition(O2, resources(cpus(1))))]);
  const before = harness.events.length;
  harness.ok(drain(2_000, false));
  const agent = harness.state.agents.get(A1);
  assert.is(agent?.state, 'ACTIVE', 'a drained agent is still reachable');
  assert.is(agent?.deactivated, true);
  assert.equal(agent?.drain, { state: 'DRAINING', maxGracePeriodMs: 2_000, markGone: false, startedAt: baseTime + 1 });
  assert.is(harness.state.offers.size, 0);
  const task = harness.state.tasks.get(taskKey(F1, T1));
  assert.is(task?.killRequestedAt, baseTime + 1);
  assert.is(task?.state, 'TASK_STAGING', 'the task lives until its agent reports it killed');
  const types = harness.eventsSince(before).map((event) => event.type);
  assert.ok(types.includes('AGENT_UPDATED'), types.join(', '));
  assert.ok(types.includes('TASK_KILL_REQUESTED'), types.join(', '));
  assert.equal(drainedAgents(harness.state), [], 'a task still lives');
});

test('the drain ends DRAINED once no task lives; the agent stays deactivated until reactivated', () => {
  const harness = new Harness([...runningTaskSetup(), drain(null, false)]);
  harness.rejects({ type: 'mark_agent_drained', at: baseTime + 2, agentId: A1 }, 'AGENT_HAS_LIVE_TASKS');
  harness.ok(updateStatus(T1, 'TASK_KILLED'));
  assert.equal(drainedAgents(harness.state), [A1]);
  harness.ok({ type: 'mark_agent_drained', at: baseTime + 3, agentId: A1 });
  assert.is(harness.state.agents.get(A1)?.drain?.state, 'DRAINED');
  assert.is(harness.state.agents.get(A1)?.state, 'ACTIVE');
  assert.equal(drainedAgents(harness.state), []);
  harness.ok({ type: 'reactivate_agent', at: baseTime + 4, agentId: A1 });
  assert.is(harness.state.agents.get(A1)?.deactivated, false);
  assert.is(harness.state.agents.get(A1)?.drain, null);
});

test('mark_gone: the drained agent is gone in the same command', () => {
  const harness = new Harness([registerAgent(), drain(500, true)]);
  assert.equal(drainedAgents(harness.state), [A1], 'an agent without tasks is drained at once');
  harness.ok({ type: 'mark_agent_drained', at: baseTime + 2, agentId: A1 });
  const agent = harness.state.agents.get(A1);
  assert.is(agent?.state, 'GONE');
  assert.is(agent?.drain?.state, 'DRAINED');
});

test('a second drain replaces the config and drains again', () => {
  const harness = new Harness([
    registerAgent(),
    drain(null, false),
    { type: 'mark_agent_drained', at: baseTime + 2, agentId: A1 },
  ]);
  harness.ok({ ...drain(1_000, true), at: baseTime + 3 });
  assert.equal(harness.state.agents.get(A1)?.drain, {
    state: 'DRAINING',
    maxGracePeriodMs: 1_000,
    markGone: true,
    startedAt: baseTime + 3,
  });
});

test('an unreachable agent can be drained; re-registering keeps it deactivated and draining', () => {
  const harness = new Harness([
    registerAgent(),
    { type: 'update_agent_state', at: baseTime, agentId: A1, state: 'UNREACHABLE' },
  ]);
  harness.ok(drain(null, false));
  const agent = harness.state.agents.get(A1)!;
  harness.ok({
    type: 'reregister_agent',
    keepsReservations: true,
    at: baseTime + 5,
    agentId: A1,
    info: { ...agent },
    tasks: [],
  });
  assert.is(harness.state.agents.get(A1)?.state, 'ACTIVE');
  assert.is(harness.state.agents.get(A1)?.deactivated, true);
  assert.is(harness.state.agents.get(A1)?.drain?.state, 'DRAINING');
});

test('COMPAT: format 3 and 4 update_agent_state DRAINING and ACTIVE decode as deactivate and reactivate', () => {
  const legacy = (state: string) =>
    new Uint8Array(
      Buffer.from(JSON.stringify({ version: 3, command: { type: 'update_agent_state', at: 5, agentId: A1, state } })),
    );
  assert.equal(decodeCommand(legacy('DRAINING')), {
    ok: true,
    command: { type: 'deactivate_agent', at: 5, agentId: A1 },
  });
  assert.equal(decodeCommand(legacy('ACTIVE')), {
    ok: true,
    command: { type: 'reactivate_agent', at: 5, agentId: A1 },
  });
  assert.equal(decodeCommand(legacy('UNREACHABLE')), {
    ok: true,
    command: { type: 'update_agent_state', at: 5, agentId: A1, state: 'UNREACHABLE' },
  });
});

test('COMPAT: a snapshot format 4 agent row DRAINING reads as a deactivated ACTIVE agent with no drain', () => {
  const harness = new Harness([registerAgent()]);
  const { deactivated: _deactivated, drain: _drain, ...row } = harness.state.agents.get(A1)!;
  const read = agentSchema(JSON.parse(JSON.stringify({ ...row, state: 'DRAINING' })), 'agent');
  assert.is(read.state, 'ACTIVE');
  assert.is(read.deactivated, true);
  assert.is(read.drain, null);
  const current = agentSchema(JSON.parse(JSON.stringify(harness.state.agents.get(A1))), 'agent');
  assert.equal(current, harness.state.agents.get(A1));
});

test("the agent caps a kill's grace period with the drain's: the smaller, the cap when the task has none", () => {
  assert.is(cappedGracePeriodMs(600_000, 1_000), 1_000);
  assert.is(cappedGracePeriodMs(500, 1_000), 500);
  assert.is(cappedGracePeriodMs(null, 1_000), 1_000);
  assert.is(cappedGracePeriodMs(600_000, null), null);
  assert.is(cappedGracePeriodMs(null, null), null);
});

test.run();
