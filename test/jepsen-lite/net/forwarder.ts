// Runs inside the bridge namespace (ip netns exec …): the masters' addresses exist only in
// there, so clients on the host reach them through unix sockets, which are files and cross
// namespaces. One line of JSON on stdin per command:
//   {"op":"listen","socket":"/…/m1.sock","target":"10.77.0.1:5050"}   → {"ok":true,"socket":…}
//   {"op":"close","socket":"/…/m1.sock"}                               → {"ok":true,"socket":…}
// A connection is forwarded only once the master accepted the TCP connection; when it cannot
// (the master is down: refused), the client gets a 502 whose header says so before any byte
// of its request went anywhere, which keeps "connection refused" a definite failure
// (client/http.ts). The forwarder exits when stdin closes: its parent is gone.
import { rmSync } from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';

const refusedHeader = 'x-jepsen-forwarder-refused';
const connectTimeoutMs = 2_000;
/** How long a refused client gets to finish sending its request before the socket closes. */
const refusedLingerMs = 200;
const servers = new Map<string, net.Server>();

function reply(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function forward(client: net.Socket, host: string, port: number): void {
  client.pause();
  client.on('error', () => client.destroy());
  const upstream = net.connect({ host, port, noDelay: true });
  const timer = setTimeout(
    () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'CONNECT_TIMEOUT' })),
    connectTimeoutMs,
  );
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    clearTimeout(timer);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    if (!connected) {
      // Read (and drop) what the client sends before closing: closing on an unread request
      // makes its write fail with EPIPE, which it must take as "maybe sent".
      const code = error.code ?? 'ERROR';
      client.on('data', () => {});
      client.resume();
      client.write(
        `HTTP/1.1 502 Bad Gateway\r\n${refusedHeader}: ${code}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
      );
      setTimeout(() => client.end(), refusedLingerMs);
    } else {
      client.destroy();
    }
  });
  upstream.on('close', () => client.destroy());
  client.on('close', () => upstream.destroy());
}

function listen(socket: string, target: string): void {
  const [host, port] = target.split(':');
  rmSync(socket, { force: true });
  const server = net.createServer((client) => forward(client, host!, Number(port)));
  server.on('error', (error) => reply({ ok: false, socket, error: error.message }));
  server.listen(socket, () => {
    servers.set(socket, server);
    reply({ ok: true, socket });
  });
}

function close(socket: string): void {
  servers.get(socket)?.close();
  servers.delete(socket);
  rmSync(socket, { force: true });
  reply({ ok: true, socket });
}

const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
  try {
    const command = JSON.parse(line) as { op: string; socket: string; target?: string };
    if (command.op === 'listen' && typeof command.target === 'string') listen(command.socket, command.target);
    else if (command.op === 'close') close(command.socket);
    else reply({ ok: false, error: `unknown command ${line}` });
  } catch (error) {
    reply({ ok: false, error: (error as Error).message });
  }
});
input.on('close', () => {
  for (const socket of servers.keys()) rmSync(socket, { force: true });
  process.exit(0);
});
