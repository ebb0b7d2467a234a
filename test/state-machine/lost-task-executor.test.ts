// A lost task whose executor was removed while its agent was away (command format 12,
// reregister_agent's `restoresLostTasks: 'checked'`). A correct agent does not report such a task
// running, but a buggy or hostile one can, and format 11's `true` took it at its word: the task
// came back live without its executor, a state that breaks the invariants and that no snapshot of
// restores from (found at FLOTILLA_SEED=1350828537 in registration-batch.test.ts; this is it shrunk).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeCommand, encodeCommand } from '../../src/state-machine/codec.ts';
import type { Command, ReregisterAgent } from '../../src/state-machine/commands.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { executorId, taskKey } from '../../src/state-machine/ids.ts';
import { checkInvariants } from '../../src/state-machine/invariants.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { emptyResources } from '../../src/state-machine/resources.ts';
import {
  A1,
  accept,
  agentInfo,
  baseTime,
  cpus,
  createOffers,
  executorDefinition,
  F1,
  Harness,
  launchGroup,
  O1,
  offerDefinition,
  registerAgent,
  resources,
  subscribe,
  T1,
  taskDefinition,
} from './support/fixtures.ts';

const lostKey = taskKey(F1, T1);
const E1 = executorId('e1');

/** t1 runs on executor e1 on a1; a1 becomes unreachable (t1 TASK_LOST); `removesExecutor`: then e1 goes. */
function lostWithItsExecutor(removesExecutor: boolean): Command[] {
  return [
    registerAgent(),
    subscribe(F1),
    createOffers(offerDefinition(O1, resources(cpus(2)))),
    accept([O1], [launchGroup(executorDefinition('e1', resources(cpus(1))), taskDefinition(T1, resources(cpus(1))))]),
    { type: 'update_agent_state', at: baseTime + 1, agentId: A1, state: 'UNREACHABLE' },
    ...(removesExecutor
      ? [{ type: 'remove_executor', at: baseTime + 1, agentId: A1, frameworkId: F1, executorId: E1 } as const]
      : []),
  ];
}

const reregister = (restoresLostTasks: true | 'checked'): ReregisterAgent => ({
  type: 'reregister_agent',
  keepsReservations: true,
  at: baseTime + 2,
  agentId: A1,
  info: agentInfo(),
  tasks: [{ frameworkId: F1, taskId: T1, state: 'TASK_RUNNING' }],
  restoresLostTasks,
});

test('a task whose executor was removed while its agent was away stays TASK_LOST (format 12)', () => {
  const harness = new Harness(lostWithItsExecutor(true));
  assert.is(harness.state.tasks.get(lostKey)?.state, 'TASK_LOST');
  assert.is(harness.state.executors.size, 0);
  const before = harness.events.length;
  harness.ok(reregister('checked'));
  assert.is(harness.state.tasks.get(lostKey)?.state, 'TASK_LOST');
  assert.equal(harness.state.agents.get(A1)?.used, emptyResources, 'nothing holds resources');
  assert.is(harness.state.agents.get(A1)?.state, 'ACTIVE', 'the agent is back all the same');
  assert.not.ok(harness.state.derived.liveTasksByAgent.get(A1)?.has(lostKey));
  assert.not.ok(harness.eventsSince(before).some((event) => event.type === 'TASK_UPDATED'));
  checkInvariants(harness.state);
  // Its snapshot restores (format 11's state below does not).
  const restored = new ClusterStateMachine();
  restored.restore(harness.machine.snapshot());
  assert.is(stateHash(restored.state), stateHash(harness.state));
});

test('with its executor still there it comes back, as in format 11', () => {
  const checked = new Harness(lostWithItsExecutor(false));
  checked.ok(reregister('checked'));
  assert.is(checked.state.tasks.get(lostKey)?.state, 'TASK_RUNNING');
  assert.equal(checked.state.agents.get(A1)?.used, resources(cpus(2)), 'the task and its executor');
  const trusting = new Harness(lostWithItsExecutor(false));
  trusting.ok(reregister(true));
  assert.is(stateHash(trusting.state), stateHash(checked.state));
});

test("format 11's entries replay as they applied then: the task revived without its executor", () => {
  // The machine as a master runs it (no invariant check per apply): what an old log holds.
  const machine = new ClusterStateMachine();
  const commands = [...lostWithItsExecutor(true), reregister(true)];
  for (const [position, command] of commands.entries()) {
    assert.ok(machine.apply(encodeCommand(command), position + 1).ok);
  }
  assert.is(machine.state.tasks.get(lostKey)?.state, 'TASK_RUNNING');
  assert.throws(() => checkInvariants(machine.state), /executor e1 is not on its agent/);
  assert.throws(() => new ClusterStateMachine().restore(machine.snapshot()), /SNAPSHOT_INVARIANT_VIOLATED/);
});

test("'checked' makes the entry format 12, alone or in a batch; true stays format 11", () => {
  const batch = (items: ReregisterAgent[]): Command => ({
    type: 'agent_registration_batch',
    at: baseTime + 2,
    items: items.map(({ at: _stamp, ...item }) => item),
  });
  const cases: [Command, number][] = [
    [reregister('checked'), 12],
    [reregister(true), 11],
    [batch([reregister(true), reregister('checked')]), 12],
    [batch([reregister(true)]), 11],
  ];
  for (const [command, version] of cases) {
    const bytes = encodeCommand(command);
    assert.is((JSON.parse(new TextDecoder().decode(bytes)) as { version: number }).version, version);
    const decoded = decodeCommand(bytes);
    assert.ok(decoded.ok);
    if (decoded.ok) assert.equal(decoded.command, command);
  }
  // Only true or 'checked': another value is malformed, not a third rule.
  const other = decodeCommand(
    new TextEncoder().encode(
      JSON.stringify({ version: 12, command: { ...reregister('checked'), restoresLostTasks: 'yes' } }),
    ),
  );
  assert.is(other.ok ? 'ok' : other.code, 'MALFORMED_COMMAND');
});

test.run();
