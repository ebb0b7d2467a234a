import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TaskState } from '../../src/protocol/task-states.ts';
import { checkTaskPaths, illegalStep } from './checker/task-paths.ts';

const paths = (entries: Record<string, TaskState[]>) => new Map(Object.entries(entries));

test('the paths Flotilla produces are legal', () => {
  const legal = checkTaskPaths(
    paths({
      'f/finished': ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_FINISHED'],
      'f/killed': ['TASK_STAGING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_KILLED'],
      'f/lost-and-back': ['TASK_STAGING', 'TASK_RUNNING', 'TASK_UNREACHABLE', 'TASK_RUNNING', 'TASK_FAILED'],
      'f/dropped': ['TASK_STAGING', 'TASK_DROPPED'],
    }),
    true,
  );
  assert.equal(legal, []);
});

test('a state after a terminal one, a step backwards, or a second STAGING is illegal', () => {
  assert.ok(illegalStep('TASK_FINISHED', 'TASK_RUNNING')?.includes('terminal'));
  assert.ok(illegalStep('TASK_RUNNING', 'TASK_STARTING') !== null);
  assert.ok(illegalStep('TASK_RUNNING', 'TASK_STAGING') !== null);
  assert.ok(illegalStep('TASK_STARTING', 'TASK_STARTING') !== null);
  assert.is(illegalStep('TASK_KILLING', 'TASK_KILLED'), null);
});

test('a complete log must show each task from its launch', () => {
  const illegal = checkTaskPaths(paths({ 'f/headless': ['TASK_RUNNING', 'TASK_FINISHED'] }), true);
  assert.is(illegal.length, 1);
  assert.equal(checkTaskPaths(paths({ 'f/headless': ['TASK_RUNNING', 'TASK_FINISHED'] }), false), []);
});

test.run();
