// flotilla-test-timeout-seconds: 300
// Executor authentication end to end (docs/security.md), on a master and an agent process both
// with --credentials: the agent gives each custom executor a token of its own
// (MESOS_EXECUTOR_AUTHENTICATION_TOKEN); the example executor, written with the executor SDK,
// sends it and runs its tasks, one to TASK_FINISHED. A call without a token, with a wrong one or
// with another executor's is refused 401 with a Bearer challenge; the executor's own token works.
// The agent is SIGKILLed and restarted: the executor keeps its token (the checkpoint holds it)
// and subscribes again. No token appears in the agent's log.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exampleTask } from '../../examples/executors/framework.ts';
import { SchedulerClient } from '../../src/frameworks/sdk/client.ts';
import { parseMasterList } from '../../src/frameworks/sdk/masters.ts';
import { basicAuthorization, bearerAuthorization } from '../../src/protocol/http-authorization.ts';
import type { Offer, TaskStatus } from '../../src/protocol/mesos.ts';
import { AgentProcess } from '../agent/support/daemon-support.ts';
import { type SingleMaster, startSingleMaster } from '../support/master.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const waitMs = 90_000;
const frameworkSecret = 'framework-secret-for-executor-auth-4d1c';
const operatorSecret = 'operator-secret-for-executor-auth-9e27';
const directory = makeTempDir('executor-auth-');
const credentialsFile = path.join(directory, 'credentials.json');
writeFileSync(
  credentialsFile,
  JSON.stringify({
    credentials: [
      { principal: 'fw', secret: frameworkSecret },
      { principal: 'ops', secret: operatorSecret },
    ],
  }),
);
const asOps = { authorization: basicAuthorization('ops', operatorSecret) };

let master: SingleMaster;
let agent: AgentProcess;
let client: SchedulerClient;
let frameworkId = '';
const statuses: TaskStatus[] = [];
/** Tasks to launch, in order, one per offer: [executor id, task id, work ms (null: until killed)]. */
const toLaunch: [string, string, number | null][] = [
  ['exec-a', 'a-long', null],
  ['exec-b', 'b-long', null],
  ['exec-a', 'a-short', 200],
];

interface AgentExecutor {
  readonly framework_id: string;
  readonly executor_id: string;
  readonly state: string;
  readonly subscriptions: number;
  readonly pid: number | null;
}

async function agentExecutors(): Promise<AgentExecutor[]> {
  const response = await fetch(agent.url('/api/v1'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...asOps },
    body: JSON.stringify({ type: 'GET_STATE' }),
  });
  assert.is(response.status, 200, 'GET_STATE as ops');
  const body = (await response.json()) as { get_state: { executors: AgentExecutor[] } };
  return body.get_state.executors;
}

/** The token the agent gave the executor, read from its process's environment. */
function tokenOf(pid: number): string {
  const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const entry = environment.find((line) => line.startsWith('MESOS_EXECUTOR_AUTHENTICATION_TOKEN='));
  assert.ok(entry, `executor ${pid} has MESOS_EXECUTOR_AUTHENTICATION_TOKEN`);
  return entry.slice(entry.indexOf('=') + 1);
}

async function executorCall(body: unknown, authorization: string | null) {
  const response = await fetch(agent.url('/api/v1/executor'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    code: text === '' ? null : ((JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null),
  };
}

const heartbeat = (executorId: string) => ({
  type: 'HEARTBEAT',
  framework_id: { value: frameworkId },
  executor_id: { value: executorId },
});

const statusOf = (taskId: string, state: string): Promise<TaskStatus> =>
  waitFor(() => statuses.find((status) => status.task_id.value === taskId && status.state === state), {
    timeoutMs: waitMs,
    what: `${taskId} ${state} (seen: ${statuses.map((status) => `${status.task_id.value}:${status.state}`)})`,
  });

async function setUp(): Promise<void> {
  master = await startSingleMaster({ credentials: credentialsFile });
  agent = await AgentProcess.start(master.url.replace('http://', ''), ['--credentials', credentialsFile]);
  client = new SchedulerClient({
    masters: parseMasterList(master.url.replace('http://', '')),
    framework: {
      user: os.userInfo().username,
      name: 'executor-auth',
      principal: 'fw',
      roles: ['*'],
      capabilities: [{ type: 'MULTI_ROLE' }],
    },
    secret: frameworkSecret,
  });
  client.on('UPDATE', (event) => statuses.push(event.update.status));
  client.on('OFFERS', (event) => {
    for (const offer of event.offers.offers as Offer[]) {
      const next = toLaunch.shift();
      if (next === undefined) {
        void client.decline([offer.id]).catch(() => undefined);
        continue;
      }
      const [executorId, taskId, workMs] = next;
      void client.launch(offer, [exampleTask(offer, executorId, taskId, workMs)]).catch(() => undefined);
    }
  });
  frameworkId = await client.subscribe();
}

// uvu reports a failing hook as failed tests without the reason: it is printed here.
test.before(() =>
  setUp().catch((error: unknown) => {
    console.error('setting up the cluster failed:', error);
    throw error;
  }),
);

test.after(async () => {
  client?.close();
  const left = agent === undefined ? [] : await agentExecutors().catch(() => []);
  for (const executor of left) {
    try {
      if (executor.pid !== null) process.kill(-executor.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await agent?.stop();
  await master?.stop();
});

test('the SDK executor authenticates with its token: its tasks run, one to TASK_FINISHED', async () => {
  await statusOf('a-long', 'TASK_RUNNING');
  await statusOf('b-long', 'TASK_RUNNING');
  const finished = await statusOf('a-short', 'TASK_FINISHED');
  assert.is(finished.executor_id?.value, 'exec-a');
});

test('calls without the token, with a wrong one or another executor’s are refused 401; its own works', async () => {
  const executors = await agentExecutors();
  const pidOf = (id: string): number => {
    const executor = executors.find((each) => each.executor_id === id);
    assert.ok(executor?.pid, `${id} runs`);
    return executor.pid;
  };
  const tokenA = tokenOf(pidOf('exec-a'));
  const tokenB = tokenOf(pidOf('exec-b'));
  assert.is(Buffer.from(tokenA, 'base64url').length, 32, '32 random bytes, base64url');
  assert.is.not(tokenA, tokenB, 'a token per executor');

  const none = await executorCall(heartbeat('exec-a'), null);
  assert.is(none.status, 401);
  assert.is(none.code, 'UNAUTHORIZED');
  assert.match(none.challenge ?? '', /^Bearer realm=/);
  const wrong = await executorCall(heartbeat('exec-a'), bearerAuthorization(`${tokenA.slice(0, -2)}xx`));
  assert.is(wrong.status, 401, 'a wrong token');
  assert.is(wrong.code, 'UNAUTHORIZED');
  const other = await executorCall(heartbeat('exec-a'), bearerAuthorization(tokenB));
  assert.is(other.status, 401, "exec-b's token for exec-a");
  assert.is(other.code, 'UNAUTHORIZED');
  const basic = await executorCall(heartbeat('exec-a'), basicAuthorization('ops', operatorSecret));
  assert.is(basic.status, 401, "an operator's credentials are not an executor's");
  const unknown = await executorCall(heartbeat('exec-z'), bearerAuthorization(tokenA));
  assert.is(unknown.status, 401, 'no executor exec-z: no token to match');

  assert.is((await executorCall(heartbeat('exec-a'), bearerAuthorization(tokenA))).status, 202, "exec-a's own");
  assert.is((await executorCall(heartbeat('exec-b'), bearerAuthorization(tokenB))).status, 202, "exec-b's own");
});

test('after an agent restart the executor keeps its token and subscribes again', async () => {
  const before = (await agentExecutors()).find((each) => each.executor_id === 'exec-b');
  assert.ok(before?.pid);
  const token = tokenOf(before.pid);
  await agent.stop('SIGKILL');
  agent.launch();
  await waitFor(
    async () => {
      const executors = await agentExecutors().catch(() => []);
      const executor = executors.find((each) => each.executor_id === 'exec-b');
      return executor?.state === 'subscribed' ? executor : undefined;
    },
    { timeoutMs: waitMs, what: 'exec-b subscribed again to the restarted agent' },
  );
  assert.is((await executorCall(heartbeat('exec-b'), bearerAuthorization(token))).status, 202, 'the same token');
  assert.is((await executorCall(heartbeat('exec-b'), null)).status, 401);
});

test("no token appears in the agent's log", async () => {
  const executors = await agentExecutors();
  const tokens = executors.flatMap((each) => (each.pid === null ? [] : [tokenOf(each.pid)]));
  assert.ok(tokens.length >= 2, 'both executors still run');
  assert.ok(agent.output.includes('executor started'), 'the log was read');
  for (const token of tokens) assert.not.ok(agent.output.includes(token), 'a token in the log');
});

test.run();
