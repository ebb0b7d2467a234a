// ACKNOWLEDGE as Mesos has it, on a real single-voter master over real HTTP: the terminal
// update's acknowledgement completes the task (master.cpp `Master::acknowledge` → removeTask),
// an acknowledgement the committed state already shows is answered without a Raft entry (Mesos
// answers 202 either way), and a re-subscribed framework hears per task only what it still has
// to acknowledge: the oldest update, and the terminal one. Status updates are put in through Raft
// (what the agent gateway does). The entries the master applies are read as they are applied.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type * as Mesos from '../../src/protocol/mesos.ts';
import { decodeCommand } from '../../src/state-machine/codec.ts';
import type { AcknowledgeTaskStatus } from '../../src/state-machine/commands.ts';
import {
  agentId,
  frameworkId as toFrameworkId,
  offerId,
  type TaskId,
  taskId,
  taskKey,
} from '../../src/state-machine/ids.ts';
import { agentFreeResources } from '../../src/state-machine/queries.ts';
import type { TaskState } from '../../src/protocol/task-states.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';
import { registerAgent, statusReport, uuid } from '../state-machine/support/fixtures.ts';
import { proposeOk } from './support/operator.ts';
import { frameworkInfo, SchedulerClient } from './support/scheduler-client.ts';

let cluster: SingleMaster;
const A1 = agentId('ack-a1');
/** Every acknowledgement the master applied, single or in a batch, in log order. */
const appliedAcknowledgements: Omit<AcknowledgeTaskStatus, 'at'>[] = [];

test.before(async () => {
  cluster = await startSingleMaster();
  const machine = cluster.master.machine;
  const apply = machine.apply.bind(machine);
  machine.apply = (bytes, index) => {
    const decoded = decodeCommand(bytes);
    if (decoded.ok && decoded.command.type === 'acknowledge_task_status') appliedAcknowledgements.push(decoded.command);
    if (decoded.ok && decoded.command.type === 'task_status_batch')
      for (const item of decoded.command.items)
        if (item.type === 'acknowledge_task_status') appliedAcknowledgements.push(item);
    return apply(bytes, index);
  };
  await proposeOk(cluster, registerAgent(A1, { hostname: 'node1', address: { ip: '127.0.0.1', port: 5051 } }));
});
test.after(async () => {
  await cluster.stop();
});

let offerSequence = 0;

/** An OFFERS event for the client: the allocator's, or one made here from the agent's free resources. */
async function nextOffer(client: SchedulerClient): Promise<Mesos.Offer> {
  const fromAllocator = await client.maybeNextOf('OFFERS', 1500);
  if (fromAllocator !== null) return fromAllocator.offers.offers[0]!;
  offerSequence += 1;
  await proposeOk(cluster, {
    type: 'create_offers',
    at: Date.now(),
    offers: [
      {
        offerId: offerId(`ack-offer-${offerSequence}`),
        frameworkId: toFrameworkId(client.frameworkId),
        agentId: A1,
        role: '*',
        resources: agentFreeResources(cluster.master.machine.state.agents.get(A1)!),
      },
    ],
  });
  return (await client.nextOf('OFFERS')).offers.offers[0]!;
}

/** A task of the client's in TASK_STAGING on A1, launched with ACCEPT. */
async function launched(client: SchedulerClient, id: string): Promise<TaskId> {
  const offer = await nextOffer(client);
  const resources = [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
  ];
  const taskInfo = {
    name: id,
    task_id: { value: id },
    agent_id: offer.agent_id,
    command: { value: 'true' },
    resources,
  };
  await client.callOk('ACCEPT', {
    accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [taskInfo] } }] },
  });
  return taskId(id);
}

async function reported(client: SchedulerClient, task: TaskId, state: TaskState, seed: number): Promise<string> {
  await proposeOk(cluster, {
    type: 'update_task_status',
    at: Date.now(),
    frameworkId: toFrameworkId(client.frameworkId),
    taskId: task,
    agentId: A1,
    status: statusReport(state, { uuid: uuid(seed), timestampMs: Date.now() }),
  });
  return uuid(seed);
}

const statusesOf = (client: SchedulerClient, task: TaskId) =>
  cluster.master.machine.state.tasks.get(taskKey(toFrameworkId(client.frameworkId), task))?.statuses ?? [];

/** ACKNOWLEDGE, answered 202 once handed to Raft (calls.ts `acknowledge`), and then its commit. */
async function acknowledge(client: SchedulerClient, task: TaskId, status: string): Promise<void> {
  await client.callOk('ACKNOWLEDGE', {
    acknowledge: { agent_id: { value: A1 }, task_id: { value: task }, uuid: status },
  });
  await waitFor(() => statusesOf(client, task).find((each) => each.uuid === status)?.acknowledged === true, {
    timeoutMs: 10_000,
    what: `the acknowledgement of ${task}/${status} committed`,
  });
}

async function nextUpdate(client: SchedulerClient): Promise<Mesos.TaskStatus> {
  return (await client.nextOf('UPDATE')).update.status;
}

test('the terminal update acknowledged completes the task; acknowledged ones cost no Raft entry', async () => {
  const client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'acks' }));
  try {
    const task = await launched(client, 'k1');
    const running = await reported(client, task, 'TASK_RUNNING', 51);
    const finished = await reported(client, task, 'TASK_FINISHED', 52);
    assert.equal([(await nextUpdate(client)).uuid, (await nextUpdate(client)).uuid], [running, finished]);
    await acknowledge(client, task, finished);
    // This build alone is the cluster: it agrees with itself on command format 10's rule.
    assert.equal(
      appliedAcknowledgements.filter((each) => each.taskId === task).map((each) => each.completesTerminalTask),
      [true],
    );
    assert.equal(
      statusesOf(client, task).map((status) => [status.state, status.acknowledged]),
      [
        ['TASK_STAGING', false],
        ['TASK_RUNNING', true],
        ['TASK_FINISHED', true],
      ],
    );
    const framework = toFrameworkId(client.frameworkId);
    const completed = cluster.master.machine.state.derived.completedTasksByFramework.get(framework);
    assert.ok(completed?.has(taskKey(framework, task)), 'a completed task');
    // A retry of the terminal acknowledgement and a late one of the superseded TASK_RUNNING:
    // 202 both, answered from the committed state.
    await acknowledge(client, task, finished);
    await acknowledge(client, task, running);
    assert.is(appliedAcknowledgements.filter((each) => each.taskId === task).length, 1, 'no further entry');
  } finally {
    await client.callOk('TEARDOWN');
    client.close();
  }
});

test('re-subscribed, a framework hears per task its oldest unacknowledged update and the terminal one', async () => {
  const first = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'resubscriber' }));
  const task = await launched(first, 'k2');
  const starting = await reported(first, task, 'TASK_STARTING', 61);
  await reported(first, task, 'TASK_RUNNING', 62);
  const finished = await reported(first, task, 'TASK_FINISHED', 63);
  const second = await SchedulerClient.subscribe(
    cluster.url,
    frameworkInfo({ name: 'resubscriber', id: { value: first.frameworkId } }),
  );
  try {
    assert.ok(await first.ended());
    // Not TASK_RUNNING (uuid 62) between them: acknowledging TASK_FINISHED supersedes it.
    const again = [await nextUpdate(second), await nextUpdate(second)];
    assert.equal(
      again.map((status) => [status.state, status.uuid]),
      [
        ['TASK_STARTING', starting],
        ['TASK_FINISHED', finished],
      ],
    );
    await acknowledge(second, task, finished);
    assert.ok(statusesOf(second, task).every((status) => status.uuid === null || status.acknowledged));
  } finally {
    await second.callOk('TEARDOWN');
    second.close();
  }
});

test.run();
