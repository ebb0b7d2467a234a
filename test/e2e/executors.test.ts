// flotilla-test-timeout-seconds: 420
// Framework executors end to end, on a real master and a real agent process: the example
// framework's custom executor (examples/executors/executor.ts, written with the executor SDK)
// started once for three tasks, a framework message scheduler → executor → scheduler, a kill
// that leaves the other tasks running, the executor SIGKILLed (its task fails with a reason),
// SHUTDOWN, a task group on the default executor (one task failing kills the group), the agent
// SIGKILLed and restarted with the executor re-subscribing and keeping its task, and malformed
// or misdirected executor calls answered 4xx with the agent's error shape; and, on an agent with
// short deadlines, the registration timeout, the idle shutdown and the recovery timeout.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { exampleTask } from '../../examples/executors/framework.ts';
import type { Offer } from '../../src/protocol/mesos.ts';
import { AgentProcess } from '../agent/support/daemon-support.ts';
import { operatorCall } from '../http/support/operator.ts';
import { SchedulerClient } from '../http/support/scheduler-client.ts';
import { errorOf } from '../support/answers.ts';
import { type SingleMaster, startSingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';
import { EventLog } from './support/event-log.ts';

const waitMs = 90_000;

const scalar = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value } });
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const text = (data: string): string => Buffer.from(data, 'base64').toString('utf8');

interface AgentExecutor {
  readonly framework_id: string;
  readonly executor_id: string;
  readonly kind: string;
  readonly state: string;
  readonly subscriptions: number;
  readonly pid: number | null;
}

async function agentExecutors(agent: AgentProcess): Promise<AgentExecutor[]> {
  const response = await fetch(agent.url('/api/v1'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'GET_STATE' }),
  });
  const body = (await response.json()) as { get_state: { executors: AgentExecutor[] } };
  return body.get_state.executors;
}

async function executorCall(agent: AgentProcess, body: unknown, contentType = 'application/json') {
  const response = await fetch(agent.url('/api/v1/executor'), {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const answer = await response.text();
  return { status: response.status, body: answer === '' ? null : (JSON.parse(answer) as unknown) };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Cluster {
  master: SingleMaster;
  agent: AgentProcess;
  client: SchedulerClient;
  log: EventLog;
}

const executors = suite<{ cluster: Cluster | null }>('framework executors', { cluster: null });

executors.before(async (context) => {
  const master = await startSingleMaster();
  const agent = await AgentProcess.start(master.url.slice('http://'.length), [
    '--executor-recovery-timeout-ms',
    '60000',
    '--executor-idle-timeout-ms',
    '600000',
  ]);
  const client = await SchedulerClient.subscribe(master.url);
  context.cluster = { master, agent, client, log: new EventLog(client) };
});

executors.after(async ({ cluster }) => stopCluster(cluster));

/** Executors outlive their agent by design: the suites end theirs (process groups) before stopping it. */
async function stopCluster(cluster: Cluster | null): Promise<void> {
  cluster?.log.stop();
  const left = cluster === null ? [] : await agentExecutors(cluster.agent).catch(() => []);
  for (const executor of left) {
    try {
      if (executor.pid !== null) process.kill(-executor.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await cluster?.agent.stop();
  await cluster?.master.stop();
}

async function accept(cluster: Cluster, offer: Offer, operations: unknown[]): Promise<void> {
  cluster.log.used.add(offer.id.value);
  await cluster.client.callOk('ACCEPT', {
    accept: { offer_ids: [offer.id], operations, filters: { refuse_seconds: 0 } },
  });
}

async function customExecutorOf(cluster: Cluster, executorId: string): Promise<AgentExecutor> {
  return waitFor(
    async () =>
      (await agentExecutors(cluster.agent)).find(
        (executor) => executor.executor_id === executorId && executor.state === 'subscribed',
      ),
    { timeoutMs: waitMs, what: `executor ${executorId} subscribed on the agent` },
  );
}

executors(
  'one executor runs three tasks, messages both ways, a kill leaves the others, a SIGKILL fails its task',
  async ({ cluster }) => {
    const { client, log, agent, master } = cluster!;
    const offer = await log.offer();
    const launch = (id: string, workMs: number | null) => exampleTask(offer, 'ex-a', id, workMs);
    await accept(cluster!, offer, [
      { type: 'LAUNCH', launch: { task_infos: [launch('a1', null), launch('a2', null), launch('a3', 500)] } },
    ]);
    await log.status('a1', 'TASK_RUNNING');
    await log.status('a2', 'TASK_RUNNING');
    const finished = await log.status('a3', 'TASK_FINISHED');
    assert.is(finished.source, 'SOURCE_EXECUTOR');
    const executor = await customExecutorOf(cluster!, 'ex-a');
    const all = (await agentExecutors(agent)).filter((each) => each.kind === 'custom');
    assert.is(all.length, 1, `one executor process for three tasks: ${JSON.stringify(all)}`);
    assert.is(executor.subscriptions, 1);
    assert.ok(executor.pid !== null && alive(executor.pid));

    const listed = await operatorCall(master, { type: 'GET_EXECUTORS' });
    assert.is(listed.status, 200);
    assert.match(JSON.stringify(listed.body), /"executor_id":\{"value":"ex-a"\}/);

    // A framework message there and back: the executor answers with how many tasks it runs.
    await client.callOk('MESSAGE', {
      message: { agent_id: offer.agent_id, executor_id: { value: 'ex-a' }, data: base64('ping') },
    });
    const reply = await waitFor(() => log.events.find((event) => event.type === 'MESSAGE'), {
      timeoutMs: waitMs,
      what: "the executor's reply",
    });
    assert.ok(reply.type === 'MESSAGE');
    assert.is(text(reply.message.data), 'pong ping from ex-a running 2 tasks');
    assert.is(reply.message.executor_id.value, 'ex-a');

    // An executor call for an executor this agent does not run, of a framework it does.
    const unknown = await executorCall(agent, {
      type: 'MESSAGE',
      framework_id: { value: client.frameworkId },
      executor_id: { value: 'not-here' },
      message: { data: base64('x') },
    });
    assert.is(unknown.status, 400);
    assert.is(errorOf(unknown.body).code, 'UNKNOWN_EXECUTOR');

    await client.callOk('KILL', { kill: { task_id: { value: 'a1' }, agent_id: offer.agent_id } });
    const killed = await log.status('a1', 'TASK_KILLED');
    assert.is(killed.source, 'SOURCE_EXECUTOR');
    assert.ok(alive(executor.pid!), 'the executor still runs after one of its tasks was killed');
    assert.is(log.statuses('a2').at(-1)?.state, 'TASK_RUNNING');

    process.kill(executor.pid!, 'SIGKILL');
    const failed = await log.status('a2', 'TASK_FAILED');
    assert.is(failed.reason, 'REASON_EXECUTOR_TERMINATED');
    assert.is(failed.source, 'SOURCE_AGENT');
    const failure = await waitFor(
      () => log.events.find((event) => event.type === 'FAILURE' && event.failure.executor_id?.value === 'ex-a'),
      { timeoutMs: waitMs, what: 'FAILURE of executor ex-a' },
    );
    assert.ok(failure.type === 'FAILURE');
    assert.is(failure.failure.status, 9, 'the wait status of a SIGKILL');
  },
);

executors('SHUTDOWN stops the executor and its tasks', async ({ cluster }) => {
  const { client, log } = cluster!;
  const offer = await log.offer();
  await accept(cluster!, offer, [{ type: 'LAUNCH', launch: { task_infos: [exampleTask(offer, 'ex-b', 'b1', null)] } }]);
  await log.status('b1', 'TASK_RUNNING');
  const executor = await customExecutorOf(cluster!, 'ex-b');
  await client.callOk('SHUTDOWN', { shutdown: { agent_id: offer.agent_id, executor_id: { value: 'ex-b' } } });
  const killed = await log.status('b1', 'TASK_KILLED');
  assert.is(killed.message, 'the executor was shut down');
  const failure = await waitFor(
    () => log.events.find((event) => event.type === 'FAILURE' && event.failure.executor_id?.value === 'ex-b'),
    { timeoutMs: waitMs, what: 'FAILURE of executor ex-b' },
  );
  assert.ok(failure.type === 'FAILURE');
  assert.is(failure.failure.status, 0, 'the executor exited 0 on SHUTDOWN');
  await waitFor(() => !alive(executor.pid!), { timeoutMs: waitMs, what: 'the executor process to be gone' });
});

executors('a task group starts together and is killed together when one task fails', async ({ cluster }) => {
  const { log, agent, client } = cluster!;
  const offer = await log.offer();
  const task = (id: string, command: string) => ({
    name: id,
    task_id: { value: id },
    agent_id: offer.agent_id,
    resources: [scalar('cpus', 0.1), scalar('mem', 16)],
    command: { shell: true, value: command },
  });
  await accept(cluster!, offer, [
    {
      type: 'LAUNCH_GROUP',
      launch_group: {
        executor: { executor_id: { value: 'group-1' }, type: 'DEFAULT', resources: [scalar('cpus', 0.1)] },
        task_group: { tasks: [task('g-long', 'sleep 600'), task('g-fail', 'sleep 2; exit 3')] },
      },
    },
  ]);
  await log.status('g-long', 'TASK_RUNNING');
  await log.status('g-fail', 'TASK_RUNNING');
  // The agent's own default executor takes no calls over HTTP.
  const builtin = await executorCall(agent, {
    type: 'MESSAGE',
    framework_id: { value: client.frameworkId },
    executor_id: { value: 'group-1' },
    message: { data: base64('x') },
  });
  assert.is(builtin.status, 403);
  assert.is(errorOf(builtin.body).code, 'BUILTIN_EXECUTOR');
  const failed = await log.status('g-fail', 'TASK_FAILED');
  assert.match(failed.message ?? '', /3/);
  const killed = await log.status('g-long', 'TASK_KILLED');
  assert.match(killed.message ?? '', /g-fail/);
});

executors(
  'the agent is SIGKILLed and restarted: the executor subscribes again and keeps its task',
  async ({ cluster }) => {
    const { log, agent, client } = cluster!;
    const offer = await log.offer();
    await accept(cluster!, offer, [
      { type: 'LAUNCH', launch: { task_infos: [exampleTask(offer, 'ex-e', 'e1', null)] } },
    ]);
    await log.status('e1', 'TASK_RUNNING');
    const before = await customExecutorOf(cluster!, 'ex-e');
    await agent.stop('SIGKILL');
    assert.ok(alive(before.pid!), 'the executor outlives its agent');
    agent.launch();
    const after = await waitFor(
      async () =>
        (await agentExecutors(agent)).find(
          (executor) => executor.executor_id === 'ex-e' && executor.state === 'subscribed',
        ),
      { timeoutMs: waitMs, what: 'ex-e subscribed again to the restarted agent' },
    );
    assert.is(after.pid, before.pid, 'the same executor process');
    assert.is(log.statuses('e1').at(-1)?.state, 'TASK_RUNNING');
    await client.callOk('KILL', { kill: { task_id: { value: 'e1' }, agent_id: offer.agent_id } });
    const killed = await log.status('e1', 'TASK_KILLED');
    assert.is(killed.source, 'SOURCE_EXECUTOR', 'the executor itself still had the task');
  },
);

executors('malformed executor calls get a 4xx with the error shape', async ({ cluster }) => {
  const { agent } = cluster!;
  const cases: [unknown, string, number, string][] = [
    ['{', 'application/json', 400, 'BAD_REQUEST'],
    [{ type: 'SUBSCRIBE' }, 'application/json', 400, 'INVALID_BODY'],
    [{ type: 'NOPE' }, 'application/json', 400, 'UNKNOWN_CALL'],
    [
      { type: 'UPDATE', framework_id: { value: 'f' }, executor_id: { value: 'e' }, update: { status: {} } },
      'application/json',
      400,
      'INVALID_BODY',
    ],
    [
      { type: 'SUBSCRIBE', framework_id: { value: 'f' }, executor_id: { value: 'e' } },
      'application/json',
      400,
      'UNKNOWN_FRAMEWORK',
    ],
    [{ type: 'HEARTBEAT' }, 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ];
  for (const [body, contentType, status, code] of cases) {
    const answer = await executorCall(agent, body, contentType);
    assert.is(answer.status, status, `${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`);
    assert.is(errorOf(answer.body).code, code, JSON.stringify(body));
  }
  const get = await fetch(agent.url('/api/v1/executor'));
  assert.is(get.status, 405);
  assert.is(errorOf(await get.json()).code, 'METHOD_NOT_ALLOWED');
});

executors.run();

// Deadlines, on an agent of their own with short ones.
const deadlines = suite<{ cluster: Cluster | null }>('executor deadlines', { cluster: null });

deadlines.before(async (context) => {
  const master = await startSingleMaster();
  const agent = await AgentProcess.start(master.url.slice('http://'.length), [
    // The example executor boots through tsx: at load ~55 (hunt17) it did not subscribe within 3 s and
    // every task of this suite that must run failed; the test of the timeout itself just waits longer.
    '--executor-registration-timeout-ms',
    '30000',
    '--executor-idle-timeout-ms',
    '1000',
    '--executor-recovery-timeout-ms',
    '3000',
  ]);
  const client = await SchedulerClient.subscribe(master.url);
  context.cluster = { master, agent, client, log: new EventLog(client) };
});

deadlines.after(async ({ cluster }) => stopCluster(cluster));

deadlines('an executor that never subscribes is killed and its task fails with the reason', async ({ cluster }) => {
  const { log } = cluster!;
  const offer = await log.offer();
  const task = exampleTask(offer, 'mute', 'm1', null);
  const mute = { ...task, executor: { ...task.executor!, command: { shell: true, value: 'sleep 600' } } };
  await accept(cluster!, offer, [{ type: 'LAUNCH', launch: { task_infos: [mute] } }]);
  const failed = await log.status('m1', 'TASK_FAILED');
  assert.is(failed.reason, 'REASON_EXECUTOR_REGISTRATION_TIMEOUT');
  assert.is(failed.source, 'SOURCE_AGENT');
});

deadlines('an executor left without tasks is shut down after the idle timeout', async ({ cluster }) => {
  const { log } = cluster!;
  const offer = await log.offer();
  await accept(cluster!, offer, [{ type: 'LAUNCH', launch: { task_infos: [exampleTask(offer, 'idle', 'i1', 200)] } }]);
  await log.status('i1', 'TASK_FINISHED');
  const failure = await waitFor(
    () => log.events.find((event) => event.type === 'FAILURE' && event.failure.executor_id?.value === 'idle'),
    { timeoutMs: waitMs, what: 'FAILURE of the idle executor' },
  );
  assert.ok(failure.type === 'FAILURE');
  assert.is(failure.failure.status, 0, 'it exited 0 on SHUTDOWN');
});

deadlines('an executor that does not subscribe again after an agent restart loses its task', async ({ cluster }) => {
  const { log, agent } = cluster!;
  const offer = await log.offer();
  await accept(cluster!, offer, [
    { type: 'LAUNCH', launch: { task_infos: [exampleTask(offer, 'frozen', 'f1', null)] } },
  ]);
  await log.status('f1', 'TASK_RUNNING');
  const executor = await customExecutorOf(cluster!, 'frozen');
  // Stopped (its whole process group: the pid may be a wrapper), it cannot subscribe again; the
  // restarted agent re-attaches to it and waits 3 s.
  process.kill(-executor.pid!, 'SIGSTOP');
  await agent.stop('SIGKILL');
  agent.launch();
  const lost = await log.status('f1', 'TASK_LOST').catch((error: unknown) => {
    console.error(
      agent.output
        .split('\n')
        .filter((line) => !line.includes('usage'))
        .slice(-40)
        .join('\n'),
    );
    throw error;
  });
  assert.is(lost.reason, 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT');
  assert.is(lost.source, 'SOURCE_AGENT');
  // The agent kills the executor; its stopped process group (the wrapper shell) is ended here.
  try {
    process.kill(-executor.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
  await waitFor(() => !alive(executor.pid!), { timeoutMs: waitMs, what: 'the frozen executor killed' });
});

deadlines.run();
