// A replica restarted from its stored snapshot reads it in slices (node.ts beginRestore,
// ClusterStateMachine.prepareRestore): the event loop turns meanwhile, the state machine keeps the
// empty state and applies nothing until the new state is swapped in, in one turn, and a read is
// answered only after that. One real replica (SQLite, its own transport) with the real cluster
// state machine, whose slice budget of 0 makes the reader yield at every step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RaftNode } from '../../src/raft/node.ts';
import { nodeId } from '../../src/raft/types.ts';
import { encodeCommand } from '../../src/state-machine/codec.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { createLogger } from '../../src/util/logger.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { testStorageWriter } from './support/process-cluster.ts';

const keys = 400;

function startReplica(dataDir: string, machine: ClusterStateMachine, snapshotsTaken: number[]): RaftNode {
  return RaftNode.start({
    id: nodeId('m1'),
    dataDir,
    peers: { m1: '127.0.0.1:1' },
    secret: 'a-secret-of-twenty-characters',
    stateMachine: machine,
    logger: createLogger({ node: 'm1', component: 'raft' }, { write: () => undefined }),
    timing: { tickMs: 10, electionTicks: 5, heartbeatTicks: 1 },
    core: { snapshotThresholdEntries: 100, compactionTrailingEntries: 5 },
    storageWriter: testStorageWriter(),
    observer: {
      persisted: () => undefined,
      snapshotTaken: (index) => snapshotsTaken.push(index),
      snapshotInstalled: () => undefined,
    },
  });
}

test('a restart reads the stored snapshot in slices, swaps it in at once, then applies and answers reads', async () => {
  const dataDir = makeTempDir('raft-restore-slices-');
  const first = new ClusterStateMachine();
  const snapshotsTaken: number[] = [];
  const writer = startReplica(dataDir, first, snapshotsTaken);
  try {
    await waitFor(() => writer.status().role === 'leader', { timeoutMs: 30_000, what: 'm1 elected alone' });
    for (let key = 0; key < keys; key++) {
      const command = { type: 'kv_put', namespace: 'bulk', key: `k${key}`, value: `v${key}`, expectedVersion: null };
      await writer.propose(encodeCommand(command as Parameters<typeof encodeCommand>[0]));
    }
    await waitFor(() => snapshotsTaken.length > 0, { timeoutMs: 30_000, what: 'a snapshot taken' });
  } finally {
    await writer.stop({ transferLeadership: false });
  }
  const hashWritten = stateHash(first.state);
  assert.ok(snapshotsTaken[0]! < first.lastAppliedIndex, 'entries follow the snapshot in the log');

  const restarted = new ClusterStateMachine({ snapshotSliceBudgetMs: 0 });
  let turns = 0;
  let counting = true;
  const count = (): void => {
    turns += 1;
    if (counting) setImmediate(count);
  };
  const heard: { type: string; turn: number; kvAtEvent: number }[] = [];
  restarted.subscribe((event) => heard.push({ type: event.type, turn: turns, kvAtEvent: restarted.state.kv.size }));
  const reader = startReplica(dataDir, restarted, []);
  try {
    count();
    assert.is(restarted.state.kv.size, 0, 'nothing restored in the turn the replica started');
    assert.is(reader.status().applied, 0);
    assert.ok(reader.restoringAtStart(), 'a stale read is refused until the swap');
    await waitFor(() => reader.status().role === 'leader', { timeoutMs: 30_000, what: 'm1 elected again' });
    await reader.linearizableBarrier(60_000);
    counting = false;
    assert.not.ok(reader.restoringAtStart());
    assert.is(stateHash(restarted.state), hashWritten, 'the snapshot and the entries after it, applied');
    const restoredEvents = heard.filter((event) => event.type === 'STATE_RESTORED');
    assert.is(restoredEvents.length, 1);
    assert.ok(restoredEvents[0]!.turn >= 10, `the restore gave the loop back (swapped in at turn ${turns})`);
    assert.ok(restoredEvents[0]!.kvAtEvent > 0 && restoredEvents[0]!.kvAtEvent < keys, 'swapped in at the snapshot');
    const firstApply = heard.findIndex((event) => event.type !== 'STATE_RESTORED');
    assert.ok(firstApply === -1 || heard.indexOf(restoredEvents[0]!) < firstApply, 'nothing applied before the swap');
  } finally {
    counting = false;
    await reader.stop({ transferLeadership: false });
  }
});

test.run();
