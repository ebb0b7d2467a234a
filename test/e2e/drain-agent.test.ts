// DRAIN_AGENT, DEACTIVATE_AGENT and REACTIVATE_AGENT (Mesos maintenance.md, "Automatic Node
// Draining" and "Manual Node Draining") on a real master and a real agent process, with a
// framework on the SDK: a deactivated agent gets no offers and keeps its tasks; a drained one
// has its tasks killed — TASK_KILLING before TASK_KILLED, the kill grace period capped by
// max_grace_period (a task that ignores SIGTERM with a 600 s grace dies in about a second, far
// inside the wait's deadline) — and ends DRAINED, or gone with mark_gone; REACTIVATE_AGENT
// brings its offers back.
// flotilla-test-timeout-seconds: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SchedulerClient } from '../../src/frameworks/sdk/client.ts';
import { matchOffer } from '../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../src/frameworks/sdk/task-info.ts';
import type { Offer, TaskStatus } from '../../src/protocol/mesos.ts';
import type * as Operator from '../../src/protocol/operator.ts';
import { newClient, startMasterAndAgent, type MasterAndAgent } from '../frameworks/support/cluster.ts';
import { waitFor } from '../support/wait.ts';

let cluster: MasterAndAgent;
test.before(async () => {
  cluster = await startMasterAndAgent(['--resources', 'cpus:2;mem:512;disk:100;ports:[31000-31009]']);
});
test.after(async () => {
  await cluster?.stop();
});

/** Ignores SIGTERM (its sleeps die of it, the loop goes on): only SIGKILL ends it. */
const stubbornCommand = "trap 'echo TERM ignored' TERM; while true; do sleep 0.2; done";
const stubbornGraceSeconds = 600;

/** A framework that launches the tasks it is told to on the next offer, and records everything. */
class DrainFramework {
  readonly offers: Offer[] = [];
  readonly updates = new Map<string, TaskStatus[]>();
  #wanted: { taskId: string; command: string; graceSeconds?: number }[] = [];

  constructor(readonly client: SchedulerClient) {
    client.on('OFFERS', (event) => {
      for (const offer of event.offers.offers) this.#onOffer(offer);
    });
    client.on('UPDATE', (event) => {
      const status = event.update.status;
      this.updates.set(status.task_id.value, [...(this.updates.get(status.task_id.value) ?? []), status]);
    });
  }

  launch(tasks: { taskId: string; command: string; graceSeconds?: number }[]): void {
    this.#wanted.push(...tasks);
  }

  /** One task per offer: what it leaves is offered again a second later (refuse_seconds 1). */
  #onOffer(offer: Offer): void {
    this.offers.push(offer);
    const match = this.#wanted.length === 0 ? null : matchOffer(offer, { cpus: 0.25, memMb: 32 });
    if (match === null) {
      void this.client.decline([offer.id], { refuse_seconds: 1 }).catch(() => undefined);
      return;
    }
    const task = this.#wanted.shift()!;
    const info = buildTaskInfo(offer, match, {
      name: task.taskId,
      taskId: task.taskId,
      command: { kind: 'shell', line: task.command },
      ...(task.graceSeconds === undefined ? {} : { killGracePeriodSeconds: task.graceSeconds }),
    });
    void this.client.launch(offer, [info], { refuse_seconds: 1 }).catch(() => undefined);
  }

  states(taskId: string): string[] {
    return (this.updates.get(taskId) ?? []).map((status) => status.state);
  }

  async waitForState(taskId: string, state: string): Promise<void> {
    await waitFor(() => this.states(taskId).includes(state), {
      timeoutMs: 60_000,
      what: `${taskId} to reach ${state} (seen ${this.states(taskId).join(', ') || 'nothing'})`,
      intervalMs: 100,
    });
  }
}

async function operator(body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`${cluster.master.url}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

async function writeOk(body: unknown): Promise<void> {
  const answer = await operator(body);
  assert.is(answer.status, 200, answer.text);
  assert.is(answer.text, '', 'a write answers an empty body');
}

async function fails(body: unknown, status: number, code: string): Promise<void> {
  const answer = await operator(body);
  assert.is(answer.status, status, answer.text);
  assert.is((JSON.parse(answer.text) as { error: { code: string } }).error.code, code);
}

async function agentView(): Promise<Operator.Agent | undefined> {
  const answer = await operator({ type: 'GET_AGENTS' });
  const agents = (JSON.parse(answer.text) as { get_agents: Operator.GetAgents }).get_agents.agents;
  return agents.find((agent) => agent.agent_info.hostname === cluster.agent.hostname);
}

function agentId(): string {
  const agent = [...cluster.master.master.facade.state().agents.values()].find(
    (each) => each.hostname === cluster.agent.hostname,
  );
  assert.ok(agent, 'the agent is registered');
  return agent.id;
}

async function metric(name: string): Promise<number | undefined> {
  const answer = await operator({ type: 'GET_METRICS' });
  const metrics = (JSON.parse(answer.text) as { get_metrics: { metrics: { name: string; value: number }[] } })
    .get_metrics.metrics;
  return metrics.find((each) => each.name === name)?.value;
}

/** The allocator's last reason for passing the agent over for `frameworkId`, from GET_ALLOCATION. */
async function skipReason(frameworkId: string): Promise<string | null> {
  const answer = await operator({ type: 'GET_ALLOCATION' });
  const report = JSON.parse(answer.text) as {
    get_allocation: { frameworks: { frameworkId: string; lastSkipReasons: { agentId: string; reason: string }[] }[] };
  };
  const framework = report.get_allocation.frameworks.find((each) => each.frameworkId === frameworkId);
  return framework?.lastSkipReasons.find((each) => each.agentId === agentId())?.reason ?? null;
}

test('refusals: unknown agents are 404, a body without agent_id or with a bad grace is 400, REACTIVATE of an active agent is 409', async () => {
  const unknown = { agent_id: { value: 'no-such-agent' } };
  await fails({ type: 'DRAIN_AGENT', drain_agent: unknown }, 404, 'AGENT_NOT_FOUND');
  await fails({ type: 'DEACTIVATE_AGENT', deactivate_agent: unknown }, 404, 'AGENT_NOT_FOUND');
  await fails({ type: 'REACTIVATE_AGENT', reactivate_agent: unknown }, 404, 'AGENT_NOT_FOUND');
  await fails({ type: 'DRAIN_AGENT', drain_agent: {} }, 400, 'INVALID_BODY');
  await fails({ type: 'DEACTIVATE_AGENT' }, 400, 'INVALID_BODY');
  const id = { agent_id: { value: agentId() } };
  await fails(
    { type: 'DRAIN_AGENT', drain_agent: { ...id, max_grace_period: { nanoseconds: -1 } } },
    400,
    'INVALID_BODY',
  );
  await fails({ type: 'DRAIN_AGENT', drain_agent: { ...id, mark_gone: 'yes' } }, 400, 'INVALID_BODY');
  await fails({ type: 'REACTIVATE_AGENT', reactivate_agent: id }, 409, 'INVALID_AGENT_TRANSITION');
  const agent = await agentView();
  assert.is(agent?.active, true, 'refused calls change nothing');
  assert.is(agent?.deactivated, false);
  assert.is(agent?.drain_info, undefined);
});

test('DEACTIVATE_AGENT: no offers, tasks run on; REACTIVATE_AGENT: offers again', async () => {
  const client = newClient(cluster.masterAddress);
  const framework = new DrainFramework(client);
  try {
    const frameworkId = await client.subscribe();
    framework.launch([{ taskId: 'keeps-running', command: 'sleep 1000' }]);
    await framework.waitForState('keeps-running', 'TASK_RUNNING');
    await writeOk({ type: 'DEACTIVATE_AGENT', deactivate_agent: { agent_id: { value: agentId() } } });
    const deactivated = await agentView();
    assert.is(deactivated?.deactivated, true);
    assert.is(deactivated?.active, false);
    assert.is(deactivated?.drain_info, undefined, 'deactivation is no drain');
    assert.is(await metric('master/agents_active'), 0);
    assert.is(await metric('master/agents_inactive'), 1);
    await waitFor(async () => (await skipReason(frameworkId)) === 'AGENT_DEACTIVATED', {
      timeoutMs: 30_000,
      what: 'the allocator to pass the deactivated agent over (AGENT_DEACTIVATED)',
      intervalMs: 200,
    });
    assert.is(cluster.master.master.facade.state().offers.size, 0, 'no offer is outstanding on a deactivated agent');
    assert.not.ok(framework.states('keeps-running').includes('TASK_KILLING'), 'its task runs on');
    const offersBefore = framework.offers.length;
    await writeOk({ type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: agentId() } } });
    assert.is((await agentView())?.active, true);
    await waitFor(() => framework.offers.length > offersBefore, {
      timeoutMs: 30_000,
      what: 'an offer from the reactivated agent',
      intervalMs: 100,
    });
    await client.kill('keeps-running');
    await framework.waitForState('keeps-running', 'TASK_KILLED');
  } finally {
    await client.teardown().catch(() => client.close());
  }
});

test('DRAIN_AGENT kills the tasks (KILLING, then KILLED, grace capped), no offers meanwhile, and ends DRAINED', async () => {
  const client = newClient(cluster.masterAddress);
  const framework = new DrainFramework(client);
  try {
    const frameworkId = await client.subscribe();
    framework.launch([
      { taskId: 'stubborn', command: stubbornCommand, graceSeconds: stubbornGraceSeconds },
      { taskId: 'plain', command: 'sleep 1000' },
    ]);
    await framework.waitForState('stubborn', 'TASK_RUNNING');
    await framework.waitForState('plain', 'TASK_RUNNING');
    const id = agentId();
    await writeOk({
      type: 'DRAIN_AGENT',
      drain_agent: { agent_id: { value: id }, max_grace_period: { nanoseconds: 1_000_000_000 } },
    });
    const draining = await agentView();
    assert.is(draining?.deactivated, true);
    assert.is(draining?.active, false);
    assert.ok(draining?.drain_info?.state === 'DRAINING' || draining?.drain_info?.state === 'DRAINED');
    assert.equal(draining?.drain_info?.config, { max_grace_period: { nanoseconds: 1_000_000_000 }, mark_gone: false });
    for (const taskId of ['stubborn', 'plain']) {
      await framework.waitForState(taskId, 'TASK_KILLED');
      const states = framework.states(taskId);
      assert.ok(states.indexOf('TASK_RUNNING') < states.indexOf('TASK_KILLING'), states.join(', '));
      assert.ok(states.indexOf('TASK_KILLING') < states.indexOf('TASK_KILLED'), states.join(', '));
    }
    const drained = await waitFor(
      async () => {
        const agent = await agentView();
        return agent?.drain_info?.state === 'DRAINED' ? agent : null;
      },
      { timeoutMs: 30_000, what: 'the agent to be DRAINED', intervalMs: 100 },
    );
    assert.is(drained.deactivated, true);
    assert.equal(drained.allocated_resources, []);
    assert.is(await metric('flotilla/agents_drained'), 1);
    assert.is(await metric('flotilla/agents_draining'), 0);
    await waitFor(async () => (await skipReason(frameworkId)) === 'AGENT_DEACTIVATED', {
      timeoutMs: 30_000,
      what: 'the allocator to pass the drained agent over (AGENT_DEACTIVATED)',
      intervalMs: 200,
    });
    assert.is(cluster.master.master.facade.state().offers.size, 0, 'no offer is outstanding on a drained agent');
    const offersBefore = framework.offers.length;
    await writeOk({ type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: id } } });
    const back = await agentView();
    assert.is(back?.active, true);
    assert.is(back?.drain_info, undefined, 'REACTIVATE_AGENT ends the drain');
    await waitFor(() => framework.offers.length > offersBefore, {
      timeoutMs: 30_000,
      what: 'an offer from the reactivated agent',
      intervalMs: 100,
    });
  } finally {
    await client.teardown().catch(() => client.close());
  }
});

test("a drain caps the grace of a kill already under way (the framework's, 600 s)", async () => {
  const client = newClient(cluster.masterAddress);
  const framework = new DrainFramework(client);
  try {
    await client.subscribe();
    framework.launch([{ taskId: 'killed-twice', command: stubbornCommand, graceSeconds: stubbornGraceSeconds }]);
    await framework.waitForState('killed-twice', 'TASK_RUNNING');
    await client.kill('killed-twice');
    await framework.waitForState('killed-twice', 'TASK_KILLING');
    const id = agentId();
    await writeOk({
      type: 'DRAIN_AGENT',
      drain_agent: { agent_id: { value: id }, max_grace_period: { nanoseconds: 1_000_000_000 } },
    });
    await framework.waitForState('killed-twice', 'TASK_KILLED');
    await waitFor(async () => (await agentView())?.drain_info?.state === 'DRAINED', {
      timeoutMs: 30_000,
      what: 'the agent to be DRAINED',
      intervalMs: 100,
    });
    await writeOk({ type: 'REACTIVATE_AGENT', reactivate_agent: { agent_id: { value: id } } });
  } finally {
    await client.teardown().catch(() => client.close());
  }
});

test('DRAIN_AGENT with mark_gone: the tasks are killed, then the agent is gone for good', async () => {
  const client = newClient(cluster.masterAddress);
  const framework = new DrainFramework(client);
  try {
    await client.subscribe();
    framework.launch([{ taskId: 'last', command: stubbornCommand, graceSeconds: stubbornGraceSeconds }]);
    await framework.waitForState('last', 'TASK_RUNNING');
    const id = agentId();
    await writeOk({
      type: 'DRAIN_AGENT',
      drain_agent: { agent_id: { value: id }, max_grace_period: { nanoseconds: 500_000_000 }, mark_gone: true },
    });
    await framework.waitForState('last', 'TASK_KILLED');
    const states = framework.states('last');
    assert.ok(states.indexOf('TASK_KILLING') < states.indexOf('TASK_KILLED'), states.join(', '));
    await waitFor(() => cluster.master.master.facade.state().agents.get(id as never)?.state === 'GONE', {
      timeoutMs: 30_000,
      what: 'the drained agent to be marked gone',
      intervalMs: 100,
    });
    const gone = cluster.master.master.facade.state().agents.get(id as never);
    assert.is(gone?.drain?.state, 'DRAINED');
    assert.is(await agentView(), undefined, 'GET_AGENTS lists registered agents only');
    await fails({ type: 'DRAIN_AGENT', drain_agent: { agent_id: { value: id } } }, 410, 'AGENT_GONE');
  } finally {
    await client.teardown().catch(() => client.close());
  }
});

test.run();
