// The leader's status batcher (src/master/status-batcher.ts): the updates and acknowledgements
// given in one event-loop turn become one Raft entry, each caller gets its own item's result, and
// no batch can exceed the command size bound, whatever its items hold.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { itemBytesMax, TaskStatusBatcher } from '../../src/master/status-batcher.ts';
import { cutBatches } from '../../src/master/turn-batcher.ts';
import { decodeCommand, encodeCommand } from '../../src/state-machine/codec.ts';
import type { TaskStatusBatchItem } from '../../src/state-machine/commands.ts';
import { agentId, frameworkId, taskId } from '../../src/state-machine/ids.ts';
import {
  base64Length,
  maxCommandBytes,
  maxIdLength,
  maxStatusDataBytes,
  maxTaskStatusBatchItems,
  maxTextLength,
} from '../../src/state-machine/limits.ts';
import { commandTask, launchTasks, subscribeFramework, taskOf } from '../agent/support/daemon-support.ts';
import { registerAgent, statusReport, uuid } from '../state-machine/support/fixtures.ts';
import { startSingleMaster } from '../support/master.ts';

/** The largest item the schema admits: longest ids, and a message JSON escapes as six bytes a character. */
function largestUpdate(number: number): TaskStatusBatchItem {
  const longestId = (start: string) => start.padEnd(maxIdLength, 'x');
  return {
    type: 'update_task_status',
    frameworkId: frameworkId(longestId('f')),
    taskId: taskId(longestId(`t${number}`)),
    agentId: agentId(longestId('a')),
    status: statusReport('TASK_RUNNING', {
      uuid: uuid(number % 250),
      message: '\u0001'.repeat(maxTextLength),
      data: 'A'.repeat(base64Length(maxStatusDataBytes)),
    }),
  };
}

test('batches of the largest items stay within maxCommandBytes; small ones are cut by count', () => {
  const large = Array.from({ length: 200 }, (_, number) => largestUpdate(number));
  const batches = cutBatches(
    large.map((item) => ({ item, bytesMax: itemBytesMax(item) })),
    maxTaskStatusBatchItems,
  );
  assert.ok(batches.length > 1, 'the largest items did not fill a batch');
  for (const batch of batches) {
    const bytes = encodeCommand({ type: 'task_status_batch', at: 0, items: batch.map((each) => each.item) });
    assert.ok(bytes.byteLength <= maxCommandBytes, `a batch of ${batch.length} is ${bytes.byteLength} bytes`);
    assert.ok(decodeCommand(bytes).ok);
  }
  assert.is(batches.flat().length, large.length);
  const small = Array.from({ length: maxTaskStatusBatchItems + 3 }, () => ({ bytesMax: 1 }));
  assert.equal(
    cutBatches(small, maxTaskStatusBatchItems).map((batch) => batch.length),
    [maxTaskStatusBatchItems, 3],
  );
});

test('updates given in one turn are one entry on a real master, each answered with its own result', async () => {
  const cluster = await startSingleMaster();
  try {
    const facade = () => cluster.master.facade;
    const registered = await facade().submit(registerAgent(agentId('batch-agent')));
    assert.ok(registered.result.ok);
    const framework = await subscribeFramework((command) => facade().submit(command), 'batcher');
    const ids = ['one', 'two', 'three'];
    await launchTasks(
      facade,
      framework,
      agentId('batch-agent'),
      ids.map((id) => commandTask(id, 'true')),
    );
    const batcher = new TaskStatusBatcher(facade());
    const update = (id: string, seed: number): TaskStatusBatchItem => ({
      type: 'update_task_status',
      frameworkId: framework,
      taskId: taskId(id),
      agentId: agentId('batch-agent'),
      status: statusReport('TASK_RUNNING', { uuid: uuid(seed) }),
    });
    const answers = await Promise.all([
      batcher.submit(update('one', 1)),
      batcher.submit(update('two', 2)),
      batcher.submit(update('one', 1)),
      batcher.submit(update('missing', 3)),
      batcher.submit({
        type: 'acknowledge_task_status',
        frameworkId: framework,
        taskId: taskId('two'),
        agentId: agentId('batch-agent'),
        uuid: uuid(2),
      }),
    ]);
    assert.is(new Set(answers.map((answer) => answer.index)).size, 1, 'one entry for the turn');
    assert.equal(
      answers.map((answer) => (answer.result.ok ? 'ok' : answer.result.code)),
      ['ok', 'ok', 'DUPLICATE_STATUS_UUID', 'TASK_NOT_FOUND', 'ok'],
    );
    const state = facade().state();
    assert.is(taskOf(state, framework, 'one')?.state, 'TASK_RUNNING');
    assert.is(taskOf(state, framework, 'two')?.statuses.at(-1)?.acknowledged, true);
    assert.is(taskOf(state, framework, 'three')?.state, 'TASK_STAGING');
    // A lone item is its single command, as before batching.
    const lone = await batcher.submit(update('three', 4));
    assert.ok(lone.result.ok && lone.result.items === undefined);
  } finally {
    await cluster.stop();
  }
});

test.run();
