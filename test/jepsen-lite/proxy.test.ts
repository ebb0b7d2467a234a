// The userspace fault proxy against a plain echo server: bytes pass; a dropped link holds them
// and delivers them intact once healed (as TCP does after iptables DROP); a cut link resets;
// a delay delays in order; and the Raft handshake header decides whose link a connection is.
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FaultTable } from './net/faults.ts';
import { LinkProxy } from './net/proxy.ts';

const proxy = suite('fault proxy');

interface Fixture {
  echo: net.Server;
  echoPort: number;
  faults: FaultTable;
  link: LinkProxy;
}

async function setUp(): Promise<Fixture> {
  const echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const echoPort = (echo.address() as net.AddressInfo).port;
  const faults = new FaultTable();
  const link = new LinkProxy({ from: 'm1', to: 'm2', targetHost: '127.0.0.1', targetPort: echoPort }, faults);
  await link.listen();
  return { echo, echoPort, faults, link };
}

async function tearDown(fixture: Fixture): Promise<void> {
  await fixture.link.close();
  await new Promise<void>((resolve) => fixture.echo.close(() => resolve()));
}

class Client {
  received = '';
  closed = false;
  private readonly socket: net.Socket;
  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.on('data', (chunk) => {
      this.received += chunk.toString();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
    });
  }
  send(text: string): void {
    this.socket.write(text);
  }
  end(): void {
    this.socket.destroy();
  }
  async waitFor(text: string, timeoutMs = 2_000): Promise<number> {
    const started = performance.now();
    while (!this.received.includes(text)) {
      if (performance.now() - started > timeoutMs)
        throw new Error(`no "${text}" within ${timeoutMs} ms (got "${this.received}")`);
      await sleep(5);
    }
    return performance.now() - started;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const handshake = (node: string) => `GET /raft HTTP/1.1\r\nhost: x\r\nx-flotilla-node: ${node}\r\n\r\n`;

proxy('bytes pass both ways', async () => {
  const fixture = await setUp();
  try {
    const client = new Client(fixture.link.port);
    client.send(handshake('m1'));
    client.send('hello');
    await client.waitFor('hello');
    client.end();
  } finally {
    await tearDown(fixture);
  }
});

proxy('a dropped link holds the stream and delivers it intact when healed', async () => {
  const fixture = await setUp();
  try {
    const client = new Client(fixture.link.port);
    client.send(handshake('m1'));
    await client.waitFor('x-flotilla-node');
    fixture.faults.update([{ from: 'm1', to: 'm2', state: { mode: 'drop' } }]);
    client.send('during-partition');
    await sleep(200);
    assert.not.ok(client.received.includes('during-partition'), 'nothing passes a dropped link');
    assert.not.ok(client.closed);
    fixture.faults.healAll();
    await client.waitFor('during-partition');
    client.end();
  } finally {
    await tearDown(fixture);
  }
});

proxy('a cut link resets its connections and refuses new ones', async () => {
  const fixture = await setUp();
  try {
    const client = new Client(fixture.link.port);
    client.send(handshake('m1'));
    await client.waitFor('x-flotilla-node');
    fixture.faults.update([{ from: 'm2', to: 'm1', state: { mode: 'cut' } }]);
    await sleep(50);
    assert.ok(client.closed, 'the connection was cut');
    const late = new Client(fixture.link.port);
    late.send(handshake('m1'));
    await sleep(100);
    assert.ok(late.closed, 'a new connection is refused while cut');
  } finally {
    await tearDown(fixture);
  }
});

proxy('a delay applies to each direction, in order', async () => {
  const fixture = await setUp();
  try {
    fixture.faults.update([
      { from: 'm1', to: 'm2', state: { delayMs: 60 } },
      { from: 'm2', to: 'm1', state: { delayMs: 60 } },
    ]);
    const client = new Client(fixture.link.port);
    client.send(handshake('m1'));
    client.send('a');
    client.send('b');
    const elapsed = await client.waitFor('ab');
    assert.ok(elapsed >= 110, `round trip took ${elapsed} ms, expected at least 2 × 60`);
    client.end();
  } finally {
    await tearDown(fixture);
  }
});

proxy('the handshake header names the source when another master uses this port', async () => {
  const fixture = await setUp();
  try {
    fixture.faults.update([{ from: 'm3', to: 'm2', state: { mode: 'drop' } }]);
    const fromM1 = new Client(fixture.link.port);
    fromM1.send(handshake('m1'));
    await fromM1.waitFor('x-flotilla-node: m1');
    const fromM3 = new Client(fixture.link.port);
    fromM3.send(handshake('m3'));
    await sleep(200);
    assert.is(fromM3.received, '', 'm3 → m2 is dropped even through the m1 → m2 port');
    fixture.faults.healAll();
    await fromM3.waitFor('x-flotilla-node: m3');
    fromM1.end();
    fromM3.end();
  } finally {
    await tearDown(fixture);
  }
});

proxy.run();
