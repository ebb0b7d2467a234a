// The peer transport on real sockets: each replica gets its own http.Server on 127.0.0.1 port 0,
// the way a master serves HTTP, peers and agents on one port. Nothing here sleeps for a fixed
// time: tests wait on conditions with a bounded poll (waitFor), so they are as fast as the
// sockets and fail with a description instead of hanging.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import WebSocket from 'ws';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { backoffDelayMs } from '../../src/util/backoff.ts';
import { entryChecksum } from '../../src/raft/checksum.ts';
import { decodeMessages, encodeMessages } from '../../src/raft/codec.ts';
import {
  NODE_HEADER,
  PeerTransport,
  RAFT_PATH,
  SECRET_HEADER,
  resolveTransportLimits,
  type TransportLimits,
} from '../../src/raft/transport.ts';
import { nodeId, type Message } from '../../src/raft/types.ts';
import { withTimeout } from '../support/wait.ts';

const clusterSecret = 'correct horse battery staple';
/** Fast reconnects and short close grace keep the suite quick; keepalive stays at its default
 * except in the test about it, so a slow CI machine cannot cut a healthy socket. */
const testLimits: Partial<TransportLimits> = { reconnectBaseMs: 10, reconnectMaxMs: 100, closeGraceMs: 200 };
const waitTimeoutMs = 5_000;
const pollIntervalMs = 5;

// --- helpers -----------------------------------------------------------------------------------

interface LogLine {
  readonly level: 'info' | 'warn';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

interface TestNode {
  readonly id: string;
  readonly port: number;
  readonly transport: PeerTransport;
  /** One element per onMessages call, i.e. per received frame. */
  readonly frames: Message[][];
  readonly logs: LogLine[];
  /** One element per onPeerDisconnected call: the peer whose open connection closed. */
  readonly disconnects: string[];
  /** Server-side sockets handed to the transport and still open: inbound peer connections. */
  readonly inboundSockets: Set<Duplex>;
  stop(): Promise<void>;
}

async function waitFor(description: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + waitTimeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${waitTimeoutMs} ms waiting for: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

async function startNode(
  id: string,
  options: {
    secret?: string;
    limits?: Partial<TransportLimits>;
    port?: number;
    acceptsUnknownPeers?: () => boolean;
    frameFormat?: number;
    applicationFormat?: number;
    beaconPort?: number;
  } = {},
): Promise<TestNode> {
  const frames: Message[][] = [];
  const logs: LogLine[] = [];
  const disconnects: string[] = [];
  const record = (level: LogLine['level']) => (fields: object, message: string) => {
    logs.push({ level, fields: fields as Record<string, unknown>, message });
  };
  const transport = new PeerTransport({
    self: nodeId(id),
    secret: options.secret ?? clusterSecret,
    onMessages: (messages) => frames.push(messages),
    onPeerDisconnected: (peer) => disconnects.push(peer),
    logger: { info: record('info'), warn: record('warn') },
    limits: { ...testLimits, ...options.limits },
    ...(options.acceptsUnknownPeers === undefined ? {} : { acceptsUnknownPeers: options.acceptsUnknownPeers }),
    ...(options.frameFormat === undefined ? {} : { frameFormat: options.frameFormat }),
    ...(options.applicationFormat === undefined ? {} : { applicationFormat: options.applicationFormat }),
    ...(options.beaconPort === undefined ? {} : { beaconPort: () => options.beaconPort ?? null }),
  });
  const inboundSockets = new Set<Duplex>();
  const server = http.createServer((_request, response) => response.writeHead(404).end());
  server.on('upgrade', (request, socket, head) => {
    if (!transport.handleUpgrade(request, socket, head)) {
      socket.destroy();
      return;
    }
    inboundSockets.add(socket);
    socket.once('close', () => inboundSockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const stop = async (): Promise<void> => {
    await transport.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { id, port, transport, frames, logs, disconnects, inboundSockets, stop };
}

/** Tells every node the address of every other (each ignores its own entry). */
function connectAll(nodes: readonly TestNode[]): void {
  const addresses = Object.fromEntries(nodes.map((node) => [node.id, `127.0.0.1:${node.port}`]));
  for (const node of nodes) node.transport.setPeers(addresses);
}

async function stopAll(nodes: readonly TestNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.stop()));
}

function connected(from: TestNode, to: string): boolean {
  return from.transport.stats().peers[to]?.connected === true;
}

function heartbeat(from: string, to: string, commit: number): Message {
  return { type: 'heartbeat', from: nodeId(from), to: nodeId(to), term: 1, commit, round: 1, context: '' };
}

function append(from: string, to: string, index: number, dataBytes: number, answerWanted = true): Message {
  const data = new Uint8Array(dataBytes).fill(index % 256);
  const entry = {
    term: 1,
    index,
    type: 'normal' as const,
    data,
    checksum: entryChecksum(1, index, 'normal', data, undefined),
  };
  return {
    type: 'append',
    from: nodeId(from),
    to: nodeId(to),
    term: 1,
    prevIndex: index - 1,
    prevTerm: 1,
    entries: [entry],
    commit: 0,
    answerWanted,
  };
}

/** "type from>to n", where n is the heartbeat's commit or the append's first index. */
function summary(message: Message): string {
  const number =
    message.type === 'heartbeat' ? message.commit : message.type === 'append' ? message.entries[0]?.index : '';
  return `${message.type} ${message.from}>${message.to} ${number}`;
}

function received(node: TestNode): string[] {
  return node.frames.flat().map(summary);
}

/** A hand-made peer: a bare ws client that speaks the handshake with the given headers. */
function rawClient(port: number, headers: Record<string, string>, options: WebSocket.ClientOptions = {}): WebSocket {
  const client = new WebSocket(`ws://127.0.0.1:${port}${RAFT_PATH}`, { headers, perMessageDeflate: false, ...options });
  client.on('error', () => undefined);
  return client;
}

function opened(client: WebSocket): Promise<void> {
  return withTimeout(
    new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('close', () => reject(new Error('raw client closed before it opened')));
    }),
    20_000,
    'the raw Raft socket to open',
  );
}

/** The HTTP status a refused handshake answers with. */
function refusalStatus(port: number, headers: Record<string, string>): Promise<number> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const client = rawClient(port, headers);
      client.once('open', () => reject(new Error('handshake was accepted')));
      client.once('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        client.terminate();
      });
    }),
    20_000,
    "the refused handshake's status",
  );
}

function closedRaw(client: WebSocket): Promise<void> {
  if (client.readyState === WebSocket.CLOSED) return Promise.resolve();
  return withTimeout(
    new Promise((resolve) => {
      client.once('close', () => resolve());
      client.terminate();
    }),
    20_000,
    'the raw Raft socket to close',
  );
}

// --- tests -------------------------------------------------------------------------------------

test('back-off doubles per failure, stays within [window/2, cap], and is capped', () => {
  const policy = { baseMs: 50, maxMs: 2_000 };
  assert.is(
    backoffDelayMs(0, policy, () => 0),
    25,
  );
  assert.is(
    backoffDelayMs(0, policy, () => 0.999_999),
    50,
  );
  assert.is(
    backoffDelayMs(3, policy, () => 0),
    200,
  );
  assert.is(
    backoffDelayMs(10, policy, () => 0.999_999),
    2_000,
  );
  assert.is(
    backoffDelayMs(1_000_000, policy, () => 0),
    1_000,
  );
  assert.throws(() => backoffDelayMs(-1, policy, () => 0));
  assert.throws(() => backoffDelayMs(0, policy, () => 1));
});

test('limits: defaults fill the gaps, nonsense is refused in plain English', () => {
  assert.is(resolveTransportLimits({}).maxBufferedBytes, 64 * 1024 * 1024);
  assert.is(resolveTransportLimits({ reconnectBaseMs: 7 }).reconnectBaseMs, 7);
  assert.throws(
    () => resolveTransportLimits({ keepaliveIntervalMs: 0 }),
    /keepaliveIntervalMs must be a positive integer/,
  );
  assert.throws(() => resolveTransportLimits({ reconnectBaseMs: 500, reconnectMaxMs: 100 }), /reconnectMaxMs/);
});

test('messages flow both ways over one socket per pair; the lower id dials', async () => {
  const nodes = await Promise.all(['m1', 'm2', 'm3'].map((id) => startNode(id)));
  const [m1, m2, m3] = nodes as [TestNode, TestNode, TestNode];
  try {
    connectAll(nodes);
    await waitFor(
      'every pair connected',
      () =>
        connected(m1, 'm2') &&
        connected(m1, 'm3') &&
        connected(m2, 'm1') &&
        connected(m2, 'm3') &&
        connected(m3, 'm1') &&
        connected(m3, 'm2'),
    );
    for (const from of nodes) {
      from.transport.send(nodes.filter((to) => to !== from).map((to) => heartbeat(from.id, to.id, 7)));
    }
    await waitFor('each node hears from both others', () => nodes.every((node) => received(node).length === 2));
    assert.equal(received(m1).sort(), ['heartbeat m2>m1 7', 'heartbeat m3>m1 7']);
    assert.equal(received(m3).sort(), ['heartbeat m1>m3 7', 'heartbeat m2>m3 7']);
    // m1 dials both, m2 dials m3, m3 dials nobody: 0, 1 and 2 inbound sockets, 3 for 3 pairs.
    assert.is(m1.inboundSockets.size, 0);
    assert.is(m2.inboundSockets.size, 1);
    assert.is(m3.inboundSockets.size, 2);
  } finally {
    await stopAll(nodes);
  }
});

test("a rolling upgrade: each socket writes the older of its two sides' frame formats", async () => {
  // m2 stands in for a master of the build before frame format 2 (it reads and writes only 1).
  const nodes = [await startNode('m1'), await startNode('m2', { frameFormat: 1 }), await startNode('m3')];
  const [m1, m2, m3] = nodes as [TestNode, TestNode, TestNode];
  try {
    connectAll(nodes);
    await waitFor('every pair connected', () => connected(m1, 'm2') && connected(m1, 'm3') && connected(m2, 'm3'));
    for (const from of nodes) {
      from.transport.send(nodes.filter((to) => to !== from).map((to) => append(from.id, to.id, 5, 8, false)));
    }
    await waitFor('each node hears from both others', () => nodes.every((node) => received(node).length === 2));
    const wanted = (node: TestNode): string[] =>
      node.frames
        .flat()
        .map((message) => `${message.from}:${message.type === 'append' ? message.answerWanted : '-'}`)
        .sort();
    // Between two new builds the flag travels; to or from the old one it cannot, and reads as wanted.
    assert.equal(wanted(m1), ['m2:true', 'm3:false']);
    assert.equal(wanted(m2), ['m1:true', 'm3:true']);
    assert.equal(wanted(m3), ['m1:false', 'm2:true']);
    for (const node of nodes) {
      const undecodable = Object.values(node.transport.stats().peers).map((peer) => peer.undecodableFrames);
      assert.equal(undecodable, [0, 0], `${node.id} dropped no frame`);
    }
  } finally {
    await stopAll(nodes);
  }
});

test('each side learns the application format the other reads; a build before the header names none', async () => {
  // m2 stands in for a master of the build before the header; m1 dials both, m3 is dialed by both.
  const nodes = [
    await startNode('m1', { applicationFormat: 10 }),
    await startNode('m2'),
    await startNode('m3', { applicationFormat: 11 }),
  ];
  const [m1, m2, m3] = nodes as [TestNode, TestNode, TestNode];
  try {
    assert.is(m1.transport.applicationFormatOf(nodeId('m3')), undefined, 'not connected yet: unknown');
    connectAll(nodes);
    await waitFor('every pair connected', () => connected(m1, 'm2') && connected(m1, 'm3') && connected(m2, 'm3'));
    const formats = (node: TestNode) =>
      nodes.filter((other) => other !== node).map((other) => node.transport.applicationFormatOf(nodeId(other.id)));
    assert.equal(formats(m1), [null, 11]);
    assert.equal(formats(m2), [10, 11]);
    assert.equal(formats(m3), [10, null]);
  } finally {
    await stopAll(nodes);
  }
});

test('mixed builds: a member is sent beacons only at the port its handshake named (none from an older build)', async () => {
  // m2 stands in for a master without the beacon (an older build, or --raft-beacon off).
  const nodes = [
    await startNode('m1', { beaconPort: 41001 }),
    await startNode('m2'),
    await startNode('m3', { beaconPort: 41003 }),
  ];
  const [m1, m2, m3] = nodes as [TestNode, TestNode, TestNode];
  try {
    connectAll(nodes);
    await waitFor('every pair connected', () => connected(m1, 'm2') && connected(m1, 'm3') && connected(m2, 'm3'));
    const targets = (node: TestNode) =>
      nodes.filter((other) => other !== node).map((other) => node.transport.beaconTargetOf(nodeId(other.id)));
    assert.equal(targets(m1), [null, { host: '127.0.0.1', port: 41003 }]);
    assert.equal(targets(m2), [
      { host: '127.0.0.1', port: 41001 },
      { host: '127.0.0.1', port: 41003 },
    ]);
    assert.equal(targets(m3), [{ host: '127.0.0.1', port: 41001 }, null]);
  } finally {
    await stopAll(nodes);
  }
});

test('a dialer that names no frame format (a build before the header) is written format 1', async () => {
  const node = await startNode('m2');
  const client = rawClient(node.port, { [NODE_HEADER]: 'm1', [SECRET_HEADER]: clusterSecret });
  try {
    node.transport.setPeers({ m1: '127.0.0.1:1' });
    const frame = new Promise<Buffer>((resolve) => client.once('message', (data) => resolve(data as Buffer)));
    await opened(client);
    await waitFor('m2 holds the socket', () => connected(node, 'm1'));
    node.transport.send([append('m2', 'm1', 3, 4, false)]);
    const bytes = await withTimeout(frame, 20_000, 'the frame m2 sent');
    assert.is(bytes[4], 1, 'frame format byte');
    assert.is(decodeMessages(bytes, 1)[0]?.type, 'append');
  } finally {
    await closedRaw(client);
    await node.stop();
  }
});

test('a batch to one peer arrives as one frame, in order, interleaved with others', async () => {
  const nodes = await Promise.all(['m1', 'm2', 'm3'].map((id) => startNode(id)));
  const [m1, m2, m3] = nodes as [TestNode, TestNode, TestNode];
  try {
    connectAll(nodes);
    await waitFor('m1 connected to m2 and m3', () => connected(m1, 'm2') && connected(m1, 'm3'));
    m1.transport.send([
      heartbeat('m1', 'm2', 1),
      heartbeat('m1', 'm3', 1),
      append('m1', 'm2', 2, 100),
      heartbeat('m1', 'm2', 3),
      heartbeat('m1', 'm3', 2),
      append('m1', 'm2', 4, 100),
    ]);
    await waitFor('m2 and m3 received', () => m2.frames.length > 0 && m3.frames.length > 0);
    assert.is(m2.frames.length, 1);
    assert.equal(received(m2), ['heartbeat m1>m2 1', 'append m1>m2 2', 'heartbeat m1>m2 3', 'append m1>m2 4']);
    assert.equal(received(m3), ['heartbeat m1>m3 1', 'heartbeat m1>m3 2']);
    const toM2 = m1.transport.stats().peers['m2'];
    assert.is(toM2?.sentFrames, 1);
    assert.is(toM2?.sentMessages, 4);
    assert.is(m2.transport.stats().peers['m1']?.receivedMessages, 4);
  } finally {
    await stopAll(nodes);
  }
});

test('a batch over maxPayloadBytes is cut into frames in order; a message over it is dropped', async () => {
  const limits = { maxPayloadBytes: 4_096 };
  const nodes = await Promise.all(['m1', 'm2'].map((id) => startNode(id, { limits })));
  const [m1, m2] = nodes as [TestNode, TestNode];
  try {
    connectAll(nodes);
    await waitFor('m1 connected to m2', () => connected(m1, 'm2'));
    m1.transport.send([
      append('m1', 'm2', 1, 1_500),
      append('m1', 'm2', 2, 1_500),
      append('m1', 'm2', 3, 10_000),
      append('m1', 'm2', 4, 1_500),
      heartbeat('m1', 'm2', 5),
    ]);
    await waitFor('m2 received four messages', () => received(m2).length === 4);
    assert.equal(received(m2), ['append m1>m2 1', 'append m1>m2 2', 'append m1>m2 4', 'heartbeat m1>m2 5']);
    assert.ok(m2.frames.length >= 2, `expected several frames, got ${m2.frames.length}`);
    assert.is(m1.transport.stats().peers['m2']?.droppedMessages, 1);
    assert.ok(m1.logs.some((line) => line.level === 'warn' && /larger than maxPayloadBytes/.test(line.message)));
    assert.ok(connected(m1, 'm2'), 'the connection survives');
  } finally {
    await stopAll(nodes);
  }
});

test('a wrong secret is refused with 401 and logged with the remote address; nothing is delivered', async () => {
  const intruder = await startNode('m1', { secret: 'not the secret' });
  const m2 = await startNode('m2');
  try {
    connectAll([intruder, m2]);
    await waitFor('m2 logs the refusal', () => m2.logs.some((line) => line.level === 'warn'));
    const refusal = m2.logs.find((line) => line.level === 'warn');
    assert.is(refusal?.message, 'refused a raft peer connection');
    assert.is(refusal?.fields['status'], 401);
    assert.is(refusal?.fields['remoteAddress'], '127.0.0.1');
    await waitFor('the dialer logs that it cannot reach m2', () =>
      intruder.logs.some((line) => line.level === 'warn' && /401/.test(String(line.fields['error']))),
    );

    intruder.transport.send([heartbeat('m1', 'm2', 1)]);
    assert.is(intruder.transport.stats().peers['m2']?.droppedMessages, 1);
    assert.is(intruder.transport.stats().peers['m2']?.connected, false);
    assert.is(m2.transport.stats().peers['m1']?.connected, false);
    assert.is(m2.frames.length, 0);
    assert.is(await refusalStatus(m2.port, { [NODE_HEADER]: 'm1' }), 401, 'no secret at all');
  } finally {
    await stopAll([intruder, m2]);
  }
});

test('an unknown node is refused with 403, a dial in the wrong direction with 409', async () => {
  const nodes = await Promise.all(['m1', 'm2', 'm3'].map((id) => startNode(id)));
  const m2 = nodes[1] as TestNode;
  try {
    connectAll(nodes);
    assert.is(await refusalStatus(m2.port, { [NODE_HEADER]: 'm9', [SECRET_HEADER]: clusterSecret }), 403);
    // m3 sorts above m2, so m2 dials m3 and never accepts from it.
    assert.is(await refusalStatus(m2.port, { [NODE_HEADER]: 'm3', [SECRET_HEADER]: clusterSecret }), 409);
    assert.is(await refusalStatus(m2.port, { [SECRET_HEADER]: clusterSecret }), 400);
  } finally {
    await stopAll(nodes);
  }
});

test('a joiner that knows no member accepts a lower-id member it was not told of, and messages flow', async () => {
  let knowsNoMember = true;
  const joiner = await startNode('m8', { acceptsUnknownPeers: () => knowsNoMember });
  const leader = await startNode('m7');
  try {
    // m7 was added after m8's --peers were written: m8 has no entry for it.
    leader.transport.setPeers({ m8: `127.0.0.1:${joiner.port}` });
    await waitFor('m7 to connect to m8', () => connected(leader, 'm8'));
    leader.transport.send([heartbeat('m7', 'm8', 3)]);
    await waitFor('m8 to receive the heartbeat', () => received(joiner).length === 1);
    // Once it knows the membership, an unknown node is refused again; a higher id never was.
    knowsNoMember = false;
    assert.is(await refusalStatus(joiner.port, { [NODE_HEADER]: 'm6', [SECRET_HEADER]: clusterSecret }), 403);
    knowsNoMember = true;
    assert.is(await refusalStatus(joiner.port, { [NODE_HEADER]: 'm9', [SECRET_HEADER]: clusterSecret }), 403);
    assert.is(
      await refusalStatus(joiner.port, { [NODE_HEADER]: 'm6', [SECRET_HEADER]: 'wrong-secret-wrong-secret' }),
      401,
    );
  } finally {
    await stopAll([joiner, leader]);
  }
});

test('a restarted acceptor is redialed automatically and messages flow again', async () => {
  const m1 = await startNode('m1');
  let m2 = await startNode('m2');
  try {
    connectAll([m1, m2]);
    await waitFor('m1 connected to m2', () => connected(m1, 'm2'));
    m1.transport.send([heartbeat('m1', 'm2', 1)]);
    await waitFor('m2 received before the restart', () => received(m2).length === 1);

    await m2.stop();
    await waitFor('m1 notices m2 is gone', () => !connected(m1, 'm2'));
    m2 = await startNode('m2', { port: m2.port });
    connectAll([m1, m2]);
    await waitFor('m1 reconnected to the new m2', () => connected(m1, 'm2') && connected(m2, 'm1'));
    m1.transport.send([heartbeat('m1', 'm2', 2)]);
    m2.transport.send([heartbeat('m2', 'm1', 3)]);
    await waitFor(
      'messages flow both ways after the restart',
      () => received(m2).length === 1 && received(m1).length === 1,
    );
    assert.equal(received(m2), ['heartbeat m1>m2 2']);
    assert.equal(received(m1), ['heartbeat m2>m1 3']);
    assert.is(m2.inboundSockets.size, 1);
  } finally {
    await stopAll([m1, m2]);
  }
});

test('a second socket from the same peer replaces the first (the peer restarted)', async () => {
  const m2 = await startNode('m2');
  const headers = { [NODE_HEADER]: 'm1', [SECRET_HEADER]: clusterSecret };
  m2.transport.setPeers({ m1: '127.0.0.1:1' }); // m2 accepts from m1; it never dials it
  const first = rawClient(m2.port, headers);
  let second: WebSocket | null = null;
  try {
    await opened(first);
    second = rawClient(m2.port, headers);
    await opened(second);
    await waitFor('m2 closes the first socket', () => first.readyState === WebSocket.CLOSED);
    const framesOnSecond: Buffer[] = [];
    second.on('message', (data) => framesOnSecond.push(data as Buffer));
    m2.transport.send([heartbeat('m2', 'm1', 1)]);
    await waitFor('the second socket carries the frame', () => framesOnSecond.length === 1);
    assert.is(m2.transport.stats().peers['m1']?.sentFrames, 1);
    await waitFor('only one inbound socket left', () => m2.inboundSockets.size === 1);
  } finally {
    await Promise.all([closedRaw(first), second === null ? undefined : closedRaw(second)]);
    await m2.stop();
  }
});

test('a closed connection is reported once per peer, on both sides; closing our own transport reports none', async () => {
  const m1 = await startNode('m1');
  const m2 = await startNode('m2');
  const m3 = await startNode('m3');
  try {
    connectAll([m1, m2, m3]);
    await waitFor('all connected', () => connected(m1, 'm3') && connected(m2, 'm3') && connected(m1, 'm2'));
    await m3.stop();
    await waitFor('m1 and m2 see m3 go', () => m1.disconnects.length === 1 && m2.disconnects.length === 1);
    assert.equal(m1.disconnects, ['m3']);
    assert.equal(m2.disconnects, ['m3']);
    assert.equal(m3.disconnects, [], 'a transport that closes itself reports nothing');
    await waitFor('m1 still talks to m2', () => connected(m1, 'm2'));
    assert.equal(m1.disconnects, ['m3'], 'the failed redials to m3 are not reported again');
  } finally {
    await stopAll([m1, m2]);
  }
});

test('a socket replaced by a newer one is not reported as a disconnect; the last one closing is', async () => {
  const m2 = await startNode('m2');
  const headers = { [NODE_HEADER]: 'm1', [SECRET_HEADER]: clusterSecret };
  m2.transport.setPeers({ m1: '127.0.0.1:1' }); // m2 accepts from m1; it never dials it
  const first = rawClient(m2.port, headers);
  const second = rawClient(m2.port, headers);
  try {
    await opened(first);
    await waitFor('m2 has the first socket', () => m2.inboundSockets.size === 1);
    await opened(second);
    await waitFor('m2 closes the first socket', () => first.readyState === WebSocket.CLOSED);
    assert.equal(m2.disconnects, []);
    await closedRaw(second);
    await waitFor('m2 reports m1 gone', () => m2.disconnects.length === 1);
    assert.equal(m2.disconnects, ['m1']);
  } finally {
    await Promise.all([closedRaw(first), closedRaw(second)]);
    await m2.stop();
  }
});

test('garbage from an authenticated peer is logged and dropped; good frames still arrive', async () => {
  const m2 = await startNode('m2');
  m2.transport.setPeers({ m1: '127.0.0.1:1', m3: '127.0.0.1:1' });
  const peer = rawClient(m2.port, { [NODE_HEADER]: 'm1', [SECRET_HEADER]: clusterSecret });
  try {
    await opened(peer);
    const corrupted = encodeMessages([append('m1', 'm2', 1, 64)]);
    const lastByte = corrupted.byteLength - 1;
    corrupted.writeUInt8(corrupted.readUInt8(lastByte) ^ 0xff, lastByte); // a data byte: the entry checksum fails
    peer.send(Buffer.from('definitely not a raft frame'));
    peer.send('a text frame');
    peer.send(corrupted);
    peer.send(encodeMessages([heartbeat('m3', 'm2', 1), heartbeat('m1', 'm9', 2)])); // spoofed, misrouted
    peer.send(encodeMessages([heartbeat('m1', 'm2', 3)]));
    await waitFor('the good frame arrives', () => received(m2).length === 1);
    assert.equal(received(m2), ['heartbeat m1>m2 3']);
    const stats = m2.transport.stats().peers['m1'];
    assert.is(stats?.undecodableFrames, 3);
    assert.is(stats?.rejectedMessages, 2);
    assert.is(stats?.receivedFrames, 5);
    assert.is(m2.logs.filter((line) => line.message === 'dropped a raft frame that does not decode').length, 3);
    assert.ok(m2.logs.some((line) => /CorruptEntryError/.test(String(line.fields['error']))));
    assert.is(peer.readyState, WebSocket.OPEN, 'garbage does not cost the peer its connection');
  } finally {
    await closedRaw(peer);
    await m2.stop();
  }
});

test('keepalive cuts a peer that stops answering pings', async () => {
  const m2 = await startNode('m2', { limits: { keepaliveIntervalMs: 20 } });
  m2.transport.setPeers({ m1: '127.0.0.1:1' });
  const silent = rawClient(m2.port, { [NODE_HEADER]: 'm1', [SECRET_HEADER]: clusterSecret }, { autoPong: false });
  try {
    await opened(silent);
    await waitFor('m2 cuts the silent peer', () => silent.readyState === WebSocket.CLOSED);
    assert.ok(m2.logs.some((line) => line.message === 'raft peer missed a pong; disconnecting'));
    assert.is(m2.transport.stats().peers['m1']?.connected, false);
  } finally {
    await closedRaw(silent);
    await m2.stop();
  }
});

/** Indexes into the flags the test and its answering peer share. */
const holdingFlag = 0;
const answeredFlag = 1;

/**
 * A raw peer in a worker thread, so it answers while this thread's event loop is held: it pongs
 * a ping by hand, only once `flags[holdingFlag]` says this thread holds its loop, and then sets
 * `flags[answeredFlag]`. Its messages to this thread: 'open', 'ping' (one per ping), 'closed'.
 */
const answeringPeerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require(workerData.wsPath);
const flags = new Int32Array(workerData.flags);
const client = new WebSocket(workerData.url, { headers: workerData.headers, perMessageDeflate: false, autoPong: false });
client.on('error', () => undefined);
client.on('open', () => parentPort.postMessage('open'));
client.on('close', () => parentPort.postMessage('closed'));
client.on('ping', (data) => {
  parentPort.postMessage('ping');
  Atomics.wait(flags, ${holdingFlag}, 0);
  client.pong(data);
  Atomics.store(flags, ${answeredFlag}, 1);
  Atomics.notify(flags, ${answeredFlag});
});
parentPort.on('message', () => client.terminate());
`;

test('keepalive: a pong that arrived while this loop was held is read before the check (race 4)', async () => {
  // Long enough that this thread handles the peer's 'ping' message before the next tick, even loaded.
  const keepaliveIntervalMs = 250;
  const m2 = await startNode('m2', { limits: { keepaliveIntervalMs } });
  m2.transport.setPeers({ m1: '127.0.0.1:1' });
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const peer = new Worker(answeringPeerSource, {
    eval: true,
    workerData: {
      wsPath: createRequire(import.meta.url).resolve('ws'),
      flags: flags.buffer,
      url: `ws://127.0.0.1:${m2.port}${RAFT_PATH}`,
      headers: { [NODE_HEADER]: 'm1', [SECRET_HEADER]: clusterSecret },
    },
  });
  let pings = 0;
  let closed = false;
  let opened = false;
  let held = false;
  peer.on('message', (message: string) => {
    if (message === 'open') opened = true;
    if (message === 'closed') closed = true;
    if (message !== 'ping') return;
    pings += 1;
    if (held) return;
    held = true;
    // Hold this loop past the next keepalive tick; the peer answers meanwhile, so its pong waits
    // unread in the kernel when the overdue tick comes.
    Atomics.store(flags, holdingFlag, 1);
    Atomics.notify(flags, holdingFlag);
    Atomics.wait(flags, answeredFlag, 0);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2 * keepaliveIntervalMs);
  });
  try {
    await waitFor('the peer connects', () => opened);
    // The overdue tick either pings again (it heard the pong) or cuts the socket.
    await waitFor('a keepalive round after the held turn, or the socket cut', () => pings >= 2 || closed);
    assert.is(closed, false, 'a peer that answered in time was cut');
    assert.not.ok(m2.logs.some((line) => line.message === 'raft peer missed a pong; disconnecting'));
  } finally {
    peer.postMessage('stop');
    await peer.terminate();
    await m2.stop();
  }
});

test('back-pressure: a peer that stops reading costs drops, not unbounded memory', async () => {
  const maxBufferedBytes = 256 * 1024;
  const m2 = await startNode('m2', { limits: { maxBufferedBytes } });
  m2.transport.setPeers({ m1: '127.0.0.1:1' });
  const reader = rawClient(m2.port, { [NODE_HEADER]: 'm1', [SECRET_HEADER]: clusterSecret });
  try {
    await opened(reader);
    reader.pause(); // stops reading: the kernel buffers fill, then the socket's own queue grows
    const messageCount = 4_000; // 4,000 × 16 KiB = 64 MiB, far above any loopback buffer
    for (let index = 1; index <= messageCount; index += 1) m2.transport.send([append('m2', 'm1', index, 16 * 1024)]);
    const stats = m2.transport.stats().peers['m1'];
    assert.ok((stats?.droppedMessages ?? 0) > 0, 'some messages were dropped');
    assert.is((stats?.droppedMessages ?? 0) + (stats?.sentMessages ?? 0), messageCount);
    assert.ok(stats?.connected, 'the slow peer keeps its connection');
  } finally {
    await closedRaw(reader);
    await m2.stop();
  }
});

test('setPeers: a removed peer is cut and unknown to send(); re-adding dials again', async () => {
  const nodes = await Promise.all(['m1', 'm2'].map((id) => startNode(id)));
  const [m1, m2] = nodes as [TestNode, TestNode];
  try {
    connectAll(nodes);
    await waitFor('m1 connected to m2', () => connected(m1, 'm2'));
    m1.transport.setPeers({ m1: `127.0.0.1:${m1.port}` });
    await waitFor('m2 sees the socket closed', () => !connected(m2, 'm1'));
    m1.transport.send([heartbeat('m1', 'm2', 1)]);
    assert.equal(m1.transport.stats(), { peers: {}, droppedToUnknownPeers: 1 });
    connectAll(nodes);
    await waitFor('m1 dials m2 again', () => connected(m1, 'm2'));
    m1.transport.send([heartbeat('m1', 'm2', 2)]);
    await waitFor('m2 receives', () => received(m2).length === 1);
    assert.equal(received(m2), ['heartbeat m1>m2 2']);
  } finally {
    await stopAll(nodes);
  }
});

test('handleUpgrade declines other paths without touching the socket', async () => {
  const m1 = await startNode('m1');
  try {
    const socket = new PassThrough();
    const request = { url: '/api/v1/agents?raft', headers: {}, socket } as unknown as http.IncomingMessage;
    assert.is(m1.transport.handleUpgrade(request, socket, Buffer.alloc(0)), false);
    assert.is(socket.destroyed, false);
    assert.is(socket.readableLength, 0, 'nothing was written to it');
    assert.is(await refusalStatus(m1.port, { [NODE_HEADER]: 'm2' }), 401, 'RAFT_PATH itself is taken');
  } finally {
    await m1.stop();
  }
});

test('after close() no socket, server or timer is left behind', async () => {
  const busy = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'];
  await waitFor('no handles left', () => process.getActiveResourcesInfo().every((kind) => !busy.includes(kind)));
});

test.run();
