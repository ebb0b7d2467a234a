// ACKNOWLEDGE answered 202 before it commits, as Mesos answers a call once accepted, and what
// that costs when the leader changes: nothing but a delivery more (master/scheduler/calls.ts
// `acknowledge`). Three real masters in this process (Raft, SQLite, HTTP on ephemeral ports).
// The followers are stopped, so the leader cannot commit: the ACKNOWLEDGE is answered 202 all the
// same. Then the leader stops and the followers come back without its uncommitted entry: the new
// leader sends the update again to the re-subscribed framework, whose ACKNOWLEDGE then commits.
// Counts and states only; the election timeout is long (2 s) so that the leader, cut off, keeps
// its leadership (CheckQuorum) for the few milliseconds the call takes even on a loaded machine.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type MasterConfig, masterConfig } from '../../src/master/config.ts';
import { Master } from '../../src/master/daemon.ts';
import type * as Mesos from '../../src/protocol/mesos.ts';
import { agentId, frameworkId, taskId, taskKey } from '../../src/state-machine/ids.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { registerAgent, statusReport, uuid } from '../state-machine/support/fixtures.ts';
import { frameworkInfo, SchedulerClient } from '../http/support/scheduler-client.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const A1 = agentId('ack-leader-change-a1');
const T1 = taskId('ack-leader-change-t1');

async function configs(): Promise<MasterConfig[]> {
  const ids = ['m1', 'm2', 'm3'];
  const ports = [await freePort(), await freePort(), await freePort()];
  const peers = Object.fromEntries(ids.map((id, index) => [id, `127.0.0.1:${ports[index]}`]));
  return ids.map((id, index) =>
    masterConfig({
      id,
      listen: { host: '127.0.0.1', port: ports[index]! },
      peers,
      dataDir: makeTempDir(`ack-leader-change-${id}-`),
      tickMs: 20,
      electionTicks: 100,
      heartbeatTicks: 5,
      services: 'off',
      jobs: 'off',
    }),
  );
}

// No agent process holds a gateway socket: the agent proposed here counts as connected.
const start = (config: MasterConfig) => Master.start(config, { logger: silentLogger, agentConnected: () => true });

const urlOf = (master: Master) => `http://${master.facade.address}`;

function leaderAmong(masters: readonly Master[]): Promise<Master> {
  return waitFor(() => masters.find((master) => master.leadership.view().state === 'leading'), {
    timeoutMs: 60_000,
    what: 'a leader with its leader services running',
  });
}

const statusOn = (master: Master, framework: string, status: string) =>
  master.machine.state.tasks.get(taskKey(frameworkId(framework), T1))?.statuses.find((each) => each.uuid === status);

/** T1 launched on A1 from an offer the leader's allocator made the client, then reported TASK_RUNNING. */
async function runningTask(leader: Master, client: SchedulerClient): Promise<Mesos.TaskStatus> {
  const offer = (await client.nextOf('OFFERS', () => true, 30_000)).offers.offers[0]!;
  const task = {
    name: T1,
    task_id: { value: T1 },
    agent_id: offer.agent_id,
    command: { value: 'true' },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }],
  };
  await client.callOk('ACCEPT', {
    accept: { offer_ids: [offer.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }] },
  });
  const reported = await leader.facade.submit({
    type: 'update_task_status',
    at: Date.now(),
    frameworkId: frameworkId(client.frameworkId),
    taskId: T1,
    agentId: A1,
    status: statusReport('TASK_RUNNING', { uuid: uuid(71), timestampMs: Date.now() }),
  });
  assert.ok(reported.result.ok, 'TASK_RUNNING recorded');
  return (await client.nextOf('UPDATE', (event) => event.update.status.state === 'TASK_RUNNING')).update.status;
}

test('ACKNOWLEDGE is answered 202 while no quorum can commit it; lost in the leader change, the update comes again and is acknowledged then', async () => {
  const all = await configs();
  const running = new Map<string, Master>();
  for (const config of all) running.set(config.options.id, await start(config));
  let client: SchedulerClient | null = null;
  try {
    const leader = await leaderAmong([...running.values()]);
    const registered = await leader.facade.submit(registerAgent(A1, {}, Date.now()));
    assert.ok(registered.result.ok, 'agent registered');
    client = await SchedulerClient.subscribe(urlOf(leader), frameworkInfo({ name: 'ack-leader-change' }));
    const framework = client.frameworkId;
    const update = await runningTask(leader, client);

    const followers = all.filter((config) => config.options.id !== leader.config.options.id);
    for (const config of followers) await running.get(config.options.id)!.stop();
    const answer = await client.call('ACKNOWLEDGE', {
      acknowledge: { agent_id: update.agent_id, task_id: update.task_id, uuid: update.uuid },
    });
    assert.is(answer.status, 202, `ACKNOWLEDGE without a quorum: ${JSON.stringify(answer.body)}`);
    assert.is(statusOn(leader, framework, update.uuid!)?.acknowledged, false, 'answered, not committed');

    client.close();
    await leader.stop();
    running.delete(leader.config.options.id);
    for (const config of followers) running.set(config.options.id, await start(config));
    const next = await leaderAmong([...running.values()]);
    assert.is(statusOn(next, framework, update.uuid!)?.acknowledged, false, 'the acknowledgement was lost');

    client = await SchedulerClient.subscribe(
      urlOf(next),
      frameworkInfo({ name: 'ack-leader-change', id: { value: framework } }),
    );
    const again = await client.nextOf('UPDATE', (event) => event.update.status.uuid === update.uuid, 30_000);
    assert.is(again.update.status.state, 'TASK_RUNNING', 'delivered again by the new leader');
    await client.callOk('ACKNOWLEDGE', {
      acknowledge: { agent_id: update.agent_id, task_id: update.task_id, uuid: update.uuid },
    });
    await waitFor(() => statusOn(next, framework, update.uuid!)?.acknowledged === true, {
      timeoutMs: 30_000,
      what: 'the second acknowledgement committed',
    });
  } finally {
    client?.close();
    for (const master of running.values()) await master.stop();
  }
});

test.run();
