// RaftNode.membersSnapshotFormat: the oldest state snapshot format the other members read, as their
// Raft handshakes named it (x-flotilla-snapshot-format). InstallSnapshot ships a snapshot's bytes as
// they are, so a replica writes format 10 only when every member reads it (snapshot.ts
// snapshotFormatFor): a member of the build before (it names 9) gets format 9, one of an older
// build, which names none, format 8. Two real
// replicas (SQLite, their own transports on real sockets), each state machine choosing its format
// as the master's does (src/master/daemon.ts); one stands in for the older build by naming none.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RaftNode } from '../../src/raft/node.ts';
import { nodeId } from '../../src/raft/types.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import {
  fallbackSnapshotFormat,
  snapshotFormatFor,
  snapshotFormatVersion,
  writtenRowsFormat,
} from '../../src/state-machine/snapshot.ts';
import { createLogger } from '../../src/util/logger.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { testStorageWriter } from './support/process-cluster.ts';

interface Replica {
  readonly node: RaftNode;
  readonly machine: ClusterStateMachine;
  readonly server: http.Server;
}

async function listening(): Promise<http.Server> {
  const server = http.createServer((_request, response) => response.writeHead(404).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Two replicas m1 and m2; `formats` says what snapshot format each names at its handshakes (undefined: none). */
async function pair(formats: readonly [number | undefined, number | undefined]): Promise<Replica[]> {
  const servers = [await listening(), await listening()];
  const peers = Object.fromEntries(
    servers.map((server, position) => [`m${position + 1}`, `127.0.0.1:${(server.address() as AddressInfo).port}`]),
  );
  return servers.map((server, position) => {
    const id = `m${position + 1}`;
    const format = formats[position];
    let node: RaftNode | null = null;
    const machine = new ClusterStateMachine({
      snapshotFormat: () => snapshotFormatFor(node === null ? null : node.membersSnapshotFormat()),
    });
    node = RaftNode.start({
      id: nodeId(id),
      dataDir: makeTempDir(`raft-snapshot-format-${id}-`),
      peers,
      secret: 'a-secret-of-twenty-characters',
      stateMachine: machine,
      logger: createLogger({ node: id, component: 'raft' }, { write: () => undefined }),
      timing: { tickMs: 10, electionTicks: 10, heartbeatTicks: 1 },
      storageWriter: testStorageWriter(),
      ...(format === undefined ? {} : { snapshotFormat: format }),
    });
    const started = node;
    server.on('upgrade', (request, socket, head) => {
      if (!started.handleUpgrade(request, socket, head)) socket.destroy();
    });
    return { node: started, machine, server };
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

function writtenFormat(machine: ClusterStateMachine): number {
  const database = new Database(Buffer.from(machine.snapshot()));
  try {
    const row = database.prepare("SELECT value FROM meta WHERE key = 'format_version'").get() as { value: string };
    return Number(row.value);
  } finally {
    database.close();
  }
}

test('with a member of the build before the header, both write format 8; with one naming 9, both write 9; two new builds write 10', async () => {
  const mixed = await pair([snapshotFormatVersion, undefined]);
  try {
    await waitFor(() => connected(mixed), { timeoutMs: 30_000, what: 'm1 and m2 connected' });
    const [m1, m2] = mixed as [Replica, Replica];
    assert.is(m1.node.membersSnapshotFormat(), null, 'm2 named no format');
    assert.is(writtenFormat(m1.machine), fallbackSnapshotFormat);
    assert.is(m2.node.membersSnapshotFormat(), snapshotFormatVersion);
  } finally {
    await stop(mixed);
  }
  const format9Member = await pair([snapshotFormatVersion, writtenRowsFormat]);
  try {
    await waitFor(() => connected(format9Member), { timeoutMs: 30_000, what: 'm1 and m2 connected' });
    const [m1, m2] = format9Member as [Replica, Replica];
    assert.is(m1.node.membersSnapshotFormat(), writtenRowsFormat, 'm2 reads 9, not 10');
    assert.is(writtenFormat(m1.machine), writtenRowsFormat);
    assert.is(m2.node.membersSnapshotFormat(), snapshotFormatVersion);
  } finally {
    await stop(format9Member);
  }
  const upgraded = await pair([snapshotFormatVersion, snapshotFormatVersion]);
  try {
    await waitFor(() => connected(upgraded), { timeoutMs: 30_000, what: 'm1 and m2 connected' });
    for (const { node, machine } of upgraded) {
      assert.is(node.membersSnapshotFormat(), snapshotFormatVersion);
      assert.is(writtenFormat(machine), snapshotFormatVersion);
    }
  } finally {
    await stop(upgraded);
  }
});

test.run();
