// The fuzz test (issue 18): thousands of malformed, truncated, oversized and type-confused
// requests and frames at a running cluster of three master processes and one agent process —
// every HTTP route of the masters (the list comes from the route table, so a new route is fuzzed
// without touching this file), the scheduler API, the agents' WebSocket, the agent's HTTP and
// executor APIs, the Raft peer socket without the cluster secret, and raw bytes on the port.
// Every input is invalid by construction (support/fuzz-inputs.ts). Afterwards: no 5xx, no process
// died, the replicated state hash is what it was, and every replica has the same hash.
// Seeded: FLOTILLA_FUZZ_SEED=<n> replays a run; FLOTILLA_FUZZ_SIZE=large sends ten times more.
import { randomInt } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { buildHttpServer } from '../../src/http/server.ts';
import { checkBackup } from '../../src/master/backup/restore.ts';
import { agentWebSocketPath } from '../../src/protocol/agent.ts';
import { SeededRandom } from '../../src/raft/random.ts';
import { developmentSecret, secretHeader } from '../../src/util/shared-secret.ts';
import { startSingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';
import { E2eCluster } from './support/cluster.ts';
import { fuzzAgentFrame, fuzzBody, fuzzPath, type FuzzBody } from './support/fuzz-inputs.ts';

const seed = Number(process.env.FLOTILLA_FUZZ_SEED ?? randomInt(2 ** 31));
const large = process.env.FLOTILLA_FUZZ_SIZE === 'large';
const size = {
  masterRequests: large ? 20_000 : 2_000,
  agentRequests: large ? 3_000 : 300,
  agentFrames: large ? 5_000 : 500,
  peerDials: large ? 500 : 50,
  rawConnections: large ? 500 : 50,
};
const requestsInFlight = 8;
const requestTimeoutMs = 20_000;
console.log(`fuzz seed ${seed} (FLOTILLA_FUZZ_SEED=${seed} replays it), size ${large ? 'large' : 'quick'}`);

interface Route {
  readonly method: string;
  readonly url: string;
}

/** Every route the masters serve, Marathon's and Metronome's included, from fastify's route table. */
async function masterRoutes(): Promise<Route[]> {
  const routes: Route[] = [];
  const app = buildHttpServer({
    master: {} as never,
    logger: false,
    // Registration only stores the frameworks; the table is what a master hosting both serves.
    frameworks: { services: {} as never, jobs: {} as never },
    onRoute: (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    },
  });
  await app.ready();
  await app.close();
  return routes;
}

/** The agent's routes (src/agent/http.ts, executors/http-route.ts). */
const agentRoutes: readonly Route[] = [
  { method: 'GET', url: '/health' },
  { method: 'GET', url: '/metrics/snapshot' },
  { method: 'GET', url: '/monitor/statistics' },
  { method: 'POST', url: '/api/v1' },
  { method: 'POST', url: '/api/v1/executor' },
];

const otherMethods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE'];

interface Tally {
  readonly byStatus: Map<string, number>;
  readonly serverErrors: string[];
  sent: number;
}

const newTally = (): Tally => ({ byStatus: new Map(), serverErrors: [], sent: 0 });

function count(tally: Tally, key: string): void {
  tally.byStatus.set(key, (tally.byStatus.get(key) ?? 0) + 1);
}

function send(
  address: string,
  method: string,
  path: string,
  body: FuzzBody,
  headers: Record<string, string>,
): Promise<number> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const request = httpRequest(
      {
        host,
        port: Number(port),
        method,
        path,
        timeout: requestTimeoutMs,
        // A fresh connection each: a socket the server closed after a bad request is not reused.
        agent: false,
        headers: {
          ...(body.contentType === null ? {} : { 'content-type': body.contentType }),
          connection: 'close',
          ...headers,
        },
      },
      (response) => {
        // The status is the verdict; a stream (an operator SUBSCRIBE a mutation left valid) is not read.
        resolve(response.statusCode ?? 0);
        response.destroy();
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    // The server may close before it read all of an oversized body: that is a refusal too.
    request.on('error', (error) => resolve(error.message === 'timeout' ? -2 : -1));
    // A HEAD's answer has no body, so Node's client cannot frame one sent with it: HEAD goes bare.
    request.end(method === 'HEAD' ? undefined : (body.bytes ?? undefined));
  });
}

function fuzzHeaders(random: SeededRandom): Record<string, string> {
  if (!random.chance(0.3)) return {};
  return random.pick<Record<string, string>>([
    { 'idempotency-key': 'é'.repeat(300) },
    { 'mesos-stream-id': '!!!' },
    { authorization: 'Basic %%%' },
    { accept: 'application/x-protobuf' },
    { accept: 'application/recordio', 'message-accept': 'text/html' },
    { 'if-match': '-1' },
    { origin: 'http://evil.example' },
  ]);
}

async function runPool(total: number, one: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next;
      next += 1;
      await one(index);
    }
  };
  await Promise.all(Array.from({ length: requestsInFlight }, worker));
}

/** HTTP requests to random routes of random addresses; 5xx and dropped answers are noted. */
async function fuzzRoutes(
  random: SeededRandom,
  addresses: readonly string[],
  routes: readonly Route[],
  total: number,
  tally: Tally,
): Promise<void> {
  await runPool(total, async () => {
    const route = random.pick(routes);
    const method = random.chance(0.85) ? route.method : random.pick(otherMethods);
    const path = fuzzPath(random, route.url);
    const body = fuzzBody(random);
    const address = random.pick(addresses);
    const status = await send(address, method, path, body, fuzzHeaders(random));
    tally.sent += 1;
    count(tally, status === -1 ? 'closed by the server' : status === -2 ? 'no answer' : String(status));
    if (status >= 500 || status === -2)
      tally.serverErrors.push(
        `${status} ${method} ${route.url} (${path.slice(0, 80)}) body ${body.kind}: ${body.bytes?.subarray(0, 120).toString('utf8') ?? ''}`,
      );
  });
}

/** Frames on the agents' WebSocket of random masters; every refusal must be an error frame or a close. */
async function fuzzAgentSocket(
  random: SeededRandom,
  addresses: readonly string[],
  total: number,
  tally: Tally,
): Promise<void> {
  let sent = 0;
  while (sent < total) {
    const socket = new WebSocket(`ws://${random.pick(addresses)}${agentWebSocketPath}`, {
      headers: { [secretHeader]: developmentSecret },
    });
    await new Promise<void>((resolve) => {
      socket.on('message', (data) => {
        const type = (JSON.parse(data.toString()) as { type?: string; code?: string }).code ?? 'message';
        count(tally, `answer ${type}`);
      });
      socket.on('close', (code) => {
        count(tally, `close ${code}`);
        resolve();
      });
      socket.on('error', () => undefined);
      socket.on('open', async () => {
        for (let frame = 0; frame < 50 && sent < total && socket.readyState === WebSocket.OPEN; frame += 1) {
          const { data } = fuzzAgentFrame(random);
          socket.send(data);
          sent += 1;
          tally.sent += 1;
          await new Promise((settle) => setImmediate(settle));
        }
        setTimeout(() => socket.close(), 200);
      });
    });
  }
}

/** The Raft peer socket without the secret (or a wrong one): every upgrade must be refused 401. */
async function fuzzPeerSocket(
  random: SeededRandom,
  addresses: readonly string[],
  total: number,
  tally: Tally,
): Promise<void> {
  for (let dial = 0; dial < total; dial += 1) {
    const headers = random.pick<Record<string, string>>([
      {},
      { [secretHeader]: 'wrong-secret-0123456789' },
      { 'x-flotilla-node': 'm1' },
      { 'x-flotilla-node': '!!', [secretHeader]: '' },
    ]);
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://${random.pick(addresses)}/raft`, { headers });
      socket.on('unexpected-response', (_request, response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      socket.on('open', () => {
        socket.terminate();
        resolve(101);
      });
      socket.on('error', () => resolve(-1));
    });
    tally.sent += 1;
    count(tally, `upgrade ${status}`);
    if (status !== 401) tally.serverErrors.push(`a peer socket without the secret got ${status}`);
  }
}

/** Raw bytes on a master's port: the HTTP parser must answer or close, never take the process down. */
async function fuzzRawBytes(
  random: SeededRandom,
  addresses: readonly string[],
  total: number,
  tally: Tally,
): Promise<void> {
  for (let connection = 0; connection < total; connection += 1) {
    const [host, port] = random.pick(addresses).split(':');
    const payload = random.pick([
      Buffer.from('GARBAGE / HTTP/9.9\r\n\r\n'),
      Buffer.from(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      Buffer.from('POST /api/v1 HTTP/1.1\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{"ty'),
      Buffer.from(
        'POST /api/v1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZ\r\n',
      ),
      Buffer.from(Array.from({ length: 256 }, () => random.nextInt(256))),
    ]);
    const answered = await new Promise<boolean>((resolve) => {
      let data = '';
      const socket = connect(Number(port), host, () => socket.end(payload));
      socket.setTimeout(2_000, () => socket.destroy());
      socket.on('data', (chunk: Buffer) => {
        data += chunk.toString('latin1');
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(data.startsWith('HTTP/1.1 4')));
    });
    tally.sent += 1;
    count(tally, answered ? 'answered 4xx' : 'closed');
  }
}

async function stateHashOf(address: string): Promise<{ hash: string; applied: number }> {
  const response = await fetch(`http://${address}/api/v1/backup?stale=true`, { signal: AbortSignal.timeout(10_000) });
  if (response.status !== 200) throw new Error(`backup of ${address} answered ${response.status}`);
  const checked = checkBackup(new Uint8Array(await response.arrayBuffer()));
  return { hash: checked.stateHash, applied: checked.header.appliedIndex };
}

/** Every replica's state hash, once they all agree (they apply at their own pace). */
async function agreedHash(addresses: readonly string[]): Promise<string> {
  return waitFor(
    async () => {
      const hashes = await Promise.all(addresses.map(stateHashOf));
      return hashes.every((each) => each.hash === hashes[0]!.hash) ? hashes[0]!.hash : undefined;
    },
    { timeoutMs: 60_000, what: 'every replica to have the same state hash', intervalMs: 500 },
  );
}

function report(name: string, tally: Tally): void {
  const statuses = [...tally.byStatus.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => `${key}: ${n}`);
  console.log(`fuzz ${name}: ${tally.sent} sent; ${statuses.join(', ')}`);
}

test('malformed input everywhere: no 5xx, no crash, the state unchanged and equal on every replica', async () => {
  const random = new SeededRandom(seed);
  const routes = await masterRoutes();
  assert.ok(
    routes.some((route) => route.url === '/v2/apps') && routes.some((route) => route.url === '/api/v1/scheduler'),
  );
  const cluster = await E2eCluster.start('fuzz', ['cpus:1;mem:256']);
  try {
    const addresses = cluster.masters.replicas.map((replica) => replica.address);
    const agent = cluster.agents[0]!;
    const before = await agreedHash(addresses);
    const tallies = {
      routes: newTally(),
      agentApi: newTally(),
      agentSocket: newTally(),
      peer: newTally(),
      raw: newTally(),
    };
    await fuzzRoutes(random, addresses, routes, size.masterRequests, tallies.routes);
    await fuzzRoutes(random, [`127.0.0.1:${agent.port}`], agentRoutes, size.agentRequests, tallies.agentApi);
    await fuzzAgentSocket(random, addresses, size.agentFrames, tallies.agentSocket);
    await fuzzPeerSocket(random, addresses, size.peerDials, tallies.peer);
    await fuzzRawBytes(random, addresses, size.rawConnections, tallies.raw);
    console.log(`fuzz routes: ${routes.length} master routes, ${agentRoutes.length} agent routes`);
    for (const [name, tally] of Object.entries(tallies)) report(name, tally);
    const serverErrors = Object.values(tallies).flatMap((tally) => tally.serverErrors);
    assert.equal(serverErrors.slice(0, 20), [], `seed ${seed}: ${serverErrors.length} server errors`);
    for (const replica of cluster.masters.replicas) {
      assert.ok(
        replica.child !== null && replica.child.exitCode === null && replica.child.signalCode === null,
        `seed ${seed}: master ${replica.id} died:\n${replica.output.slice(-3000)}`,
      );
    }
    assert.ok(
      agent.child !== null && agent.child.exitCode === null,
      `seed ${seed}: the agent died:\n${agent.output.slice(-3000)}`,
    );
    await cluster.leader(30_000);
    assert.is(await agreedHash(addresses), before, `seed ${seed}: the replicated state changed`);
    assert.ok(
      (await cluster.agentViews()).some((view) => view.active),
      'the agent is still registered and active',
    );
  } finally {
    await cluster.stop();
  }
});

test('the hosted frameworks: malformed input to every /v2, /v1/jobs and /v0/scheduled-jobs route, no 5xx, no app or job made', async () => {
  // The cluster above runs without them (their offers would move the state hash); here one
  // master hosts both, so their own routes parse the input rather than a gate answering 404.
  const random = new SeededRandom(seed + 1);
  const routes = (await masterRoutes()).filter((route) => /^\/(v2|v1\/jobs|v0\/scheduled-jobs|ping)/.test(route.url));
  const master = await startSingleMaster({ services: 'hosted', jobs: 'hosted' });
  try {
    const address = master.url.slice('http://'.length);
    await waitFor(async () => (await fetch(`${master.url}/v2/apps`)).status === 200, {
      timeoutMs: 30_000,
      what: 'the hosted services framework to answer',
    });
    const tally = newTally();
    await fuzzRoutes(random, [address], routes, large ? 10_000 : 1_000, tally);
    report(`hosted frameworks (${routes.length} routes)`, tally);
    assert.equal(tally.serverErrors.slice(0, 20), [], `seed ${seed}: ${tally.serverErrors.length} server errors`);
    const apps = (await (await fetch(`${master.url}/v2/apps`)).json()) as { apps: unknown[] };
    assert.equal(apps.apps, [], 'no app was made');
    const jobs = (await (await fetch(`${master.url}/v1/jobs`)).json()) as unknown[];
    assert.equal(jobs, [], 'no job was made');
  } finally {
    await master.stop();
  }
});

test.run();
