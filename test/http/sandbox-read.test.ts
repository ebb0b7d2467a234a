// GET /api/v1/sandbox/read: a task's sandbox file read through a master. Against a real master
// and a real agent process running a real task: whole reads, paging by offset and length,
// stderr, the agent's own confinement (a folder, a symlink out of the sandbox), bad input
// refused before anything is looked up, and — against agents that are not there or misbehave
// (real sockets on loopback) — the three stable codes, the byte bound and the in-flight bound.
// flotilla-test-timeout-seconds: 240
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maxConcurrentSandboxReads, maxSandboxReadBytes } from '../../src/http/limits.ts';
import { agentId, frameworkId, offerId, taskId } from '../../src/state-machine/ids.ts';
import {
  newClient,
  OneTaskScheduler,
  startMasterAndAgent,
  type MasterAndAgent,
} from '../frameworks/support/cluster.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';
import {
  accept,
  cpus,
  createOffers,
  launch,
  mem,
  offerDefinition,
  registerAgent,
  resources,
  subscribe,
  taskDefinition,
} from '../state-machine/support/fixtures.ts';
import { proposeOk } from './support/operator.ts';

const taskCommand = [
  'echo first-line',
  'echo second-line',
  'echo on-stderr >&2',
  'mkdir a-folder',
  'ln -s /etc/hostname leads-out',
  'sleep 300',
].join('; ');

let real: MasterAndAgent;
let scheduler: OneTaskScheduler;
let framework: string;

test.before(async () => {
  real = await startMasterAndAgent();
  const client = newClient(real.masterAddress);
  scheduler = new OneTaskScheduler(client, 'reader', taskCommand);
  framework = await client.subscribe();
  await scheduler.waitForState('TASK_RUNNING');
});
test.after(async () => {
  await scheduler?.client.teardown().catch(() => undefined);
  await real?.stop();
});

interface ReadAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function read(baseUrl: string, query: Record<string, string>): Promise<ReadAnswer> {
  const response = await fetch(`${baseUrl}/api/v1/sandbox/read?${new URLSearchParams(query)}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const decoded = (answer: ReadAnswer): string => Buffer.from(String(answer.body.data), 'base64').toString('utf8');

function failsWith(answer: ReadAnswer, status: number, code: string, label: string): void {
  assert.is(answer.status, status, `${label}: ${JSON.stringify(answer.body)}`);
  assert.is(errorOf(answer.body, label).code, code, label);
}

test("reads a running task's stdout and stderr through the master", async () => {
  const stdout = await waitFor(
    async () => {
      const answer = await read(real.master.url, { framework_id: framework, task_id: 'reader' });
      return answer.status === 200 && decoded(answer).includes('second-line') ? answer : null;
    },
    { timeoutMs: 30_000, what: 'the task to write its two lines' },
  );
  assert.is(decoded(stdout), 'first-line\nsecond-line\n');
  assert.is(stdout.body.size, 'first-line\nsecond-line\n'.length);
  assert.is(stdout.body.offset, 0);
  assert.is(stdout.body.path, 'stdout');
  assert.is(stdout.body.task_id, 'reader');
  assert.is(stdout.body.framework_id, framework);
  assert.type(stdout.body.agent_id, 'string');
  const stderr = await read(real.master.url, { framework_id: framework, task_id: 'reader', path: 'stderr' });
  assert.is(stderr.status, 200);
  assert.match(decoded(stderr), 'on-stderr');
});

test('pages with offset and length, as a follower of the file does', async () => {
  const query = { framework_id: framework, task_id: 'reader' };
  const slice = await read(real.master.url, { ...query, offset: '6', length: '4' });
  assert.is(decoded(slice), 'line');
  assert.is(slice.body.offset, 6);
  const size = Number(slice.body.size);
  const atEnd = await read(real.master.url, { ...query, offset: String(size), length: '1000' });
  assert.is(atEnd.status, 200);
  assert.is(decoded(atEnd), '');
  const beyond = await read(real.master.url, { ...query, offset: String(size + 100) });
  assert.is(beyond.status, 200, 'a truncated file reads empty; size < offset tells the reader');
  assert.ok(Number(beyond.body.size) < Number(beyond.body.offset));
  const sizeOnly = await read(real.master.url, { ...query, length: '0' });
  assert.is(decoded(sizeOnly), '');
  assert.is(sizeOnly.body.size, size);
});

test("the agent's confinement holds: a folder, a symlink out of the sandbox, a missing file", async () => {
  const query = { framework_id: framework, task_id: 'reader' };
  await waitFor(async () => (await read(real.master.url, { ...query, path: 'a-folder' })).status === 400, {
    timeoutMs: 30_000,
    what: 'the task to make its folder',
  });
  failsWith(await read(real.master.url, { ...query, path: 'a-folder' }), 400, 'SANDBOX_FILE_REFUSED', 'a folder');
  failsWith(await read(real.master.url, { ...query, path: 'leads-out' }), 400, 'SANDBOX_FILE_REFUSED', 'a symlink');
  failsWith(await read(real.master.url, { ...query, path: 'nothing-here' }), 404, 'SANDBOX_FILE_NOT_FOUND', 'missing');
  failsWith(
    await read(real.master.url, { framework_id: framework, task_id: 'no-such-task' }),
    404,
    'TASK_NOT_FOUND',
    'an unknown task',
  );
});

test('bad input is a 400 in the envelope, before any lookup', async () => {
  const good = { framework_id: framework, task_id: 'reader' };
  const attempts: [string, Record<string, string>][] = [
    ['no framework_id', { task_id: 'reader' }],
    ['no task_id', { framework_id: framework }],
    ['a task id with a slash', { ...good, task_id: 'a/b' }],
    ['an empty task id', { ...good, task_id: '' }],
    ['a parent path', { ...good, path: '../../etc/passwd' }],
    ['a path with ..', { ...good, path: 'a-folder/../stdout' }],
    ['an absolute path', { ...good, path: '/etc/passwd' }],
    ['a path with //', { ...good, path: 'a-folder//x' }],
    ['a path of .', { ...good, path: '.' }],
    ['an empty path', { ...good, path: '' }],
    ['a NUL', { ...good, path: 'std\0out' }],
    ['a backslash', { ...good, path: '..\\x' }],
    ['a long path', { ...good, path: 'a'.repeat(1025) }],
    ['a negative offset', { ...good, offset: '-1' }],
    ['a word offset', { ...good, offset: 'ten' }],
    ['a fractional length', { ...good, length: '1.5' }],
    ['an exponent length', { ...good, length: '1e3' }],
    ['a length past the bound', { ...good, length: String(maxSandboxReadBytes + 1) }],
    ['a huge offset', { ...good, offset: '9'.repeat(16) }],
  ];
  for (const [label, query] of attempts) failsWith(await read(real.master.url, query), 400, 'BAD_REQUEST', label);
  const repeated = await fetch(`${real.master.url}/api/v1/sandbox/read?task_id=reader&task_id=other&framework_id=x`);
  assert.is(repeated.status, 400, 'a repeated parameter is not an id');
});

/** A master whose only task runs on an "agent" at `agentPort`: whatever listens there, or nothing. */
async function masterWithTaskOn(agentPort: number): Promise<SingleMaster> {
  const master = await startSingleMaster();
  master.master.allocation.setSuppressedRoles(frameworkId('f1'), ['*']);
  await proposeOk(
    master,
    registerAgent(agentId('a1'), { address: { ip: '127.0.0.1', port: agentPort } }),
    subscribe(frameworkId('f1')),
    createOffers(offerDefinition(offerId('o1'), resources(cpus(1), mem(64)))),
    accept([offerId('o1')], [launch(taskDefinition(taskId('t1'), resources(cpus(1), mem(64))))]),
  );
  return master;
}

async function listen(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server): number => (server.address() as { port: number }).port;

test('an agent that is not there, or answers what a read cannot be, is a 502 AGENT_UNAVAILABLE', async () => {
  const query = { framework_id: 'f1', task_id: 't1' };
  const nobody = await masterWithTaskOn(await freePort());
  try {
    failsWith(await read(nobody.url, query), 502, 'AGENT_UNAVAILABLE', 'nothing listens');
  } finally {
    await nobody.stop();
  }
  const answers: [string, (response: ServerResponse) => void][] = [
    ['not JSON', (response) => response.writeHead(200).end('hello')],
    ['no read_file', (response) => response.writeHead(200).end('{"type":"READ_FILE"}')],
    ['a 500', (response) => response.writeHead(500).end('{"error":{"code":"INTERNAL","message":"x"}}')],
    ['too long', (response) => response.writeHead(200).end(`{"read_file":{"size":1,"data":"${'A'.repeat(200_000)}"}}`)],
    [
      'more than asked',
      (response) => response.writeHead(200).end('{"read_file":{"size":9,"data":"aGVsbG8gd29ybGQ="}}'),
    ],
  ];
  for (const [label, answer] of answers) {
    const agent = await listen((_request, response) => answer(response));
    const master = await masterWithTaskOn(portOf(agent));
    try {
      failsWith(
        await read(master.url, { ...query, length: label === 'more than asked' ? '4' : '100' }),
        502,
        'AGENT_UNAVAILABLE',
        label,
      );
    } finally {
      await master.stop();
      agent.closeAllConnections();
      agent.close();
    }
  }
});

test(`at most ${maxConcurrentSandboxReads} reads wait on agents at once; one more is a 429`, async () => {
  const waiting: ServerResponse[] = [];
  const answer = (response: ServerResponse): void => {
    response.writeHead(200).end('{"read_file":{"size":5,"data":"aGVsbG8="}}');
  };
  let holding = true;
  const agent = await listen((_request, response) => (holding ? waiting.push(response) : answer(response)));
  const master = await masterWithTaskOn(portOf(agent));
  try {
    const query = { framework_id: 'f1', task_id: 't1', length: '5' };
    const held = Array.from({ length: maxConcurrentSandboxReads }, () => read(master.url, query));
    await waitFor(() => waiting.length === maxConcurrentSandboxReads, {
      timeoutMs: 10_000,
      what: `${maxConcurrentSandboxReads} reads to reach the agent`,
    });
    failsWith(await read(master.url, query), 429, 'TOO_MANY_REQUESTS', 'one read too many');
    holding = false;
    for (const response of waiting) answer(response);
    for (const done of await Promise.all(held)) assert.is(decoded(done), 'hello');
    assert.is(decoded(await read(master.url, query)), 'hello', 'room again once the reads are answered');
  } finally {
    for (const response of waiting) if (!response.writableEnded) response.end();
    await master.stop();
    agent.closeAllConnections();
    agent.close();
  }
});

test.run();
