// A proposal that arrives while a batch is being written reaches the core only after the turn
// that answers that batch (node.ts process()): the answers of a turn are written by promise
// reactions once the turn ends, and the inline writer's fsync of the next batch must not come
// before them (issue 19: at 16 and 256 clients every answer waited for the next batch's fsync).
// One real replica (SQLite, its own transport), elected alone; the second proposal is made from
// the observer's callback for the first one's write, that is inside the turn that writes,
// commits, applies and answers the first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RaftNode, type Proposed } from '../../src/raft/node.ts';
import type { ReplicatedStateMachine } from '../../src/raft/state-machine-host.ts';
import { nodeId } from '../../src/raft/types.ts';
import { createLogger } from '../../src/util/logger.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { testStorageWriter } from './support/process-cluster.ts';

class EchoStateMachine implements ReplicatedStateMachine {
  apply(command: Uint8Array): unknown {
    return Buffer.from(command).toString('utf8');
  }
  snapshot(): Uint8Array {
    return new Uint8Array(0);
  }
  restore(): void {}
}

test("a proposal made while a batch is written is written after that batch's answers", async () => {
  let writesWithEntries = 0;
  let onWrite: (() => void) | null = null;
  const node = RaftNode.start({
    id: nodeId('m1'),
    dataDir: makeTempDir('raft-answers-first-'),
    peers: { m1: '127.0.0.1:1' },
    secret: 'a-secret-of-twenty-characters',
    stateMachine: new EchoStateMachine(),
    logger: createLogger({ node: 'm1', component: 'raft' }, { write: () => undefined }),
    timing: { tickMs: 10, electionTicks: 5, heartbeatTicks: 1 },
    storageWriter: testStorageWriter(),
    observer: {
      persisted: (_durationMs, entries) => {
        if (entries === 0) return;
        writesWithEntries += 1;
        const callback = onWrite;
        onWrite = null;
        callback?.();
      },
      snapshotTaken: () => undefined,
      snapshotInstalled: () => undefined,
    },
  });
  try {
    await waitFor(() => node.status().role === 'leader' && node.status().applied >= 1, {
      timeoutMs: 30_000,
      what: 'm1 elected alone, its no-op applied',
    });
    let second: Promise<Proposed> | null = null;
    onWrite = () => {
      second = node.propose(Buffer.from('second'));
    };
    const writesBefore = writesWithEntries;
    const first = await node
      .propose(Buffer.from('first'))
      .then((answer) => ({ answer, writesAtAnswer: writesWithEntries }));
    assert.is(first.answer.result, 'first');
    assert.ok(second !== null, 'the second proposal was made during the first one’s write');
    assert.is(first.writesAtAnswer, writesBefore + 1, 'the second proposal was written before the first was answered');
    const secondAnswer = await (second as unknown as Promise<Proposed>);
    assert.is(secondAnswer.result, 'second');
    assert.is(secondAnswer.index, first.answer.index + 1);
    assert.is(writesWithEntries, writesBefore + 2);
  } finally {
    await node.stop({ transferLeadership: false });
  }
});

test.run();
