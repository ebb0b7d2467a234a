// task_status_batch (issue 12): a batch applies exactly as its items one after another as single
// commands at the same index. Random states come from the command generator (the seed is printed,
// FLOTILLA_SEED=<n> replays it); each batch item is realized against the state its single command
// would meet, so batches hold acknowledgements of updates recorded earlier in the same batch,
// repeated uuids, updates after a terminal one, and completions that prune history.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { apply } from '../../src/state-machine/apply.ts';
import { decodeCommand, encodeCommand } from '../../src/state-machine/codec.ts';
import type { Command, TaskStatusBatchItem } from '../../src/state-machine/commands.ts';
import type { ApplyResult } from '../../src/state-machine/errors.ts';
import type { ChangeEvent } from '../../src/state-machine/events.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { checkInvariants } from '../../src/state-machine/invariants.ts';
import { maxTaskStatusBatchItems } from '../../src/state-machine/limits.ts';
import { readSnapshot, writeSnapshot } from '../../src/state-machine/snapshot.ts';
import type { State } from '../../src/state-machine/state.ts';
import { A1, baseTime, F1, Harness, runningTaskSetup, statusReport, T1, uuid } from './support/fixtures.ts';
import { realizeStatusItem, realize, recipeArbitrary, type Recipe } from './support/generator.ts';
import { propertySeed } from './support/seed.ts';

const seed = propertySeed();
console.log(`batch.test.ts seed ${seed} (replay: FLOTILLA_SEED=${seed})`);

function copyOf(state: State, index: number): State {
  return readSnapshot(writeSnapshot(state, index)).state;
}

/** A state after `recipes` (a harness checks every invariant on the way), and its applied index. */
function stateAfter(recipes: readonly Recipe[]): { state: State; index: number } {
  const harness = new Harness();
  for (const recipe of recipes) {
    const realized = realize(recipe, harness.state, harness.index + 1);
    harness.applyBytes(realized instanceof Uint8Array ? realized : encodeCommand(realized));
  }
  return { state: copyOf(harness.state as State, harness.index), index: harness.index };
}

const update = (status: ReturnType<typeof statusReport>): TaskStatusBatchItem => ({
  type: 'update_task_status',
  frameworkId: F1,
  taskId: T1,
  agentId: A1,
  status,
});
const acknowledge = (seedNumber: number): TaskStatusBatchItem => ({
  type: 'acknowledge_task_status',
  frameworkId: F1,
  taskId: T1,
  agentId: A1,
  uuid: uuid(seedNumber),
});

test('a batch answers each item as its single command would, in order', () => {
  const harness = new Harness(runningTaskSetup());
  const result = harness.run({
    type: 'task_status_batch',
    at: baseTime,
    items: [
      update(statusReport('TASK_RUNNING', { uuid: uuid(1) })),
      update(statusReport('TASK_RUNNING', { uuid: uuid(1) })),
      acknowledge(1),
      acknowledge(1),
      update(statusReport('TASK_FINISHED', { uuid: uuid(2) })),
      update(statusReport('TASK_FAILED', { uuid: uuid(3) })),
      acknowledge(9),
    ],
  });
  assert.ok(result.ok);
  assert.equal(
    result.items?.map((item) => (item.ok ? 'ok' : item.code)),
    [
      'ok',
      'DUPLICATE_STATUS_UUID',
      'ok',
      'STATUS_ALREADY_ACKNOWLEDGED',
      'ok',
      'TASK_TERMINAL',
      'STATUS_UUID_NOT_FOUND',
    ],
  );
  assert.is(harness.state.tasks.get(`${F1}/${T1}` as never)?.state, 'TASK_FINISHED');
});

test('the codec refuses an empty batch, one too long, and an item of another command type', () => {
  const envelope = (items: unknown[]) =>
    new TextEncoder().encode(
      JSON.stringify({ version: 8, command: { type: 'task_status_batch', at: baseTime, items } }),
    );
  const tooMany = Array.from({ length: maxTaskStatusBatchItems + 1 }, () => acknowledge(1));
  for (const items of [[], tooMany, [{ type: 'kill_task', frameworkId: F1, taskId: T1 }]]) {
    const decoded = decodeCommand(envelope(items));
    assert.is(decoded.ok ? 'ok' : decoded.code, 'MALFORMED_COMMAND');
  }
  assert.ok(decodeCommand(envelope([acknowledge(1)])).ok);
});

test('a batch leaves the same state, results and events as its items one by one at the same index', () => {
  let batches = 0;
  let rejectedItems = 0;
  fc.assert(
    fc.property(
      fc.array(recipeArbitrary, { minLength: 1, maxLength: 80, size: 'max' }),
      fc.array(fc.array(fc.nat({ max: 1_000_000 }), { minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 12 }),
      (recipes, itemPicks) => {
        const { state, index } = stateAfter(recipes);
        const batchIndex = index + 1;
        const one = copyOf(state, index);
        const oneEvents: ChangeEvent[] = [];
        const items: TaskStatusBatchItem[] = [];
        const singleResults: ApplyResult[] = [];
        for (const picks of itemPicks) {
          const item = realizeStatusItem(picks, one, batchIndex);
          items.push(item);
          const single: Command = { ...item, at: baseTime + batchIndex };
          // Through the codec, as a log entry would reach apply.
          const decoded = decodeCommand(encodeCommand(single));
          assert.ok(decoded.ok);
          singleResults.push(apply(one, decoded.command, batchIndex, oneEvents));
        }
        const batched = copyOf(state, index);
        const batchEvents: ChangeEvent[] = [];
        const decoded = decodeCommand(encodeCommand({ type: 'task_status_batch', at: baseTime + batchIndex, items }));
        assert.ok(decoded.ok);
        const result = apply(batched, decoded.command, batchIndex, batchEvents);
        checkInvariants(batched);
        assert.ok(result.ok);
        assert.equal(result.items, singleResults);
        assert.is(stateHash(batched), stateHash(one));
        assert.equal(batchEvents, oneEvents);
        batches += 1;
        rejectedItems += singleResults.filter((each) => !each.ok).length;
      },
    ),
    { seed, numRuns: 150 },
  );
  console.log(`batches compared: ${batches}, items rejected in them: ${rejectedItems}`);
  assert.ok(rejectedItems > 0, 'the random batches held no rejected item');
});

test.run();
