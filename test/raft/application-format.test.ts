// RaftNode.membersApplicationFormat: the oldest state machine command format the other members
// read, as their Raft handshakes named it. The master writes a newer format's rule into entries
// only when every member reads it (src/master/scheduler/acknowledgement-rule.ts), so a member of
// an older build, which names none, must hold it back: one of two real replicas (SQLite, their
// own transports on real sockets) stands in for that build by naming no format.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lostTaskReturnRule } from '../../src/master/lost-task-return-rule.ts';
import { terminalAcknowledgementAgreed } from '../../src/master/scheduler/acknowledgement-rule.ts';
import { RaftNode } from '../../src/raft/node.ts';
import type { ReplicatedStateMachine } from '../../src/raft/state-machine-host.ts';
import { nodeId } from '../../src/raft/types.ts';
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

interface Replica {
  readonly node: RaftNode;
  readonly server: http.Server;
}

async function listening(): Promise<http.Server> {
  const server = http.createServer((_request, response) => response.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Two replicas m1 and m2; `formats` says what each names at its handshakes (undefined: none). */
async function pair(formats: readonly [number | undefined, number | undefined]): Promise<Replica[]> {
  const servers = [await listening(), await listening()];
  const peers = Object.fromEntries(
    servers.map((server, position) => [`m${position + 1}`, `127.0.0.1:${(server.address() as AddressInfo).port}`]),
  );
  return servers.map((server, position) => {
    const id = `m${position + 1}`;
    const format = formats[position];
    const node = RaftNode.start({
      id: nodeId(id),
      dataDir: makeTempDir(`raft-application-format-${id}-`),
      peers,
      secret: 'a-secret-of-twenty-characters',
      stateMachine: new NullStateMachine(),
      logger: createLogger({ node: id, component: 'raft' }, { write: () => undefined }),
      timing: { tickMs: 10, electionTicks: 10, heartbeatTicks: 1 },
      storageWriter: testStorageWriter(),
      ...(format === undefined ? {} : { applicationFormat: format }),
    });
    server.on('upgrade', (request, socket, head) => {
      if (!node.handleUpgrade(request, socket, head)) socket.destroy();
    });
    return { node, server };
  });
}

async function stop(replicas: readonly Replica[]): Promise<void> {
  for (const { node, server } of replicas) {
    await node.stop({ transferLeadership: false });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const connected = (replicas: readonly Replica[]): boolean =>
  replicas.every(({ node }) => Object.values(node.transportStats().peers).every((peer) => peer.connected));

test('a member of the build before the header holds the newer rule back; two new builds agree', async () => {
  const mixed = await pair([10, undefined]);
  try {
    await waitFor(() => connected(mixed), { timeoutMs: 30_000, what: 'm1 and m2 connected' });
    const [m1, m2] = mixed as [Replica, Replica];
    assert.is(m1.node.membersApplicationFormat(), null, 'm2 named no format');
    assert.not.ok(terminalAcknowledgementAgreed(m1.node.membersApplicationFormat()));
    assert.is(m2.node.membersApplicationFormat(), 10);
  } finally {
    await stop(mixed);
  }
  const upgraded = await pair([10, 11]);
  try {
    await waitFor(() => connected(upgraded), { timeoutMs: 30_000, what: 'm1 and m2 connected' });
    const [m1, m2] = upgraded as [Replica, Replica];
    assert.is(m1.node.membersApplicationFormat(), 11);
    assert.is(m2.node.membersApplicationFormat(), 10);
    assert.ok(terminalAcknowledgementAgreed(m1.node.membersApplicationFormat()));
  } finally {
    await stop(upgraded);
  }
});

test("a member of format 10 holds format 11's return of lost tasks back, but not format 10's rule", async () => {
  const mixed = await pair([11, 10]);
  try {
    await waitFor(() => connected(mixed), { timeoutMs: 30_000, what: 'm1 and m2 connected' });
    const [m1] = mixed as [Replica, Replica];
    assert.is(m1.node.membersApplicationFormat(), 10);
    assert.is(lostTaskReturnRule(m1.node.membersApplicationFormat()), undefined, 'm2 would keep the tasks lost');
    assert.ok(terminalAcknowledgementAgreed(m1.node.membersApplicationFormat()));
  } finally {
    await stop(mixed);
  }
  const upgraded = await pair([11, 11]);
  try {
    await waitFor(() => connected(upgraded), { timeoutMs: 30_000, what: 'm1 and m2 connected' });
    const [m1] = upgraded as [Replica, Replica];
    assert.is(lostTaskReturnRule(m1.node.membersApplicationFormat()), true);
  } finally {
    await stop(upgraded);
  }
});

test("a member of format 11 keeps the leader writing format 11's return of lost tasks, not format 12's checked one", async () => {
  const mixed = await pair([12, 11]);
  try {
    await waitFor(() => connected(mixed), { timeoutMs: 30_000, what: 'm1 and m2 connected' });
    const [m1] = mixed as [Replica, Replica];
    assert.is(m1.node.membersApplicationFormat(), 11);
    assert.is(lostTaskReturnRule(m1.node.membersApplicationFormat()), true, 'm2 cannot read format 12');
  } finally {
    await stop(mixed);
  }
  const upgraded = await pair([12, 12]);
  try {
    await waitFor(() => connected(upgraded), { timeoutMs: 30_000, what: 'm1 and m2 connected' });
    const [m1] = upgraded as [Replica, Replica];
    assert.is(lostTaskReturnRule(m1.node.membersApplicationFormat()), 'checked');
  } finally {
    await stop(upgraded);
  }
});

test.run();
