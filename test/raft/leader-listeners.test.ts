// RaftNode.onLeaderChange is told in the same turn as the core input that changed the role: a
// deposed leader's listeners (the master's leadership lifecycle, which stops its leader services)
// hear of the newer term before any request, timer or apply can run. Were they told at the next
// Ready, a request served in between would find a follower still running the old term's services
// (test/master/leadership-transfer.test.ts saw that once under load).
// One real replica (SQLite, its own transport), elected alone; the newer term arrives as a peer's
// heartbeat handed to the driver's receive path, as the transport hands it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RaftNode } from '../../src/raft/node.ts';
import type { ReplicatedStateMachine } from '../../src/raft/state-machine-host.ts';
import { type CoreStatus, type Message, nodeId } from '../../src/raft/types.ts';
import { createLogger } from '../../src/util/logger.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { testStorageWriter } from './support/process-cluster.ts';

class NullStateMachine implements ReplicatedStateMachine {
  apply(): unknown {
    return null;
  }
  snapshot(): Uint8Array {
    return new Uint8Array();
  }
  restore(): void {}
}

/** The transport's entry into the driver (private: only the transport calls it). */
type Receiving = { receive(messages: readonly Message[]): void };

test('a leader deposed by a newer term tells its leader listeners in the same turn', async () => {
  const m1 = nodeId('m1');
  const node = RaftNode.start({
    id: m1,
    dataDir: makeTempDir('raft-leader-listeners-'),
    peers: { m1: '127.0.0.1:1' },
    secret: 'a-secret-of-twenty-characters',
    stateMachine: new NullStateMachine(),
    logger: createLogger({ node: 'm1', component: 'raft' }, { write: () => undefined }),
    timing: { tickMs: 10, electionTicks: 5, heartbeatTicks: 1 },
    storageWriter: testStorageWriter(),
  });
  try {
    await waitFor(() => node.status().role === 'leader', { timeoutMs: 30_000, what: 'm1 elected alone' });
    const heard: CoreStatus[] = [];
    node.onLeaderChange((status) => heard.push(status));
    const term = node.status().term;
    const heartbeat: Message = {
      type: 'heartbeat',
      from: nodeId('m2'),
      to: m1,
      term: term + 1,
      commit: 0,
      context: '',
      round: 0,
    };
    (node as unknown as Receiving).receive([heartbeat]);
    // No await since: nothing else has run.
    assert.is(node.status().role, 'follower');
    assert.equal(
      heard.map((status) => [status.role, status.term, status.leader]),
      [['follower', term + 1, 'm2']],
      'the listeners heard of the newer term before receive returned',
    );
    // Once: the Ready that follows, a turn later, tells them nothing they have not heard.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const told = heard.filter((status) => status.role === 'follower' && status.term === term + 1).length;
    assert.is(told, 1, JSON.stringify(heard.map((status) => [status.role, status.term, status.leader])));
  } finally {
    await node.stop({ transferLeadership: false });
  }
});

// The master's leadership lifecycle asks for its establish barrier as soon as its listener hears
// of the new term, which is before the Ready that reports the role change is handled. That Ready
// fails the reads forwarded to a former leader; it must not fail the new leader's own read.
test('a ReadIndex barrier asked when the listeners hear of leadership is not failed by the role change', async () => {
  const m1 = nodeId('m1');
  const node = RaftNode.start({
    id: m1,
    dataDir: makeTempDir('raft-leader-listeners-'),
    peers: { m1: '127.0.0.1:1' },
    secret: 'a-secret-of-twenty-characters',
    stateMachine: new NullStateMachine(),
    logger: createLogger({ node: 'm1', component: 'raft' }, { write: () => undefined }),
    timing: { tickMs: 10, electionTicks: 5, heartbeatTicks: 1 },
    storageWriter: testStorageWriter(),
  });
  const outcomes: string[] = [];
  node.onLeaderChange((status) => {
    if (status.role !== 'leader') return;
    node.linearizableBarrier(30_000).then(
      () => outcomes.push('passed'),
      (error: Error & { code?: string }) => outcomes.push(`failed: ${error.code ?? error.message}`),
    );
  });
  try {
    await waitFor(() => outcomes.length > 0, { timeoutMs: 30_000, what: 'the barrier settled' });
    assert.equal(outcomes, ['passed']);
  } finally {
    await node.stop({ transferLeadership: false });
  }
});

test.run();
