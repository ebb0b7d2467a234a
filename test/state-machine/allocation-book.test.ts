// The allocation book (src/state-machine/allocation-book.ts) is kept up to date as commands apply,
// so the allocator no longer recomputes it every cycle. Here, after every command of seeded random
// sequences (fast-check; the seed is printed, FLOTILLA_SEED=<n> replays it), it must equal a full
// recomputation from the maps written out independently below (live tasks, executors and offers
// per role and framework; ACTIVE agents' totals; agent order), and each agent's cached free
// resources must equal its total less used less offered. The metrics' task counts per state, also
// kept as commands apply, must equal a count over every task. And a book rebuilt from a snapshot
// of the state (what a restored replica's allocator reads) must equal the one kept.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freeResources } from '../../src/state-machine/agent-accounting.ts';
import { AllocationBook } from '../../src/state-machine/allocation-book.ts';
import { maxAgentJournalLength } from '../../src/state-machine/limits.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { encodeCommand } from '../../src/state-machine/codec.ts';
import { countByState } from '../../src/state-machine/queries.ts';
import { compareStrings } from '../../src/state-machine/ordering.ts';
import { addQuantities } from '../../src/state-machine/quantities.ts';
import { subtract, type Resources } from '../../src/state-machine/resources.ts';
import type { ReadonlyState } from '../../src/state-machine/state.ts';
import { isTerminalTaskState } from '../../src/protocol/task-states.ts';
import { A1, A2, Harness, registerAgent } from './support/fixtures.ts';
import { realize, recipeArbitrary } from './support/generator.ts';
import { propertySeed } from './support/seed.ts';

const seed = propertySeed();
console.log(`allocation-book.test.ts seed ${seed} (replay: FLOTILLA_SEED=${seed})`);

type Table = Record<string, Record<string, number>>;

/** Quantities as sorted plain records, so two books compare with deepEqual. */
function record(quantities: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...quantities].sort(([left], [right]) => compareStrings(left, right)));
}

function recomputed(state: ReadonlyState): { held: Table; unreserved: Table; totals: Record<string, number> } {
  const held = new Map<string, Map<string, number>>();
  const unreserved = new Map<string, Map<string, number>>();
  const charge = (role: string, frameworkId: string, resources: Resources): void => {
    const key = `${role} ${frameworkId}`;
    if (!held.has(key)) held.set(key, new Map());
    addQuantities(held.get(key)!, resources);
    if (!unreserved.has(role)) unreserved.set(role, new Map());
    addQuantities(unreserved.get(role)!, resources, 1, 'unreserved');
  };
  for (const task of state.tasks.values())
    if (!isTerminalTaskState(task.state)) charge(task.role, task.frameworkId, task.resources);
  for (const executor of state.executors.values()) charge(executor.role, executor.frameworkId, executor.info.resources);
  for (const offer of state.offers.values()) charge(offer.role, offer.frameworkId, offer.resources);
  const totals = new Map<string, number>();
  for (const agent of state.agents.values()) if (agent.state === 'ACTIVE') addQuantities(totals, agent.resources);
  const table = (map: Map<string, Map<string, number>>): Table =>
    Object.fromEntries(
      [...map]
        .filter(([, quantities]) => quantities.size > 0)
        .sort(([left], [right]) => compareStrings(left, right))
        .map(([key, quantities]) => [key, record(quantities)]),
    );
  return { held: table(held), unreserved: table(unreserved), totals: record(totals) };
}

function kept(state: ReadonlyState): { held: Table; unreserved: Table; totals: Record<string, number> } {
  const book = state.derived.allocation;
  const held: Table = {};
  for (const [role, byFramework] of book.heldByRole)
    for (const [frameworkId, quantities] of byFramework) held[`${role} ${frameworkId}`] = record(quantities);
  const unreserved: Table = {};
  for (const [role, quantities] of book.unreservedHeldByRole) unreserved[role] = record(quantities);
  const sorted = (table: Table): Table =>
    Object.fromEntries(Object.entries(table).sort(([left], [right]) => compareStrings(left, right)));
  return { held: sorted(held), unreserved: sorted(unreserved), totals: record(book.activeTotals) };
}

test('the allocation book and task counts equal a full recomputation after every command of random sequences', () => {
  let commands = 0;
  let withHoldings = 0;
  fc.assert(
    fc.property(fc.array(recipeArbitrary, { minLength: 1, maxLength: 120, size: 'max' }), (recipes) => {
      const harness = new Harness();
      for (const recipe of recipes) {
        const realized = realize(recipe, harness.state, harness.index + 1);
        harness.applyBytes(realized instanceof Uint8Array ? realized : encodeCommand(realized));
        const state = harness.state;
        const expected = recomputed(state);
        assert.equal(kept(state), expected);
        const ids = [...state.agents.keys()].sort(compareStrings);
        assert.equal([...state.derived.allocation.sortedAgentIds()], ids);
        for (const agent of state.agents.values())
          assert.equal(freeResources(agent), subtract(subtract(agent.resources, agent.used), agent.offered));
        const scannedCounts: Record<string, number> = {};
        for (const task of state.tasks.values()) scannedCounts[task.state] = (scannedCounts[task.state] ?? 0) + 1;
        assert.equal(countByState(state).tasks, scannedCounts);
        commands += 1;
        if (Object.keys(expected.held).length > 0) withHoldings += 1;
      }
    }),
    { seed, numRuns: 100, interruptAfterTimeLimit: 60_000 },
  );
  console.log(`  ${commands} commands checked, ${withHoldings} of them with resources held`);
  // The comparison means something only if many of the states compared held resources.
  assert.ok(withHoldings >= 50, `only ${withHoldings} of ${commands} states held resources`);
});

test('the allocation book rebuilt from a snapshot equals the one kept as commands applied, after every command', () => {
  // A replica that restored a snapshot rebuilds its book from the maps (derived-indexes.ts); one
  // that applied the log kept it command by command. The allocator of either must see the same.
  let commands = 0;
  let withHoldings = 0;
  fc.assert(
    fc.property(fc.array(recipeArbitrary, { minLength: 1, maxLength: 80, size: 'max' }), (recipes) => {
      const harness = new Harness();
      for (const recipe of recipes) {
        const realized = realize(recipe, harness.state, harness.index + 1);
        harness.applyBytes(realized instanceof Uint8Array ? realized : encodeCommand(realized));
        const restored = new ClusterStateMachine();
        restored.restore(harness.machine.snapshot());
        const book = kept(harness.state);
        assert.equal(kept(restored.state), book);
        assert.equal(book, recomputed(restored.state));
        assert.equal(
          [...restored.state.derived.allocation.sortedAgentIds()],
          [...harness.state.derived.allocation.sortedAgentIds()],
        );
        commands += 1;
        if (Object.keys(book.held).length > 0) withHoldings += 1;
      }
    }),
    { seed: seed + 1, numRuns: 40, interruptAfterTimeLimit: 60_000 },
  );
  console.log(`  ${commands} snapshot round-trips checked, ${withHoldings} of them with resources held`);
  assert.ok(withHoldings >= 50, `only ${withHoldings} of ${commands} states held resources`);
});

test('the agent journal lists the agents written since a position, and no longer reaches back once emptied', () => {
  const harness = new Harness([registerAgent(A1), registerAgent(A2)]);
  const first = harness.state.agents.get(A1)!;
  const second = harness.state.agents.get(A2)!;
  const book = new AllocationBook();
  book.noteAgent(undefined, first);
  const afterFirst = book.agentJournalPosition;
  book.noteAgent(undefined, second);
  book.noteAgent(first, first);
  assert.equal(book.agentsWrittenSince(0), [A1, A2, A1]);
  assert.equal(book.agentsWrittenSince(afterFirst), [A2, A1]);
  assert.equal(book.agentsWrittenSince(book.agentJournalPosition), []);
  // Full: emptied, so a reader that far behind is told to look at every agent (null).
  for (let write = 3; write < maxAgentJournalLength; write += 1) book.noteAgent(first, first);
  const beforeEmptied = book.agentJournalPosition;
  book.noteAgent(second, second);
  assert.is(book.agentsWrittenSince(afterFirst), null);
  assert.is(book.agentsWrittenSince(beforeEmptied - 1), null);
  assert.equal(book.agentsWrittenSince(beforeEmptied), [A2]);
});

test.run();
