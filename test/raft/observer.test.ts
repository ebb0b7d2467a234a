// RaftNodeOptions.observer: the write path's timings for the metrics layer (src/raft/observer.ts).
// One real replica (SQLite on disk, its own transport), elected alone: proposals cost a durable
// write reported with its entries, and each is reported applied with its latency.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RaftNode } from '../../src/raft/node.ts';
import type { ReplicatedStateMachine } from '../../src/raft/state-machine-host.ts';
import { nodeId } from '../../src/raft/types.ts';
import { createLogger } from '../../src/util/logger.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { testStorageWriter } from './support/process-cluster.ts';

class CountingStateMachine implements ReplicatedStateMachine {
  applied = 0;
  apply(): unknown {
    return ++this.applied;
  }
  snapshot(): Uint8Array {
    return Buffer.from(String(this.applied));
  }
  restore(data: Uint8Array): void {
    this.applied = Number(Buffer.from(data).toString('utf8'));
  }
}

interface Persisted {
  readonly durationMs: number;
  readonly entries: number;
  readonly durable: boolean;
}

test('the observer sees each durable write with its entries and each local proposal applied', async () => {
  const persisted: Persisted[] = [];
  const applied: { index: number; latencyMs: number }[] = [];
  let watching = false;
  const node = RaftNode.start({
    id: nodeId('m1'),
    dataDir: makeTempDir('raft-observer-'),
    peers: { m1: '127.0.0.1:1' },
    secret: 'a-secret-of-twenty-characters',
    stateMachine: new CountingStateMachine(),
    logger: createLogger({ node: 'm1', component: 'raft' }, { write: () => undefined }),
    timing: { tickMs: 10, electionTicks: 5, heartbeatTicks: 1 },
    storageWriter: testStorageWriter(),
    observer: {
      persisted: (durationMs, entries, durable) => {
        if (watching) persisted.push({ durationMs, entries, durable });
      },
      snapshotTaken: () => undefined,
      snapshotInstalled: () => undefined,
      proposalApplied: (index, latencyMs) => {
        if (watching) applied.push({ index, latencyMs });
      },
    },
  });
  try {
    // Its no-op is written by the writer thread after the election: wait until it is applied.
    const settled = (): boolean => {
      const status = node.status();
      return status.role === 'leader' && status.applied === status.lastIndex;
    };
    await waitFor(settled, { timeoutMs: 30_000, what: 'm1 elected alone, its no-op applied' });
    watching = true;
    const answers = await Promise.all(['a', 'b', 'c'].map((text) => node.propose(Buffer.from(text))));
    assert.equal(
      applied.map((observation) => observation.index),
      answers.map((answer) => answer.index),
    );
    for (const observation of applied) assert.ok(observation.latencyMs >= 0, JSON.stringify(observation));
    // Proposed in one event-loop turn, the three share one append and one fsync (group commit);
    // the commit that follows writes nothing, so it is not reported.
    assert.equal(
      persisted.map((observation) => [observation.entries, observation.durable]),
      [[3, true]],
      JSON.stringify(persisted),
    );
    assert.ok(persisted[0]!.durationMs >= 0, JSON.stringify(persisted));
  } finally {
    await node.stop({ transferLeadership: false });
  }
});

test.run();
