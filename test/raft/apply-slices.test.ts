// The driver applies committed entries in time-bounded slices (node.ts applySlice), yielding to the
// event loop between them. One real replica (SQLite, its own transport), elected alone, with a
// state machine whose every apply spins for `applySpinMs`: 60 entries proposed in one turn commit
// in one Ready, and must still apply across many turns, in order, with every proposal answered
// only once its entry is applied, a read answered only once the state machine reached its index,
// the status reporting the state machine's applied index, and the snapshot taken at an applied index.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applySliceBudgetMs } from '../../src/raft/limits.ts';
import { RaftNode } from '../../src/raft/node.ts';
import type { ReplicatedStateMachine } from '../../src/raft/state-machine-host.ts';
import { nodeId } from '../../src/raft/types.ts';
import { createLogger } from '../../src/util/logger.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { testStorageWriter } from './support/process-cluster.ts';

/** Each apply spins this long at least: a slice of `applySliceBudgetMs` holds a few entries at most. */
const applySpinMs = 2;
const proposalCount = 60;

class SlowStateMachine implements ReplicatedStateMachine {
  /** The indexes applied, in order, and the event-loop turn each was applied in. */
  readonly indexes: number[] = [];
  readonly turns: number[] = [];
  /** What the node reported as applied during each apply (the entry before it). */
  readonly reportedDuringApply: number[] = [];
  /** The node's applied index and the machine's last index when each snapshot was captured. */
  readonly snapshotsCaptured: { reported: number; machine: number }[] = [];
  turn = 0;
  node: RaftNode | null = null;

  apply(_command: Uint8Array, index: number): unknown {
    const startedMs = performance.now();
    while (performance.now() - startedMs < applySpinMs) {
      // spinning: an apply that costs CPU time, as a big ACCEPT does
    }
    this.indexes.push(index);
    this.turns.push(this.turn);
    this.reportedDuringApply.push(this.node?.status().applied ?? -1);
    return index;
  }
  snapshot(): Uint8Array {
    const machine = this.indexes[this.indexes.length - 1] ?? 0;
    this.snapshotsCaptured.push({ reported: this.node?.status().applied ?? -1, machine });
    return Buffer.from(String(machine));
  }
  restore(): void {}
}

test('committed entries apply in slices across turns, in order, answering proposals and reads as applied', async () => {
  const machine = new SlowStateMachine();
  const snapshotsTaken: number[] = [];
  const node = RaftNode.start({
    id: nodeId('m1'),
    dataDir: makeTempDir('raft-apply-slices-'),
    peers: { m1: '127.0.0.1:1' },
    secret: 'a-secret-of-twenty-characters',
    stateMachine: machine,
    logger: createLogger({ node: 'm1', component: 'raft' }, { write: () => undefined }),
    timing: { tickMs: 10, electionTicks: 5, heartbeatTicks: 1 },
    core: { snapshotThresholdEntries: 25, compactionTrailingEntries: 5 },
    storageWriter: testStorageWriter(),
    observer: {
      persisted: () => undefined,
      snapshotTaken: (index) => snapshotsTaken.push(index),
      snapshotInstalled: () => undefined,
    },
  });
  machine.node = node;
  let turning = true;
  const countTurns = (): void => {
    machine.turn += 1;
    if (turning) setImmediate(countTurns);
  };
  try {
    await waitFor(() => node.status().role === 'leader', { timeoutMs: 30_000, what: 'm1 elected alone' });
    countTurns();
    const answeredWhenApplied: boolean[] = [];
    const proposals = Array.from({ length: proposalCount }, (_, ordinal) =>
      node.propose(Buffer.from(String(ordinal))).then((answer) => {
        answeredWhenApplied.push(machine.indexes.includes(answer.index) && node.status().applied >= answer.index);
        return answer;
      }),
    );
    // Once the first is answered, all 60 are committed but most not applied: a read made now
    // has the commit index as its read index, and must wait for the state machine to reach it.
    await proposals[0];
    const atRead = node.status();
    assert.ok(atRead.applied < atRead.commit, `applied ${atRead.applied} of ${atRead.commit} when the read began`);
    const read = node.linearizableBarrier(60_000).then(() => node.status().applied);
    const answers = await Promise.all(proposals);
    const appliedAtRead = await read;
    // Proposals reach the core in the turn after propose() (node.ts process()): their last index is the answer's.
    const lastIndex = answers[answers.length - 1]!.index;

    assert.equal(
      answers.map((answer) => answer.result),
      answers.map((answer) => answer.index),
    );
    assert.equal(
      machine.indexes.slice(-proposalCount),
      Array.from({ length: proposalCount }, (_, i) => lastIndex - proposalCount + 1 + i),
    );
    assert.ok(answeredWhenApplied.every(Boolean), 'a proposal was answered before its entry was applied');
    assert.ok(
      appliedAtRead >= atRead.commit,
      `the read was answered at applied ${appliedAtRead}, before ${atRead.commit}`,
    );
    // The core counts an entry applied when it hands it out; the status tells the state machine's index.
    for (const [position, index] of machine.indexes.entries()) {
      assert.ok(machine.reportedDuringApply[position]! < index, `status applied ahead of the machine at ${index}`);
    }
    const turns = new Set(machine.turns.slice(-proposalCount));
    const entriesPerSliceMax = Math.ceil(applySliceBudgetMs / applySpinMs);
    assert.ok(
      turns.size >= Math.floor(proposalCount / entriesPerSliceMax),
      `${proposalCount} applies of ${applySpinMs} ms ran in ${turns.size} event-loop turns`,
    );
    await waitFor(() => snapshotsTaken.length > 0, { timeoutMs: 30_000, what: 'a snapshot taken' });
    for (const captured of machine.snapshotsCaptured) assert.equal(captured.reported, captured.machine);
    assert.equal(snapshotsTaken[0], machine.snapshotsCaptured[0]!.reported);
  } finally {
    turning = false;
    await node.stop({ transferLeadership: false });
  }
});

test.run();
