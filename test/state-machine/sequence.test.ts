// Randomized command sequences (fast-check; the seed is printed, FLOTILLA_SEED=<n> replays it),
// small history limits among them, so runs prune tasks, frameworks and agents:
//  1. every invariant holds after every apply (the derived indexes equal a full scan), terminal
//     tasks never change unless pruned and only completed ones are, and a rejected command
//     changes nothing (the Harness checks all of it on each command);
//  2. the property of issue 4: restoring a snapshot taken at any point and replaying the rest
//     of the log gives the same results and the same state hash as never snapshotting (so a
//     replica that rebuilt its indexes from a snapshot prunes exactly what the others prune).
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeCommand } from '../../src/state-machine/codec.ts';
import type { ApplyResult } from '../../src/state-machine/errors.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { isTerminalTaskState } from '../../src/protocol/task-states.ts';
import type { Command } from '../../src/state-machine/commands.ts';
import { findsItsExecutor } from '../../src/state-machine/executors.ts';
import { taskKey, type TaskKey } from '../../src/state-machine/ids.ts';
import type { ReadonlyState } from '../../src/state-machine/state.ts';
import { isUnreachableLoss } from '../../src/state-machine/task-predicates.ts';
import { Harness } from './support/fixtures.ts';
import { realize, recipeArbitrary, type Recipe } from './support/generator.ts';
import { propertySeed } from './support/seed.ts';

const seed = propertySeed();
console.log(`sequence.test.ts seed ${seed} (replay: FLOTILLA_SEED=${seed})`);

// Shrinking a long failing sequence can take many minutes; past this bound fast-check stops and
// reports the smallest counterexample found so far (still with the seed that replays it).
const timeBound = { interruptAfterTimeLimit: 60_000 };
/** Runs the coverage test may add when the property runs missed a path (each runs the invariants too). */
const maxExtraCoverageRuns = 300;
const successes = new Map<string, number>();
/** TASK_PRUNED, FRAMEWORK_PRUNED, AGENT_PRUNED: how often random runs pruned history. */
const prunings = new Map<string, number>();
/** Tasks TASK_LOST before a command and live after it (reregister_agent's `restoresLostTasks`, format 11). */
let lostTasksRestored = 0;
/**
 * Lost tasks a re-registration with format 12's 'checked' reported running but kept lost, their
 * executor gone (FLOTILLA_SEED=1350828537 of registration-batch.test.ts: format 11 revived them).
 */
let lostTasksKeptWithoutExecutor = 0;

/** The TASK_LOST tasks `command` reports running with the executor check while their executor is gone. */
function reportedWithoutExecutor(state: ReadonlyState, command: Command): TaskKey[] {
  const items = command.type === 'agent_registration_batch' ? command.items : [command];
  return items.flatMap((item) => {
    if (item.type !== 'reregister_agent' || item.restoresLostTasks !== 'checked') return [];
    return item.tasks.flatMap((reference) => {
      const key = taskKey(reference.frameworkId, reference.taskId);
      const task = state.tasks.get(key);
      if (task?.state !== 'TASK_LOST' || task.agentId !== item.agentId || reference.state !== 'TASK_RUNNING') return [];
      return isUnreachableLoss(task.statuses.at(-1)!) && !findsItsExecutor(state, task) ? [key] : [];
    });
  });
}

function runLog(recipes: readonly Recipe[]): { harness: Harness; log: Uint8Array[]; results: ApplyResult[] } {
  const harness = new Harness();
  const log: Uint8Array[] = [];
  const results: ApplyResult[] = [];
  for (const recipe of recipes) {
    const realized = realize(recipe, harness.state, harness.index + 1);
    const bytes = realized instanceof Uint8Array ? realized : encodeCommand(realized);
    const lost = [...harness.state.tasks].filter(([, task]) => task.state === 'TASK_LOST').map(([key]) => key);
    const withoutExecutor = realized instanceof Uint8Array ? [] : reportedWithoutExecutor(harness.state, realized);
    const result = harness.applyBytes(bytes);
    for (const key of withoutExecutor) {
      assert.is(harness.state.tasks.get(key)?.state, 'TASK_LOST', `${key} revived without its executor`);
      lostTasksKeptWithoutExecutor += 1;
    }
    for (const key of lost) {
      const after = harness.state.tasks.get(key);
      if (after !== undefined && !isTerminalTaskState(after.state)) lostTasksRestored += 1;
    }
    if (result.ok && !(realized instanceof Uint8Array))
      successes.set(realized.type, (successes.get(realized.type) ?? 0) + 1);
    log.push(bytes);
    results.push(result);
  }
  for (const event of harness.events)
    if (event.type.endsWith('_PRUNED')) prunings.set(event.type, (prunings.get(event.type) ?? 0) + 1);
  return { harness, log, results };
}

test('invariants hold after every command of random sequences', () => {
  fc.assert(
    fc.property(fc.array(recipeArbitrary, { minLength: 1, maxLength: 150, size: 'max' }), (recipes) => {
      runLog(recipes);
    }),
    { seed, numRuns: 150, ...timeBound },
  );
});

test('snapshot at any point + replay of the rest = same results and same hash as never snapshotting', () => {
  fc.assert(
    fc.property(
      fc.array(recipeArbitrary, { minLength: 1, maxLength: 120, size: 'max' }),
      fc.nat(),
      (recipes, cutPick) => {
        const { harness, log, results } = runLog(recipes);
        const cut = cutPick % (log.length + 1);
        const prefix = new ClusterStateMachine();
        for (const [position, bytes] of log.slice(0, cut).entries()) prefix.apply(bytes, position + 1);
        const restored = new ClusterStateMachine({ checkInvariants: true });
        restored.restore(prefix.snapshot());
        assert.is(restored.lastAppliedIndex, cut);
        assert.is(stateHash(restored.state), stateHash(prefix.state));
        log.slice(cut).forEach((bytes, position) => {
          assert.equal(restored.apply(bytes, cut + position + 1), results[cut + position]);
        });
        assert.is(stateHash(restored.state), stateHash(harness.state));
      },
    ),
    { seed: seed + 1, numRuns: 100, ...timeBound },
  );
});

test('the generator reaches the success path of the commands that matter', () => {
  const needed = [
    'register_agent',
    'subscribe_framework',
    'create_offers',
    'accept_offers',
    'update_task_status',
    'acknowledge_task_status',
    'task_status_batch',
    'agent_registration_batch',
    'reserve_resources',
    'unreserve_resources',
    'start_maintenance',
    'stop_maintenance',
    'kv_put',
    'kv_delete',
    'mark_agent_gone',
    'reregister_agent',
    'teardown_framework',
    'decline_offers',
    'rescind_offer',
    'kill_task',
    'update_history_limits',
  ];
  const prunedKinds = ['TASK_PRUNED', 'FRAMEWORK_PRUNED', 'AGENT_PRUNED'];
  const missing = (): string[] => [
    ...needed.filter((type) => (successes.get(type) ?? 0) === 0),
    ...prunedKinds.filter((type) => (prunings.get(type) ?? 0) === 0),
    ...(lostTasksRestored === 0 ? ['a lost task restored'] : []),
  ];
  // The 250 runs above reach every path for almost every seed; a rare seed (1283757343) pruned no
  // task in them. More runs from the same seed, until every path is seen or the bound is spent,
  // keep this a statement about the generator rather than about one seed's luck.
  const extraRuns = fc.sample(fc.array(recipeArbitrary, { minLength: 1, maxLength: 150, size: 'max' }), {
    seed: seed + 2,
    numRuns: maxExtraCoverageRuns,
  });
  let extraRunsUsed = 0;
  for (const recipes of extraRuns) {
    if (missing().length === 0) break;
    runLog(recipes);
    extraRunsUsed += 1;
  }
  console.log(`extra runs for coverage: ${extraRunsUsed}`);
  console.log(`successes: ${JSON.stringify(Object.fromEntries([...successes].sort()))}`);
  for (const type of needed) assert.ok((successes.get(type) ?? 0) > 0, `no successful ${type} in any run`);
  console.log(`prunings: ${JSON.stringify(Object.fromEntries([...prunings].sort()))}`);
  for (const type of prunedKinds) assert.ok((prunings.get(type) ?? 0) > 0, `no ${type} in any run`);
  console.log(`lost tasks restored by a re-registration: ${lostTasksRestored}`);
  assert.ok(lostTasksRestored > 0, 'no re-registration restored a lost task (restoresLostTasks, format 11)');
  console.log(`lost tasks reported running, kept lost without their executor: ${lostTasksKeptWithoutExecutor}`);
});

test.run();
