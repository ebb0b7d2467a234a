// RaftNode.observe: the write path's timings for the metrics layer (src/raft/observer.ts). One
// real replica (SQLite on disk, its own transport), elected alone: every proposal costs a
// durable write reported with its entries, and is reported applied with its latency; an
// unsubscribed observer hears nothing more.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RaftNode } from '../../src/raft/node.ts';
import type { PersistObservation, ProposalObservation } from '../../src/raft/observer.ts';
import type { ReplicatedStateMachine } from '../../src/raft/state-machine-host.ts';
import { nodeId } from '../../src/raft/types.ts';
import { createLogger } from '../../src/util/logger.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

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

test('observers see each durable write and each local proposal applied, until they unsubscribe', async () => {
  const node = RaftNode.start({
    id: nodeId('m1'),
    dataDir: makeTempDir('raft-observer-'),
    peers: { m1: '127.0.0.1:1' },
    secret: 'a-secret-of-twenty-characters',
    stateMachine: new CountingStateMachine(),
    logger: createLogger({ node: 'm1', component: 'raft' }, { write: () => undefined }),
    timing: { tickMs: 10, electionTicks: 5, heartbeatTicks: 1 },
  });
  try {
    await waitFor(() => node.status().role === 'leader', { timeoutMs: 30_000, what: 'm1 elected alone' });
    const persisted: PersistObservation[] = [];
    const applied: ProposalObservation[] = [];
    const unsubscribe = node.observe({
      persisted: (observation) => persisted.push(observation),
      proposalApplied: (observation) => applied.push(observation),
    });
    const answers = await Promise.all(['a', 'b', 'c'].map((text) => node.propose(Buffer.from(text))));
    assert.equal(
      applied.map((observation) => observation.index),
      answers.map((answer) => answer.index),
    );
    for (const observation of applied) assert.ok(observation.latencyMs >= 0, JSON.stringify(observation));
    // Proposed in one event-loop turn, the three share one append and one fsync (group commit).
    assert.equal(
      persisted.map((observation) => observation.entries),
      [3],
      JSON.stringify(persisted),
    );
    for (const observation of persisted) assert.ok(observation.durationMs >= 0, JSON.stringify(observation));
    unsubscribe();
    await node.propose(Buffer.from('d'));
    assert.is(applied.length, 3, 'no report after unsubscribing');
  } finally {
    await node.stop({ transferLeadership: false });
  }
});

test.run();
