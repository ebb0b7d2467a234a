// The machine shell: applied index bookkeeping, change events and their listeners.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AssertionError } from '../../src/util/assert.ts';
import { encodeCommand } from '../../src/state-machine/codec.ts';
import type { ChangeEvent } from '../../src/state-machine/events.ts';
import { maxChangeListeners } from '../../src/state-machine/limits.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { registerAgent, runningTaskSetup, subscribe, T1, updateStatus } from './support/fixtures.ts';

const bytes = encodeCommand;

test('lastAppliedIndex follows every apply, rejected ones and malformed bytes included', () => {
  const machine = new ClusterStateMachine();
  machine.apply(bytes(registerAgent()), 3);
  assert.is(machine.lastAppliedIndex, 3);
  assert.is(machine.apply(bytes(registerAgent()), 5).ok, false);
  assert.is(machine.lastAppliedIndex, 5);
  machine.apply(new Uint8Array([1, 2, 3]), 9);
  assert.is(machine.lastAppliedIndex, 9);
});

test('an index that does not grow is a bug in the caller: it throws an AssertionError', () => {
  const machine = new ClusterStateMachine();
  machine.apply(bytes({ type: 'noop' }), 4);
  assert.throws(
    () => machine.apply(bytes({ type: 'noop' }), 4),
    (error: unknown) => error instanceof AssertionError,
  );
  assert.throws(
    () => machine.apply(bytes({ type: 'noop' }), 2),
    (error: unknown) => error instanceof AssertionError,
  );
});

test('listeners hear every change in order, with its index; unsubscribed ones hear nothing more', () => {
  const machine = new ClusterStateMachine();
  const heard: [ChangeEvent['type'], number][] = [];
  const stop = machine.subscribe((event, index) => heard.push([event.type, index]));
  for (const [position, command] of runningTaskSetup().entries()) machine.apply(bytes(command), position + 1);
  machine.apply(bytes(updateStatus(T1, 'TASK_RUNNING')), 5);
  assert.equal(heard, [
    ['AGENT_ADDED', 1],
    ['FRAMEWORK_ADDED', 2],
    ['OFFER_ADDED', 3],
    ['OFFER_REMOVED', 4],
    ['TASK_ADDED', 4],
    ['TASK_UPDATED', 5],
  ]);
  stop();
  machine.apply(bytes(subscribe()), 6);
  assert.is(heard.length, 6);
});

test('a throwing listener neither stops the apply nor the other listeners; its error is handed on', () => {
  const errors: unknown[] = [];
  const machine = new ClusterStateMachine({ onListenerError: (error) => errors.push(error) });
  const heard: string[] = [];
  machine.subscribe(() => {
    throw new Error('listener bug');
  });
  machine.subscribe((event) => heard.push(event.type));
  const result = machine.apply(bytes(registerAgent()), 1);
  assert.is(result.ok, true);
  assert.equal(heard, ['AGENT_ADDED']);
  assert.is(errors.length, 1);
  assert.is(machine.state.agents.size, 1);
});

test('restore tells listeners the state was replaced', () => {
  const source = new ClusterStateMachine();
  source.apply(bytes(registerAgent()), 7);
  const target = new ClusterStateMachine();
  const heard: [string, number][] = [];
  target.subscribe((event, index) => heard.push([event.type, index]));
  target.restore(source.snapshot());
  assert.equal(heard, [['STATE_RESTORED', 7]]);
});

test('listeners are bounded', () => {
  const machine = new ClusterStateMachine();
  for (let count = 0; count < maxChangeListeners; count += 1) machine.subscribe(() => {});
  assert.throws(() => machine.subscribe(() => {}), RangeError);
});

test.run();
