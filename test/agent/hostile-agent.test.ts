// Hostile input to the agent surfaces: the masters' agent WebSocket (malformed frames, absurd
// registrations, status updates and usage for tasks that are not the sender's, a flood, a second
// connection claiming an agent id) on a real single-voter master, and the agent's own HTTP API
// (LIST_FILES / READ_FILE with traversal and absurd numbers) on a real in-process agent. Nothing
// may crash either process, change replicated state on a refused message, or leak a stack.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { Agent } from '../../src/agent/agent.ts';
import { ProcessContainerizer } from '../../src/agent/containerizer/process.ts';
import { healthCheckStarter } from '../../src/agent/health-watch.ts';
import {
  agentProtocolVersion,
  agentWebSocketPath,
  encodeMessage,
  type AgentMessageBody,
} from '../../src/protocol/agent.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { developmentSecret, secretHeader } from '../../src/util/shared-secret.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { errorOf, type JsonObject } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor, withTimeout } from '../support/wait.ts';

interface Peer {
  readonly socket: WebSocket;
  /** The master's messages, parsed as JSON and not validated: the test asserts what they hold. */
  readonly inbox: JsonObject[];
  next(): Promise<JsonObject>;
  send(body: AgentMessageBody): void;
}

function connect(cluster: SingleMaster): Promise<Peer> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://${cluster.url.slice('http://'.length)}${agentWebSocketPath}`, {
        headers: { [secretHeader]: developmentSecret },
      });
      const inbox: JsonObject[] = [];
      socket.on('message', (data) => inbox.push(JSON.parse(data.toString()) as JsonObject));
      socket.on('error', reject);
      socket.on('open', () =>
        resolve({
          socket,
          inbox,
          next: () => waitFor(() => inbox.shift(), { timeoutMs: 20_000, what: 'a message from the master' }),
          send: (body) => socket.send(encodeMessage(body)),
        }),
      );
    }),
    20_000,
    'the agent socket to open',
  );
}

const info = (resources: unknown[], overrides: Record<string, unknown> = {}) =>
  ({
    hostname: 'hostile',
    address: { ip: '127.0.0.1', port: 1 },
    zone: null,
    attributes: {},
    resources,
    ...overrides,
  }) as never;
const cpus = (scalar: number) => ({ name: 'cpus', role: '*', type: 'SCALAR', scalar });
const status = (state: string, timestampMs = 1) =>
  ({
    state,
    reason: null,
    message: null,
    source: 'SOURCE_AGENT',
    uuid: 'AAAAAAAAAAAAAAAAAAAAAA==',
    timestampMs,
    healthy: null,
  }) as never;

async function assertHealthy(cluster: SingleMaster): Promise<void> {
  assert.is((await fetch(`${cluster.url}/health`)).status, 200, 'the master still answers /health');
}

// ---------------------------------------------------------------- the masters' gateway

const gateway = suite('agent gateway under hostile agents');
let cluster: SingleMaster;
gateway.before(async () => {
  cluster = await startSingleMaster();
});
gateway.after(async () => {
  await cluster.stop();
});
const hash = (): string => stateHash(cluster.master.machine.state);

gateway('absurd registrations are refused and change nothing', async () => {
  const cases: [string, unknown[], Record<string, unknown>, string][] = [
    ['1e308 cpus', [cpus(1e308)], {}, 'REGISTRATION_FAILED'],
    ['negative cpus', [cpus(-1)], {}, 'MALFORMED_MESSAGE'],
    [
      '100k port ranges',
      [
        {
          name: 'ports',
          role: '*',
          type: 'RANGES',
          ranges: Array.from({ length: 100_000 }, (_, index) => ({ begin: 2 * index, end: 2 * index })),
        },
      ],
      {},
      'MALFORMED_MESSAGE',
    ],
    [
      '64 x 1024 ranges',
      Array.from({ length: 64 }, (_, resource) => ({
        name: `p${resource}`,
        role: '*',
        type: 'RANGES',
        ranges: Array.from({ length: 1024 }, (_, index) => ({ begin: 2 * index, end: 2 * index })),
      })),
      {},
      'REGISTRATION_FAILED',
    ],
    [
      'reversed range',
      [{ name: 'ports', role: '*', type: 'RANGES', ranges: [{ begin: 9, end: 1 }] }],
      {},
      'REGISTRATION_FAILED',
    ],
    ['__proto__ resource', [{ ...cpus(1), name: '__proto__' }], {}, 'REGISTRATION_FAILED'],
    ['role traversal', [{ ...cpus(1), role: '../x' }], {}, 'REGISTRATION_FAILED'],
    ['hostname with spaces', [], { hostname: '../../x y' }, 'REGISTRATION_FAILED'],
    ['bad ip and port', [], { address: { ip: 'not an ip', port: 99_999_999 } }, 'REGISTRATION_FAILED'],
  ];
  for (const [label, resources, overrides, code] of cases) {
    const peer = await connect(cluster);
    const before = hash();
    peer.send({ type: 'register', agentId: null, tasks: [], executors: [], info: info(resources, overrides) });
    const answer = await peer.next();
    assert.is(answer.type, 'error', label);
    assert.is(answer.code, code, `${label}: ${String(answer.message)}`);
    assert.is(hash(), before, `${label}: the state is unchanged`);
    peer.socket.terminate();
  }
  const traversal = await connect(cluster);
  traversal.send({ type: 'register', agentId: '../../etc', tasks: [], executors: [], info: info([cpus(1)]) });
  assert.is((await traversal.next()).code, 'MALFORMED_MESSAGE');
  traversal.socket.terminate();
  await assertHealthy(cluster);
});

gateway("malformed frames, floods and messages for other agents' tasks", async () => {
  const peer = await connect(cluster);
  peer.send({ type: 'register', agentId: null, tasks: [], executors: [], info: info([cpus(2)]) });
  const registered = await peer.next();
  assert.is(registered.type, 'registered');
  // Then the agent's persistent volumes (none), so it can delete those destroyed while it was away.
  assert.is((await peer.next()).type, 'volumes');
  const before = hash();
  for (const frame of [
    '',
    '[]',
    'null',
    '"x"',
    `{"v":${agentProtocolVersion}}`,
    `{"v":${agentProtocolVersion},"type":"register"}`,
    `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  ]) {
    peer.socket.send(frame);
    assert.is((await peer.next()).code, 'MALFORMED_MESSAGE', frame.slice(0, 20));
  }
  peer.socket.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.is((await peer.next()).code, 'MALFORMED_MESSAGE', 'binary');
  peer.send({ type: 'register', agentId: null, tasks: [], executors: [], info: info([cpus(1)]) });
  assert.is((await peer.next()).code, 'REGISTRATION_FAILED', 'a socket registers once');
  // A status update for a task that is not this agent's is acknowledged (so it stops resending),
  // recorded nowhere, and answered with a kill for the sender only.
  peer.send({ type: 'status_update', frameworkId: 'f', taskId: 't', status: status('TASK_RUNNING') });
  assert.is((await peer.next()).type, 'status_ack');
  assert.is((await peer.next()).type, 'kill');
  peer.send({ type: 'status_update', frameworkId: 'f', taskId: 't', status: status('TASK_EXPLODED') });
  assert.is((await peer.next()).code, 'MALFORMED_MESSAGE');
  // Usage of tasks the master does not have on this agent is not kept.
  const usage = {
    cpusUserTimeSecs: 1,
    cpusSystemTimeSecs: 1,
    cpuPercent: 1,
    memRssBytes: 1,
    memLimitBytes: null,
    cpusLimit: null,
    timestampMs: 1,
  };
  peer.send({
    type: 'usage',
    tasks: Array.from({ length: 5000 }, (_, index) => ({ frameworkId: 'f', taskId: `t${index}`, usage })),
  });
  // A flood: pongs and garbage; the gateway answers the garbage and keeps going.
  for (let index = 0; index < 20_000; index++) peer.send({ type: 'pong', nonce: index });
  for (let index = 0; index < 1000; index++) peer.socket.send('garbage');
  await waitFor(
    () => peer.inbox.filter((message) => message.code === 'MALFORMED_MESSAGE').length >= 1000 || undefined,
    { timeoutMs: 60_000, what: 'the flood to be answered' },
  );
  assert.is(cluster.master.agents.taskUsage('f', 't1'), null, "usage of a task that is not the agent's is dropped");
  assert.is(hash(), before, 'no refused message changed the state');
  assert.is(peer.socket.readyState, WebSocket.OPEN, 'the agent is still connected');
  await assertHealthy(cluster);
  peer.socket.terminate();
});

gateway('a second connection claiming an agent id replaces the first (the documented re-registration)', async () => {
  const original = await connect(cluster);
  original.send({ type: 'register', agentId: null, tasks: [], executors: [], info: info([cpus(2)]) });
  const registered = await original.next();
  assert.ok(typeof registered.agentId === 'string', `registered: ${JSON.stringify(registered)}`);
  const closed = new Promise<number>((resolve) => original.socket.on('close', (code) => resolve(code)));
  const claimant = await connect(cluster);
  claimant.send({ type: 'register', agentId: registered.agentId, tasks: [], executors: [], info: info([cpus(1e308)]) });
  assert.is(
    (await claimant.next()).code,
    'REGISTRATION_FAILED',
    'absurd resources are refused before anything is replaced',
  );
  assert.is(original.socket.readyState, WebSocket.OPEN);
  const second = await connect(cluster);
  second.send({ type: 'register', agentId: registered.agentId, tasks: [], executors: [], info: info([cpus(3)]) });
  assert.is((await second.next()).type, 'registered');
  assert.is(
    await withTimeout(closed, 20_000, 'the replaced socket to close'),
    4002,
    'the older socket is closed as replaced',
  );
  await assertHealthy(cluster);
  second.socket.terminate();
});

gateway.run();

// ---------------------------------------------------------------- the agent's own HTTP API

const files = suite('agent HTTP API under hostile callers');
let agent: Agent;
let agentUrl: string;

files.before(async () => {
  const workDir = makeTempDir('hostile-agent-');
  const sandbox = path.join(workDir, 'frameworks', 'fw1', 'tasks', 'task1');
  mkdirSync(sandbox, { recursive: true });
  writeFileSync(path.join(sandbox, 'stdout'), 'hello\n');
  const port = await freePort();
  agent = await Agent.start({
    masters: ['127.0.0.1:1'],
    workDir,
    resources: [{ name: 'cpus', role: '*', type: 'SCALAR', scalar: 1 }],
    attributes: {},
    zone: null,
    secret: developmentSecret,
    hostname: 'hostile-agent',
    listenHost: '127.0.0.1',
    listenPort: port,
    containerizers: new Map([['process', new ProcessContainerizer({ logger: silentLogger })]]),
    startHealthCheck: healthCheckStarter(silentLogger),
    defaultKillGracePeriodMs: 100,
    switchUser: true,
    allowRootTasks: true,
    usageIntervalMs: 60_000,
    executors: {
      registrationTimeoutMs: 60_000,
      recoveryTimeoutMs: 60_000,
      subscriptionBackoffMaxMs: 2_000,
      shutdownGracePeriodMs: 1_000,
      idleTimeoutMs: 1_000,
      heartbeatIntervalMs: 30_000,
    },
    logger: silentLogger,
  });
  agentUrl = `http://127.0.0.1:${port}`;
});
files.after(async () => {
  await agent.stop();
});

/** The agent's READ_FILE answer, as far as these tests read it: the bytes in base64. */
interface ReadFileAnswer {
  readonly read_file: { readonly data: string };
}

async function call(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${agentUrl}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function agentRefuses(
  label: string,
  body: unknown,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const answer = await call(body, headers);
  assert.is(answer.status, status, `${label}: ${JSON.stringify(answer.body)}`);
  const error = errorOf(answer.body, label);
  assert.is(error.code, code, label);
  assert.not.match(error.message, /\n\s+at /, `${label}: no stack trace`);
}

files('LIST_FILES and READ_FILE refuse traversal and absurd numbers', async () => {
  const read = (fields: Record<string, unknown>) => ({
    type: 'READ_FILE',
    read_file: { framework_id: 'fw1', task_id: 'task1', path: 'stdout', ...fields },
  });
  const ok = await call(read({}));
  assert.is(ok.status, 200);
  assert.is(Buffer.from((ok.body as ReadFileAnswer).read_file.data, 'base64').toString(), 'hello\n');
  await agentRefuses('.. path', read({ path: '../../../../etc/passwd' }), 400, 'SANDBOX_PATH_INVALID');
  await agentRefuses('absolute path', read({ path: '/etc/passwd' }), 400, 'SANDBOX_PATH_INVALID');
  await agentRefuses('NUL in path', read({ path: 'stdout\u0000' }), 400, 'SANDBOX_PATH_INVALID');
  await agentRefuses('path of 10k chars', read({ path: 'a/'.repeat(5000) }), 400, 'SANDBOX_PATH_INVALID');
  await agentRefuses('path a number', read({ path: 5 }), 400, 'INVALID_BODY');
  await agentRefuses('task id traversal', read({ task_id: '..' }), 400, 'INVALID_BODY');
  await agentRefuses('framework id with /', read({ framework_id: 'a/b' }), 400, 'INVALID_BODY');
  await agentRefuses('negative offset', read({ offset: -1 }), 400, 'SANDBOX_RANGE_INVALID');
  await agentRefuses('negative length', read({ length: -5 }), 400, 'SANDBOX_RANGE_INVALID');
  await agentRefuses('offset 1e308', read({ offset: 1e308 }), 400, 'INVALID_BODY');
  await agentRefuses('offset a string', read({ offset: '1' }), 400, 'INVALID_BODY');
  await agentRefuses('fractional length', read({ length: 1.5 }), 400, 'INVALID_BODY');
  const huge = await call(read({ offset: Number.MAX_SAFE_INTEGER, length: Number.MAX_SAFE_INTEGER }));
  assert.ok(
    huge.status === 200 || huge.status === 400,
    `a huge offset and length are read (nothing) or refused: ${JSON.stringify(huge.body)}`,
  );
  if (huge.status === 200) assert.is((huge.body as ReadFileAnswer).read_file.data, '');
  await agentRefuses('missing file', read({ path: 'nope' }), 404, 'SANDBOX_FILE_NOT_FOUND');
  await agentRefuses(
    'list traversal',
    { type: 'LIST_FILES', list_files: { path: '../..' } },
    400,
    'SANDBOX_PATH_INVALID',
  );
  await agentRefuses('list_files an array', { type: 'LIST_FILES', list_files: [] }, 400, 'INVALID_BODY');
  await agentRefuses('read_file null', { type: 'READ_FILE', read_file: null }, 400, 'INVALID_BODY');
  await agentRefuses('unknown call', { type: 'constructor' }, 400, 'UNKNOWN_CALL');
  await agentRefuses('type a number', { type: 5 }, 400, 'INVALID_BODY');
  await agentRefuses('body []', '[]', 400, 'INVALID_BODY');
  await agentRefuses('body null', 'null', 400, 'INVALID_BODY');
  await agentRefuses('not JSON', '{"type":', 400, 'BAD_REQUEST');
  await agentRefuses('text/plain', { type: 'GET_STATE' }, 415, 'UNSUPPORTED_MEDIA_TYPE', {
    'content-type': 'text/plain',
  });
  await agentRefuses('100 KB body', { type: 'GET_STATE', padding: 'x'.repeat(100_000) }, 413, 'PAYLOAD_TOO_LARGE');
  assert.is((await fetch(`${agentUrl}/health`)).status, 200, 'the agent still answers /health');
});

files.run();
